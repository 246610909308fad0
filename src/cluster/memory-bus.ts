import type { BusStatus, ClusterBus, NodeVersion, PurgeAck, SubscribeOptions, Subscription } from './bus.js';
import type { PurgeCommand } from './purge.js';

export interface MemoryBusOptions {
  /** Purges kept for replay; older ones are dropped and a subscriber behind them gets a gap. */
  maxLen?: number;
  now?: () => number;
}

interface Entry {
  readonly seq: number;
  readonly purge: PurgeCommand;
}

const toId = (seq: number): string => `${seq}-0`;
const fromId = (id: string): number => Number(id.split('-')[0]);

/** The bus of one process (the demo, a single server): same contract as Redis, nothing to install. */
export function createMemoryBus(options: MemoryBusOptions = {}): ClusterBus {
  const maxLen = options.maxLen ?? 10_000;
  const now = options.now ?? Date.now;
  const log: Entry[] = [];
  let lastSeq = 0;
  let maxDeleted = 0;
  const pumps = new Set<() => void>();
  const ackListeners = new Set<(a: PurgeAck) => void>();
  const live = new Map<string, number>();
  const versions = new Map<string, NodeVersion>();

  return {
    async publishPurge(purge) {
      log.push({ seq: ++lastSeq, purge });
      while (log.length > maxLen) maxDeleted = log.shift()!.seq;
      for (const pump of pumps) pump();
    },

    async subscribe(o: SubscribeOptions): Promise<Subscription> {
      const saved = await o.cursor.load();
      let position = saved === undefined ? lastSeq : fromId(saved);
      let stopped = false;
      let running: Promise<void> = Promise.resolve();
      if (saved !== undefined && position < maxDeleted) {
        await o.onGap();
        position = maxDeleted;
      }
      // A newcomer starts at the end, and must remember that, or a restart before its first purge would skip some.
      if (saved !== toId(position)) await o.cursor.save(toId(position));
      const drain = async (): Promise<void> => {
        while (!stopped && position < lastSeq) {
          const first = log[0]?.seq ?? lastSeq + 1;
          const entry = log[position + 1 - first];
          if (!entry) break;
          await o.onPurge(entry.purge);
          position = entry.seq;
          await o.cursor.save(toId(position));
        }
      };
      const pump = (): void => {
        running = running.then(drain, drain);
      };
      pumps.add(pump);
      live.set(o.node, (live.get(o.node) ?? 0) + 1);
      pump();
      await running;
      return {
        node: o.node,
        async stop() {
          if (stopped) return;
          stopped = true;
          pumps.delete(pump);
          const n = (live.get(o.node) ?? 1) - 1;
          if (n <= 0) live.delete(o.node);
          else live.set(o.node, n);
          // An onPurge that never settles must not hold the stop forever.
          await Promise.race([running, new Promise((r) => setTimeout(r, 1_000).unref())]);
        },
      };
    },

    async ack(a) {
      for (const l of ackListeners) l(a);
    },
    async onAck(listener) {
      ackListeners.add(listener);
      return () => ackListeners.delete(listener);
    },
    async liveNodes() {
      return [...live.keys()].sort();
    },
    async publishVersion(node, version, role) {
      versions.set(node, { version, at: now(), ...(role ? { role } : {}) });
    },
    async versions() {
      return Object.fromEntries(versions);
    },
    status(): BusStatus {
      return { kind: 'memory', connected: true, queued: 0 };
    },
    async close() {
      for (const pump of [...pumps]) pumps.delete(pump);
      ackListeners.clear();
    },
  };
}
