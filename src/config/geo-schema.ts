import { z } from 'zod';
import { planRouting } from '../routing/plan.js';

/**
 * The geo sections of the config: `geoip`, `pops`, `services`, `director`.
 * Shapes are checked here; names, codes and networks are resolved by
 * planRouting (the same code the nameserver compiles with), whose findings
 * `checkGeoConfig` turns into zod issues so they get file:line.
 */

const dbPaths = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** `default`, or which files: `city` (one .mmdb with both families, or an IPv4 and an IPv6 file) and `asn`. */
export const geoipSectionSchema = z.preprocess(
  (v) => (v === 'default' ? {} : v),
  z
    .object({
      city: z.union([z.literal('default'), dbPaths]).default('default'),
      /** GeoLite2-ASN style .mmdb, or ip-location-db `asn` CSV files; `none` to skip (the director then says `as unknown`). */
      asn: z.union([z.literal('default'), z.literal('none'), dbPaths]).default('default'),
    })
    .strict(),
);

const popName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a POP name is letters, digits, ".", "_" and "-"');

export const popSchema = z
  .object({
    /** IPv4 and IPv6 addresses answered for this POP (A and AAAA), several of each if you like. */
    addresses: z.array(z.string().min(1)).min(1),
    /** [latitude, longitude] in degrees, for `nearest`. */
    location: z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]),
    country: z.string().optional(),
    continent: z.string().optional(),
    /** Requests per second the POP is sized for (read by load-aware routing). */
    capacity: z.number().positive().optional(),
    /** Share among POPs of equal rank. */
    weight: z.number().positive().default(1),
    /** The POP's edge URL, probed by health checks. */
    edge: z.string().regex(/^https?:\/\/[^/\s?#]+\/?$/, 'expected http(s)://host[:port]').optional(),
  })
  .strict();

const weight = z.number().positive();
/** One rank: a POP, POPs sharing the rank by their weights, or POPs with explicit weights. */
const rankSchema = z.union([popName, z.array(popName).min(1), z.record(popName, weight)]);
/** An ordered list of ranks; a lone name or a lone {name: weight} map is a list of one. */
export const popListSchema = z.preprocess(
  (v) => (typeof v === 'string' || (v !== null && typeof v === 'object' && !Array.isArray(v)) ? [v] : v),
  z.array(rankSchema).min(1),
);

const nearestSchema = z.preprocess(
  (v) => (v === true ? {} : v),
  z
    .object({
      /** Only these POPs (default: all). */
      pops: z.array(popName).min(1).optional(),
      /** POPs within this many km of the nearest share its rank (weights apply). */
      tie_km: z.number().nonnegative().default(0),
    })
    .strict(),
);

/** A policy object, or `nearest` alone (then every POP by distance, in config order for clients without coordinates). */
export const routeSchema = z.preprocess(
  (v) => (v === 'nearest' ? { nearest: {} } : v),
  z
    .object({
      /** Area → POP list: countries (IT, ITA, 380), subdivisions (US-CA), continents (EU, continent:NA); "0" or `default` as in PowerDNS. */
      map: z.record(z.string(), popListSchema).optional(),
      /** CIDR → POP list, checked first; the longest prefix wins. */
      nets: z.record(z.string(), popListSchema).optional(),
      /** Order POPs by distance for clients the map does not name. */
      nearest: nearestSchema.optional(),
      /** For clients nothing else names (and private or unknown addresses). */
      default: popListSchema.optional(),
    })
    .strict(),
);

export const serviceSchema = z
  .object({
    ttl: z.number().int().min(0).max(2_147_483_647).default(30),
    route: routeSchema,
  })
  .strict();

export const popsSectionSchema = z.record(z.string(), popSchema);
export const servicesSectionSchema = z.record(z.string(), serviceSchema);

/** The keys this file adds to the config, with their defaults. */
export const geoConfigShape = {
  geoip: geoipSectionSchema.default({ city: 'default', asn: 'default' }),
  pops: popsSectionSchema.default({}),
  services: servicesSectionSchema.default({}),
  /** A name answering TXT with how the CDN sees the client, and A/AAAA like `director_service`. */
  director: z.string().min(1).optional(),
  /** The service the director mirrors for A/AAAA; default: the first service. */
  director_service: z.string().min(1).optional(),
};

export const geoConfigSchema = z.object(geoConfigShape);
export type GeoConfig = z.infer<typeof geoConfigSchema>;
export type GeoipSection = z.infer<typeof geoipSectionSchema>;
export type PopConfig = z.infer<typeof popSchema>;
export type ServiceConfig = z.infer<typeof serviceSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
export type PopListConfig = z.infer<typeof popListSchema>;

/** Cross-checks of the geo sections (unknown POPs, codes, networks...) as zod issues, for `.superRefine`. */
export function checkGeoConfig(config: GeoConfig, ctx: z.RefinementCtx): void {
  for (const issue of planRouting(config).issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
}
