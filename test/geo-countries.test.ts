import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { areaLabel, COUNTRIES, CONTINENT_CODES, parseArea, type Area } from '../src/geo/countries.js';

function area(text: string): Area {
  const a = parseArea(text);
  assert.ok(typeof a !== 'string', `${text}: ${String(a)}`);
  return a;
}

describe('ISO 3166 codes', () => {
  test('a country in alpha-2, alpha-3 and numeric form is one index', () => {
    for (const [a2, a3, num] of [
      ['US', 'USA', '840'],
      ['IT', 'ITA', '380'],
      ['DE', 'DEU', '276'],
      ['AU', 'AUS', '036'],
      ['AU', 'aus', '36'],
    ] as const) {
      const i = area(a2);
      assert.equal(i.kind, 'country');
      assert.deepEqual(area(a3), i);
      assert.deepEqual(area(num), i);
      assert.deepEqual(area(a2.toLowerCase()), i);
      assert.equal(areaLabel(i), `country:${a2}`);
    }
    const us = COUNTRIES.byAlpha2.get('US')!;
    assert.equal(COUNTRIES.alpha3[us], 'USA');
    assert.equal(COUNTRIES.numeric[us], 840);
    assert.equal(CONTINENT_CODES[COUNTRIES.continent[us]!], 'NA');
    assert.equal(CONTINENT_CODES[COUNTRIES.continent[COUNTRIES.byAlpha2.get('IT')!]!], 'EU');
    assert.ok(COUNTRIES.byAlpha2.has('XK'), 'Kosovo, used by GeoIP databases');
  });

  test('continents, subdivisions, and ambiguous two-letter codes', () => {
    assert.equal(areaLabel(area('EU')), 'continent:EU');
    assert.equal(areaLabel(area('oc')), 'continent:OC');
    assert.equal(areaLabel(area('continent:NA')), 'continent:NA');
    assert.equal(areaLabel(area('country:NA')), 'country:NA');
    assert.equal(areaLabel(area('US-CA')), 'subdivision:US-CA');
    assert.equal(areaLabel(area('it-25')), 'subdivision:IT-25');
    for (const code of ['NA', 'AS', 'AF', 'SA']) assert.match(String(parseArea(code)), /both a country .* and a continent/);
  });

  test('unknown codes are refused with a reason', () => {
    assert.match(String(parseArea('XX')), /unknown country code "XX"/);
    assert.match(String(parseArea('XXX')), /unknown ISO 3166-1 alpha-3/);
    assert.match(String(parseArea('999')), /unknown ISO 3166-1 numeric/);
    assert.match(String(parseArea('US-XX')), /unknown ISO 3166-2 subdivision "US-XX"/);
    assert.match(String(parseArea('continent:XY')), /unknown continent code/);
    assert.match(String(parseArea('Italy')), /unknown area/);
  });
});
