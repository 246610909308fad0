import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Rcode, RRType } from '../src/dns/wire/constants.js';
import { encodeQuery } from '../src/dns/wire/message.js';
import { rdataToText } from '../src/dns/wire/rdata.js';
import { exampleConfig, exampleZone } from './fixtures/test-zone.js';
import { query, startNameserver, tcpExchange, udpExchange, type TestNameserver } from './helpers/dns.js';
import { decodeMessage } from '../src/dns/wire/message.js';

const text = (m: { type: number; data: Parameters<typeof rdataToText>[1] }) => rdataToText(m.type, m.data);

describe('authoritative answers over UDP and TCP', () => {
  let t: TestNameserver;
  before(async () => {
    t = await startNameserver({ 'example.test.zone': exampleZone }, exampleConfig);
  });
  after(() => t.stop());

  test('an A record: AA set, RA clear, RD copied, TTL from the record', async () => {
    const m = await query(t.port, 'cdn.example.test', RRType.A, { rd: true });
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.ok(m.aa && m.qr && m.rd && !m.ra);
    assert.equal(m.answers.length, 1);
    assert.equal(text(m.answers[0]), '192.0.2.80');
    assert.equal(m.answers[0].ttl, 30);
  });

  test('the letter case of the question is kept', async () => {
    const packet = encodeQuery('CdN.ExAmPle.TEST', RRType.A);
    const raw = (await udpExchange(t.port, packet))!;
    assert.equal(raw.subarray(12, 12 + 18).toString('latin1'), packet.subarray(12, 12 + 18).toString('latin1'));
    const m = decodeMessage(raw);
    assert.equal(m.answers[0].name.key, 'cdn.example.test');
    // The same question in another case, answered from the cache, keeps its own case too.
    const raw2 = (await udpExchange(t.port, encodeQuery('CDN.example.test', RRType.A)))!;
    assert.equal(raw2.subarray(13, 16).toString('latin1'), 'CDN');
  });

  test('NXDOMAIN carries the SOA with TTL min(SOA TTL, MINIMUM)', async () => {
    const m = await query(t.port, 'nope.example.test', RRType.A);
    assert.equal(m.rcode, Rcode.NXDOMAIN);
    assert.ok(m.aa);
    assert.equal(m.answers.length, 0);
    assert.equal(m.authority.length, 1);
    assert.equal(m.authority[0].type, RRType.SOA);
    assert.equal(m.authority[0].ttl, 300);
  });

  test('NODATA: an existing name without the type', async () => {
    const m = await query(t.port, 'mail.example.test', RRType.AAAA);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.equal(m.answers.length, 0);
    assert.equal(m.authority[0].type, RRType.SOA);
  });

  test('empty non-terminals are NODATA, not NXDOMAIN', async () => {
    for (const name of ['c.ent.example.test', 'ent.example.test', '_tcp.example.test']) {
      const m = await query(t.port, name, RRType.A);
      assert.equal(m.rcode, Rcode.NOERROR, name);
      assert.equal(m.answers.length, 0, name);
      assert.equal(m.authority[0].type, RRType.SOA, name);
    }
  });

  test('a CNAME chain is followed inside the zone', async () => {
    const m = await query(t.port, 'docs.example.test', RRType.A);
    assert.deepEqual(m.answers.map((r) => [r.name.key, r.type, text(r)]), [
      ['docs.example.test', RRType.CNAME, 'www.example.test.'],
      ['www.example.test', RRType.CNAME, 'cdn.example.test.'],
      ['cdn.example.test', RRType.A, '192.0.2.80'],
    ]);
  });

  test('a CNAME query answers the CNAME itself', async () => {
    const m = await query(t.port, 'www.example.test', RRType.CNAME);
    assert.equal(m.answers.length, 1);
    assert.equal(m.answers[0].type, RRType.CNAME);
  });

  test('a CNAME to another zone stops there', async () => {
    const m = await query(t.port, 'out.example.test', RRType.A);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.equal(m.answers.length, 1);
    assert.equal(text(m.answers[0]), 'target.example.net.');
    assert.equal(m.authority.length, 0);
  });

  test('a CNAME loop ends without hanging', async () => {
    const m = await query(t.port, 'loop1.example.test', RRType.A);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.equal(m.answers.length, 2);
  });

  test('a CNAME into a missing name: NXDOMAIN with the chain (RFC 6604)', async () => {
    const m = await query(t.port, 'dangling.example.test', RRType.A);
    assert.equal(m.rcode, Rcode.NXDOMAIN);
    assert.equal(m.answers.length, 1);
    assert.equal(m.answers[0].type, RRType.CNAME);
    assert.equal(m.authority[0].type, RRType.SOA);
  });

  test('a CNAME chain ending in NODATA keeps the chain and the SOA', async () => {
    const m = await query(t.port, 'docs.example.test', RRType.MX);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.equal(m.answers.filter((r) => r.type === RRType.CNAME).length, 2);
    assert.equal(m.authority[0].type, RRType.SOA);
  });

  test('wildcards synthesize the queried name (RFC 4592)', async () => {
    const m = await query(t.port, 'Anything.wild.example.test', RRType.A);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.equal(m.answers[0].name.key, 'anything.wild.example.test');
    assert.equal(text(m.answers[0]), '192.0.2.99');
    const deep = await query(t.port, 'a.b.wild.example.test', RRType.A);
    assert.equal(text(deep.answers[0]), '192.0.2.99');
  });

  test('a wildcard without the type is NODATA', async () => {
    const m = await query(t.port, 'x.wild.example.test', RRType.MX);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.equal(m.answers.length, 0);
    assert.equal(m.authority[0].type, RRType.SOA);
  });

  test('an existing name blocks the wildcard at and below it', async () => {
    const exact = await query(t.port, 'host.wild.example.test', RRType.A);
    assert.equal(exact.rcode, Rcode.NOERROR);
    assert.equal(exact.answers.length, 0);
    const below = await query(t.port, 'x.host.wild.example.test', RRType.A);
    assert.equal(below.rcode, Rcode.NXDOMAIN);
  });

  test('a delegated subzone gets a referral: AA clear, NS in authority, glue in additional', async () => {
    for (const name of ['sub.example.test', 'www.sub.example.test']) {
      const m = await query(t.port, name, RRType.A);
      assert.equal(m.rcode, Rcode.NOERROR, name);
      assert.equal(m.aa, false, name);
      assert.equal(m.answers.length, 0, name);
      assert.deepEqual(m.authority.map((r) => text(r)).sort(), ['ns.elsewhere.net.', 'ns.sub.example.test.']);
      assert.deepEqual(m.additional.map((r) => [r.name.key, text(r)]), [['ns.sub.example.test', '192.0.2.153']]);
    }
  });

  test('names outside every zone are REFUSED: never an open resolver', async () => {
    const m = await query(t.port, 'www.example.com', RRType.A);
    assert.equal(m.rcode, Rcode.REFUSED);
    assert.equal(m.aa, false);
    assert.equal(m.answers.length, 0);
  });

  test('opcodes other than QUERY get NOTIMP', async () => {
    const m = await query(t.port, 'example.test', RRType.SOA, { opcode: 2 });
    assert.equal(m.rcode, Rcode.NOTIMP);
  });

  test('a question count other than one is FORMERR', async () => {
    const packet = encodeQuery('example.test', RRType.A);
    packet.writeUInt16BE(2, 4);
    const m = decodeMessage((await udpExchange(t.port, packet))!);
    assert.equal(m.rcode, Rcode.FORMERR);
  });

  test('ANY is answered minimally with one RRset (RFC 8482)', async () => {
    const m = await query(t.port, 'example.test', RRType.ANY);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.equal(new Set(m.answers.map((r) => r.type)).size, 1);
  });

  test('MX answers carry the exchange address in additional', async () => {
    const m = await query(t.port, 'example.test', RRType.MX);
    assert.equal(text(m.answers[0]), '10 mail.example.test.');
    assert.deepEqual(m.additional.map((r) => text(r)), ['192.0.2.25']);
  });

  test('SRV and unknown types (RFC 3597)', async () => {
    const srv = await query(t.port, '_http._tcp.example.test', RRType.SRV);
    assert.equal(text(srv.answers[0]), '10 5 80 www.example.test.');
    const blob = await query(t.port, 'blob.example.test', 65534);
    assert.equal(text(blob.answers[0]), '\\# 2 abcd');
  });

  test('an answer too big for 512 bytes is cut with TC; TCP gets all of it', async () => {
    const udp = await query(t.port, 'big.example.test', RRType.TXT);
    assert.equal(udp.tc, true);
    assert.equal(udp.answers.length, 0); // cut at an RRset boundary: the one RRset did not fit
    const tcp = await query(t.port, 'big.example.test', RRType.TXT, { tcp: true });
    assert.equal(tcp.tc, false);
    assert.equal(tcp.answers.length, 3);
    const edns = await query(t.port, 'big.example.test', RRType.TXT, { edns: { udpSize: 1232 } });
    assert.equal(edns.tc, false);
    assert.equal(edns.answers.length, 3);
  });

  test('EDNS: OPT echoed with our payload size and DO bit', async () => {
    const m = await query(t.port, 'cdn.example.test', RRType.A, { edns: { udpSize: 4096, dnssecOk: true } });
    assert.ok(m.edns);
    assert.equal(m.edns.udpSize, 1232);
    assert.equal(m.edns.version, 0);
    assert.equal(m.edns.dnssecOk, true);
    const plain = await query(t.port, 'cdn.example.test', RRType.A);
    assert.equal(plain.edns, undefined);
  });

  test('EDNS version above 0 gets BADVERS (RFC 6891 §6.1.3)', async () => {
    const m = await query(t.port, 'cdn.example.test', RRType.A, { edns: { version: 1 } });
    assert.equal(m.rcode, Rcode.BADVERS);
    assert.equal(m.answers.length, 0);
    assert.equal(m.edns?.version, 0);
  });

  test('EDNS Client Subnet is echoed with scope 0 for names that are not geo-routed', async () => {
    const ecs = { family: 1 as const, sourcePrefix: 24, scopePrefix: 0, address: Uint8Array.from([8, 8, 8]) };
    const m = await query(t.port, 'cdn.example.test', RRType.A, { edns: { ecs } });
    assert.deepEqual(m.edns?.ecs, { family: 1, sourcePrefix: 24, scopePrefix: 0, address: Uint8Array.from([8, 8, 8]) });
    const bad = encodeQuery('cdn.example.test', RRType.A, { edns: { ecs: { ...ecs, scopePrefix: 5 } } });
    assert.equal(decodeMessage((await udpExchange(t.port, bad))!).rcode, Rcode.FORMERR);
  });

  test('TCP: several queries on one connection, answered in order', async () => {
    const names = ['cdn.example.test', 'nope.example.test', 'www.example.com', 'mail.example.test'];
    const answers = await tcpExchange(t.port, names.map((n, i) => encodeQuery(n, RRType.A, { id: 100 + i })));
    assert.deepEqual(answers.map((a) => decodeMessage(a).id), [100, 101, 102, 103]);
    assert.deepEqual(answers.map((a) => decodeMessage(a).rcode), [0, 3, 5, 0]);
  });

  test('a response is never answered (no reflection loops)', async () => {
    const packet = encodeQuery('cdn.example.test', RRType.A);
    packet[2] |= 0x80;
    assert.equal(await udpExchange(t.port, packet, '127.0.0.1', 300), undefined);
  });
});

describe('reload', () => {
  test('a changed zone is served after reload; a broken one is refused and the old keeps serving', async () => {
    const t = await startNameserver({ 'example.test.zone': exampleZone }, exampleConfig);
    try {
      writeFileSync(join(t.dir, 'example.test.zone'), exampleZone.replace('192.0.2.80', '192.0.2.81'));
      assert.equal(await t.ns.reload(), true);
      let m = await query(t.port, 'cdn.example.test', RRType.A);
      assert.equal(text(m.answers[0]), '192.0.2.81');
      writeFileSync(join(t.dir, 'example.test.zone'), `${exampleZone}\nbroken IN A 999.1.1.1\n`);
      assert.equal(await t.ns.reload(), false);
      m = await query(t.port, 'cdn.example.test', RRType.A);
      assert.equal(text(m.answers[0]), '192.0.2.81');
    } finally {
      await t.stop();
    }
  });

  test('queries sent during reloads are all answered', async () => {
    const t = await startNameserver({ 'example.test.zone': exampleZone }, exampleConfig);
    try {
      const reloads = (async () => {
        for (let i = 0; i < 5; i++) await t.ns.reload();
      })();
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => udpExchange(t.port, encodeQuery('cdn.example.test', RRType.A, { id: i }))),
      );
      await reloads;
      assert.equal(answers.filter((a) => a && decodeMessage(a).answers.length === 1).length, 200);
    } finally {
      await t.stop();
    }
  });
});

/** Whether ::1 is configured (containers sometimes run without IPv6). */
function hasIpv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.family === 'IPv6' && i.address === '::1'));
}

describe('listening', () => {
  test('IPv6: UDP and TCP on [::1]', { skip: hasIpv6Loopback() ? false : 'no IPv6 loopback (::1) on this machine' }, async () => {
    const ns = await startNameserver({ 'example.test.zone': exampleZone }, exampleConfig, '[::1]:0');
    try {
      const packet = encodeQuery('cdn.example.test', RRType.A, { id: 7 });
      const udp = decodeMessage((await udpExchange(ns.port, packet, '::1'))!);
      assert.equal(text(udp.answers[0]), '192.0.2.80');
      const [tcp] = await tcpExchange(ns.port, [packet], '::1');
      assert.equal(decodeMessage(tcp).answers.length, 1);
    } finally {
      await ns.stop();
    }
  });

  test('a zone file edited on disk is picked up without a signal', async () => {
    const t = await startNameserver({ 'example.test.zone': exampleZone }, exampleConfig.replace('watch: false', 'watch: true'));
    try {
      writeFileSync(join(t.dir, 'example.test.zone'), exampleZone.replace('192.0.2.80', '192.0.2.82'));
      let answer = '';
      for (let i = 0; i < 50 && answer !== '192.0.2.82'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        answer = text((await query(t.port, 'cdn.example.test', RRType.A)).answers[0]);
      }
      assert.equal(answer, '192.0.2.82');
    } finally {
      await t.stop();
    }
  });
});
