import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';
import { loadConfig, parseConfigText } from '../src/config/load.js';
import { GeocdnError, GeocdnErrors } from '../src/core/errors.js';
import { compileGeoRouting } from '../src/routing/compile.js';
import { writeGeoFixtures, type GeoFixtures } from './helpers/geo-fixtures.js';
import { client, decide } from './helpers/geo-routing.js';

let fx: GeoFixtures;
before(() => {
  fx = writeGeoFixtures();
});

const POPS = `pops:
  eu:
    addresses: [203.0.113.1, 203.0.113.2, "2001:db8::1", "2001:db8::2"]
    location: [45.46, 9.19]
  us:
    addresses: [198.51.100.1, "2001:db8:1::1"]
    location: [40.71, -74.0]
`;

/** The errors a config text is refused with, as `CODE line: message`. */
function refusals(yaml: string): string[] {
  try {
    parseConfigText(yaml, '/etc/geocdn.yaml');
  } catch (e) {
    assert.ok(e instanceof GeocdnErrors, String(e));
    return e.errors.map((x) => `${x.code} ${x.where?.line}: ${x.message}`);
  }
  assert.fail('the config was accepted');
}

describe('geo config', () => {
  test('the seed\'s "0 eu / 840 us" map, as written for PowerDNS', async () => {
    const yaml = `geoip: { city: ${JSON.stringify(fx.flat)}, asn: none }
${POPS}services:
  geo.example.test:
    route:
      map:
        0: eu
        840: us
director: director.geo.example.test
`;
    const loaded = parseConfigText(yaml, '/etc/geocdn.yaml');
    const r = await compileGeoRouting(loaded.config, loaded.resolvePath);
    assert.deepEqual(r.serviceNames, ['geo.example.test', 'director.geo.example.test']);
    assert.equal(r.director, 'director.geo.example.test');
    assert.equal(r.service('geo.example.test')!.ttl, 30);
    assert.equal(decide(r, 'geo.example.test', '8.8.8.8').pop, 'us');
    assert.equal(decide(r, 'geo.example.test', '193.99.144.1').pop, 'eu');
    const dir = r.service('director.geo.example.test')!;
    assert.deepEqual([dir.isDirector, dir.mirrors, dir.ttl], [true, 'geo.example.test', 30]);
    assert.deepEqual(decide(r, 'director.geo.example.test', '8.8.8.8'), decide(r, 'geo.example.test', '8.8.8.8'));
    const us = r.pops[1]!;
    assert.deepEqual([us.name, us.a.length, us.aaaa.length, us.a[0]], ['us', 1, 1, Uint8Array.from([198, 51, 100, 1])]);
    assert.equal(r.pops[0]!.aaaa[1]![15], 2);
  });

  test('examples/geo.yaml loads and routes with the embedded database', async () => {
    const loaded = loadConfig(fileURLToPath(new URL('../../examples/geo.yaml', import.meta.url)));
    const r = await compileGeoRouting(loaded.config, loaded.resolvePath, { file: loaded.path });
    assert.equal(decide(r, 'cdn.example.test', '8.8.8.0/24').pop, 'us-nyc');
    assert.equal(decide(r, 'cdn.example.test', '193.99.144.0/24').pop, 'eu-milan');
    assert.deepEqual([decide(r, 'media.example.test', '185.178.93.1').pop, decide(r, 'media.example.test', '185.178.93.1').rule], ['eu-milan', 'net:185.178.92.0/22']);
    assert.equal(decide(r, 'static.example.test', '193.99.144.0/24').pop, 'eu-frankfurt');
    assert.equal(r.service('director.geo.example.test')!.mirrors, 'cdn.example.test');
    assert.equal(decide(r, 'cdn.example.test', client('10.0.0.1')).rule, 'default:private');
  });

  test('bad input is refused with a code, the config path and its line', () => {
    const cases: [string, RegExp][] = [
      [`${POPS}services:\n  cdn.example.test:\n    route:\n      map:\n        US: [us, nowhere]\n        0: eu\n`, /^GEOCDN_CONFIG_INVALID 12: services\.cdn\.example\.test\.route\.map\.US\.1: unknown POP "nowhere" \(POPs: eu, us\)$/],
      [`${POPS}services:\n  cdn.example.test:\n    route:\n      map:\n        XX: us\n      default: eu\n`, /^GEOCDN_CONFIG_INVALID 12: services\.cdn\.example\.test\.route\.map\.XX: unknown country code "XX"$/],
      [`${POPS}services:\n  cdn.example.test:\n    route:\n      map: { "999": us, 0: eu }\n`, /^GEOCDN_CONFIG_INVALID 11: .*map\.999: unknown ISO 3166-1 numeric country code "999"$/],
      [`${POPS}services:\n  cdn.example.test:\n    route:\n      map:\n        NA: us\n      default: eu\n`, / 12: .*map\.NA: "NA" is both a country \(Namibia\) and a continent \(North America\): write country:NA or continent:NA$/],
      [`${POPS}services:\n  cdn.example.test:\n    route:\n      map:\n        IT: us\n        ITA: eu\n      default: eu\n`, / 13: .*map\.ITA: "ITA" names the same country as "IT"$/],
      [`${POPS}services:\n  cdn.example.test:\n    route:\n      nets:\n        10.0.0.0/8: us\n        10.0.0.0/08: eu\n      default: eu\n`, / 13: .*nets\.10\.0\.0\.0\/08: network 10\.0\.0\.0\/8 is given twice/],
      [`${POPS}services:\n  cdn.example.test:\n    route:\n      nets:\n        "2001:db8::/32": us\n        "2001:0db8::/32": eu\n      default: eu\n`, /network 2001:db8::\/32 is given twice/],
      [`${POPS}services:\n  cdn.example.test:\n    route:\n      nets:\n        10.0.0.1/8: us\n      default: eu\n`, /has bits set past \/8 \(did you mean 10\.0\.0\.0\/8\?\)/],
      [`${POPS}services:\n  cdn.example.test:\n    route:\n      map:\n        US: us\n`, /^GEOCDN_CONFIG_INVALID 11: services\.cdn\.example\.test\.route: a route needs a `default`/],
      [`${POPS}services:\n  cdn.example.test:\n    route: { default: eu }\ndirector: d.example.test\ndirector_service: nope.example.test\n`, /^GEOCDN_CONFIG_INVALID 12: director_service: "nope\.example\.test" is not a service$/],
      [`pops:\n  eu:\n    addresses: [203.0.113.300]\n    location: [45.46, 9.19]\n`, /^GEOCDN_CONFIG_INVALID 3: pops\.eu\.addresses\.0: "203\.0\.113\.300" is not an IPv4 or IPv6 address$/],
      [`pops:\n  eu:\n    addresses: [203.0.113.1]\n    location: [95, 9.19]\n`, /^GEOCDN_CONFIG_INVALID 4: pops\.eu\.location\.0: /],
      [`${POPS}services:\n  cdn.example.test:\n    ttl: 30\n    route: { default: eu, weights: 1 }\n`, /^GEOCDN_CONFIG_INVALID 11: services\.cdn\.example\.test\.route\.weights: unknown key$/],
    ];
    for (const [yaml, expected] of cases) {
      const errors = refusals(yaml);
      assert.ok(errors.some((e) => expected.test(e)), `expected ${expected} in:\n${errors.join('\n')}`);
    }
  });

  test('compileGeoRouting refuses what the schema would (GEOCDN_GEO_INVALID) and an unreadable database (GEOCDN_GEOIP_READ)', async () => {
    const config = {
      geoip: { city: [fx.flat[0]!], asn: 'none' as const },
      pops: { eu: { addresses: ['203.0.113.1'], location: [45.46, 9.19] as [number, number], weight: 1 } },
      services: { 'cdn.example.test': { ttl: 30, route: { map: { US: ['ghost'] }, default: ['eu'] } } },
    };
    await assert.rejects(compileGeoRouting(config, (p) => p, { file: '/etc/geocdn.yaml' }), (e: unknown) => {
      assert.ok(e instanceof GeocdnErrors);
      assert.equal(e.errors[0]!.code, 'GEOCDN_GEO_INVALID');
      assert.equal(e.errors[0]!.format(), 'GEOCDN_GEO_INVALID /etc/geocdn.yaml: services.cdn.example.test.route.map.US.0: unknown POP "ghost" (POPs: eu)');
      return true;
    });
    const missing = { ...config, services: {}, geoip: { city: 'GeoLite2-City.mmdb', asn: 'none' as const } };
    await assert.rejects(compileGeoRouting(missing, (p) => `/nonexistent/${p}`), (e: unknown) => {
      assert.ok(e instanceof GeocdnError);
      assert.equal(e.code, 'GEOCDN_GEOIP_READ');
      assert.equal(e.where?.file, '/nonexistent/GeoLite2-City.mmdb');
      return true;
    });
  });
});
