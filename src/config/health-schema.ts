import { z } from 'zod';
import { listenAddress } from './dns-schema.js';

/**
 * The `health` section (probes, failover TTL, spillover, last resorts) and
 * the `admin` section (the nameserver's admin API). The probe path is the
 * edges' own `edge.health_path`: every node reads the same config.
 */

const lastResortSchema = z.union([
  /** Hand clients to another CDN (a name outside our zones). */
  z.object({ cname: z.string().min(1) }).strict(),
  /** Send clients straight to the origin's addresses. */
  z.object({ addresses: z.array(z.string().min(1)).min(1) }).strict(),
]);

export const healthSectionSchema = z
  .object({
    /** Time between two probes of one POP. */
    interval_ms: z.number().int().min(50).default(2_000),
    /**
     * A probe not answered within this counts as failed; below the interval.
     * A hung edge is out of answers within interval × fall + timeout.
     */
    timeout_ms: z.number().int().min(10).default(800),
    /** Consecutive good probes that bring a down POP back. */
    rise: z.number().int().min(1).max(100).default(2),
    /** Consecutive failed probes that take an up POP down. */
    fall: z.number().int().min(1).max(100).default(3),
    /** Also require a TCP connect to the edge's port (besides the HTTP probe). */
    tcp: z.boolean().default(false),
    /** TTL of answers given while a nearer POP is down, drained or shedding, and of last resorts. */
    failover_ttl: z.number().int().min(0).max(2_147_483_647).default(10),
    /** Shed clients of a POP above its `capacity` (requests/s) to its next choice. */
    spillover: z.boolean().default(true),
    /** Largest share of a POP's clients spillover moves away. */
    max_spillover: z.number().min(0).max(1).default(0.9),
    /** Per service: where clients go when every POP of the service is down. Default: all POPs' addresses, short TTL. */
    last_resort: z.record(z.string().min(1), lastResortSchema).default({}),
  })
  .strict()
  .refine((h) => h.timeout_ms < h.interval_ms, { message: 'timeout_ms must be below interval_ms', path: ['timeout_ms'] });

export const adminSectionSchema = z
  .object({
    /** Loopback unless you say otherwise; `false` turns the admin API off. */
    listen: z.union([listenAddress, z.literal(false)]).default('127.0.0.1:8053'),
    /** Bearer token; GEOCDN_ADMIN_TOKEN overrides it. Without either the admin API stays off. */
    token: z.string().min(16, 'an admin token has at least 16 characters').optional(),
    /** Admin URLs of every nameserver, for `geocdn drain` and `geocdn status`; default: this node's `listen`. */
    nameservers: z.array(z.string().regex(/^https?:\/\/[^/\s?#]+\/?$/, 'expected http(s)://host[:port]')).default([]),
  })
  .strict();

/** The keys this file adds to the config, with their defaults. */
export const healthConfigShape = {
  health: healthSectionSchema.default(healthSectionSchema.parse({})),
  admin: adminSectionSchema.default(adminSectionSchema.parse({})),
};

export type HealthSection = z.infer<typeof healthSectionSchema>;
export type AdminSection = z.infer<typeof adminSectionSchema>;
export type LastResortConfig = z.infer<typeof lastResortSchema>;
