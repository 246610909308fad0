/** What a geo answer is counted under: the service's name and the POP it sent the client to. */
export interface GeoLabel {
  readonly service: string;
  /** The chosen POP, `last-resort`, or empty for the director's TXT. */
  readonly pop: string;
}

/** Names a (service, variant) of the snapshot that answered it; asked once per pair, never per query. */
export type GeoLabeler = (service: unknown, variant: number) => GeoLabel;

interface GeoCount extends GeoLabel {
  n: number;
}

export interface QueryCountsView {
  /** Answers per header RCODE (0-15), every answer included (geo answers are NOERROR). */
  readonly rcodes: Float64Array;
  /** Of the RCODE 0 answers, those that were extended BADVERS (RFC 6891 §6.1.3). */
  readonly badvers: number;
  /** Packets not answered (not a query). */
  readonly dropped: number;
  /** Geo answers per service and POP, summed over every snapshot served so far. */
  geo(): GeoCount[];
}

/**
 * Plain counters bumped on the query path: an array slot per answer, and
 * for geo answers two Map reads keyed by the snapshot's service object and
 * answer variant (no string built, nothing allocated after the first). Metrics
 * read them at scrape time.
 */
export class QueryCounters implements QueryCountsView {
  readonly rcodes = new Float64Array(16);
  badvers = 0;
  dropped = 0;
  private live = new Map<unknown, Map<number, GeoCount>>();
  /** Counts of snapshots swapped out, by label: counters never go down across a reload. */
  private readonly retired = new Map<string, GeoCount>();

  answered(answer: Buffer | undefined): void {
    if (answer === undefined) this.dropped++;
    else this.rcodes[answer[3]! & 0x0f]!++;
  }

  geoAnswered(service: unknown, variant: number, source: { label?: GeoLabeler } | undefined): void {
    let byVariant = this.live.get(service);
    if (byVariant === undefined) this.live.set(service, (byVariant = new Map()));
    const c = byVariant.get(variant);
    if (c !== undefined) c.n++;
    else byVariant.set(variant, { ...(source?.label?.(service, variant) ?? { service: '?', pop: '?' }), n: 1 });
  }

  /** A new snapshot: its services are new objects, so the old counts move under their labels. */
  retire(): void {
    for (const byVariant of this.live.values()) for (const c of byVariant.values()) addTo(this.retired, c);
    this.live = new Map();
  }

  geo(): GeoCount[] {
    const all = new Map<string, GeoCount>();
    for (const c of this.retired.values()) addTo(all, c);
    for (const byVariant of this.live.values()) for (const c of byVariant.values()) addTo(all, c);
    return [...all.values()];
  }
}

function addTo(into: Map<string, GeoCount>, c: GeoCount): void {
  const key = `${c.service}\n${c.pop}`;
  const have = into.get(key);
  if (have) have.n += c.n;
  else into.set(key, { service: c.service, pop: c.pop, n: c.n });
}
