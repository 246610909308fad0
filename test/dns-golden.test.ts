import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { RRType } from '../src/dns/wire/constants.js';
import { encodeQuery, type QueryOptions } from '../src/dns/wire/message.js';
import { exampleConfig, exampleZone } from './fixtures/test-zone.js';
import { startNameserver, udpExchange, type TestNameserver } from './helpers/dns.js';

/**
 * Golden packets: known queries in, known bytes out. A change of bytes is a
 * reviewed diff; regenerate with UPDATE_GOLDEN=1 npm test.
 */
const cases: [string, string, number, QueryOptions][] = [
  ['answer-chain', 'Docs.Example.test', RRType.A, {}],
  ['nxdomain', 'nope.example.test', RRType.A, {}],
  ['referral', 'www.sub.example.test', RRType.A, {}],
  ['mx-additional', 'example.test', RRType.MX, {}],
  ['truncated', 'big.example.test', RRType.TXT, {}],
  ['ecs-echo', 'cdn.example.test', RRType.A, { edns: { udpSize: 4096, ecs: { family: 1, sourcePrefix: 24, scopePrefix: 0, address: Uint8Array.from([192, 0, 2]) } } }],
  ['badvers', 'cdn.example.test', RRType.A, { edns: { version: 1 } }],
  ['refused', 'example.com', RRType.A, {}],
  ['wildcard', 'x.wild.example.test', RRType.A, {}],
];

let t: TestNameserver;
before(async () => {
  t = await startNameserver({ 'example.test.zone': exampleZone }, exampleConfig);
});
after(() => t.stop());

for (const [file, name, type, opts] of cases) {
  test(`golden: ${file}`, async () => {
    const path = new URL(`../../test/fixtures/golden/${file}.hex`, import.meta.url);
    const query = encodeQuery(name, type, { id: 0xbeef, ...opts });
    const answer = (await udpExchange(t.port, query))!.toString('hex');
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
      assert.ok(process.env.UPDATE_GOLDEN === '1', `missing golden file ${file}.hex: run UPDATE_GOLDEN=1 npm test`);
      writeFileSync(path, `${query.toString('hex')}\n${answer}\n`);
      return;
    }
    const [storedQuery, storedAnswer] = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(query.toString('hex'), storedQuery);
    assert.equal(answer, storedAnswer);
  });
}
