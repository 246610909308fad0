import { resolve } from 'node:path';
import { type DiskStore, type DiskStoreOptions, createDiskStore } from './disk-store.js';
import type { CacheStore, EntryDraft, EntryMeta, MaybePromise, StoredObject, StoreStats, StoreWriter, VariantIndex } from './store.js';

export interface TieredStore extends CacheStore {
  readonly disk: DiskStore;
  close(): Promise<void>;
}

/** The disk tier's folder for a POP: `{pop}` in the configured path becomes its name (`default` without one). */
export function diskFolder(template: string, pop: string | undefined): string {
  return resolve(template.replaceAll('{pop}', pop ?? 'default'));
}

function isPromise<T>(v: MaybePromise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}

/**
 * Memory in front of disk. Every object is written to both tiers that take it
 * (the disk holds everything, memory the hot part of it); objects too large for
 * memory live on disk only and stream from there. A memory hit stays
 * synchronous and only tells the disk's eviction order about the use; a disk
 * hit small enough for memory is copied up. An object the disk evicts or finds
 * corrupt leaves memory too, so the pair behaves as one store bounded by the
 * disk's size. When the disk takes no writes (full, read-only), memory alone
 * goes on serving.
 */
export function createTieredStore(memory: CacheStore, diskOptions: Omit<DiskStoreOptions, 'onDrop'>): TieredStore {
  const disk = createDiskStore({ ...diskOptions, onDrop: (key) => void memory.delete(key) });

  function promote(obj: StoredObject): StoredObject {
    if (!obj.body) return obj;
    const w = memory.open(obj.meta, obj.body.length);
    if (!w) return obj;
    w.write(obj.body);
    const m = w.commit();
    return isPromise(m) ? obj : (m ?? obj);
  }

  return {
    disk,
    variants(primaryKey: string): MaybePromise<VariantIndex | undefined> {
      const m = memory.variants(primaryKey);
      if (isPromise(m)) return m.then((v) => v ?? disk.variants(primaryKey));
      return m ?? disk.variants(primaryKey);
    },
    get(key: string): MaybePromise<StoredObject | undefined> {
      const m = memory.get(key);
      if (!isPromise(m) && m !== undefined) {
        disk.touch(key);
        return m;
      }
      const fromDisk = (): MaybePromise<StoredObject | undefined> => {
        const d = disk.get(key);
        if (isPromise(d)) return d.then((o) => (o ? promote(o) : undefined));
        return d === undefined ? undefined : promote(d);
      };
      if (isPromise(m)) return m.then((o) => o ?? fromDisk());
      return fromDisk();
    },
    open(draft: EntryDraft, expectedSize: number | undefined): StoreWriter | undefined {
      const m = memory.open(draft, expectedSize);
      const d = disk.open(draft, expectedSize);
      if (!m || !d) return m ?? d;
      return {
        write(chunk: Buffer): void {
          m.write(chunk);
          d.write(chunk);
        },
        growing: d.growing,
        drained: () => d.drained?.(),
        async commit(): Promise<StoredObject | undefined> {
          // Memory first: the object is served from there while the disk copy is renamed into place.
          const mo = await m.commit();
          const dobj = await d.commit();
          return mo ?? dobj;
        },
        abort(): void {
          m.abort();
          d.abort();
        },
      };
    },
    async update(meta: EntryMeta): Promise<StoredObject | undefined> {
      const m = await memory.update(meta);
      const d = await disk.update(meta);
      return m ?? d;
    },
    async delete(key: string): Promise<boolean> {
      const m = await memory.delete(key);
      const d = await disk.delete(key);
      return m || d;
    },
    async deleteUrl(primaryKey: string): Promise<number> {
      const keys = new Set([...((await memory.variants(primaryKey))?.keys ?? []), ...((await disk.variants(primaryKey))?.keys ?? [])]);
      await memory.deleteUrl(primaryKey);
      await disk.deleteUrl(primaryKey);
      return keys.size;
    },
    async metas(): Promise<EntryMeta[]> {
      const byKey = new Map<string, EntryMeta>();
      for (const m of await disk.metas()) byKey.set(m.key, m);
      for (const m of await memory.metas()) byKey.set(m.key, m);
      return [...byKey.values()];
    },
    stats(): StoreStats {
      return { ...memory.stats(), disk: disk.diskStats() };
    },
    close: () => disk.close(),
  };
}
