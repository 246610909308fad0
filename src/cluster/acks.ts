import type { ClusterBus, PurgeAck, SubscribeOptions, Subscription } from './bus.js';
import type { PurgeCommand } from './purge.js';

export interface EdgeReceipt {
  readonly node: string;
  /** From the issuer's publish until the edge's ack arrived, on the issuer's clock. */
  readonly latencyMs: number;
}

export interface PurgeReport {
  readonly id: string;
  /** Every live edge acknowledged within the timeout. */
  readonly complete: boolean;
  readonly applied: readonly EdgeReceipt[];
  /** Live edges that did not acknowledge in time. */
  readonly missing: readonly string[];
  /** The bus backend was down: the purge is queued and applies when it returns. */
  readonly queued: boolean;
}

export interface IssueOptions {
  timeoutMs: number;
  /** Monotonic ms for latency. */
  clock?: () => number;
}

/** Publishes a purge and waits until every edge live at that moment has applied it (or the timeout). */
export async function issuePurge(bus: ClusterBus, purge: PurgeCommand, o: IssueOptions): Promise<PurgeReport> {
  const clock = o.clock ?? (() => performance.now());
  let expected: string[];
  try {
    expected = await bus.liveNodes();
  } catch {
    expected = [];
  }
  const applied = new Map<string, number>();
  let done: () => void = () => undefined;
  const allIn = new Promise<void>((resolve) => (done = resolve));
  const start = clock();
  const check = (): void => {
    if (expected.every((n) => applied.has(n))) done();
  };
  let stop: () => void = () => undefined;
  try {
    stop = await bus.onAck((a: PurgeAck) => {
      if (a.purgeId !== purge.id || applied.has(a.node)) return;
      applied.set(a.node, clock() - start);
      check();
    });
  } catch {
    // no ack channel while the backend is down: the purge still queues
  }
  await bus.publishPurge(purge);
  const queued = bus.status().queued > 0;
  check();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([allIn, new Promise<void>((r) => (timer = setTimeout(r, queued ? 0 : o.timeoutMs)))]);
  clearTimeout(timer);
  stop();
  const missing = expected.filter((n) => !applied.has(n));
  return {
    id: purge.id,
    complete: missing.length === 0 && !queued,
    applied: [...applied].map(([node, latencyMs]) => ({ node, latencyMs: Math.round(latencyMs * 100) / 100 })).sort((a, b) => a.node.localeCompare(b.node)),
    missing,
    queued,
  };
}

/** Subscribes an edge so that it acknowledges each purge once applied to its cache. */
export function subscribeWithAcks(bus: ClusterBus, options: SubscribeOptions): Promise<Subscription> {
  return bus.subscribe({
    ...options,
    async onPurge(purge) {
      await options.onPurge(purge);
      await bus.ack({ purgeId: purge.id, node: options.node });
    },
  });
}
