import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Rcode, RRType } from '../src/dns/wire/constants.js';
import type { Message } from '../src/dns/wire/message.js';
import { rdataToText } from '../src/dns/wire/rdata.js';
import { exampleConfig, exampleZone } from './fixtures/test-zone.js';
import { query, startNameserver, type TestNameserver } from './helpers/dns.js';

/** Answers where geocdn differed from Knot DNS and the RFCs; each case was compared with knotd. */
const zone = `${exampleZone}
tosub   IN CNAME www.sub
`;

const rows = (m: Message) => m.answers.map((r) => `${r.name.key} ${r.ttl} ${r.type} ${rdataToText(r.type, r.data)}`);

describe('answers as RFC 1034 and Knot give them', () => {
  let t: TestNameserver;
  before(async () => {
    t = await startNameserver({ 'example.test.zone': zone }, exampleConfig);
  });
  after(() => t.stop());

  test('a CNAME into a delegation: the CNAME with AA, the referral in authority (RFC 1034 §4.3.2 step 3b)', async () => {
    const m = await query(t.port, 'tosub.example.test', RRType.A);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.equal(m.aa, true);
    assert.deepEqual(rows(m), [`tosub.example.test 3600 ${RRType.CNAME} www.sub.example.test.`]);
    assert.deepEqual(m.authority.map((r) => rdataToText(r.type, r.data)).sort(), ['ns.elsewhere.net.', 'ns.sub.example.test.']);
    assert.deepEqual(m.additional.map((r) => rdataToText(r.type, r.data)), ['192.0.2.153']);
  });

  test('ANY at a CNAME is the CNAME alone: ANY matches it, so it is not followed', async () => {
    const m = await query(t.port, 'www.example.test', RRType.ANY);
    assert.deepEqual(rows(m), [`www.example.test 3600 ${RRType.CNAME} cdn.example.test.`]);
  });
});
