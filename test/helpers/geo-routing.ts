import assert from 'node:assert/strict';
import { geoConfigSchema } from '../../src/config/geo-schema.js';
import { clientFromText, type ClientAddress } from '../../src/geo/address.js';
import { compileGeoRouting } from '../../src/routing/compile.js';
import { ALWAYS_AVAILABLE, type GeoRouting, type PopAvailability } from '../../src/routing/types.js';

/** POPs at real places, with documentation addresses. */
export const TEST_POPS = {
  'us-sfo': { addresses: ['198.51.100.1', '198.51.100.2', '2001:db8:1::1', '2001:db8:1::2'], location: [37.77, -122.42], country: 'US' },
  'us-nyc': { addresses: ['198.51.100.11', '2001:db8:2::1'], location: [40.71, -74.0], country: 'USA' },
  'eu-fra': { addresses: ['203.0.113.1', '203.0.113.2'], location: [50.11, 8.68], country: '276' },
  'eu-mil': { addresses: ['203.0.113.11', '2001:db8:3::1'], location: [45.46, 9.19], continent: 'EU' },
  'ap-syd': { addresses: ['203.0.113.21'], location: [-33.87, 151.21] },
};

export async function routingFor(
  city: string[] | 'default',
  services: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<GeoRouting> {
  const config = geoConfigSchema.parse({ geoip: { city, asn: 'none' }, pops: TEST_POPS, services, ...extra });
  return compileGeoRouting(config, (p) => p);
}

export function client(text: string): ClientAddress {
  const c = clientFromText(text);
  assert.ok(c, text);
  return c;
}

export interface Seen {
  pop: string;
  rule: string;
  scope: number;
  rank: number;
  allDown: boolean;
}

export function decide(r: GeoRouting, service: string, address: string | ClientAddress, availability: PopAvailability = ALWAYS_AVAILABLE): Seen {
  const svc = r.service(service);
  assert.ok(svc, `service ${service}`);
  const d = r.decide(svc, typeof address === 'string' ? client(address) : address, availability);
  return { pop: r.pops[d.pop]!.name, rule: d.rule, scope: d.scopePrefix, rank: d.rank, allDown: d.allDown };
}

/** Availability with the named POPs down. */
export function down(r: GeoRouting, ...names: string[]): PopAvailability {
  const idx = new Set(names.map((n) => r.pops.findIndex((p) => p.name === n)));
  return { isAvailable: (pop) => !idx.has(pop) };
}
