import { continents as continentNames, countries as countryData } from 'countries-list';
import { iso31661, iso31662 } from 'iso-3166';

/**
 * ISO 3166-1 countries (alpha-2, alpha-3, numeric) and continents as dense
 * indexes, built once when the module loads and never changed: policies
 * keep Int32Arrays indexed by these numbers. Index 0 means "none".
 */
export interface CountryTable {
  readonly alpha2: readonly string[];
  readonly alpha3: readonly string[];
  /** ISO numeric code, -1 when the entry has none (XK). */
  readonly numeric: readonly number[];
  readonly name: readonly string[];
  /** Continent index of each country. */
  readonly continent: readonly number[];
  readonly byAlpha2: ReadonlyMap<string, number>;
  readonly byAlpha3: ReadonlyMap<string, number>;
  readonly byNumeric: ReadonlyMap<number, number>;
}

/** Index 0 is "none"; the codes are the ones GeoIP2 uses in `continent.code`. */
export const CONTINENT_CODES = ['', 'AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'] as const;
export const CONTINENT_NAMES: readonly string[] = CONTINENT_CODES.map((c) =>
  c === '' ? '' : continentNames[c as keyof typeof continentNames],
);
const continentIndex = new Map<string, number>(CONTINENT_CODES.map((c, i) => [c, i]));

export function continentByCode(code: string): number {
  return continentIndex.get(code) ?? 0;
}

function buildCountries(): CountryTable {
  const alpha2 = [''];
  const alpha3 = [''];
  const numeric = [-1];
  const name = [''];
  const continent = [0];
  const add = (a2: string, a3: string, num: number, n: string) => {
    alpha2.push(a2);
    alpha3.push(a3);
    numeric.push(num);
    name.push(n);
    const data = countryData[a2 as keyof typeof countryData];
    continent.push(data ? continentByCode(data.continent) : 0);
  };
  for (const c of iso31661) add(c.alpha2, c.alpha3, Number(c.numeric), c.name);
  // User-assigned codes that GeoIP databases use (Kosovo) but ISO 3166-1 does not list.
  const known = new Set(alpha2);
  if (!known.has('XK')) add('XK', 'XKX', -1, countryData.XK?.name ?? 'Kosovo');
  const byAlpha2 = new Map<string, number>();
  const byAlpha3 = new Map<string, number>();
  const byNumeric = new Map<number, number>();
  for (let i = 1; i < alpha2.length; i++) {
    byAlpha2.set(alpha2[i]!, i);
    byAlpha3.set(alpha3[i]!, i);
    if (numeric[i]! >= 0) byNumeric.set(numeric[i]!, i);
  }
  return { alpha2, alpha3, numeric, name, continent, byAlpha2, byAlpha3, byNumeric };
}

export const COUNTRIES: CountryTable = buildCountries();

const SUBDIVISIONS: ReadonlyMap<string, string> = new Map(iso31662.map((s) => [s.code, s.name]));

/** A place an operator names in a map: a country, a continent or an ISO 3166-2 subdivision. */
export type Area =
  | { kind: 'country'; index: number }
  | { kind: 'continent'; index: number }
  | { kind: 'subdivision'; code: string; country: number };

/** Two-letter codes that are both a continent and a country (AF Afghanistan/Africa, NA Namibia/North America...). */
const AMBIGUOUS: ReadonlySet<string> = new Set(CONTINENT_CODES.filter((c) => c !== '' && COUNTRIES.byAlpha2.has(c)));

/**
 * Reads `IT`, `ITA`, `380`, `EU`, `US-CA`, `country:NA`, `continent:NA`
 * (any case). Returns an error text when the code names nothing or is
 * ambiguous.
 */
export function parseArea(text: string): Area | string {
  const raw = text.trim().toUpperCase();
  const colon = raw.indexOf(':');
  const prefix = colon > 0 ? raw.slice(0, colon) : '';
  const code = colon > 0 ? raw.slice(colon + 1) : raw;
  if (prefix === 'CONTINENT') {
    const i = continentIndex.get(code);
    return i ? { kind: 'continent', index: i } : `unknown continent code "${code}" (one of ${CONTINENT_CODES.slice(1).join(' ')})`;
  }
  if (prefix !== '' && prefix !== 'COUNTRY') return `unknown area "${text}" (use a country, continent:XX or CC-SUB)`;
  if (/^\d{1,3}$/.test(code)) {
    const i = COUNTRIES.byNumeric.get(Number(code));
    return i ? { kind: 'country', index: i } : `unknown ISO 3166-1 numeric country code "${code}"`;
  }
  if (/^[A-Z]{2}$/.test(code)) {
    if (prefix === '' && AMBIGUOUS.has(code)) {
      return `"${code}" is both a country (${COUNTRIES.name[COUNTRIES.byAlpha2.get(code)!]}) and a continent (${CONTINENT_NAMES[continentIndex.get(code)!]}): write country:${code} or continent:${code}`;
    }
    const c = COUNTRIES.byAlpha2.get(code);
    if (c) return { kind: 'country', index: c };
    const k = prefix === '' ? continentIndex.get(code) : undefined;
    if (k) return { kind: 'continent', index: k };
    return `unknown country code "${code}"`;
  }
  if (/^[A-Z]{3}$/.test(code)) {
    const i = COUNTRIES.byAlpha3.get(code);
    return i ? { kind: 'country', index: i } : `unknown ISO 3166-1 alpha-3 country code "${code}"`;
  }
  const sub = /^([A-Z]{2})-([A-Z0-9]{1,3})$/.exec(code);
  if (sub && prefix === '') {
    const country = COUNTRIES.byAlpha2.get(sub[1]!);
    if (!country) return `unknown country "${sub[1]}" in subdivision "${code}"`;
    if (!SUBDIVISIONS.has(code)) return `unknown ISO 3166-2 subdivision "${code}"`;
    return { kind: 'subdivision', code, country };
  }
  return `unknown area "${text}" (expected a country as IT, ITA or 380, a continent as EU, or a subdivision as US-CA)`;
}

/** The country index of a code as GeoIP databases write it (alpha-2); 0 when unknown. */
export function countryByAlpha2(code: string | undefined): number {
  return code ? (COUNTRIES.byAlpha2.get(code.toUpperCase()) ?? 0) : 0;
}

export function areaLabel(area: Area): string {
  switch (area.kind) {
    case 'country':
      return `country:${COUNTRIES.alpha2[area.index]}`;
    case 'continent':
      return `continent:${CONTINENT_CODES[area.index]}`;
    case 'subdivision':
      return `subdivision:${area.code}`;
    default: {
      const never: never = area;
      return never;
    }
  }
}
