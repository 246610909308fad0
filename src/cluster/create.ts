import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ClusterSection } from '../config/cluster-schema.js';
import { issuePurge, type PurgeReport } from './acks.js';
import type { ClusterBus } from './bus.js';
import { fileCursor, type CursorStore } from './cursor.js';
import { createMemoryBus } from './memory-bus.js';
import { newPurge, type PurgeTarget } from './purge.js';
import { createRedisBus } from './redis-bus.js';

export interface ClusterSetup {
  readonly bus: ClusterBus;
  readonly node: string;
  readonly cursor: CursorStore;
  readonly ackTimeoutMs: number;
}

/** The bus the config asks for: Redis when `cluster.redis` is set, else one in-process memory bus. */
export function createCluster(section: ClusterSection | undefined, onError?: (e: unknown) => void): ClusterSetup {
  const node = section?.node ?? hostname();
  const stateDir = section?.state_dir ?? '.geocdn';
  const bus = section?.redis
    ? createRedisBus({ url: section.redis, prefix: section.prefix, maxLen: section.max_len, ...(onError ? { onError } : {}) })
    : createMemoryBus({ maxLen: section?.max_len ?? 100_000 });
  return { bus, node, cursor: fileCursor(join(stateDir, `purge-cursor-${node}`)), ackTimeoutMs: section?.ack_timeout_ms ?? 2_000 };
}

/** The admin API's purge action for this node: publish on the bus, wait for the live edges' acks. */
export function clusterPurgeIssuer(setup: ClusterSetup, now: () => number = Date.now): (target: PurgeTarget, soft: boolean) => Promise<PurgeReport> {
  return (target, soft) => issuePurge(setup.bus, newPurge(target, soft, now()), { timeoutMs: setup.ackTimeoutMs });
}
