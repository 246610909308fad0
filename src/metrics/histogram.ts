import type { Metric, MetricValueWithName, Registry } from 'prom-client';
import type { PlainHistogram } from '../core/histogram.js';

/** One series of a histogram metric: its labels and the plain histogram that holds its counts. */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly histogram: PlainHistogram;
}

/**
 * Registers a histogram whose counts live in plain histograms filled on the
 * hot path; prom-client reads them only when scraped. (prom-client's own
 * Histogram cannot be set from counts, so this is a metric object of its
 * own shape: name, help, type and `get()`, as the registry reads them.)
 */
export function registerPlainHistogram(registry: Registry, name: string, help: string, series: () => readonly HistogramSeries[]): void {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: MetricValueWithName<string>[] = [];
      for (const s of series()) {
        const h = s.histogram;
        let cumulative = 0;
        h.bounds.forEach((le, i) => {
          cumulative += h.counts[i]!;
          values.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
        });
        values.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: h.count });
        values.push({ metricName: `${name}_sum`, labels: { ...s.labels }, value: h.sum });
        values.push({ metricName: `${name}_count`, labels: { ...s.labels }, value: h.count });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  registry.registerMetric(metric as unknown as Metric);
}
