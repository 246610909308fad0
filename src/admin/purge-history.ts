import type { PurgeTarget } from '../cluster/purge.js';
import type { PurgeIssuer } from './purge.js';

/** One purge as the dashboard lists it. */
export interface PurgeRecord {
  readonly id: string;
  /** ISO time the purge was asked for. */
  readonly at: string;
  readonly kind: PurgeTarget['kind'];
  /** What was purged, shortened for a table: `tags home, news`, `prefix http://…`, `3 URLs`. */
  readonly what: string;
  readonly soft: boolean;
  readonly complete: boolean;
  readonly applied: number;
  readonly missing: readonly string[];
  readonly queued: boolean;
  readonly ms: number;
}

/** The last `size` purges this admin API issued, newest first. A ring: old ones fall off. */
export class PurgeHistory {
  private readonly ring: PurgeRecord[] = [];

  constructor(readonly size = 20) {}

  add(r: PurgeRecord): void {
    this.ring.unshift(r);
    if (this.ring.length > this.size) this.ring.length = this.size;
  }

  list(): readonly PurgeRecord[] {
    return this.ring.slice();
  }
}

/** The issuer, with every purge it issues (or fails to) recorded in `history`. */
export function recordingIssuer(issue: PurgeIssuer, history: PurgeHistory, now: () => number): PurgeIssuer {
  return async (target, soft) => {
    const started = now();
    const base = { at: new Date(started).toISOString(), kind: target.kind, what: describeTarget(target), soft };
    try {
      const report = await issue(target, soft);
      history.add({ ...base, id: report.id, complete: report.complete, applied: report.applied.length, missing: report.missing, queued: report.queued, ms: now() - started });
      return report;
    } catch (e) {
      history.add({ ...base, id: '-', complete: false, applied: 0, missing: [], queued: false, ms: now() - started });
      throw e;
    }
  };
}

export function describeTarget(t: PurgeTarget): string {
  switch (t.kind) {
    case 'url':
      return t.urls.length === 1 ? t.urls[0]!.slice(0, 200) : `${t.urls.length} URLs`;
    case 'tag':
      return `tags ${t.tags.join(', ').slice(0, 200)}`;
    case 'prefix':
      return `prefix ${t.prefix.slice(0, 200)}`;
    case 'all':
      return 'everything';
    default: {
      const never: never = t;
      return never;
    }
  }
}
