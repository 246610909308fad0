import { type Stats, close, closeSync, fstat, fstatSync, open, openSync, read, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { type PumpTarget, pumpFile } from './file-pump.js';
import type { OpenedBody } from './store.js';

/** Bytes per read(2): large enough that a 10 MiB body takes few thread-pool round trips. */
const CHUNK = 512 * 1024;
const noop = (): void => undefined;

/** `ino:size:mtime`: a file rewritten, truncated or replaced behind the store's back no longer matches. */
export function fileStamp(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

/**
 * `length` bytes at `offset` of a file, read synchronously, when it is still the file
 * `stamp` names; undefined on any error or change (the caller takes the checked async path).
 * For small bodies read again soon, which the page cache holds: one read(2) then costs
 * less than the four thread-pool round trips of the stream (nginx reads so, too).
 */
export function readRangeSync(file: string, stamp: string, offset: number, length: number): Buffer | undefined {
  let fd = -1;
  try {
    fd = openSync(file, 'r');
    if (fileStamp(fstatSync(fd)) !== stamp) return undefined;
    const buf = Buffer.allocUnsafe(length);
    return readSync(fd, buf, 0, length, offset) === length ? buf : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** The file is no longer the one the index checked (rewritten, truncated, replaced). */
export class DiskObjectChanged extends Error {
  constructor(file: string, how: string) {
    super(`disk object ${how}: ${file}`);
  }
}

/**
 * An object file, opened and checked to be the file the index names (`stamp`). On Linux an
 * open file stays readable after a purge or eviction unlinks it, so once this exists the
 * body can be sent whole. Streams read it by position: several may share it, one after
 * another (the parts of a multipart range) or at once. The descriptor is closed when the
 * opener has released it and every stream made from it has ended.
 */
export class OpenObjectFile implements OpenedBody {
  private refs = 1;

  constructor(
    readonly fd: number,
    readonly file: string,
    /** File offset of the body (the header's capacity). */
    private readonly base: number,
    private readonly size: number,
    /** The file ended before the body did: it changed behind the store's back. */
    readonly onChanged: () => void,
  ) {}

  stream(start = 0, end = this.size - 1): Readable {
    this.refs++;
    return new FileRangeStream((done) => done(null, this), this.base + start, this.base + end);
  }

  /** The whole body to an HTTP/1.1 response through reused read buffers (file-pump.ts), then ends it. */
  sendTo(target: PumpTarget): void {
    this.refs++;
    pumpFile(this.fd, this.base, this.base + this.size - 1, target, () => this.release(), this.onChanged);
  }

  release(): void {
    if (--this.refs === 0) close(this.fd, noop);
  }
}

/**
 * Opens an object file and checks its stamp: one open(2) and one fstat(2), each a thread-pool
 * trip. Fails with the open's error (ENOENT: purged or evicted) or with DiskObjectChanged
 * (after calling `onChanged`).
 */
export function openObjectFile(
  file: string,
  stamp: string,
  base: number,
  size: number,
  onChanged: () => void,
  done: (err: Error | null, opened?: OpenObjectFile) => void,
): void {
  open(file, 'r', (err, fd) => {
    if (err) return done(err);
    fstat(fd, (e, st) => {
      if (!e && fileStamp(st) === stamp) return done(null, new OpenObjectFile(fd, file, base, size, onChanged));
      close(fd, noop);
      if (e) return done(e);
      onChanged();
      done(new DiskObjectChanged(file, 'changed on disk'));
    });
  });
}

/**
 * Bytes `first..last` (inclusive, file offsets) of an object file. `acquire` gives the
 * opened file when the stream starts: one opened before the response head was sent, or
 * opened now (then a file gone or changed since the lookup fails the stream). A file that
 * ends early fails it too, instead of sending other bytes. Callback `fs` calls, not
 * FileHandle: one thread-pool trip each, no promise per read.
 */
export class FileRangeStream extends Readable {
  private opened: OpenObjectFile | undefined;
  private pos: number;
  /** A read(2) is under way: the descriptor must outlive it. */
  private reading = false;
  private afterRead: (() => void) | undefined;

  constructor(
    private readonly acquire: (done: (err: Error | null, opened?: OpenObjectFile) => void) => void,
    first: number,
    private readonly last: number,
  ) {
    super({ highWaterMark: CHUNK });
    this.pos = first;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.acquire((err, opened) => {
      if (err) return callback(err);
      this.opened = opened;
      callback();
    });
  }

  override _read(): void {
    const want = Math.min(CHUNK, this.last - this.pos + 1);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const f = this.opened!;
    const buf = Buffer.allocUnsafe(want);
    this.reading = true;
    read(f.fd, buf, 0, want, this.pos, (err, bytesRead) => {
      this.reading = false;
      if (this.afterRead) return this.afterRead();
      if (err) return void this.destroy(err);
      if (bytesRead === 0) {
        f.onChanged();
        this.destroy(new DiskObjectChanged(f.file, 'ended early'));
        return;
      }
      this.pos += bytesRead;
      this.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const f = this.opened;
    this.opened = undefined;
    if (!f) return callback(error);
    const done = (): void => {
      f.release();
      callback(error);
    };
    if (this.reading) this.afterRead = done;
    else done();
  }
}
