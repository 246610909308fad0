import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { RRType } from '../src/dns/wire/constants.js';
import { encodeQuery } from '../src/dns/wire/message.js';
import { Name } from '../src/dns/wire/name.js';
import { parseQuery } from '../src/dns/wire/query.js';
import { ipv6Bytes, ipv6ToText, readName, writeRdata } from '../src/dns/wire/rdata.js';
import { MessageWriter } from '../src/dns/wire/writer.js';

const fixture = (f: string) => new URL(`../../test/fixtures/${f}`, import.meta.url);

describe('names', () => {
  test('presentation form: relative, absolute, @, escapes, case folded', () => {
    const origin = Name.fromText('Example.TEST.');
    assert.equal(Name.fromText('www', origin).key, 'www.example.test');
    assert.equal(Name.fromText('@', origin), origin);
    assert.equal(Name.fromText('A\\.b.example.test.').key, 'a\\.b.example.test');
    assert.equal(Name.fromText('\\065bc.test.').key, 'abc.test');
    assert.equal(Name.fromText('a\\032b.test.').key, 'a\\032b.test');
    assert.equal(Name.fromText('.').key, '');
    assert.throws(() => Name.fromText(`${'a'.repeat(64)}.test.`), /63/);
    assert.throws(() => Name.fromText(`${'abcdefghi.'.repeat(26)}`), /255/);
    assert.throws(() => Name.fromText('a..b.'), /empty label/);
  });

  test('subdomains compare by labels, not by text', () => {
    const zone = Name.fromText('example.test.');
    assert.ok(Name.fromText('a.example.test.').isSubdomainOf(zone));
    assert.ok(zone.isSubdomainOf(zone));
    assert.ok(!Name.fromText('aexample.test.').isSubdomainOf(zone));
    assert.ok(!Name.fromText('a\\.example.test.').isSubdomainOf(zone)); // one label "a.example" under test
  });

  test('compression reuses suffixes and points backwards', () => {
    const w = new MessageWriter(512);
    w.name(Name.fromText('www.example.test.'), true);
    const at = w.pos;
    w.name(Name.fromText('mail.example.test.'), true);
    assert.equal(w.pos - at, 1 + 4 + 2); // "mail" then a pointer
    const buf = w.finish();
    assert.equal(readName(buf, at).name.key, 'mail.example.test');
  });

  test('reading rejects loops, forward pointers, long labels and names', () => {
    assert.throws(() => readName(Uint8Array.from([0xc0, 0x00]), 0), /backwards/);
    assert.throws(() => readName(Uint8Array.from([0x01, 0x61, 0xc0, 0x00]), 2), /backwards/);
    assert.throws(() => readName(Uint8Array.from([0x40, 0x61]), 0), /reserved|past/);
    const long = new Uint8Array(300);
    for (let i = 0; i < 290; i += 2) { long[i] = 1; long[i + 1] = 0x61; }
    assert.throws(() => readName(long, 0), /255/);
  });
});

describe('records', () => {
  test('IPv6 text both ways (RFC 5952)', () => {
    for (const t of ['2001:db8::1', '::1', '::', '2001:db8:0:1:1:1:1:1', 'fe80:0:0:1::1', '::ffff:192.0.2.1']) {
      const b = ipv6Bytes(t);
      assert.ok(b, t);
      if (!t.includes('.')) assert.equal(ipv6ToText(b), t);
    }
    assert.equal(ipv6ToText(ipv6Bytes('2001:0db8:0000:0000:0001:0000:0000:0001')!), '2001:db8::1:0:0:1');
    assert.equal(ipv6Bytes('1::2::3'), undefined);
    assert.equal(ipv6Bytes('12345::'), undefined);
  });

  test('SOA and MX RDATA round-trip through the writer', () => {
    const w = new MessageWriter(512);
    const soa = { kind: 'soa' as const, mname: Name.fromText('ns1.example.test.'), rname: Name.fromText('h.example.test.'), serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 };
    writeRdata(w, RRType.SOA, soa);
    const buf = w.finish();
    assert.equal(buf.readUInt16BE(0), buf.length - 2);
  });
});

describe('query parsing', () => {
  test('a dig-made query (golden bytes) parses', () => {
    // `dig @127.0.0.1 www.example.test A +subnet=192.0.2.0/24` as captured; id 0x1234, no cookie.
    const hex = readFileSync(fixture('query-www-ecs.hex'), 'utf8').trim();
    const r = parseQuery(Buffer.from(hex, 'hex'));
    assert.equal(r.kind, 'query');
    if (r.kind !== 'query') return;
    assert.equal(r.query.id, 0x1234);
    assert.equal(r.query.qtype, RRType.A);
    assert.equal(r.query.edns?.udpSize, 1232);
    assert.deepEqual(r.query.edns?.ecs, { family: 1, sourcePrefix: 24, scopePrefix: 0, address: Uint8Array.from([192, 0, 2]) });
  });

  test('malformed queries are FORMERR or dropped, with a reason', () => {
    const ok = encodeQuery('a.test', RRType.A, { edns: true });
    assert.equal(parseQuery(ok.subarray(0, 5)).kind, 'drop');
    for (const [name, mutate] of [
      ['truncated question', (b: Buffer) => b.subarray(0, 18)],
      ['trailing bytes', (b: Buffer) => Buffer.concat([b, Buffer.from([1])])],
      ['pointer in question', (b: Buffer) => { const c = Buffer.from(b); c[12] = 0xc0; return c; }],
      ['two OPT', (b: Buffer) => { const c = Buffer.concat([b, b.subarray(b.length - 11)]); c.writeUInt16BE(2, 10); return c; }],
      ['answer count', (b: Buffer) => { const c = Buffer.from(b); c.writeUInt16BE(1, 6); return c; }],
    ] as const) {
      const r = parseQuery(mutate(ok));
      assert.equal(r.kind, 'error', name);
      if (r.kind === 'error') assert.equal(r.rcode, 1, name);
    }
  });

  test('ECS checks of RFC 7871 §7.1.2', () => {
    const base = { family: 1 as const, sourcePrefix: 24, scopePrefix: 0, address: Uint8Array.from([10, 0, 0]) };
    const err = (ecs: typeof base | { family: 1; sourcePrefix: number; scopePrefix: number; address: Uint8Array }) =>
      parseQuery(encodeQuery('a.test', RRType.A, { edns: { ecs: ecs as typeof base } })).kind;
    assert.equal(err(base), 'query');
    assert.equal(err({ ...base, sourcePrefix: 23, address: Uint8Array.from([10, 0, 1]) }), 'error'); // bits past the prefix
    assert.equal(err({ ...base, sourcePrefix: 33, address: Uint8Array.from([1, 2, 3, 4, 5]) }), 'error');
    assert.equal(err({ ...base, address: Uint8Array.from([10, 0]) }), 'error'); // wrong length
    assert.equal(err({ ...base, sourcePrefix: 0, address: new Uint8Array(0) }), 'query');
  });
});


describe('listen addresses', () => {
  test('host:port, [v6]:port, :port and a bare port', async () => {
    const { parseListen } = await import('../src/core/listen.js');
    assert.deepEqual(parseListen('127.0.0.2:8080'), { host: '127.0.0.2', port: 8080 });
    assert.deepEqual(parseListen('[::1]:53'), { host: '::1', port: 53 });
    assert.deepEqual(parseListen(':5353'), { host: '127.0.0.1', port: 5353 });
    assert.deepEqual(parseListen('8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListen('localhost:0'), { host: 'localhost', port: 0 });
    for (const bad of ['::1:53', 'host', '1.2.3.4:99999', '[::1]', 'a b:53']) assert.throws(() => parseListen(bad), /GEOCDN|listen|port/, bad);
  });
});
