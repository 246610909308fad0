/** Counters for the health endpoint: plain numbers, bumped on the hot path without allocating. */
export interface EdgeStats {
  inflight: number;
  requests: number;
  bytes: number;
  /** Rates over the last full second. */
  readonly rates: { requestsPerSecond: number; bytesPerSecond: number };
  /** Folds the counters into the rates; call about once a second. */
  tick(now: number): void;
}

export function createStats(now: number): EdgeStats {
  let lastAt = now;
  let lastRequests = 0;
  let lastBytes = 0;
  const stats: EdgeStats = {
    inflight: 0,
    requests: 0,
    bytes: 0,
    rates: { requestsPerSecond: 0, bytesPerSecond: 0 },
    tick(t: number): void {
      const dt = (t - lastAt) / 1000;
      if (dt <= 0) return;
      stats.rates.requestsPerSecond = Math.round((stats.requests - lastRequests) / dt);
      stats.rates.bytesPerSecond = Math.round((stats.bytes - lastBytes) / dt);
      lastAt = t;
      lastRequests = stats.requests;
      lastBytes = stats.bytes;
    },
  };
  return stats;
}
