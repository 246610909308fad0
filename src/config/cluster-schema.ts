import { z } from 'zod';

/**
 * The `cluster` section: how nodes share purges and config versions.
 * Absent, or without `redis`: an in-process memory bus (one server, the demo).
 */
export const clusterSectionSchema = z
  .object({
    /** `redis://host:port/db`; every node of the cluster names the same one. */
    redis: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional(),
    /** Prefix of the keys and channels, so clusters can share one Redis. */
    prefix: z.string().min(1).default('geocdn'),
    /** This node's name in acks, liveness and versions; default: the host name. */
    node: z.string().min(1).optional(),
    /** Where this node keeps the id of the last purge it applied (an edge) or its drains (a nameserver); relative to the working folder. */
    state_dir: z.string().min(1).default('.geocdn'),
    /** Purges kept for nodes that were away; one further behind treats its whole cache as stale. */
    max_len: z.number().int().min(100).default(100_000),
    /** How long a purge waits for every live edge's ack before naming the ones missing. */
    ack_timeout_ms: z.number().int().min(10).default(2_000),
  })
  .strict();

export type ClusterSection = z.infer<typeof clusterSectionSchema>;
