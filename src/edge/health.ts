import type { ServerResponse } from 'node:http';
import type { DiskTierStats } from './cache/store.js';
import type { EdgeContext } from './context.js';

/** The health answer the nameservers' probes read: small, and cheap to build. */
export function healthBody(ctx: EdgeContext): string {
  const origins = ctx.origins.states();
  const store = ctx.store.stats();
  return JSON.stringify({
    status: 'ok',
    pop: ctx.pop ?? null,
    in_flight: ctx.stats.inflight,
    requests_per_second: ctx.stats.rates.requestsPerSecond,
    bytes_per_second: ctx.stats.rates.bytesPerSecond,
    requests_total: ctx.stats.requests,
    hit_ratio: Math.round(ctx.stats.rates.hitRatio * 1000) / 1000,
    cache_statuses: ctx.stats.statuses,
    origins: origins.map((o) => ({ origin: o.origin, state: o.state, consecutive_failures: o.consecutiveFailures, last_error: o.lastError ?? null })),
    cache: { entries: store.entries, bytes: store.bytes, max_bytes: store.maxBytes, fills_in_progress: ctx.collapser.size, disk: store.disk && diskHealth(store.disk) },
  });
}

/** The disk tier's part: `state` other than `ok` (read-only, full, error) means it takes no writes. */
function diskHealth(d: DiskTierStats): object {
  return { state: d.state, error: d.error ?? null, path: d.path, entries: d.entries, bytes: d.bytes, max_bytes: d.maxBytes, corrupt_dropped: d.corruptDropped };
}

export function writeHealth(ctx: EdgeContext, res: ServerResponse): void {
  const body = healthBody(ctx);
  res.writeHead(200, ['content-type', 'application/json', 'cache-control', 'no-store', 'content-length', String(Buffer.byteLength(body))]);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
