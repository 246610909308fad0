import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Rcode, RRType } from '../src/dns/wire/constants.js';
import type { ClientSubnet } from '../src/dns/wire/edns.js';
import { rdataToText } from '../src/dns/wire/rdata.js';
import { geoZone } from './fixtures/test-zone.js';
import { dig, hasDig, NO_DIG, query, startNameserver, type TestNameserver } from './helpers/dns.js';
import { writeGeoFixtures, type GeoFixtures } from './helpers/geo-fixtures.js';

/** Geo answers through the real nameserver: ECS scope, director TXT, CNAME into a service. */
const zone = geoZone;

function config(fx: GeoFixtures, layout: 'geoip2' | 'flat'): string {
  return `dns:
  listen: ["127.0.0.1:0"]
  watch: false
zones:
  - origin: example.test
    file: example.test.zone
geoip:
  city: ${JSON.stringify(fx[layout])}
  asn: ${JSON.stringify(fx.asnMmdb)}
pops:
  us-nyc: { addresses: [198.51.100.10, "2001:db8:1::10"], location: [40.71, -74.0], country: US }
  eu-fra: { addresses: [203.0.113.20, 203.0.113.21], location: [50.11, 8.68], country: DE }
  eu-mil: { addresses: [203.0.113.30], location: [45.46, 9.19], country: IT }
services:
  cdn.example.test:
    ttl: 20
    route:
      map:
        "840": us-nyc
        DEU: eu-fra
        IT: eu-mil
        "0": [eu-fra, eu-mil]
  near.example.test:
    route: nearest
director: director.example.test
`;
}

const ecs = (a: number[], prefix: number): ClientSubnet => ({ family: 1, sourcePrefix: prefix, scopePrefix: 0, address: Uint8Array.from(a.slice(0, Math.ceil(prefix / 8))) });
const addrs = (m: Awaited<ReturnType<typeof query>>) => m.answers.filter((r) => r.type === RRType.A || r.type === RRType.AAAA).map((r) => rdataToText(r.type, r.data)).sort();

for (const layout of ['geoip2', 'flat'] as const) {
  describe(`GeoDNS over UDP (${layout} layout)`, () => {
    let t: TestNameserver;
    before(async () => {
      const fx = writeGeoFixtures();
      t = await startNameserver({ 'example.test.zone': zone }, config(fx, layout));
    });
    after(() => t?.stop());

    test('the map sends each country to its POP, with the service TTL', async () => {
      const us = await query(t.port, 'cdn.example.test', RRType.A, { edns: { ecs: ecs([8, 8, 8], 24) } });
      assert.deepEqual(addrs(us), ['198.51.100.10']);
      assert.equal(us.answers[0].ttl, 20);
      const de = await query(t.port, 'cdn.example.test', RRType.A, { edns: { ecs: ecs([193, 99, 144], 24) } });
      assert.deepEqual(addrs(de), ['203.0.113.20', '203.0.113.21']);
      const it = await query(t.port, 'cdn.example.test', RRType.A, { edns: { ecs: ecs([185, 178, 92], 24) } });
      assert.deepEqual(addrs(it), ['203.0.113.30']);
    });

    test('AAAA of the chosen POP; NODATA when it has none', async () => {
      const us = await query(t.port, 'cdn.example.test', RRType.AAAA, { edns: { ecs: ecs([8, 8, 8], 24) } });
      assert.deepEqual(addrs(us), ['2001:db8:1::10']);
      const de = await query(t.port, 'cdn.example.test', RRType.AAAA, { edns: { ecs: ecs([193, 99, 144], 24) } });
      assert.equal(de.rcode, Rcode.NOERROR);
      assert.equal(de.answers.length, 0);
      assert.equal(de.authority[0].type, RRType.SOA);
    });

    test('private, loopback and unknown addresses get the default', async () => {
      const loop = await query(t.port, 'cdn.example.test', RRType.A); // the packet comes from 127.0.0.1
      assert.deepEqual(addrs(loop), ['203.0.113.20', '203.0.113.21']);
      const priv = await query(t.port, 'cdn.example.test', RRType.A, { edns: { ecs: ecs([10, 1, 2], 24) } });
      assert.deepEqual(addrs(priv), ['203.0.113.20', '203.0.113.21']);
      const unknown = await query(t.port, 'cdn.example.test', RRType.A, { edns: { ecs: ecs([100, 64, 0], 24) } });
      assert.deepEqual(addrs(unknown), ['203.0.113.20', '203.0.113.21']);
    });

    test('ECS scope is the deciding network, not the source prefix copied', async () => {
      // 8.8.8.0/24 (California) is its own record inside 8.8.0.0/16 (Kansas); both are US and the
      // map routes by country, so the answer holds for the whole /16: the widest correct scope.
      const a = await query(t.port, 'cdn.example.test', RRType.A, { edns: { ecs: ecs([8, 8, 8], 24) } });
      assert.equal(a.edns?.ecs?.scopePrefix, 16);
      // 193.99.144.0/21 is one record: a /24 query learns the answer holds for the whole /21 (or wider).
      const b = await query(t.port, 'cdn.example.test', RRType.A, { edns: { ecs: ecs([193, 99, 144], 24) } });
      assert.ok(b.edns!.ecs!.scopePrefix <= 21 && b.edns!.ecs!.scopePrefix > 0, `scope ${b.edns!.ecs!.scopePrefix}`);
      // Static names answer scope 0.
      const s = await query(t.port, 'mail.example.test', RRType.A, { edns: { ecs: ecs([8, 8, 8], 24) } });
      assert.equal(s.edns?.ecs?.scopePrefix, 0);
    });

    test('ECS source prefix 0: answered for the sender, with scope 0 (as gdnsd: nothing was tailored to a client network)', async () => {
      for (const [name, type] of [['cdn.example.test', RRType.A], ['director.example.test', RRType.TXT]] as const) {
        const m = await query(t.port, name, type, { edns: { ecs: ecs([], 0) } });
        assert.ok(m.answers.length > 0, name);
        assert.deepEqual(m.edns?.ecs, { family: 1, sourcePrefix: 0, scopePrefix: 0, address: new Uint8Array(0) }, name);
      }
    });

    test('a CNAME into a service is followed to the geo answer', async () => {
      const m = await query(t.port, 'www.example.test', RRType.A, { edns: { ecs: ecs([8, 8, 8], 24) } });
      assert.equal(m.answers[0].type, RRType.CNAME);
      assert.deepEqual(addrs(m), ['198.51.100.10']);
    });

    test('other types at a service name are NODATA, not NXDOMAIN', async () => {
      const m = await query(t.port, 'cdn.example.test', RRType.MX);
      assert.equal(m.rcode, Rcode.NOERROR);
      assert.equal(m.answers.length, 0);
    });

    test('nearest: by great-circle distance', async () => {
      const it = await query(t.port, 'near.example.test', RRType.A, { edns: { ecs: ecs([185, 178, 96], 24) } });
      assert.deepEqual(addrs(it), ['203.0.113.30']);
      const ny = await query(t.port, 'near.example.test', RRType.A, { edns: { ecs: ecs([9, 128, 0], 24) } });
      assert.deepEqual(addrs(ny), ['198.51.100.10']);
    });

    test('the director tells the client how the CDN sees it', async () => {
      const m = await query(t.port, 'director.example.test', RRType.TXT, { edns: { ecs: ecs([185, 178, 92], 24) } });
      assert.equal(m.answers.length, 1);
      const txt = rdataToText(RRType.TXT, m.answers[0].data);
      assert.match(txt, /^"ip 185\.178\.92\.0\/24 v4 city gavardo country it ita state eu .*as as206701" "pop eu-mil rule country:IT"$/);
      const a = await query(t.port, 'director.example.test', RRType.A, { edns: { ecs: ecs([185, 178, 92], 24) } });
      assert.deepEqual(addrs(a), ['203.0.113.30']);
    });
  });
}

describe('GeoDNS with dig', { skip: hasDig() ? false : NO_DIG }, () => {
  let t: TestNameserver;
  before(async () => {
    t = await startNameserver({ 'example.test.zone': zone }, config(writeGeoFixtures(), 'geoip2'));
  });
  after(() => t?.stop());

  test('dig +subnet gets the POP and the scope', async () => {
    const out = await dig(t.port, ['cdn.example.test', '+subnet=8.8.8.0/24']);
    assert.match(out, /cdn\.example\.test\.\s+20\s+IN\s+A\s+198\.51\.100\.10/);
    assert.match(out, /CLIENT-SUBNET: 8\.8\.8\.0\/24\/16/);
    const txt = await dig(t.port, ['director.example.test', 'TXT', '+subnet=193.99.144.0/24', '+short']);
    assert.match(txt, /"ip 193\.99\.144\.0\/24 v4 city hannover country de deu .*" "pop eu-fra rule country:DE"/);
  });
});
