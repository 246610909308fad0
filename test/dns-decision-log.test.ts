import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { logSlowLoad } from '../src/core/progress.js';
import { portsFrom, startDemo, type Demo, demoConfigPath } from '../src/demo/run.js';
import { RRType } from '../src/dns/wire/constants.js';
import { encodeQuery } from '../src/dns/wire/message.js';
import { udpExchange } from './helpers/dns.js';

/** A pino logger whose lines land in `lines`, parsed. */
function captured(level: string): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

const ecsQuery = (name: string, type: number, a: number, b: number, c: number) =>
  encodeQuery(name, type, { edns: { ecs: { family: 1, sourcePrefix: 24, scopePrefix: 0, address: Uint8Array.from([a, b, c]) } } });

describe('one debug line per DNS answer decision', () => {
  const debug = captured('debug');
  const info = captured('info');
  let withDebug: Demo;
  let withoutDebug: Demo;
  before(async () => {
    withDebug = await startDemo(portsFrom(20000 + Math.floor(Math.random() * 12000)), debug.logger);
    withoutDebug = await startDemo(portsFrom(20000 + Math.floor(Math.random() * 12000)), info.logger);
  });
  after(async () => {
    await withDebug?.stop();
    await withoutDebug?.stop();
  });

  test('at debug: service, client subnet, chosen POP and why; for repeats too', async () => {
    for (let i = 0; i < 2; i++) assert.ok(await udpExchange(withDebug.ports.dns, ecsQuery('cdn.example.test', RRType.A, 8, 8, 8)));
    assert.ok(await udpExchange(withDebug.ports.dns, ecsQuery('director.example.test', RRType.TXT, 185, 178, 92)));
    const decisions = debug.lines.filter((l) => l.msg === 'dns decision');
    assert.equal(decisions.length, 3, JSON.stringify(decisions));
    assert.deepEqual(
      { service: decisions[0]!.service, client: decisions[0]!.client, pop: decisions[0]!.pop, rule: decisions[0]!.rule, reason: decisions[0]!.reason, ttl: decisions[0]!.ttl, level: decisions[0]!.level },
      { service: 'cdn.example.test', client: '8.8.8.0/24', pop: 'us-newyork', rule: 'country:US', reason: 'pop us-newyork rule country:US', ttl: 30, level: 20 },
    );
    assert.equal(decisions[2]!.client, '185.178.92.0/24');
    assert.equal(decisions[2]!.pop, 'eu-milan');
  });

  test('above debug: no decision lines', async () => {
    assert.ok(await udpExchange(withoutDebug.ports.dns, ecsQuery('cdn.example.test', RRType.A, 8, 8, 8)));
    assert.equal(info.lines.filter((l) => l.msg === 'dns decision').length, 0);
  });
});

test('a slow load says how long it took and how much it read; a fast one says nothing', () => {
  const { logger, lines } = captured('info');
  assert.equal(logSlowLoad(logger, 'loading zones', 300, [demoConfigPath]), false);
  assert.equal(logSlowLoad(logger, 'loading zones', 2500, [demoConfigPath, '/nonexistent']), true);
  assert.equal(lines.length, 1);
  assert.match(String(lines[0]!.msg), /^loading zones took 2\.5 s \(\d+\.\d KiB in 2 file\(s\)\)$/);
  assert.equal(lines[0]!.elapsed_ms, 2500);
  assert.ok((lines[0]!.bytes as number) > 1000);
});
