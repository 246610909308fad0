import { Counter, Gauge, type Registry } from 'prom-client';
import type { CacheStore } from '../edge/cache/store.js';
import type { EdgeStats } from '../edge/stats.js';
import { registerPlainHistogram } from './histogram.js';

/** What the edge metrics read of one edge (an EdgeContext is one). */
export interface EdgeMetricsSource {
  readonly pop: string | undefined;
  readonly id: { readonly name: string };
  readonly stats: EdgeStats;
  readonly store: CacheStore;
}

/**
 * The metrics of the edges of this process (one for `geocdn edge`, every POP
 * in the demo), each series labelled with its POP. Everything is read from
 * the edges' plain counters when scraped.
 */
export function registerEdgeMetrics(registry: Registry, edges: () => readonly EdgeMetricsSource[]): void {
  const popOf = (e: EdgeMetricsSource): string => e.pop ?? e.id.name;
  new Counter({
    name: 'geocdn_edge_requests_total',
    help: 'Edge responses by X-Cache-Status (NONE: answered by the edge itself: health, 421, bad requests)',
    labelNames: ['pop', 'cache_status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of edges()) for (const [status, n] of Object.entries(e.stats.statuses)) this.inc({ pop: popOf(e), cache_status: status }, n);
    },
  });
  new Counter({
    name: 'geocdn_edge_sent_bytes_total',
    help: 'Response body bytes sent to clients',
    labelNames: ['pop'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of edges()) this.inc({ pop: popOf(e) }, e.stats.bytes);
    },
  });
  const gauge = (name: string, help: string, read: (e: EdgeMetricsSource) => number): void =>
    void new Gauge({
      name,
      help,
      labelNames: ['pop'],
      registers: [registry],
      collect() {
        this.reset();
        for (const e of edges()) this.set({ pop: popOf(e) }, read(e));
      },
    });
  gauge('geocdn_edge_requests_in_flight', 'Requests being answered now', (e) => e.stats.inflight);
  gauge('geocdn_edge_hit_ratio', 'Share of responses served from cache over the last second', (e) => e.stats.rates.hitRatio);
  gauge('geocdn_edge_store_entries', 'Objects in the cache store', (e) => e.store.stats().entries);
  gauge('geocdn_edge_store_bytes', 'Bytes held by the cache store', (e) => e.store.stats().bytes);
  gauge('geocdn_edge_store_max_bytes', 'Capacity of the cache store in bytes', (e) => e.store.stats().maxBytes);
  registerPlainHistogram(registry, 'geocdn_edge_origin_latency_seconds', 'Seconds from an origin request to its response head', () =>
    edges().map((e) => ({ labels: { pop: popOf(e) }, histogram: e.stats.originLatency })),
  );
  registerPlainHistogram(registry, 'geocdn_purge_lag_seconds', "Seconds from a purge's issue (issuer's clock) to its apply on the edge", () =>
    edges().map((e) => ({ labels: { pop: popOf(e) }, histogram: e.stats.purgeLag })),
  );
}
