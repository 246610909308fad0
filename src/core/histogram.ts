/**
 * A histogram of plain numbers: fixed upper bounds, one count per bucket,
 * no labels and no allocation per observation. Metrics and the dashboard
 * read it when they are asked (prom-client folds it in at scrape time).
 */
export interface PlainHistogram {
  /** Upper bounds, ascending; a last bucket above them holds the rest (+Inf). */
  readonly bounds: readonly number[];
  /** Per bucket (not cumulative); `counts.length === bounds.length + 1`. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
  observe(value: number): void;
}

/** Seconds, from a fast loopback origin (1 ms) to a slow one (10 s). */
export const LATENCY_BOUNDS_S: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createHistogram(bounds: readonly number[] = LATENCY_BOUNDS_S): PlainHistogram {
  const counts = new Float64Array(bounds.length + 1);
  const h: PlainHistogram = {
    bounds,
    counts,
    sum: 0,
    count: 0,
    observe(value: number): void {
      let i = 0;
      while (i < bounds.length && value > bounds[i]!) i++;
      counts[i]!++;
      h.sum += value;
      h.count++;
    },
  };
  return h;
}
