import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Reader } from 'maxmind';
import { formatIp, parseIp, type IpAddress } from '../src/geo/address.js';
import { COUNTRIES, CONTINENT_CODES } from '../src/geo/countries.js';
import { GeoLocator } from '../src/geo/locator.js';
import { GeocdnError } from '../src/core/errors.js';
import { ASNS, PLACES, writeGeoFixtures, type GeoFixtures } from './helpers/geo-fixtures.js';

let fx: GeoFixtures;
before(() => {
  fx = writeGeoFixtures();
});

function ip(text: string): IpAddress {
  const a = parseIp(text);
  assert.ok(a, text);
  return a;
}

/** Deterministic pseudo-random addresses (xorshift), half of them inside the known networks. */
function sampleAddresses(n: number, seed = 7): IpAddress[] {
  let s = seed;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  const out: IpAddress[] = [];
  for (let i = 0; i < n; i++) {
    const v6 = i % 3 === 0;
    const bytes = new Uint8Array(v6 ? 16 : 4);
    for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
    if (i % 2 === 0) {
      const [cidr] = PLACES[next() % PLACES.length]!;
      const net = ip(cidr.split('/')[0]!);
      const keep = Number(cidr.split('/')[1]) >> 3;
      if (net.family === (v6 ? 6 : 4)) bytes.set(net.bytes.subarray(0, keep));
    }
    out.push({ family: v6 ? 6 : 4, bytes });
  }
  return out;
}

/** The walker and the maxmind reader must agree on every address: same network length, same record. */
function assertMatchesReader(files: readonly string[], loc: GeoLocator, addresses: IpAddress[]): void {
  const readers = files.map((f) => new Reader<Record<string, unknown>>(readFileSync(f)));
  for (const a of addresses) {
    const reader = readers.find((r) => r.metadata.ipVersion === a.family) ?? readers.find((r) => r.metadata.ipVersion === 6)!;
    if (a.family === 6 && reader.metadata.ipVersion === 4) continue;
    const [raw, prefix] = reader.getWithPrefixLength(formatIp(a.family, a.bytes));
    const found = loc.db.locate(a);
    const text = formatIp(a.family, a.bytes);
    assert.equal(found.prefix, prefix, `prefix of ${text}`);
    assert.equal(found.record === undefined, raw === null, `record presence of ${text}`);
    if (raw && found.record) {
      const code = (raw.country as { iso_code?: string } | undefined)?.iso_code ?? (raw.country_code as string | undefined);
      assert.equal(COUNTRIES.alpha2[found.record.country], code, `country of ${text}`);
    }
  }
}

describe('GeoIP databases, both layouts', () => {
  for (const layout of ['geoip2', 'flat'] as const) {
    test(`${layout}: the tree walk agrees with the maxmind reader`, async () => {
      const loc = await GeoLocator.open({ city: fx[layout], asn: 'none' });
      assertMatchesReader(fx[layout], loc, sampleAddresses(3000));
    });

    test(`${layout}: fields of known networks`, async () => {
      const loc = await GeoLocator.open({ city: fx[layout], asn: 'none' });
      const mv = loc.locate(ip('8.8.8.8')).record!;
      assert.equal(mv.layout, layout);
      assert.equal(COUNTRIES.alpha2[mv.country], 'US');
      assert.equal(CONTINENT_CODES[mv.continent], 'NA');
      assert.equal(mv.city, 'Mountain View');
      assert.ok(Math.abs(mv.latitude - 37.386) < 1e-6 && Math.abs(mv.longitude + 122.084) < 1e-6);
      assert.equal(mv.subdivision, layout === 'geoip2' ? 'US-CA' : undefined);
      assert.equal(mv.region, layout === 'geoip2' ? 'CA' : 'California');
      assert.equal(loc.locate(ip('8.8.8.8')).network, '8.8.8.0/24');
      assert.equal(loc.locate(ip('8.8.9.1')).network, '8.8.9.0/24');
      const de = loc.locate(ip('2003::1'));
      assert.equal(COUNTRIES.alpha3[de.record!.country], 'DEU');
      assert.equal(de.network, '2003::/19');
      // Flat records carry no continent: it comes from the country table.
      assert.equal(CONTINENT_CODES[loc.locate(ip('41.1.2.3')).record!.continent], 'AF');
      const none = loc.locate(ip('4.4.4.4'));
      assert.equal(none.record, undefined);
      assert.equal(loc.locate(ip('10.1.2.3')).special, 'private');
      assert.equal(loc.locate(ip('::1')).special, 'loopback');
      assert.equal(loc.locate(ip('100.64.1.1')).special, 'cgnat');
      assert.equal(loc.locate(ip('2001:db8::1')).special, 'documentation');
    });
  }

  test('ASN from a GeoLite2-ASN style .mmdb and from ip-location-db CSV', async () => {
    for (const asn of [[fx.asnMmdb], fx.asnCsv]) {
      const loc = await GeoLocator.open({ city: fx.flat, asn });
      for (const [cidr, number, org] of ASNS) {
        const first = ip(cidr.split('/')[0]!);
        assert.deepEqual(loc.locate(first).asn, { asn: number, org }, `${cidr} via ${asn[0]}`);
      }
      assert.equal(loc.locate(ip('8.8.9.1')).asn, undefined);
      assert.equal(loc.locate(ip('2a01:e00::1')).asn, undefined);
    }
  });

  test('an unreadable database is refused with GEOCDN_GEOIP_READ and its path', async () => {
    const missing = join(fx.dir, 'nope.mmdb');
    await assert.rejects(GeoLocator.open({ city: [missing], asn: 'none' }), (e: unknown) => {
      assert.ok(e instanceof GeocdnError);
      assert.equal(e.code, 'GEOCDN_GEOIP_READ');
      assert.equal(e.where?.file, missing);
      return true;
    });
    const garbage = join(fx.dir, 'garbage.mmdb');
    writeFileSync(garbage, 'this is not a MaxMind database');
    await assert.rejects(GeoLocator.open({ city: [garbage], asn: 'none' }), { code: 'GEOCDN_GEOIP_READ' });
    const badCsv = join(fx.dir, 'bad.csv');
    writeFileSync(badCsv, 'x,y\n');
    await assert.rejects(GeoLocator.open({ city: fx.flat, asn: [badCsv] }), { code: 'GEOCDN_GEOIP_READ' });
  });
});

describe('the embedded database', () => {
  // Load time is measured by `npm run bench:startup`, not asserted here.
  test('loads, places well-known networks, and agrees with the maxmind reader', async () => {
    const loc = await GeoLocator.open({ city: 'default', asn: 'default' });
    const google = loc.locate(ip('8.8.8.8'));
    assert.equal(COUNTRIES.alpha2[google.record!.country], 'US');
    assert.equal(google.record!.layout, 'flat');
    assert.equal(google.asn?.asn, 15169);
    const dt = loc.locate(ip('2003::1'));
    assert.equal(COUNTRIES.alpha2[dt.record!.country], 'DE');
    assert.equal(dt.asn?.asn, 3320);
    assertMatchesReader(loc.sources.city, loc, sampleAddresses(4000, 99));
  });
});
