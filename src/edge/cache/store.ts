import type { Readable } from 'node:stream';
import type { PumpTarget } from './file-pump.js';
import type { CachePolicy } from './freshness.js';
import type { GrowingBody } from './growing-file.js';

/** A value now, or later: the memory tier answers at once, the disk tier later. */
export type MaybePromise<T> = T | Promise<T>;

/** Everything about a stored response except its body. Plain data: a disk tier writes it as JSON. */
export interface EntryMeta {
  /** Primary key (scheme, host, path, query) + "\n" + secondary key (Vary). */
  readonly key: string;
  readonly primaryKey: string;
  /** Lower-case request header names the response varies on (its `Vary`). */
  readonly vary: readonly string[];
  readonly status: number;
  /** Response fields as stored: lower-case names, hop-by-hop and CDN-targeted fields removed. */
  readonly headers: readonly (readonly [string, string])[];
  readonly policy: CachePolicy;
  readonly etag: string | undefined;
  readonly lastModified: string | undefined;
  readonly bodySize: number;
}

/** The metadata known when the head arrives; the size is known at commit. */
export type EntryDraft = Omit<EntryMeta, 'bodySize'>;

export interface StoredObject {
  readonly meta: EntryMeta;
  /** The whole body when the tier holds it in memory (the fast path); a streaming tier leaves it out. */
  readonly body: Buffer | undefined;
  /** The body as a stream, for any tier; `start`/`end` (inclusive) select a byte range of it. */
  stream(start?: number, end?: number): Readable;
  /**
   * Present when the body is not in memory and `stream()` opens a file only once it starts,
   * after the response head may have gone out. Opens it now instead (checking it is still the
   * file that was looked up), before anything is sent: an open file stays readable when a
   * purge or eviction unlinks it. Undefined when the object has left the tier meanwhile
   * (gone, or changed on disk): the caller serves a miss.
   */
  openBody?(): Promise<OpenedBody | undefined>;
  /**
   * A slot for data derived from `meta` by the server (the serialized response head),
   * kept as long as the object; a tier that reloads an object starts it empty.
   */
  derived: unknown;
  /** Made for this one read (a disk tier's copy): anything keyed by the object itself would never be found again. */
  readonly transient?: boolean;
}

/** A body opened for one response: it can be read to its end whatever happens to the object meanwhile. */
export interface OpenedBody {
  /** Bytes `start..end` (inclusive) of the body. */
  stream(start?: number, end?: number): Readable;
  /** The whole body to an HTTP/1.1 response, ended after it, through reused buffers rather than a stream. */
  sendTo(target: PumpTarget): void;
  /** The opener has made every stream it needs: the file closes once those have ended. Called once. */
  release(): void;
}

/** Variants stored for one URL: purge by URL and Vary lookup both go through it. */
export interface VariantIndex {
  /** The Vary names of the newest stored response for this URL. */
  readonly vary: readonly string[];
  readonly keys: ReadonlySet<string>;
}

export interface StoreWriter {
  /** Bytes are appended in order; a tier may copy or keep the buffers. */
  write(chunk: Buffer): void;
  /** A tier that writes to a file: the body as written so far, readable before the commit. */
  readonly growing?: GrowingBody;
  /** Resolves once the tier has caught up with what it was given (a disk slower than the origin); undefined when it has. */
  drained?(): Promise<void> | undefined;
  /** Makes the object visible; before this no reader can see a partial object. */
  commit(): MaybePromise<StoredObject | undefined>;
  /** Drops whatever was written (origin failed, object too large). */
  abort(): void;
}

export interface StoreStats {
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
  /** The disk tier under this store, when there is one. */
  readonly disk?: DiskTierStats;
}

/** Whether the disk tier takes writes: a full or read-only disk is reported here, and the edge serves on. */
export type DiskState = 'ok' | 'read-only' | 'full' | 'error';

export interface DiskTierStats {
  readonly state: DiskState;
  /** The error that put the tier in its state (code and message), when not `ok`. */
  readonly error: string | undefined;
  readonly path: string;
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
  /** Objects found corrupt (on read or at start) and dropped since start. */
  readonly corruptDropped: number;
}

/** One cache tier. Memory and (later) disk implement it; one conformance suite tests both. */
export interface CacheStore {
  variants(primaryKey: string): MaybePromise<VariantIndex | undefined>;
  get(key: string): MaybePromise<StoredObject | undefined>;
  /** `undefined` when the tier will not take an object of this (expected) size. */
  open(draft: EntryDraft, expectedSize: number | undefined): StoreWriter | undefined;
  /** Replaces the metadata of a stored object (a 304 freshened it, RFC 9111 §4.3.4). */
  update(meta: EntryMeta): MaybePromise<StoredObject | undefined>;
  delete(key: string): MaybePromise<boolean>;
  /** Deletes every variant of a URL; returns how many went. */
  deleteUrl(primaryKey: string): MaybePromise<number>;
  /** Every stored object's metadata, for purges by prefix, tag or all; a snapshot, safe to delete while walking. */
  metas(): MaybePromise<readonly EntryMeta[]>;
  stats(): StoreStats;
}
