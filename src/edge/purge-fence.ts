import type { PurgeTarget } from '../cluster/purge.js';
import type { Collapser, Fill } from './cache/collapse.js';
import { purgeMatches } from './cache/purge.js';
import type { EntryMeta } from './cache/store.js';
import type { FillHead } from './fill.js';

/** Recent purges a fill is checked against; a fill older than all of them counts as purged. */
const KEPT = 1_024;

/**
 * Purges against fills under way. A fill that began before a purge may be
 * fetching what the purge takes away, and the store does not hold it yet, so
 * deleting from the store misses it: once the purge is recorded here nobody
 * new joins such a fill, and it is not stored when it ends.
 */
export class PurgeFence {
  private seq = 0;
  private readonly recent: { readonly seq: number; readonly target: PurgeTarget }[] = [];

  constructor(private readonly collapser: Collapser<FillHead>) {}

  /** Where a fill starts: it compares this with the purges recorded by the time it commits. */
  get position(): number {
    return this.seq;
  }

  /** Called before the purge is applied to the store, so no fill can commit in between unseen. */
  record(target: PurgeTarget): void {
    this.seq++;
    this.recent.push({ seq: this.seq, target });
    if (this.recent.length > KEPT) this.recent.shift();
    this.collapser.forget((fill) => mayHold(fill, target));
  }

  /** Whether a purge recorded after `since` takes an object with these fields. */
  purgedSince(since: number, meta: Pick<EntryMeta, 'primaryKey' | 'headers'>): boolean {
    if (since === this.seq) return false;
    if (this.recent.length === 0 || this.recent[0]!.seq > since + 1) return true;
    return this.recent.some((p) => p.seq > since && purgeMatches(meta, p.target));
  }
}

/** A fill whose response head has not come yet may hold any tag: it counts as matching. */
function mayHold(fill: Fill<FillHead>, target: PurgeTarget): boolean {
  if (target.kind !== 'tag') return purgeMatches({ primaryKey: fill.primary, headers: [] }, target);
  const head = fill.settled;
  return head?.kind !== 'store' || purgeMatches({ primaryKey: fill.primary, headers: head.headers }, target);
}
