import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Rcode, RRClass, RRType } from '../src/dns/wire/constants.js';
import { decodeMessage, encodeQuery, type Message } from '../src/dns/wire/message.js';
import { rdataToText } from '../src/dns/wire/rdata.js';
import { exampleConfig, exampleZone } from './fixtures/test-zone.js';
import { dig, hasDig, NO_DIG, query, startNameserver, udpExchange, type TestNameserver } from './helpers/dns.js';

/** Answers where geocdn differed from Knot DNS and the RFCs; each case was compared with knotd. */
const label63 = 'a'.repeat(63);
const zone = `${exampleZone}
tosub   IN CNAME www.sub
dn      IN DNAME example.net.
dn3     IN DNAME example.test.
long    IN DNAME ${label63}.${label63}.${label63}.example.test.
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

  test('DNAME: the DNAME and a CNAME synthesized for the name below it (RFC 6672 §3.1)', async () => {
    const out = await query(t.port, 'x.DN.example.test', RRType.A);
    assert.equal(out.rcode, Rcode.NOERROR);
    assert.equal(out.aa, true);
    assert.deepEqual(rows(out), [`dn.example.test 3600 ${RRType.DNAME} \\# 13 076578616d706c65036e657400`, `x.dn.example.test 3600 ${RRType.CNAME} x.example.net.`]);
    // Inside the zone the chain goes on, as after any CNAME.
    const inside = await query(t.port, 'cdn.dn3.example.test', RRType.A);
    assert.deepEqual(rows(inside).slice(1), [`cdn.dn3.example.test 3600 ${RRType.CNAME} cdn.example.test.`, `cdn.example.test 30 ${RRType.A} 192.0.2.80`]);
    const nx = await query(t.port, 'nope.dn3.example.test', RRType.A);
    assert.equal(nx.rcode, Rcode.NXDOMAIN);
    assert.equal(nx.answers.length, 2);
    // A CNAME question is answered by the synthesized CNAME; the owner itself is an ordinary name.
    assert.equal((await query(t.port, 'www.dn3.example.test', RRType.CNAME)).answers.length, 2);
    assert.equal((await query(t.port, 'dn.example.test', RRType.DNAME)).answers.length, 1);
    const owner = await query(t.port, 'dn.example.test', RRType.A);
    assert.equal(owner.answers.length, 0);
    assert.equal(owner.authority[0].type, RRType.SOA);
  });

  test('DNAME: a substituted name longer than 255 bytes is YXDOMAIN (RFC 6672 §2.2)', async () => {
    const m = await query(t.port, `${label63}.long.example.test`, RRType.A, { tcp: true });
    assert.equal(m.rcode, Rcode.YXDOMAIN);
    assert.deepEqual(m.answers.map((r) => r.type), [RRType.DNAME]);
  });

  test('NOTIMP keeps the EDNS of the query: OPT in the answer (RFC 6891 §6.1.1)', async () => {
    for (const opcode of [2, 4, 5]) {
      const m = await query(t.port, 'example.test', RRType.SOA, { opcode, edns: { udpSize: 4096 } });
      assert.equal(m.rcode, Rcode.NOTIMP, `opcode ${opcode}`);
      assert.equal(m.edns?.udpSize, 1232, `opcode ${opcode}`);
    }
    assert.equal((await query(t.port, 'example.test', RRType.SOA, { opcode: 2 })).edns, undefined);
  });

  test('FORMERR for a query without a question keeps its EDNS too (a DNS Cookie probe has no question)', async () => {
    const q = encodeQuery('example.test', RRType.SOA, { edns: true });
    const opt = q.subarray(q.length - 11);
    const packet = Buffer.concat([q.subarray(0, 12), opt]);
    packet.writeUInt16BE(0, 4);
    const m = decodeMessage((await udpExchange(t.port, packet))!);
    assert.equal(m.rcode, Rcode.FORMERR);
    assert.equal(m.edns?.udpSize, 1232);
  });

  test('ECS family 0 with source prefix 0 (no address) is valid and echoed with scope 0 (RFC 7871 §7.1.2)', async () => {
    const ecs = { family: 0 as const, sourcePrefix: 0, scopePrefix: 0, address: new Uint8Array(0) };
    const m = await query(t.port, 'cdn.example.test', RRType.A, { edns: { ecs } });
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.deepEqual(m.edns?.ecs, ecs);
    const withAddress = encodeQuery('cdn.example.test', RRType.A, { edns: { ecs: { ...ecs, address: Uint8Array.from([1]) } } });
    assert.equal(decodeMessage((await udpExchange(t.port, withAddress))!).rcode, Rcode.FORMERR);
  });
});

test('a zone with data below a DNAME is refused, as Knot refuses it (RFC 6672 §2.4)', async () => {
  const started = await startNameserver({ 'example.test.zone': `${zone}a.dn IN A 192.0.2.1\n` }, exampleConfig).catch((e: Error & { errors?: Error[] }) => e);
  if ('stop' in started) await started.stop();
  const messages = 'errors' in started ? (started.errors ?? []).map((e) => e.message) : [];
  assert.ok(messages.some((m) => m === 'a.dn.example.test. is below the DNAME at dn.example.test. (RFC 6672 §2.4)'), messages.join('; '));
});

describe('DNAME with dig', { skip: hasDig() ? false : NO_DIG }, () => {
  let t: TestNameserver;
  before(async () => {
    t = await startNameserver({ 'example.test.zone': zone }, exampleConfig);
  });
  after(() => t?.stop());

  test('dig shows the DNAME, the synthesized CNAME and the end of the chain', async () => {
    const out = await dig(t.port, ['www.dn3.example.test', 'A', '+norec']);
    assert.match(out, /status: NOERROR/);
    assert.match(out, /flags: qr aa;/);
    assert.match(out, /dn3\.example\.test\.\s+3600\s+IN\s+DNAME\s+example\.test\./);
    assert.match(out, /www\.dn3\.example\.test\.\s+3600\s+IN\s+CNAME\s+www\.example\.test\./);
    assert.match(out, /cdn\.example\.test\.\s+30\s+IN\s+A\s+192\.0\.2\.80/);
  });

  test('NOTIMP over EDNS: dig sees an OPT and no "retry with +noedns" warning', async () => {
    const out = await dig(t.port, ['example.test', 'SOA', '+opcode=status']);
    assert.match(out, /status: NOTIMP/);
    assert.match(out, /OPT PSEUDOSECTION/);
    assert.doesNotMatch(out, /retry with '\+noedns'/);
  });
});

describe('who answered: CH TXT id.server / version.bind and NSID (RFC 4892, RFC 5001)', () => {
  let t: TestNameserver;
  let hidden: TestNameserver;
  before(async () => {
    t = await startNameserver({ 'example.test.zone': zone }, exampleConfig.replace('dns:\n', 'dns:\n  identity: ns1.fra.example.test\n'));
    hidden = await startNameserver({ 'example.test.zone': zone }, exampleConfig.replace('dns:\n', 'dns:\n  identity: false\n  version: false\n'));
  });
  after(async () => {
    await t.stop();
    await hidden.stop();
  });

  const txt = (m: Message) => m.answers.map((r) => rdataToText(r.type, r.data));

  test('id.server and hostname.bind name the server; version.server and version.bind its version; other CH names are REFUSED', async () => {
    for (const name of ['id.server', 'HOSTNAME.bind']) {
      const m = await query(t.port, name, RRType.TXT, { qclass: RRClass.CH });
      assert.equal(m.rcode, Rcode.NOERROR, name);
      assert.equal(m.aa, true);
      assert.deepEqual(txt(m), ['"ns1.fra.example.test"'], name);
      assert.equal(m.answers[0]!.ttl, 0);
    }
    for (const name of ['version.server', 'version.bind']) {
      assert.match(txt(await query(t.port, name, RRType.TXT, { qclass: RRClass.CH }))[0] ?? '', /^"geocdn \d+\.\d+\.\d+/, name);
    }
    const nodata = await query(t.port, 'id.server', RRType.A, { qclass: RRClass.CH });
    assert.equal(nodata.rcode, Rcode.NOERROR);
    assert.equal(nodata.answers.length, 0);
    assert.equal((await query(t.port, 'authors.bind', RRType.TXT, { qclass: RRClass.CH })).rcode, Rcode.REFUSED);
  });

  test('NSID is sent to a query that asks for it, and only then', async () => {
    const plain = encodeQuery('www.example.test', RRType.A, { edns: true });
    const asking = Buffer.concat([plain, Buffer.from([0, 3, 0, 0])]);
    asking.writeUInt16BE(4, plain.length - 2); // the OPT's RDLENGTH: one empty NSID option
    const answered = decodeMessage((await udpExchange(t.port, asking))!);
    assert.equal(answered.rcode, Rcode.NOERROR);
    assert.ok(answered.answers.length > 0);
    const nsid = answered.edns?.options.find((o) => o.code === 3);
    assert.equal(Buffer.from(nsid?.data ?? []).toString(), 'ns1.fra.example.test');
    const unasked = decodeMessage((await udpExchange(t.port, plain))!);
    assert.equal(unasked.edns?.options.length, 0);
  });

  test('identity: false and version: false tell nothing (REFUSED, no NSID)', async () => {
    assert.equal((await query(hidden.port, 'id.server', RRType.TXT, { qclass: RRClass.CH })).rcode, Rcode.REFUSED);
    assert.equal((await query(hidden.port, 'version.bind', RRType.TXT, { qclass: RRClass.CH })).rcode, Rcode.REFUSED);
  });

  test('dig CH TXT id.server and dig +nsid show the identity', { skip: hasDig() ? false : NO_DIG }, async () => {
    assert.equal((await dig(t.port, ['id.server', 'CH', 'TXT', '+short'])).trim(), '"ns1.fra.example.test"');
    assert.match(await dig(t.port, ['www.example.test', '+nsid']), /; NSID: .*\("ns1\.fra\.example\.test"\)/);
  });
});
