import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { formatCidr, type ClientAddress } from '../src/geo/address.js';
import type { GeoRouting, PopAvailability } from '../src/routing/types.js';
import { writeGeoFixtures, type GeoFixtures } from './helpers/geo-fixtures.js';
import { client, decide, down, routingFor } from './helpers/geo-routing.js';

let fx: GeoFixtures;
before(() => {
  fx = writeGeoFixtures();
});

const SERVICES = {
  'country.example.test': { route: { map: { US: 'us-nyc', DE: 'eu-fra', FR: 'eu-mil' }, default: 'ap-syd' } },
  'us.example.test': { route: { map: { US: 'us-nyc' }, default: 'eu-fra' } },
  'ca.example.test': { route: { map: { 'US-CA': 'us-sfo', US: 'us-nyc' }, default: 'eu-fra' } },
  'nets.example.test': { route: { nets: { '8.8.8.128/25': 'eu-fra' }, map: { US: 'us-nyc' }, default: 'eu-fra' } },
  'near.example.test': { route: 'nearest' },
  'weighted.example.test': { route: { map: { US: [['us-nyc', 'us-sfo']] }, default: 'eu-fra' } },
};

/** Random addresses inside `prefix` bits of `c` (xorshift, deterministic). */
function* inside(c: ClientAddress, prefix: number, n: number, seed: number): Generator<ClientAddress> {
  let s = seed | 1;
  for (let k = 0; k < n; k++) {
    const b = Uint8Array.from(c.bytes);
    for (let i = prefix; i < b.length * 8; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const bit = 0x80 >> (i & 7);
      if (s & 1) b[i >> 3]! |= bit;
      else b[i >> 3]! &= ~bit;
    }
    yield { family: c.family, bytes: b, sourcePrefix: c.family === 4 ? 32 : 128 };
  }
}

/**
 * "Never wider than true": every address in the answer's scope network gets
 * the same POP, with everything up and with each first choice down.
 */
function assertScopeTrue(r: GeoRouting, service: string, c: ClientAddress, availabilities: PopAvailability[]): void {
  const svc = r.service(service)!;
  for (const av of availabilities) {
    const d = r.decide(svc, c, av);
    const net = formatCidr(c.family, c.bytes, d.scopePrefix);
    for (const other of inside(c, d.scopePrefix, 24, c.bytes[0]! * 977 + d.scopePrefix)) {
      const o = r.decide(svc, other, av);
      assert.equal(r.pops[o.pop]!.name, r.pops[d.pop]!.name, `${service}: ${net} (${d.rule}) holds ${formatCidr(other.family, other.bytes, 128)} → ${o.rule}`);
    }
  }
}

for (const layout of ['geoip2', 'flat'] as const) {
  describe(`ECS scope over the ${layout} layout`, () => {
    let r: GeoRouting;
    before(async () => {
      r = await routingFor(fx[layout], SERVICES);
    });

    test('the GeoIP network that decided, when its neighbour routes elsewhere', () => {
      // 193.99.144.0/21 DE next to 193.99.152.0/21 FR.
      assert.deepEqual(scoped(decide(r, 'country.example.test', '193.99.144.0/24')), ['eu-fra', 21]);
      assert.deepEqual(scoped(decide(r, 'country.example.test', '193.99.152.0/24')), ['eu-mil', 21]);
    });

    test('merged with neighbours that route the same way', () => {
      // 9.0.0.0/9 and 9.128.0.0/9 are two records of the US: one /8; 8.0.0.0/8 beside it is mixed.
      assert.deepEqual(scoped(decide(r, 'us.example.test', '9.1.2.0/24')), ['us-nyc', 8]);
      // 8.8.9.0/24 is a leaf of 8.8.0.0/16 split by 8.8.8.0/24, all US: back to /16.
      assert.deepEqual(scoped(decide(r, 'us.example.test', '8.8.9.0/24')), ['us-nyc', 16]);
      assert.deepEqual(scoped(decide(r, 'us.example.test', '8.8.8.0/24')), ['us-nyc', 16]);
      // Everything but the US routes to eu-fra here, empty space included: 193.99.144.0/21 widens
      // until the special blocks of 192.0.0.0/8 stop it.
      assert.deepEqual(scoped(decide(r, 'us.example.test', '193.99.144.0/24')), ['eu-fra', 8]);
      if (layout === 'geoip2') {
        // A subdivision rule makes 8.8.8.0/24 differ from its neighbours again.
        assert.deepEqual(scoped(decide(r, 'ca.example.test', '8.8.9.0/24')), ['us-nyc', 24]);
        assert.deepEqual(scoped(decide(r, 'ca.example.test', '8.8.8.0/24')), ['us-sfo', 24]);
      }
      assert.deepEqual(scoped(decide(r, 'us.example.test', '2003::/32')), ['eu-fra', decide(r, 'us.example.test', '2003::/32').scope]);
      assert.ok(decide(r, 'us.example.test', '2003::/32').scope <= 19);
    });

    test('a nets entry inside a bigger GeoIP network narrows the scope around it', () => {
      assert.deepEqual(scoped(decide(r, 'nets.example.test', '8.8.8.0/24')), ['us-nyc', 25]);
      assert.deepEqual(scoped(decide(r, 'nets.example.test', '8.8.8.200')), ['eu-fra', 25]);
      assert.deepEqual(scoped(decide(r, 'nets.example.test', '8.8.9.0/24')), ['us-nyc', 24]);
      // 8.8.64.0/18 is the widest network around it without 8.8.8.128/25.
      assert.deepEqual(scoped(decide(r, 'nets.example.test', '8.8.64.0/24')), ['us-nyc', 18]);
      assert.deepEqual(scoped(decide(r, 'nets.example.test', '8.8.128.0/24')), ['us-nyc', 17]);
    });

    test('may exceed the source prefix only where the database splits below it', () => {
      // A /16 query in 8.8.0.0/16 lands on 8.8.0.0/21: one network, scope /16.
      assert.equal(decide(r, 'us.example.test', '8.8.0.0/16').scope, 16);
      // The nets entry splits 8.8.8.0/24: a /24 query must learn /25.
      assert.equal(decide(r, 'nets.example.test', '8.8.8.0/24').scope, 25);
    });

    test('private and unknown space: the special block or the empty network', () => {
      assert.deepEqual(scoped(decide(r, 'us.example.test', '10.9.9.0/24')), ['eu-fra', 8]);
      assert.deepEqual(scoped(decide(r, 'us.example.test', '192.168.1.0/24')), ['eu-fra', 16]);
      const unknown = decide(r, 'country.example.test', '4.4.4.0/24');
      assert.equal(unknown.rule, 'default:unknown');
      assert.ok(unknown.scope >= 1 && unknown.scope <= 8, String(unknown.scope));
    });

    test('weighted ranks answer at least per /24 (IPv4) and /48 (IPv6)', () => {
      assert.equal(decide(r, 'weighted.example.test', '9.1.2.0/24').scope, 24);
      assert.equal(decide(r, 'weighted.example.test', '2001:4860::/32').scope, 48);
    });

    test('never wider than true', () => {
      const avs = [
        { isAvailable: () => true },
        down(r, 'us-nyc', 'eu-fra'),
        down(r, 'us-sfo', 'eu-mil'),
      ];
      const addresses = ['8.8.8.0/24', '8.8.9.0/24', '8.8.200.0/24', '9.1.2.0/24', '9.200.2.0/24', '193.99.144.0/24', '193.99.155.0/24',
        '185.178.92.0/24', '185.178.97.0/24', '1.0.0.0/24', '41.1.0.0/24', '4.4.4.0/24', '10.0.0.0/24', '2003::/48', '2001:4860::/48', '2a01:e00::/48', '2a02::/48'];
      for (const service of Object.keys(SERVICES)) {
        for (const a of addresses) assertScopeTrue(r, service, client(a), avs);
      }
    });
  });
}

describe('ECS scope over the embedded database', () => {
  test('never wider than true, for a map, nearest and weights', async () => {
    const embedded = await routingFor('default', SERVICES);
    let s = 12345;
    const avs = [{ isAvailable: () => true }];
    for (let i = 0; i < 400; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const v6 = i % 4 === 0;
      const bytes = new Uint8Array(v6 ? 16 : 4);
      const x = s >>> 0;
      bytes[0] = v6 ? 0x20 : (x & 0xff) || 1;
      bytes[1] = v6 ? (x >>> 8) & 0x0f : (x >>> 8) & 0xff;
      bytes[2] = (x >>> 16) & 0xff;
      if (v6) bytes[3] = x >>> 24;
      const c = { family: v6 ? 6 : 4, bytes, sourcePrefix: v6 ? 48 : 24 } as ClientAddress;
      for (const service of ['country.example.test', 'near.example.test', 'weighted.example.test']) assertScopeTrue(embedded, service, c, avs);
    }
  });
});

function scoped(d: { pop: string; scope: number }): [string, number] {
  return [d.pop, d.scope];
}
