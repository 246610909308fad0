/** What an edge's health answer says of its load (src/edge/health.ts writes it). */
export interface LoadReport {
  inFlight: number;
  requestsPerSecond: number;
  bytesPerSecond: number;
  /** The edge's own view of its origins: `state` per origin as the edge reports it. */
  origins: readonly { origin: string; state: string }[];
  /** Share of the last second's answers served from cache, when the edge reports it. */
  hitRatio?: number;
  /** Answers per X-Cache-Status since the edge started, when it reports them (for the dashboard). */
  cacheStatuses?: Readonly<Record<string, number>>;
}

/** Reads the load out of a health answer; undefined when the body carries none (a plain HTTP health check). */
export function parseLoadReport(body: unknown): LoadReport | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const rps = b.requests_per_second;
  if (typeof rps !== 'number' || !Number.isFinite(rps) || rps < 0) return undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  const origins = Array.isArray(b.origins)
    ? b.origins.flatMap((o: unknown) => {
        if (typeof o !== 'object' || o === null) return [];
        const r = o as Record<string, unknown>;
        return typeof r.origin === 'string' && typeof r.state === 'string' ? [{ origin: r.origin, state: r.state }] : [];
      })
    : [];
  const report: LoadReport = { inFlight: num(b.in_flight), requestsPerSecond: rps, bytesPerSecond: num(b.bytes_per_second), origins };
  if (typeof b.hit_ratio === 'number' && b.hit_ratio >= 0 && b.hit_ratio <= 1) report.hitRatio = b.hit_ratio;
  const statuses = cacheStatusCounts(b.cache_statuses);
  if (statuses) report.cacheStatuses = statuses;
  return report;
}

/** `{"HIT": 12, "MISS": 3…}` from an edge's health answer: at most 16 names, each a short upper-case word, with a count. */
function cacheStatusCounts(v: unknown): Record<string, number> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(v as Record<string, unknown>).slice(0, 16)) {
    if (/^[A-Z_]{1,16}$/.test(k) && typeof n === 'number' && Number.isFinite(n) && n >= 0) out[k] = n;
  }
  return out;
}

/**
 * The share of a POP's new clients to send to their next choice. The edge
 * measures only the traffic we let through, so the offered load is the
 * measured rate over the share kept; shedding `1 - capacity / offered`
 * keeps the POP at its capacity and stays put once reached instead of
 * swinging between shedding and not.
 */
export function shedShare(requestsPerSecond: number, capacity: number | undefined, previousShed: number, maxShed: number): number {
  if (capacity === undefined || capacity <= 0) return 0;
  const kept = 1 - Math.min(previousShed, 0.99);
  const offered = requestsPerSecond / kept;
  if (offered <= capacity) return 0;
  return Math.min(maxShed, 1 - capacity / offered);
}
