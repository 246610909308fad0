import { COUNTRIES, continentByCode, countryByAlpha2 } from './countries.js';

/** Which of the two `.mmdb` layouts a record was written in. */
export type RecordLayout = 'geoip2' | 'flat';

/**
 * One GeoIP record, reduced to what routing and the director use. Built once
 * per database record (records are shared by many networks) and then reused.
 */
export interface GeoRecord {
  readonly layout: RecordLayout;
  /** Country index into COUNTRIES, 0 when none. */
  readonly country: number;
  /** Continent index into CONTINENT_CODES, 0 when none. */
  readonly continent: number;
  /** ISO 3166-2 code such as `US-CA` (GeoIP2 layout only: the flat layout names states in words). */
  readonly subdivision: string | undefined;
  /** The region as the database gives it: the subdivision's own code (`CA`, `25`) or a state name. */
  readonly region: string | undefined;
  readonly city: string | undefined;
  /** NaN when the record has no coordinates. */
  readonly latitude: number;
  readonly longitude: number;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
}

/**
 * GeoIP2/GeoLite2 (`country.iso_code`, `location.latitude`...) or the flat
 * layout of the ip-location-db packages (`country_code`, `latitude`...),
 * told apart per record so that a merged database of both kinds works too.
 */
export function toGeoRecord(raw: unknown): GeoRecord | undefined {
  const r = obj(raw);
  if (!r) return undefined;
  if ('country_code' in r || 'latitude' in r || 'state1' in r) return fromFlat(r);
  return fromGeoIp2(r);
}

function fromGeoIp2(r: Json): GeoRecord {
  // Anycast and satellite networks often carry only the registered country.
  const countryCode = str(obj(r.country)?.iso_code) ?? str(obj(r.registered_country)?.iso_code);
  const country = countryByAlpha2(countryCode);
  const continentCode = str(obj(r.continent)?.code);
  const continent = continentCode ? continentByCode(continentCode) : COUNTRIES.continent[country]!;
  const subs = r.subdivisions;
  const sub0 = Array.isArray(subs) ? obj(subs[0]) : undefined;
  const subCode = str(sub0?.iso_code);
  const location = obj(r.location);
  return {
    layout: 'geoip2',
    country,
    continent,
    subdivision: subCode && country ? `${COUNTRIES.alpha2[country]}-${subCode.toUpperCase()}` : undefined,
    region: subCode ?? str(obj(sub0?.names)?.en),
    city: str(obj(obj(r.city)?.names)?.en),
    latitude: num(location?.latitude),
    longitude: num(location?.longitude),
  };
}

function fromFlat(r: Json): GeoRecord {
  const country = countryByAlpha2(str(r.country_code));
  return {
    layout: 'flat',
    country,
    continent: COUNTRIES.continent[country]!,
    subdivision: undefined,
    region: str(r.state1),
    city: str(r.city),
    latitude: num(r.latitude),
    longitude: num(r.longitude),
  };
}

/** ASN as GeoLite2-ASN (`autonomous_system_number`) or flat databases (`asn`, maybe "AS123") write it. */
export interface AsnInfo {
  asn: number;
  org: string | undefined;
}

export function toAsnInfo(raw: unknown): AsnInfo | undefined {
  const r = obj(raw);
  if (!r) return undefined;
  const n = r.autonomous_system_number ?? r.asn;
  const asn = typeof n === 'number' ? n : typeof n === 'string' ? Number(n.replace(/^AS/i, '')) : Number.NaN;
  if (!Number.isInteger(asn) || asn <= 0) return undefined;
  return { asn, org: str(r.autonomous_system_organization) ?? str(r.as_organization) ?? str(r.as_name) ?? str(r.organization) };
}
