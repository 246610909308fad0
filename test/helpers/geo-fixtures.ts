/**
 * Small GeoIP databases with known networks, written in both layouts:
 * GeoIP2 (one IPv6 file, IPv4 under ::/96, 28-bit records) and the flat
 * ip-location-db layout (an IPv4 file with 24-bit records and an IPv6 file
 * with 32-bit records), plus ASN data as .mmdb and as CSV.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeMmdb, type MmdbNetwork } from './mmdb-writer.js';
import { tempDir } from './tmp.js';

export interface Place {
  country: string;
  continent: string;
  sub?: string;
  subName?: string;
  city?: string;
  lat: number;
  lon: number;
}

const KANSAS: Place = { country: 'US', continent: 'NA', lat: 37.751, lon: -97.822 };
const MOUNTAIN_VIEW: Place = { country: 'US', continent: 'NA', sub: 'CA', subName: 'California', city: 'Mountain View', lat: 37.386, lon: -122.084 };
const NEW_YORK: Place = { country: 'US', continent: 'NA', sub: 'NY', subName: 'New York', city: 'New York', lat: 40.71, lon: -74.0 };
const HANNOVER: Place = { country: 'DE', continent: 'EU', sub: 'NI', subName: 'Lower Saxony', city: 'Hannover', lat: 52.37, lon: 9.73 };
const PARIS: Place = { country: 'FR', continent: 'EU', sub: 'IDF', subName: 'Ile-de-France', city: 'Paris', lat: 48.86, lon: 2.35 };
const GAVARDO: Place = { country: 'IT', continent: 'EU', sub: '25', subName: 'Lombardy', city: 'Gavardo', lat: 45.58, lon: 10.43 };
const MILAN: Place = { country: 'IT', continent: 'EU', sub: '25', subName: 'Lombardy', city: 'Milan', lat: 45.46, lon: 9.19 };
const SYDNEY: Place = { country: 'AU', continent: 'OC', sub: 'NSW', subName: 'New South Wales', city: 'Sydney', lat: -33.87, lon: 151.21 };
const JOHANNESBURG: Place = { country: 'ZA', continent: 'AF', city: 'Johannesburg', lat: -26.2, lon: 28.04 };

/** The known networks. 8.8.8.0/24 splits 8.8.0.0/16; 9.0.0.0/8 is two records of one country. */
export const PLACES: [string, Place][] = [
  ['8.8.0.0/16', KANSAS],
  ['8.8.8.0/24', MOUNTAIN_VIEW],
  ['9.0.0.0/9', KANSAS],
  ['9.128.0.0/9', NEW_YORK],
  ['193.99.144.0/21', HANNOVER],
  ['193.99.152.0/21', PARIS],
  ['185.178.92.0/22', GAVARDO],
  ['185.178.96.0/22', MILAN],
  ['1.0.0.0/24', SYDNEY],
  ['41.0.0.0/11', JOHANNESBURG],
  ['2003::/19', HANNOVER],
  ['2001:4860::/32', MOUNTAIN_VIEW],
  ['2a01:e00::/26', PARIS],
];

function geoip2Record(p: Place): unknown {
  return {
    city: p.city ? { geoname_id: 1, names: { en: p.city } } : undefined,
    continent: { code: p.continent, geoname_id: 2, names: { en: p.continent } },
    country: { geoname_id: 3, iso_code: p.country, names: { en: p.country } },
    location: { accuracy_radius: 100, latitude: p.lat, longitude: p.lon },
    registered_country: { geoname_id: 3, iso_code: p.country },
    subdivisions: p.sub ? [{ geoname_id: 4, iso_code: p.sub, names: { en: p.subName } }] : undefined,
  };
}

function flatRecord(p: Place): unknown {
  return { city: p.city ?? '', country_code: p.country, latitude: p.lat, longitude: p.lon, postcode: '', state1: p.subName ?? '', state2: '', timezone: '' };
}

function clean(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}

export interface GeoFixtures {
  dir: string;
  /** GeoIP2/GeoLite2 City layout, one IPv6 file holding IPv4 too. */
  geoip2: string[];
  /** ip-location-db flat layout, an IPv4 and an IPv6 file. */
  flat: string[];
  asnMmdb: string;
  asnCsv: string[];
}

export const ASNS: [string, number, string][] = [
  ['8.8.8.0/24', 15169, 'Google LLC'],
  ['185.178.92.0/22', 206701, 'Power & Telco "SRL"'],
  ['2003::/19', 3320, 'Deutsche Telekom AG'],
];

export function writeGeoFixtures(): GeoFixtures {
  const dir = tempDir('geocdn-geo-');
  const nets = (f: (p: Place) => unknown, v6: boolean | undefined): MmdbNetwork[] =>
    PLACES.filter(([c]) => v6 === undefined || c.includes(':') === v6).map(([cidr, p]) => ({ cidr, data: clean(f(p)) }));
  const file = (name: string, buf: Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, buf);
    return p;
  };
  const geoip2 = [file('city-geoip2.mmdb', writeMmdb({ ipVersion: 6, recordSize: 28, databaseType: 'GeoLite2-City', networks: nets(geoip2Record, undefined) }))];
  const flat = [
    file('city-flat-ipv4.mmdb', writeMmdb({ ipVersion: 4, recordSize: 24, databaseType: 'city ipv4', networks: nets(flatRecord, false) })),
    file('city-flat-ipv6.mmdb', writeMmdb({ ipVersion: 6, recordSize: 32, databaseType: 'city ipv6', networks: nets(flatRecord, true) })),
  ];
  const asnMmdb = file(
    'asn.mmdb',
    writeMmdb({
      ipVersion: 6,
      recordSize: 24,
      databaseType: 'GeoLite2-ASN',
      networks: ASNS.map(([cidr, asn, org]) => ({ cidr, data: { autonomous_system_number: asn, autonomous_system_organization: org } })),
    }),
  );
  const asnCsv = [
    file('asn-ipv4-num.csv', Buffer.from('134744064,134744319,15169,Google LLC\n3115473920,3115474943,206701,"Power & Telco ""SRL"""\n')),
    file('asn-ipv6.csv', Buffer.from('2003::,2003:1fff:ffff:ffff:ffff:ffff:ffff:ffff,3320,Deutsche Telekom AG\n')),
  ];
  return { dir, geoip2, flat, asnMmdb, asnCsv };
}
