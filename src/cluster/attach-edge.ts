import { hostname } from 'node:os';
import type { ClusterSection } from '../config/cluster-schema.js';
import type { Logger } from '../core/log.js';
import type { CacheStore } from '../edge/cache/store.js';
import type { PurgeFence } from '../edge/purge-fence.js';
import type { SiteTable } from '../edge/sites.js';
import { createCluster } from './create.js';
import type { ClusterBus } from './bus.js';
import { linkEdge } from './edge-link.js';

export interface AttachedEdge {
  readonly node: string;
  readonly bus: ClusterBus;
  stop(): Promise<void>;
}

/**
 * Puts an edge process on the cluster bus named by the config: purges reach
 * its cache, acks go back, and a node that was away catches up from its cursor.
 * Without `cluster.redis` there is nobody else to hear from: nothing to attach.
 */
export async function attachEdgeToCluster(
  section: ClusterSection | undefined,
  store: CacheStore,
  pop: string | undefined,
  log: Logger,
  /** The config version to publish, and where each applied purge's lag goes. */
  extra: { version?: string; onApplied?: (lagSeconds: number) => void; sites?: SiteTable; fence?: PurgeFence } = {},
): Promise<AttachedEdge | undefined> {
  if (!section?.redis) return undefined;
  const node = section.node ?? (pop ? `edge-${pop}` : `edge-${hostname()}`);
  const cluster = createCluster({ ...section, node }, (e) => log.warn({ err: e }, 'cluster bus error (purges queue until it returns)'));
  const sub = await linkEdge(cluster.bus, { node, cursor: cluster.cursor, store, ...(extra.sites ? { sites: extra.sites } : {}), ...(extra.fence ? { fence: extra.fence } : {}), ...(extra.onApplied ? { onApplied: extra.onApplied } : {}) });
  if (extra.version) cluster.bus.publishVersion(node, extra.version, 'edge').catch((e: unknown) => log.warn({ err: e }, 'config version not published on the cluster bus'));
  log.info({ node, redis: section.redis }, 'edge on the cluster bus');
  return {
    node,
    bus: cluster.bus,
    async stop() {
      await sub.stop();
      await cluster.bus.close();
    },
  };
}
