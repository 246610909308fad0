import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { geoConfigSchema } from '../src/config/geo-schema.js';
import { compileGeoRouting } from '../src/routing/compile.js';
import { fitTxt } from '../src/routing/director.js';
import { ALWAYS_AVAILABLE } from '../src/routing/types.js';
import { writeGeoFixtures, type GeoFixtures } from './helpers/geo-fixtures.js';
import { client, down, TEST_POPS } from './helpers/geo-routing.js';

let fx: GeoFixtures;
before(() => {
  fx = writeGeoFixtures();
});

async function routing(city: string[], asn: string[] | 'none') {
  return compileGeoRouting(
    geoConfigSchema.parse({
      geoip: { city, asn },
      pops: TEST_POPS,
      services: { 'cdn.example.test': { route: { map: { IT: ['eu-mil', 'eu-fra'], US: 'us-nyc' }, default: 'eu-fra' } } },
      director: 'Director.Geo.Example.Test.',
    }),
    (p) => p,
  );
}

describe('the director', () => {
  test('TXT in the Parrot CDN / PowerDNS form, then what the CDN decided', async () => {
    const r = await routing(fx.geoip2, [fx.asnMmdb]);
    assert.equal(r.director, 'director.geo.example.test');
    assert.ok(r.service('director.geo.example.test')!.isDirector);
    assert.deepEqual(r.directorTxt(client('185.178.92.254'), ALWAYS_AVAILABLE), [
      'ip 185.178.92.254 v4 city gavardo country it ita state eu region 25 name power & telco "srl" as as206701',
      'pop eu-mil rule country:IT',
    ]);
    // Through a resolver with ECS: the subnet, not a host.
    assert.equal(r.describe(client('185.178.92.0/24')), 'ip 185.178.92.0/24 v4 city gavardo country it ita state eu region 25 name power & telco "srl" as as206701');
    assert.deepEqual(r.directorTxt(client('185.178.92.254'), down(r, 'eu-mil')), [
      r.describe(client('185.178.92.254')),
      'pop eu-fra rule country:IT failover 1',
    ]);
    assert.equal(r.directorTxt(client('8.8.8.8'), down(r, 'us-nyc', 'eu-fra'))[1], 'pop us-nyc rule country:US all-down');
    assert.equal(r.describe(client('2003::1')), 'ip 2003::1 v6 city hannover country de deu state eu region ni name deutsche telekom ag as as3320');
  });

  test('flat layout, no ASN database, and addresses the database does not know', async () => {
    const r = await routing(fx.flat, 'none');
    assert.equal(r.describe(client('185.178.92.254')), 'ip 185.178.92.254 v4 city gavardo country it ita state eu region lombardy name unknown as unknown');
    assert.deepEqual(r.directorTxt(client('10.0.0.1'), ALWAYS_AVAILABLE), [
      'ip 10.0.0.1 v4 city unknown country unknown unknown state unknown region unknown name unknown as unknown',
      'pop eu-fra rule default:private',
    ]);
  });

  test('each string fits a TXT character-string (255 bytes), cut on a character boundary', () => {
    const long = `city ${'ü'.repeat(200)}`;
    const cut = fitTxt(long);
    assert.ok(Buffer.byteLength(cut) <= 255);
    assert.ok(Buffer.byteLength(cut) >= 254);
    assert.ok(long.startsWith(cut));
    assert.equal(fitTxt('short'), 'short');
  });
});
