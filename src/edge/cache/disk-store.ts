import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type DiskEntry, SlruIndex, entryMeta, varyOf } from './disk-index.js';
import { encodeHeader, metaJson, objectName, parseHeader, sealHeader } from './disk-format.js';
import { clearTemp, scanObjects } from './disk-scan.js';
import { GrowingFile } from './growing-file.js';
import { DiskObjectChanged, FileRangeStream, type OpenObjectFile, fileStamp, openObjectFile, readRangeSync } from './disk-stream.js';
import type { CacheStore, DiskState, DiskTierStats, EntryDraft, EntryMeta, StoredObject, StoreWriter, VariantIndex } from './store.js';

/**
 * A checked body up to this size, read within the last SYNC_READ_RECENT_MS (so its pages are
 * most likely cached), is read synchronously: one read(2) on the event loop costs less than the
 * thread-pool round trips of an async read, and the HIT can then be answered on the raw fast path.
 */
const SYNC_READ_MAX = 256 * 1024;
const SYNC_READ_RECENT_MS = 10_000;

/** Recently read entries whose parsed metadata is kept (see parsedEntry). */
const PARSED_MAX = 1024;

interface ParsedEntry {
  readonly json: string;
  readonly meta: EntryMeta;
  derived: unknown;
  /** When it was last put at the young end of `parsed`. */
  used: number;
}

/** An object read from the disk tier; its `derived` slot is shared with the parsed entry it came from, so the head is kept across reads. */
class DiskObject implements StoredObject {
  constructor(
    readonly meta: EntryMeta,
    readonly body: Buffer | undefined,
    private readonly slot: { derived: unknown },
    readonly stream: StoredObject['stream'],
    readonly openBody?: StoredObject['openBody'],
  ) {}

  get transient(): boolean {
    return true;
  }

  get derived(): unknown {
    return this.slot.derived;
  }

  set derived(value: unknown) {
    this.slot.derived = value;
  }
}

/** The parts of a logger the disk tier uses (pino's Logger fits). */
export interface DiskLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DiskStoreOptions {
  /** Folder of this store (one per edge process): `objects/xx/<sha256 of key>` and `tmp/`. */
  readonly dir: string;
  readonly maxBytes: number;
  readonly maxObjectBytes: number;
  /** Bodies up to this size are read whole by `get` (and checked); larger ones are streamed. Default 1 MiB. */
  readonly readWholeMax?: number;
  readonly log?: DiskLog;
  readonly now?: () => number;
  /** After a write failed (read-only, full), how long to refuse writes before trying again. Default 30 s. */
  readonly retryMs?: number;
  /** Called for every key the tier drops on its own (evicted, found corrupt), so a tier above can drop it too. */
  readonly onDrop?: (key: string) => void;
}

export interface RebuildReport {
  readonly entries: number;
  readonly bytes: number;
  /** Invalid object files deleted. */
  readonly dropped: number;
  /** Half-written temp files deleted. */
  readonly tempRemoved: number;
  readonly ms: number;
}

export interface DiskStore extends CacheStore {
  /** Settles when the index has been rebuilt from the files; never rejects (a broken disk only takes no writes). */
  readonly ready: Promise<RebuildReport>;
  /** A use of `key` served by a tier above: keeps the eviction order true to use. */
  touch(key: string): void;
  diskStats(): DiskTierStats;
  /** Waits for every write, rename and delete under way. */
  close(): Promise<void>;
}

/** Bytes a writer may have waiting for the disk; past it the origin is faster than the disk and the object is not stored. */
const MAX_QUEUED = 32 * 1024 * 1024;
/** Past this many bytes not yet written, a writer asks its caller to wait (`drained`): a fill then reads the origin at the disk's pace. */
const WRITE_HIGH_WATER = 8 * 1024 * 1024;
const SILENT: DiskLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
const noop = (): void => undefined;

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? 'EUNKNOWN';
}

function stateOf(e: unknown): DiskState {
  const code = errCode(e);
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return 'read-only';
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'full';
  return 'error';
}

export function createDiskStore(opts: DiskStoreOptions): DiskStore {
  const { dir, maxBytes, maxObjectBytes } = opts;
  const readWholeMax = opts.readWholeMax ?? 1 << 20;
  const log = opts.log ?? SILENT;
  const now = opts.now ?? Date.now;
  const retryMs = opts.retryMs ?? 30_000;
  const onDrop = opts.onDrop ?? noop;
  const objectsDir = join(dir, 'objects');
  const tmpDir = join(dir, 'tmp');
  const index = new SlruIndex(maxBytes);
  let state: DiskState = 'ok';
  let stateError: string | undefined;
  let retryAt = 0;
  let corruptDropped = 0;
  /** The last operation queued on each path: renames, rewrites and unlinks of one file happen in order. */
  const pathOps = new Map<string, Promise<void>>();
  const inflight = new Set<Promise<unknown>>();
  /**
   * Writes not yet in the index, by URL: a purge arriving while a body is still
   * being written cancels the write, so the purged object never lands after it.
   */
  const pendingWrites = new Map<string, Set<PendingWrite>>();

  function cancelPending(primaryKey: string, key?: string): number {
    let n = 0;
    for (const w of pendingWrites.get(primaryKey) ?? []) {
      if (key === undefined || w.key === key) {
        w.cancelled = true;
        n++;
      }
    }
    return n;
  }

  function track<T>(p: Promise<T>): Promise<T> {
    inflight.add(p);
    const done = (): void => void inflight.delete(p);
    p.then(done, done);
    return p;
  }

  function serial<T>(path: string, op: () => Promise<T>): Promise<T> {
    const prev = pathOps.get(path);
    const next = prev ? prev.then(op) : op();
    const settled = next.then(noop, noop);
    pathOps.set(path, settled);
    void settled.then(() => {
      if (pathOps.get(path) === settled) pathOps.delete(path);
    });
    return track(next);
  }

  function failed(e: unknown, during: string): void {
    const next = stateOf(e);
    const message = `${errCode(e)}: ${(e as Error)?.message ?? String(e)}`;
    retryAt = now() + retryMs;
    if (next === 'full') {
      // The configured size is more than the disk has: give some room back.
      dropAll(index.evictTo(index.bytes * 0.95), true);
    }
    if (state !== next || stateError !== message) log.error({ dir, during, err: message, state: next }, 'disk tier cannot write; serving from memory and origin');
    state = next;
    stateError = message;
  }

  function succeeded(): void {
    if (state === 'ok') return;
    log.info({ dir, was: state }, 'disk tier writable again');
    state = 'ok';
    stateError = undefined;
  }

  function mayWrite(): boolean {
    return state === 'ok' || now() >= retryAt;
  }

  function removeFile(file: string): Promise<void> {
    return serial(file, () => unlink(file)).catch((e: unknown) => {
      if (errCode(e) !== 'ENOENT') failed(e, 'unlink');
    });
  }

  function dropAll(entries: DiskEntry[], notify: boolean): void {
    for (const e of entries) {
      void removeFile(e.file);
      if (notify) onDrop(e.key);
    }
  }

  function dropCorrupt(e: DiskEntry, why: string): void {
    if (index.get(e.key) !== e) return;
    corruptDropped++;
    log.warn({ file: e.file, key: e.key, why }, 'corrupt disk object dropped; it will be fetched again');
    index.remove(e.key);
    dropAll([e], true);
  }

  const ready = track(
    (async (): Promise<RebuildReport> => {
      const started = performance.now();
      try {
        await mkdir(tmpDir, { recursive: true });
        await Promise.all(Array.from({ length: 256 }, (_, i) => mkdir(join(objectsDir, i.toString(16).padStart(2, '0')), { recursive: true })));
      } catch (e) {
        failed(e, 'mkdir');
      }
      const tempRemoved = await clearTemp(tmpDir);
      if (state === 'ok') await probeWrite();
      const scan = await scanObjects(objectsDir, (file, reason) => log.warn({ file, reason }, 'invalid disk object dropped at start'));
      corruptDropped += scan.dropped;
      for (const e of scan.entries) dropAll(index.add(e), false);
      const report = { entries: index.size, bytes: index.bytes, dropped: scan.dropped, tempRemoved, ms: Math.round(performance.now() - started) };
      log.info({ dir, ...report, state }, 'disk tier index rebuilt');
      return report;
    })().catch((e: unknown) => {
      failed(e, 'start');
      return { entries: index.size, bytes: index.bytes, dropped: 0, tempRemoved: 0, ms: 0 };
    }),
  );

  /** A read-only or full disk is found at start, not at the first fill. */
  async function probeWrite(): Promise<void> {
    const probe = join(tmpDir, `probe-${randomBytes(6).toString('hex')}`);
    try {
      const fh = await open(probe, 'wx');
      try {
        await fh.write(Buffer.alloc(1));
      } finally {
        await fh.close();
      }
      await unlink(probe);
    } catch (e) {
      failed(e, 'probe');
    }
  }

  /**
   * The parsed metadata of recently read entries, and the serialized head the server
   * derives from it: parsing the JSON again was a tenth of a small disk HIT. Checked
   * against the entry's JSON text, which a revalidation replaces.
   */
  const parsed = new Map<DiskEntry, ParsedEntry>();
  let parsedUses = 0;
  function parsedEntry(e: DiskEntry): ParsedEntry {
    let p = parsed.get(e);
    if (p !== undefined && p.json === e.metaJson) {
      // Moved to the young end only from the older half: a delete and set on every HIT made
      // the map rehash, for an order that changes nothing while the entry is young.
      if (parsedUses - p.used < PARSED_MAX / 2) return p;
      parsed.delete(e);
    } else {
      p = { json: e.metaJson, meta: entryMeta(e), derived: undefined, used: 0 };
      if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value!);
    }
    p.used = ++parsedUses;
    parsed.set(e, p);
    return p;
  }

  function objectFromFile(e: DiskEntry, meta: EntryMeta, stamp: string, slot: { derived: unknown } = { derived: undefined }): StoredObject {
    const changed = (): void => dropCorrupt(e, 'changed on disk');
    const openFile = (done: (err: Error | null, opened?: OpenObjectFile) => void): void => openObjectFile(e.file, stamp, e.headerCap, meta.bodySize, changed, done);
    const openBody = (): Promise<OpenObjectFile | undefined> =>
      new Promise((resolve) =>
        openFile((err, opened) => {
          if (err && !(err instanceof DiskObjectChanged)) {
            // ENOENT: purged or evicted since the lookup (the index has let it go already), or removed by hand
            if (errCode(err) !== 'ENOENT') log.warn({ file: e.file, err: err.message }, 'disk object unreadable');
            else if (index.get(e.key) === e) index.remove(e.key);
          }
          resolve(opened);
        }),
      );
    return new DiskObject(meta, undefined, slot, (start = 0, end = meta.bodySize - 1) => new FileRangeStream(openFile, e.headerCap + start, e.headerCap + end), openBody);
  }

  function objectFromBuffer(meta: EntryMeta, body: Buffer, slot: { derived: unknown } = { derived: undefined }): StoredObject {
    return new DiskObject(meta, body, slot, (start = 0, end = body.length - 1) => Readable.from([body.subarray(start, end + 1)], { objectMode: false }));
  }

  /** An entry read again soon, answered synchronously (see SYNC_READ_MAX); undefined: take the async path. */
  function readRecent(e: DiskEntry): StoredObject | undefined {
    if (e.verified === '' || e.bodySize > SYNC_READ_MAX || e.lastRead === undefined || pathOps.has(e.file)) return undefined;
    const t = now();
    if (t - e.lastRead >= SYNC_READ_RECENT_MS) return undefined;
    const body = readRangeSync(e.file, e.verified, e.headerCap, e.bodySize);
    if (body === undefined) return undefined;
    e.lastRead = t;
    const p = parsedEntry(e);
    return objectFromBuffer(p.meta, body, p);
  }

  async function read(e: DiskEntry): Promise<StoredObject | undefined> {
    await pathOps.get(e.file);
    e.lastRead = now();
    // A body checked since start is streamed from its file without reading the header again: the
    // index holds the metadata, and the stream checks the file's stamp when it opens it.
    if (e.verified !== '' && e.bodySize > readWholeMax) {
      const p = parsedEntry(e);
      return objectFromFile(e, p.meta, e.verified, p);
    }
    let fh: FileHandle;
    try {
      fh = await open(e.file, 'r');
    } catch {
      if (index.get(e.key) === e) index.remove(e.key);
      return undefined;
    }
    try {
      const st = await fh.stat();
      const whole = st.size <= e.headerCap + readWholeMax;
      const buf = Buffer.allocUnsafe(whole ? st.size : e.headerCap);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const r = parseHeader(buf.subarray(0, bytesRead));
      if (!r.ok) return void dropCorrupt(e, `header ${r.reason}`);
      const h = r.header;
      if (h.meta.key !== e.key || st.size !== h.headerCap + h.bodySize) return void dropCorrupt(e, 'length');
      const meta: EntryMeta = h.meta;
      const stamp = fileStamp(st);
      if (whole) {
        const body = buf.subarray(h.headerCap, bytesRead);
        if (body.length !== h.bodySize || !createHash('sha256').update(body).digest().equals(h.bodyHash)) return void dropCorrupt(e, 'body hash');
        e.verified = stamp;
        return objectFromBuffer(meta, body);
      }
      if (e.verified !== stamp) {
        // First read of a large body since start (or since it changed): check it whole once.
        if (!(await bodyMatches(fh, h.headerCap, h.bodySize, h.bodyHash))) return void dropCorrupt(e, 'body hash');
        e.verified = stamp;
      }
      return objectFromFile(e, meta, stamp);
    } catch (err) {
      log.warn({ file: e.file, err: (err as Error).message }, 'disk object unreadable');
      return undefined;
    } finally {
      await fh.close().catch(noop);
    }
  }

  function openWriter(draft: EntryDraft): StoreWriter {
    const name = objectName(draft.key);
    const final = join(objectsDir, name.slice(0, 2), name);
    const temp = join(tmpDir, `${name}.${randomBytes(4).toString('hex')}.tmp`);
    const header = encodeHeader(draft)!;
    const hash = createHash('sha256');
    const pending: PendingWrite = { key: draft.key, cancelled: false };
    const ofUrl = pendingWrites.get(draft.primaryKey) ?? new Set<PendingWrite>();
    ofUrl.add(pending);
    pendingWrites.set(draft.primaryKey, ofUrl);
    const settle = (): void => {
      ofUrl.delete(pending);
      if (ofUrl.size === 0 && pendingWrites.get(draft.primaryKey) === ofUrl) pendingWrites.delete(draft.primaryKey);
    };
    let size = 0;
    let queue: Buffer[] = [];
    let queued = 0;
    /** File offset of the next body bytes (explicit: positioned writes do not move the file position). */
    let written = header.length;
    let scheduled = false;
    let done = false;
    let giveUp: string | undefined;
    /** Bytes taken by write() and not yet in the file. */
    let unwritten = 0;
    let fh: FileHandle | undefined;
    // Opened for reading too: the clients of a large fill read the body from here as it is written.
    const growing = new GrowingFile(header.length);
    let chain: Promise<void> = track(
      open(temp, 'wx+').then(async (h) => {
        fh = h;
        growing.opened(h);
        await h.write(header, 0, header.length, 0);
      }),
    );
    chain.catch((e: unknown) => growing.fail(e as Error));

    const flush = async (): Promise<void> => {
      scheduled = false;
      if (giveUp !== undefined || queue.length === 0) return;
      const bufs = queue;
      const at = written;
      const n = queued;
      written += queued;
      queue = [];
      queued = 0;
      try {
        await fh!.writev(bufs, at);
      } catch (e) {
        growing.fail(e as Error);
        throw e;
      }
      unwritten -= n;
      growing.advance(n);
    };
    const cleanup = (): Promise<void> =>
      track(
        chain
          .catch(noop)
          .then(() => growing.writerClosed())
          .then(() => unlink(temp))
          .catch(noop),
      );

    return {
      write(chunk: Buffer): void {
        if (done || giveUp !== undefined) return;
        size += chunk.length;
        queued += chunk.length;
        unwritten += chunk.length;
        if (size > maxObjectBytes) giveUp = 'too large';
        else if (queued > MAX_QUEUED) giveUp = 'disk slower than the origin';
        if (giveUp !== undefined) {
          queue = [];
          growing.fail(new Error(`not written to disk: ${giveUp}`));
          return;
        }
        hash.update(chunk);
        queue.push(chunk);
        if (!scheduled) {
          scheduled = true;
          chain = chain.then(flush);
          chain.catch(noop);
        }
      },
      growing,
      drained(): Promise<void> | undefined {
        // a writer that failed or gave up takes no more bytes: nothing to wait for
        if (unwritten <= WRITE_HIGH_WATER || giveUp !== undefined || growing.failure !== undefined) return undefined;
        return (async () => {
          while (unwritten > WRITE_HIGH_WATER / 2 && growing.failure === undefined && giveUp === undefined) await growing.changed();
        })();
      },
      async commit(): Promise<StoredObject | undefined> {
        if (done) return undefined;
        done = true;
        try {
          // tracked: a graceful close waits for a commit under way (its client may have every byte already)
          return await track(finish());
        } finally {
          settle();
        }
      },
      abort(): void {
        if (done) return;
        done = true;
        settle();
        void cleanup();
      },
    };

    async function finish(): Promise<StoredObject | undefined> {
      if (pending.cancelled) {
        await cleanup();
        return undefined;
      }
      if (giveUp !== undefined) {
        if (giveUp !== 'too large') log.warn({ key: draft.key, why: giveUp }, 'object not written to disk');
        await cleanup();
        return undefined;
      }
      let entry: DiskEntry;
      try {
        await (chain = chain.then(flush));
        const seal = sealHeader(header, size, hash.digest());
        await fh!.write(seal.bytes, 0, seal.bytes.length, seal.offset);
        fh = undefined;
        growing.writerClosed();
        const st = await serial(final, async () => {
          await rename(temp, final);
          return (await open(final, 'r').then(async (f) => f.stat().finally(() => f.close())));
        });
        entry = {
          key: draft.key,
          primaryKey: draft.primaryKey,
          vary: varyOf(draft.vary),
          bodySize: size,
          metaJson: metaJson(draft),
          file: final,
          size: st.size,
          headerCap: header.length,
          bodyHash: header.toString('latin1', 24, 56),
          verified: fileStamp(st),
          hot: false,
        };
      } catch (e) {
        failed(e, 'write');
        await cleanup();
        return undefined;
      }
      succeeded();
      if (pending.cancelled) {
        // purged while the file was being renamed into place
        await removeFile(final);
        return undefined;
      }
      dropAll(index.add(entry), true);
      return objectFromFile(entry, { ...draft, bodySize: size }, entry.verified);
    }
  }

  /** A 304 or a soft purge: new metadata in place when it fits the header, else a copy of the file. */
  async function rewrite(e: DiskEntry, meta: EntryMeta): Promise<StoredObject | undefined> {
    const fresh: EntryMeta = { ...meta, bodySize: e.bodySize };
    const inPlace = encodeHeader(fresh, e.headerCap);
    const header = inPlace ?? encodeHeader(fresh)!;
    sealHeader(header, e.bodySize, Buffer.from(e.bodyHash, 'latin1'));
    let target = e;
    // The stamp of the file as rewritten, for the object returned; `verified` keeps it only
    // when the body had been checked (a copy is of checked bytes).
    let stamp = '';
    await serial(e.file, async () => {
      if (inPlace) {
        const fh = await open(e.file, 'r+');
        try {
          await fh.write(header, 0, header.length, 0);
          stamp = fileStamp(await fh.stat());
          e.verified = e.verified ? stamp : '';
        } finally {
          await fh.close();
        }
        e.metaJson = metaJson(fresh);
        return;
      }
      const temp = join(tmpDir, `${objectName(meta.key)}.${randomBytes(4).toString('hex')}.tmp`);
      const src = await open(e.file, 'r');
      const dst = await open(temp, 'wx');
      try {
        await dst.write(header, 0, header.length, 0);
        const buf = Buffer.allocUnsafe(1 << 20);
        for (let pos = 0; pos < e.bodySize; ) {
          const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, e.bodySize - pos), e.headerCap + pos);
          if (bytesRead === 0) throw new Error('object file ended early');
          await dst.write(buf, 0, bytesRead, header.length + pos);
          pos += bytesRead;
        }
      } catch (err) {
        await dst.close().catch(noop);
        await unlink(temp).catch(noop);
        throw err;
      } finally {
        await src.close().catch(noop);
      }
      const st = await dst.stat();
      await dst.close();
      await rename(temp, e.file);
      stamp = fileStamp(st);
      target = { ...e, metaJson: metaJson(fresh), size: st.size, headerCap: header.length, verified: e.verified ? stamp : '', hot: false };
    });
    if (target !== e && index.get(meta.key) === e) dropAll(index.add(target), true);
    return objectFromFile(target, fresh, stamp);
  }

  return {
    ready,
    variants(primaryKey: string): VariantIndex | undefined {
      return index.variants(primaryKey);
    },
    get(key: string): StoredObject | undefined | Promise<StoredObject | undefined> {
      const e = index.get(key);
      if (!e) return undefined;
      const recent = readRecent(e);
      if (recent !== undefined) {
        index.touch(key);
        return recent;
      }
      return read(e).then((o) => {
        if (o && index.get(key) === e) index.touch(key);
        return o;
      });
    },
    touch(key: string): void {
      index.touch(key);
    },
    open(draft: EntryDraft, expectedSize: number | undefined): StoreWriter | undefined {
      if (expectedSize !== undefined && expectedSize > maxObjectBytes) return undefined;
      if (!mayWrite()) return undefined;
      return openWriter(draft);
    },
    async update(meta: EntryMeta): Promise<StoredObject | undefined> {
      const e = index.get(meta.key);
      if (!e) return undefined;
      try {
        return await rewrite(e, meta);
      } catch (err) {
        // Never serve the old metadata again (a soft purge must hold): forget the object.
        if (errCode(err) !== 'ENOENT') failed(err, 'update');
        if (index.get(meta.key) === e) index.remove(meta.key);
        void removeFile(e.file);
        return undefined;
      }
    },
    async delete(key: string): Promise<boolean> {
      const cancelled = cancelPending(primaryOf(key), key);
      const e = index.remove(key);
      if (!e) return cancelled > 0;
      await removeFile(e.file);
      return true;
    },
    async deleteUrl(primaryKey: string): Promise<number> {
      const cancelled = cancelPending(primaryKey);
      const v = index.variants(primaryKey);
      if (!v) return cancelled;
      const gone = [...v.keys].map((k) => index.remove(k)!);
      await Promise.all(gone.map((e) => removeFile(e.file)));
      return gone.length;
    },
    metas(): EntryMeta[] {
      return Array.from(index.entries(), entryMeta);
    },
    stats() {
      return { entries: index.size, bytes: index.bytes, maxBytes };
    },
    diskStats(): DiskTierStats {
      return { state, error: stateError, path: dir, entries: index.size, bytes: index.bytes, maxBytes, corruptDropped };
    },
    async close(): Promise<void> {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}

async function bodyMatches(fh: FileHandle, offset: number, size: number, expected: Buffer): Promise<boolean> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(Math.min(size, 1 << 20));
  for (let pos = 0; pos < size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), offset + pos);
    if (bytesRead === 0) return false;
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return hash.digest().equals(expected);
}

interface PendingWrite {
  readonly key: string;
  cancelled: boolean;
}

/** The URL part of a cache key (the secondary key, if any, follows a newline). */
function primaryOf(key: string): string {
  const nl = key.indexOf('\n');
  return nl < 0 ? key : key.slice(0, nl);
}
