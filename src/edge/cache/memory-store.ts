import { Readable } from 'node:stream';
import type { CacheStore, EntryDraft, EntryMeta, StoredObject, StoreStats, StoreWriter, VariantIndex } from './store.js';

interface MemoryObject extends StoredObject {
  meta: EntryMeta;
  readonly body: Buffer;
  /** What it costs besides the body, fixed when it is stored (a freshened copy is a new object). */
  readonly overhead: number;
}

/**
 * What an entry costs besides its body, counted against the budget so that small objects
 * cannot overrun it: its objects and map slots, its keys and fields as V8 strings and arrays
 * (and the serialized head kept for HITs), and the read buffer its body is a view of. Measured
 * with 2 KiB objects of eight fields: 2.0 KiB of heap and 0.6 KiB of buffer each beside the
 * body; 512 bytes had been counted, so a full tier took twice its budget.
 */
const ENTRY_BASE = 2048;
const PER_CHAR = 3;

function entryOverhead(meta: Pick<EntryMeta, 'key' | 'primaryKey' | 'headers'>): number {
  let chars = meta.key.length + meta.primaryKey.length;
  for (const [name, value] of meta.headers) chars += name.length + value.length;
  return ENTRY_BASE + PER_CHAR * chars;
}

function makeObject(meta: EntryMeta, body: Buffer): MemoryObject {
  return {
    meta,
    body,
    overhead: entryOverhead(meta),
    derived: undefined,
    stream: (start = 0, end = body.length - 1) => Readable.from([start === 0 && end === body.length - 1 ? body : body.subarray(start, end + 1)], { objectMode: false }),
  };
}

/** The memory tier: bounded in bytes, least recently used evicted first. */
export function createMemoryStore(maxBytes: number, maxObjectBytes = maxBytes): CacheStore {
  // Map keeps insertion order: re-inserting on use makes the first key the least recently used.
  const objects = new Map<string, MemoryObject>();
  const index = new Map<string, { vary: readonly string[]; keys: Set<string> }>();
  let bytes = 0;

  const cost = (o: MemoryObject): number => o.body.length + o.overhead;

  function remove(key: string): boolean {
    const o = objects.get(key);
    if (!o) return false;
    objects.delete(key);
    bytes -= cost(o);
    const v = index.get(o.meta.primaryKey);
    if (v) {
      v.keys.delete(key);
      if (v.keys.size === 0) index.delete(o.meta.primaryKey);
    }
    return true;
  }

  function insert(o: MemoryObject): void {
    remove(o.meta.key);
    const primary = o.meta.primaryKey;
    const v = index.get(primary);
    if (v && !sameNames(v.vary, o.meta.vary)) {
      // The URL now varies on other fields: variants keyed the old way can never be selected again.
      for (const k of [...v.keys]) remove(k);
    }
    objects.set(o.meta.key, o);
    bytes += cost(o);
    const slot = index.get(primary);
    if (slot) slot.keys.add(o.meta.key);
    else index.set(primary, { vary: o.meta.vary, keys: new Set([o.meta.key]) });
    for (const k of objects.keys()) {
      if (bytes <= maxBytes) break;
      remove(k);
    }
  }

  return {
    variants(primaryKey: string): VariantIndex | undefined {
      return index.get(primaryKey);
    },
    get(key: string): StoredObject | undefined {
      const o = objects.get(key);
      if (o === undefined) return undefined;
      objects.delete(key);
      objects.set(key, o);
      return o;
    },
    open(draft: EntryDraft, expectedSize: number | undefined): StoreWriter | undefined {
      // Too large is told before the entry's cost is counted: every disk HIT above the limit asks.
      if (expectedSize !== undefined && expectedSize > maxObjectBytes) return undefined;
      const limit = Math.min(maxObjectBytes, maxBytes - entryOverhead(draft));
      if (expectedSize !== undefined && expectedSize > limit) return undefined;
      let chunks: Buffer[] | undefined = [];
      let size = 0;
      return {
        write(chunk: Buffer): void {
          if (!chunks) return;
          size += chunk.length;
          if (size > limit) chunks = undefined;
          else chunks.push(chunk);
        },
        commit(): StoredObject | undefined {
          if (!chunks) return undefined;
          const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
          chunks = undefined;
          const o = makeObject({ ...draft, bodySize: body.length }, body);
          insert(o);
          return o;
        },
        abort(): void {
          chunks = undefined;
        },
      };
    },
    update(meta: EntryMeta): StoredObject | undefined {
      const old = objects.get(meta.key);
      if (!old) return undefined;
      const o = makeObject({ ...meta, bodySize: old.body.length }, old.body);
      insert(o);
      return o;
    },
    delete: remove,
    deleteUrl(primaryKey: string): number {
      const v = index.get(primaryKey);
      if (!v) return 0;
      let n = 0;
      for (const k of [...v.keys]) if (remove(k)) n++;
      return n;
    },
    metas(): EntryMeta[] {
      return Array.from(objects.values(), (o) => o.meta);
    },
    stats(): StoreStats {
      return { entries: objects.size, bytes, maxBytes };
    },
  };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
