import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { GeoRouting } from '../src/routing/types.js';
import { writeGeoFixtures, type GeoFixtures } from './helpers/geo-fixtures.js';
import { client, decide, down, routingFor } from './helpers/geo-routing.js';

let fx: GeoFixtures;
before(() => {
  fx = writeGeoFixtures();
});

const SERVICES = {
  // The seed's PowerDNS map: "0 eu / 840 us".
  'seed.example.test': { route: { map: { '0': 'eu-fra', '840': 'us-nyc' } } },
  'alpha2.example.test': { route: { map: { US: 'us-nyc' }, default: 'eu-fra' } },
  'alpha3.example.test': { route: { map: { usa: 'us-nyc' }, default: 'eu-fra' } },
  'areas.example.test': {
    route: {
      map: { 'US-CA': ['us-sfo', 'us-nyc'], US: ['us-nyc', 'us-sfo'], ITA: 'eu-mil', EU: ['eu-fra', 'eu-mil'], 'continent:AF': 'eu-mil', OC: 'ap-syd' },
      default: 'us-nyc',
    },
  },
  'nets.example.test': {
    route: {
      nets: { '8.8.0.0/16': 'eu-mil', '8.8.8.0/24': 'ap-syd', '2003::/16': 'us-sfo', '2003:0:8000::/33': 'ap-syd' },
      map: { US: 'us-nyc' },
      default: 'eu-fra',
    },
  },
  'near.example.test': { route: 'nearest' },
  'weighted.example.test': { route: { default: [{ 'eu-fra': 3, 'eu-mil': 1 }, 'us-nyc'] } },
  'three.example.test': { route: { default: [['eu-fra', 'eu-mil', 'us-nyc']] } },
};

/** Every /24 of a few /8s: many client networks for the weighted tests. */
function networks(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`${11 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}.0/24`);
  return out;
}

for (const layout of ['geoip2', 'flat'] as const) {
  describe(`routing over the ${layout} layout`, () => {
    let r: GeoRouting;
    before(async () => {
      r = await routingFor(fx[layout], SERVICES);
    });

    test('the seed map: 840 → us, 0 (default) → eu', () => {
      assert.deepEqual(decide(r, 'seed.example.test', '8.8.8.8').pop, 'us-nyc');
      assert.equal(decide(r, 'seed.example.test', '8.8.8.8').rule, 'country:US');
      assert.equal(decide(r, 'seed.example.test', '2001:4860::1').pop, 'us-nyc');
      assert.deepEqual(
        [decide(r, 'seed.example.test', '193.99.144.1').pop, decide(r, 'seed.example.test', '193.99.144.1').rule],
        ['eu-fra', 'default'],
      );
    });

    test('numeric, alpha-2 and alpha-3 codes give the same answers', () => {
      for (const a of ['8.8.8.8', '8.8.9.9', '9.1.2.3', '193.99.150.1', '185.178.93.1', '2003::5', '2001:4860::8', '1.0.0.1', '4.4.4.4']) {
        const seed = decide(r, 'seed.example.test', a);
        assert.deepEqual(decide(r, 'alpha2.example.test', a), seed, a);
        assert.deepEqual(decide(r, 'alpha3.example.test', a), seed, a);
      }
    });

    test('subdivisions, countries and continents; the most specific wins', () => {
      const mv = decide(r, 'areas.example.test', '8.8.8.8');
      // Only GeoIP2 records carry ISO 3166-2 codes; flat ones fall through to the country.
      assert.deepEqual([mv.pop, mv.rule], layout === 'geoip2' ? ['us-sfo', 'subdivision:US-CA'] : ['us-nyc', 'country:US']);
      assert.deepEqual(pick(decide(r, 'areas.example.test', '8.8.9.1')), ['us-nyc', 'country:US']);
      assert.deepEqual(pick(decide(r, 'areas.example.test', '185.178.92.1')), ['eu-mil', 'country:IT']);
      assert.deepEqual(pick(decide(r, 'areas.example.test', '193.99.144.1')), ['eu-fra', 'continent:EU']);
      assert.deepEqual(pick(decide(r, 'areas.example.test', '2a01:e00::1')), ['eu-fra', 'continent:EU']);
      assert.deepEqual(pick(decide(r, 'areas.example.test', '41.0.0.1')), ['eu-mil', 'continent:AF']);
      assert.deepEqual(pick(decide(r, 'areas.example.test', '1.0.0.1')), ['ap-syd', 'continent:OC']);
    });

    test('nets override the map; the longest prefix wins, IPv4 and IPv6', () => {
      assert.deepEqual(pick(decide(r, 'nets.example.test', '8.8.8.8')), ['ap-syd', 'net:8.8.8.0/24']);
      assert.deepEqual(pick(decide(r, 'nets.example.test', '8.8.9.8')), ['eu-mil', 'net:8.8.0.0/16']);
      assert.deepEqual(pick(decide(r, 'nets.example.test', '9.9.9.9')), ['us-nyc', 'country:US']);
      assert.deepEqual(pick(decide(r, 'nets.example.test', '2003::1')), ['us-sfo', 'net:2003::/16']);
      assert.deepEqual(pick(decide(r, 'nets.example.test', '2003:0:8000::1')), ['ap-syd', 'net:2003:0:8000::/33']);
      assert.deepEqual(pick(decide(r, 'nets.example.test', '2001:4860::1')), ['us-nyc', 'country:US']);
    });

    test('nearest: by great-circle distance from the client, in order', () => {
      const mv = decide(r, 'near.example.test', '8.8.8.8');
      assert.equal(mv.pop, 'us-sfo');
      assert.match(mv.rule, /^nearest:(\d+)km$/);
      assert.ok(Math.abs(Number(/(\d+)km/.exec(mv.rule)![1]) - 50) < 10, mv.rule); // Mountain View → San Francisco
      assert.equal(decide(r, 'near.example.test', '9.200.0.1').pop, 'us-nyc');
      assert.equal(decide(r, 'near.example.test', '193.99.144.1').pop, 'eu-fra');
      assert.equal(decide(r, 'near.example.test', '185.178.92.1').pop, 'eu-mil');
      assert.equal(decide(r, 'near.example.test', '1.0.0.1').pop, 'ap-syd');
      // Failover follows distance: Gavardo → Milan, Frankfurt, New York, San Francisco, Sydney.
      const order: string[] = [];
      const gone: string[] = [];
      for (let i = 0; i < 5; i++) {
        const d = decide(r, 'near.example.test', '185.178.92.1', down(r, ...gone));
        assert.equal(d.rank, i);
        order.push(d.pop);
        gone.push(d.pop);
      }
      assert.deepEqual(order, ['eu-mil', 'eu-fra', 'us-nyc', 'us-sfo', 'ap-syd']);
      // No coordinates (not in the database): the POPs in config order.
      assert.deepEqual(pick(decide(r, 'near.example.test', '4.4.4.4')), ['us-sfo', 'default:unknown']);
    });

    test('failover walks the list; when all are down the first answers, flagged', () => {
      assert.deepEqual(decide(r, 'areas.example.test', '9.1.1.1', down(r, 'us-nyc')), {
        pop: 'us-sfo',
        rule: 'country:US',
        scope: decide(r, 'areas.example.test', '9.1.1.1').scope,
        rank: 1,
        allDown: false,
      });
      // Past its own list a choice falls back to the default list.
      assert.equal(decide(r, 'areas.example.test', '185.178.92.1', down(r, 'eu-mil')).pop, 'us-nyc');
      const all = decide(r, 'seed.example.test', '8.8.8.8', down(r, 'us-nyc', 'eu-fra'));
      assert.deepEqual([all.pop, all.allDown, all.rank], ['us-nyc', true, 0]);
    });

    test('weights share a rank by client network, stably', () => {
      const nets = networks(4000);
      let fra = 0;
      for (const n of nets) {
        const d = decide(r, 'weighted.example.test', n);
        assert.deepEqual(decide(r, 'weighted.example.test', n), d, 'same network, same answer');
        assert.ok(d.scope >= 24);
        if (d.pop === 'eu-fra') fra++;
      }
      assert.ok(Math.abs(fra / nets.length - 0.75) < 0.04, `eu-fra got ${fra} of ${nets.length}`);
      // One POP of three down: only its clients move.
      for (const n of nets.slice(0, 1500)) {
        const before = decide(r, 'three.example.test', n);
        const after = decide(r, 'three.example.test', n, down(r, 'eu-mil'));
        if (before.pop !== 'eu-mil') assert.equal(after.pop, before.pop, n);
        else assert.notEqual(after.pop, 'eu-mil');
      }
      assert.equal(decide(r, 'weighted.example.test', '11.0.0.0/24', down(r, 'eu-fra', 'eu-mil')).pop, 'us-nyc');
    });

    test('private, loopback, CGNAT, documentation and unknown addresses get the default', async () => {
      for (const [a, rule] of [
        ['10.1.2.3', 'default:private'],
        ['192.168.1.1', 'default:private'],
        ['127.0.0.1', 'default:loopback'],
        ['100.64.0.1', 'default:cgnat'],
        ['192.0.2.1', 'default:documentation'],
        ['169.254.1.1', 'default:link-local'],
        ['::1', 'default:loopback'],
        ['fd00::1', 'default:private'],
        ['fe80::1', 'default:link-local'],
        ['4.4.4.4', 'default:unknown'],
        ['2a02::1', 'default:unknown'],
      ] as const) {
        assert.deepEqual(pick(decide(r, 'seed.example.test', a)), ['eu-fra', rule], a);
      }
      // A nets entry may still claim private space.
      const lan = await routingFor(fx[layout], { 'lan.example.test': { route: { nets: { '10.1.0.0/16': 'us-sfo' }, default: 'eu-fra' } } });
      assert.deepEqual(pick(decide(lan, 'lan.example.test', '10.1.2.3')), ['us-sfo', 'net:10.1.0.0/16']);
      assert.deepEqual(pick(decide(lan, 'lan.example.test', '10.2.2.3')), ['eu-fra', 'default:private']);
    });

    test('an IPv4-mapped IPv6 client is routed as IPv4, its scope counted in IPv6 bits', () => {
      const v4 = decide(r, 'seed.example.test', '8.8.8.8');
      const mapped = decide(r, 'seed.example.test', client('::ffff:8.8.8.8'));
      assert.deepEqual([mapped.pop, mapped.rule, mapped.scope], [v4.pop, v4.rule, v4.scope + 96]);
    });
  });
}

function pick(d: { pop: string; rule: string }): [string, string] {
  return [d.pop, d.rule];
}
