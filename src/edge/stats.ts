import { createHistogram, type PlainHistogram } from '../core/histogram.js';
import type { CacheStatus } from './cache/decision.js';

export const CACHE_STATUSES: readonly CacheStatus[] = ['HIT', 'MISS', 'EXPIRED', 'STALE', 'UPDATING', 'REVALIDATED', 'BYPASS'];

/** Responses per `X-Cache-Status`, plus `NONE` for ours without one (421, health, bad requests). */
export type StatusCounts = Record<CacheStatus | 'NONE', number>;

/** Counters for the health endpoint, metrics and the dashboard: plain numbers, bumped on the hot path without allocating. */
export interface EdgeStats {
  inflight: number;
  requests: number;
  bytes: number;
  readonly statuses: StatusCounts;
  /** Rates over the last full second. */
  readonly rates: { requestsPerSecond: number; bytesPerSecond: number; hitRatio: number };
  /** Seconds from sending an origin request to its response head. */
  readonly originLatency: PlainHistogram;
  /** Seconds from a purge's issue (the issuer's clock) to its apply on this edge. */
  readonly purgeLag: PlainHistogram;
  /** Folds the counters into the rates; call about once a second. */
  tick(now: number): void;
}

export function emptyStatusCounts(): StatusCounts {
  return { HIT: 0, MISS: 0, EXPIRED: 0, STALE: 0, UPDATING: 0, REVALIDATED: 0, BYPASS: 0, NONE: 0 };
}

/** Share of cache-answered responses (HIT, UPDATING, STALE, REVALIDATED count as served by the cache) among those with a status. */
export function hitRatio(c: StatusCounts): number {
  const cached = c.HIT + c.UPDATING + c.STALE + c.REVALIDATED;
  const total = cached + c.MISS + c.EXPIRED + c.BYPASS;
  return total === 0 ? 0 : cached / total;
}

export function createStats(now: number): EdgeStats {
  let lastAt = now;
  let lastRequests = 0;
  let lastBytes = 0;
  const last = emptyStatusCounts();
  const stats: EdgeStats = {
    inflight: 0,
    requests: 0,
    bytes: 0,
    statuses: emptyStatusCounts(),
    rates: { requestsPerSecond: 0, bytesPerSecond: 0, hitRatio: 0 },
    originLatency: createHistogram(),
    purgeLag: createHistogram(),
    tick(t: number): void {
      const dt = (t - lastAt) / 1000;
      if (dt <= 0) return;
      stats.rates.requestsPerSecond = Math.round((stats.requests - lastRequests) / dt);
      stats.rates.bytesPerSecond = Math.round((stats.bytes - lastBytes) / dt);
      const window = emptyStatusCounts();
      for (const k of Object.keys(window) as (keyof StatusCounts)[]) {
        window[k] = stats.statuses[k] - last[k];
        last[k] = stats.statuses[k];
      }
      stats.rates.hitRatio = hitRatio(window);
      lastAt = t;
      lastRequests = stats.requests;
      lastBytes = stats.bytes;
    },
  };
  return stats;
}
