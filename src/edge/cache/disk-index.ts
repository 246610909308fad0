import { metaFromJson } from './disk-format.js';
import type { EntryMeta } from './store.js';

/**
 * What the disk tier keeps in memory about one object file: the keys, and the
 * metadata as its JSON text (about a third of the heap of the parsed object;
 * parsed again only when listed for a purge).
 */
export interface DiskEntry {
  readonly key: string;
  readonly primaryKey: string;
  readonly vary: readonly string[];
  readonly bodySize: number;
  metaJson: string;
  /** Absolute path of the object file. */
  readonly file: string;
  /** Bytes of the file (header + body): what counts against the budget. */
  readonly size: number;
  readonly headerCap: number;
  /** SHA-256 of the body, as a latin1 string. */
  readonly bodyHash: string;
  /** `ino:size:mtime` of the file when its body was last checked against `bodyHash` (written or read whole); '' when never. */
  verified: string;
  /** In the protected segment: used again since it came in. */
  hot: boolean;
  /** When its body was last streamed from the file (ms): a small body read again soon is read synchronously. */
  lastRead?: number;
}

/** Share of the budget the protected segment may hold; the rest is for objects on probation. */
const PROTECTED_SHARE = 0.8;

/**
 * Segmented LRU (SLRU) over the disk tier's objects. A new object starts on
 * probation; a second use moves it to the protected segment. Eviction takes
 * the least recently used object on probation first, so a burst of objects
 * asked for once (a crawler, one large download) cannot push out the objects
 * that are asked for again and again. Protected overflow moves back to
 * probation (most recent end), and gets a second chance there.
 */
export class SlruIndex {
  // Map keeps insertion order: the first key of each segment is its least recently used.
  private readonly probation = new Map<string, DiskEntry>();
  private readonly protectedSeg = new Map<string, DiskEntry>();
  private readonly urls = new Map<string, { vary: readonly string[]; keys: Set<string> }>();
  private protectedBytes = 0;
  bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.probation.size + this.protectedSeg.size;
  }

  get(key: string): DiskEntry | undefined {
    return this.probation.get(key) ?? this.protectedSeg.get(key);
  }

  variants(primaryKey: string): { readonly vary: readonly string[]; readonly keys: ReadonlySet<string> } | undefined {
    return this.urls.get(primaryKey);
  }

  /** Every entry, least valuable first. */
  *entries(): IterableIterator<DiskEntry> {
    yield* this.probation.values();
    yield* this.protectedSeg.values();
  }

  /** A use of `key`: promote it from probation, or refresh it in the protected segment. */
  touch(key: string): void {
    const p = this.probation.get(key);
    if (p) {
      this.probation.delete(key);
      p.hot = true;
      this.protectedSeg.set(key, p);
      this.protectedBytes += p.size;
      const cap = this.maxBytes * PROTECTED_SHARE;
      for (const [k, e] of this.protectedSeg) {
        if (this.protectedBytes <= cap || k === key) break;
        this.protectedSeg.delete(k);
        this.protectedBytes -= e.size;
        e.hot = false;
        this.probation.set(k, e);
      }
      return;
    }
    const h = this.protectedSeg.get(key);
    if (h) {
      this.protectedSeg.delete(key);
      this.protectedSeg.set(key, h);
    }
  }

  /**
   * Adds an entry (replacing one with the same key, whose file the new one has replaced);
   * returns the entries that had to go: evicted for room, or variants of the URL keyed by an old Vary.
   */
  add(entry: DiskEntry): DiskEntry[] {
    const gone: DiskEntry[] = [];
    const key = entry.key;
    this.remove(key);
    const primary = entry.primaryKey;
    const v = this.urls.get(primary);
    if (v && !sameNames(v.vary, entry.vary)) {
      // The URL now varies on other fields: variants keyed the old way can never be selected again.
      for (const k of [...v.keys]) gone.push(this.remove(k)!);
    }
    entry.hot = false;
    this.probation.set(key, entry);
    this.bytes += entry.size;
    const slot = this.urls.get(primary);
    if (slot) slot.keys.add(key);
    else this.urls.set(primary, { vary: entry.vary, keys: new Set([key]) });
    gone.push(...this.evictTo(this.maxBytes, key));
    return gone;
  }

  /** Evicts until at most `limit` bytes remain, never `keep`; returns what went. */
  evictTo(limit: number, keep?: string): DiskEntry[] {
    const gone: DiskEntry[] = [];
    while (this.bytes > limit) {
      const victim = firstExcept(this.probation, keep) ?? firstExcept(this.protectedSeg, keep);
      if (!victim) break;
      gone.push(this.remove(victim)!);
    }
    return gone;
  }

  remove(key: string): DiskEntry | undefined {
    const e = this.get(key);
    if (!e) return undefined;
    if (e.hot) {
      this.protectedSeg.delete(key);
      this.protectedBytes -= e.size;
    } else this.probation.delete(key);
    this.bytes -= e.size;
    const v = this.urls.get(e.primaryKey);
    if (v) {
      v.keys.delete(key);
      if (v.keys.size === 0) this.urls.delete(e.primaryKey);
    }
    return e;
  }
}

export function entryMeta(e: DiskEntry): EntryMeta {
  return metaFromJson(e.metaJson, e.bodySize);
}

const NO_NAMES: readonly string[] = Object.freeze([]);

/** The index's copy of a Vary list: the common empty one is shared. */
export function varyOf(names: readonly string[]): readonly string[] {
  return names.length === 0 ? NO_NAMES : names;
}

function firstExcept(m: Map<string, DiskEntry>, keep: string | undefined): string | undefined {
  for (const k of m.keys()) if (k !== keep) return k;
  return undefined;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
