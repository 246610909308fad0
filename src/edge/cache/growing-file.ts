import type { FileHandle } from 'node:fs/promises';

/**
 * The body of an object while a tier writes it, readable as it grows: the clients of a
 * large fill read it from here at their own pace instead of from buffers kept in memory
 * (Varnish's streaming from storage, nginx's reads of its temp file).
 */
export interface GrowingBody {
  /** Body bytes written so far, readable now. */
  readonly available: number;
  /** Set when no more bytes will come though more were due: the write failed or was given up. */
  readonly failure: Error | undefined;
  /** Resolves once `available` grows or `failure` is set. */
  changed(): Promise<void>;
  /** Reads body bytes from `position` (below `available`) into `buf`; resolves with how many were read. */
  read(buf: Buffer, position: number): Promise<number>;
  /** Holds the file open for a reader; false when it is closed already. Every true is matched by one `release`. */
  retain(): boolean;
  release(): void;
}

/**
 * A file being written by one writer (positioned writes, the body from `bodyStart`) that
 * readers share. The handle closes when the writer is done with it and no reader holds it:
 * the file may be renamed or unlinked meanwhile, and stays readable through the handle.
 */
export class GrowingFile implements GrowingBody {
  available = 0;
  failure: Error | undefined;
  private fh: FileHandle | undefined;
  private readers = 0;
  private writerDone = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private waiting: Promise<void> | undefined;

  constructor(private readonly bodyStart: number) {}

  /** The handle is open (writes come only after this). */
  opened(fh: FileHandle): void {
    this.fh = fh;
    if (this.writerDone) this.closeIfUnused();
  }

  /** `n` more body bytes are in the file. */
  advance(n: number): void {
    this.available += n;
    this.notify();
  }

  /** The writer stops short: readers waiting for more bytes give up. */
  fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  changed(): Promise<void> {
    this.waiting ??= new Promise<void>((resolve) => (this.wake = resolve));
    return this.waiting;
  }

  async read(buf: Buffer, position: number): Promise<number> {
    const want = Math.min(buf.length, this.available - position);
    if (want <= 0 || !this.fh) return 0;
    const { bytesRead } = await this.fh.read(buf, 0, want, this.bodyStart + position);
    return bytesRead;
  }

  retain(): boolean {
    if (this.closed) return false;
    this.readers++;
    return true;
  }

  release(): void {
    this.readers--;
    this.closeIfUnused();
  }

  /** The writer is done with the handle; it closes now, or when the last reader lets go. */
  writerClosed(): void {
    this.writerDone = true;
    this.closeIfUnused();
  }

  private closeIfUnused(): void {
    if (!this.writerDone || this.readers > 0 || this.closed) return;
    this.closed = true;
    const fh = this.fh;
    this.fh = undefined;
    // a close that fails leaves nothing to do: the descriptor is gone either way
    fh?.close().catch(() => undefined);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    this.waiting = undefined;
    wake?.();
  }
}
