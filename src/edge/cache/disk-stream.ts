import { type Stats, close, closeSync, fstat, fstatSync, open, openSync, read, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { type PumpTarget, pumpFile } from './file-pump.js';

/** Bytes per read(2): large enough that a 10 MiB body takes few thread-pool round trips. */
const CHUNK = 512 * 1024;

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

/**
 * Bytes `first..last` (inclusive, file offsets) of an object file. The file is
 * opened when the stream starts; if it is no longer the file that was checked
 * (`stamp`), or ends early, the stream fails instead of sending other bytes.
 * Callback `fs` calls, not FileHandle: one thread-pool trip each, no promise per read.
 */
export class FileRangeStream extends Readable {
  private fd = -1;
  private pos: number;

  constructor(
    private readonly file: string,
    private readonly stamp: string,
    first: number,
    private readonly last: number,
    private readonly onChanged: () => void,
  ) {
    super({ highWaterMark: CHUNK });
    this.pos = first;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.file, 'r', (err, fd) => {
      if (err) return callback(err);
      this.fd = fd;
      fstat(fd, (e, st) => {
        if (e) return callback(e);
        if (fileStamp(st) !== this.stamp) {
          this.onChanged();
          return callback(new Error(`disk object changed on disk: ${this.file}`));
        }
        callback();
      });
    });
  }

  override _read(): void {
    const want = Math.min(CHUNK, this.last - this.pos + 1);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(want);
    read(this.fd, buf, 0, want, this.pos, (err, bytesRead) => {
      if (err) return void this.destroy(err);
      if (bytesRead === 0) {
        this.onChanged();
        this.destroy(new Error(`disk object ended early: ${this.file}`));
        return;
      }
      this.pos += bytesRead;
      this.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = -1;
    if (fd < 0) return callback(error);
    close(fd, () => callback(error));
  }
}

/**
 * Bytes `first..last` of an object file sent to an HTTP/1.1 response through reused
 * buffers (file-pump.ts), with the same checks as FileRangeStream: a file that is no
 * longer the one `stamp` names, or ends early, ends the response short, never with other bytes.
 */
export function sendFileRange(file: string, stamp: string, first: number, last: number, target: PumpTarget, onChanged: () => void): void {
  open(file, 'r', (err, fd) => {
    if (err) return void target.destroy(err);
    const closeFd = () => close(fd, () => undefined);
    fstat(fd, (e, st) => {
      if (e || fileStamp(st) !== stamp) {
        if (!e) onChanged();
        closeFd();
        target.destroy(e ?? new Error(`disk object changed on disk: ${file}`));
        return;
      }
      pumpFile(fd, first, last, target, closeFd, onChanged);
    });
  });
}
