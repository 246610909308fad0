import { applyPurge } from '../edge/cache/purge.js';
import { canonicalPurgeTarget } from '../edge/purge-target.js';
import type { PurgeFence } from '../edge/purge-fence.js';
import type { SiteTable } from '../edge/sites.js';
import type { CacheStore } from '../edge/cache/store.js';
import { subscribeWithAcks } from './acks.js';
import type { ClusterBus, Subscription } from './bus.js';
import type { CursorStore } from './cursor.js';

export interface EdgeLinkOptions {
  readonly node: string;
  readonly cursor: CursorStore;
  readonly store: CacheStore;
  /** The edge's fills under way: those a purge takes are neither joined nor stored after it. */
  readonly fence?: PurgeFence;
  /** The edge's sites: purge URLs in any form (https, alias, port, case) are mapped to its cache keys. */
  readonly sites?: SiteTable;
  readonly now?: () => number;
  readonly onError?: (e: unknown) => void;
  /** Called after each purge is applied, with the seconds since the issuer issued it (its clock against ours). */
  readonly onApplied?: (lagSeconds: number) => void;
}

/**
 * Subscribes an edge's cache to the bus: each purge is applied, then acked.
 * A gap (purges lost before this edge read them) soft-purges everything:
 * serving something purged is worse than revalidating it.
 */
export function linkEdge(bus: ClusterBus, o: EdgeLinkOptions): Promise<Subscription> {
  const now = o.now ?? Date.now;
  return subscribeWithAcks(bus, {
    node: o.node,
    cursor: o.cursor,
    async onPurge(purge) {
      const target = o.sites ? canonicalPurgeTarget(purge.target, o.sites) : purge.target;
      o.fence?.record(target);
      await applyPurge(o.store, { target, soft: purge.soft }, now());
      o.onApplied?.(Math.max(0, now() - purge.issuedAt) / 1000);
    },
    async onGap() {
      o.fence?.record({ kind: 'all' });
      await applyPurge(o.store, { target: { kind: 'all' }, soft: true }, now());
    },
  });
}
