import type { CursorStore } from './cursor.js';
import type { PurgeCommand } from './purge.js';

/** An edge's receipt for one purge; the issuer measures latency on its own clock. */
export interface PurgeAck {
  readonly purgeId: string;
  readonly node: string;
}

/** What a node is, for version skew: nameservers are compared with nameservers, edges with edges. */
export type NodeRole = 'nameserver' | 'edge';

export interface NodeVersion {
  readonly version: string;
  /** Wall-clock ms when the node last reported it. */
  readonly at: number;
  /** Absent in reports from nodes older than roles. */
  readonly role?: NodeRole;
}

export interface SubscribeOptions {
  /** The edge's node name: acks and liveness carry it. */
  readonly node: string;
  /** Where the subscriber keeps the id of the last purge it applied (its own disk in production). */
  readonly cursor: CursorStore;
  /** Applies one purge to the local cache; the cursor moves past it only once this resolves. */
  onPurge(purge: PurgeCommand): void | Promise<void>;
  /** Purges were lost before this node read them: its whole cache must be treated as stale. */
  onGap(): void | Promise<void>;
}

export interface Subscription {
  readonly node: string;
  stop(): Promise<void>;
}

export interface BusStatus {
  readonly kind: 'memory' | 'redis';
  readonly connected: boolean;
  /** Purges accepted while the bus backend was down, not yet written to it. */
  readonly queued: number;
}

/**
 * The cluster bus: purges to every edge (replayed to an edge that was away),
 * acks back to whoever issued them, and each node's config version.
 * Memory and Redis implement it; test/helpers/cluster-bus-suite.ts holds both to it.
 */
export interface ClusterBus {
  /** Accepts a purge; when the backend is down it is queued and written on reconnect. */
  publishPurge(purge: PurgeCommand): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  ack(ack: PurgeAck): Promise<void>;
  /** Calls `listener` for every ack from now on; returns the function that stops it. */
  onAck(listener: (ack: PurgeAck) => void): Promise<() => void>;
  /** Nodes with a live subscription (an edge that stopped or died drops out). */
  liveNodes(): Promise<string[]>;
  /** Records the config version `node` runs (at start and on each reload); a Redis bus keeps it until Redis returns. */
  publishVersion(node: string, version: string, role?: NodeRole): Promise<void>;
  versions(): Promise<Record<string, NodeVersion>>;
  status(): BusStatus;
  close(): Promise<void>;
}
