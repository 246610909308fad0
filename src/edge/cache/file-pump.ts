import { read } from 'node:fs';

/**
 * Sends bytes of an open file to an HTTP/1.1 response through a few reused read
 * buffers, as nginx's `output_buffers 2 1m` does. A fresh buffer per read costs a
 * page fault for each of its pages (the kernel zeroes every one) and then a GC to
 * free it; at 10 MiB per response that halved disk-tier throughput.
 */

/** Reads ahead of the socket: one buffer being written while the next is read. */
const IN_FLIGHT = 2;

/**
 * Buffers of one size, kept between responses up to `max` idle ones. A buffer
 * allocated per read is also external memory to V8: at thousands of 100 KiB hits
 * a second that kept its major GC running, and throughput fell to a third.
 */
class BufferPool {
  private readonly idle: Buffer[] = [];

  constructor(
    readonly size: number,
    private readonly max: number,
  ) {}

  take(): Buffer {
    return this.idle.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  giveBack(buf: Buffer): void {
    if (this.idle.length < this.max) this.idle.push(buf);
  }
}

/** Whole bodies up to 128 KiB take one small buffer (64 idle: 8 MiB); larger ones 512 KiB buffers (16 idle: 8 MiB). */
const small = new BufferPool(128 * 1024, 64);
const large = new BufferPool(512 * 1024, 16);

/** The parts of a writable response the pump uses. */
export interface PumpTarget {
  /** `done` runs once the chunk has left for the kernel (or failed); the buffer is reused only after a success. */
  write(chunk: Buffer, done: (error?: Error | null) => void): boolean;
  end(): void;
  destroy(error?: Error): void;
  once(event: 'close', listener: () => void): unknown;
  readonly destroyed: boolean;
}

/**
 * Writes bytes `first..last` (inclusive file offsets) of `fd` to `target`, then ends
 * it. A read error or a file shorter than promised destroys the target (the client
 * sees a short body, never wrong bytes) and calls `onShort`. `release` runs once,
 * when no read is in progress any more: the caller closes `fd` there.
 */
export function pumpFile(fd: number, first: number, last: number, target: PumpTarget, release: () => void, onShort: (why: Error) => void): void {
  let pos = first;
  let reading = false;
  let writing = 0;
  let stopped = false;
  let released = false;

  const finish = (): void => {
    if (released || reading) return;
    released = true;
    release();
  };
  const stop = (): void => {
    stopped = true;
    finish();
  };
  target.once('close', stop);

  const next = (): void => {
    if (stopped || reading || writing >= IN_FLIGHT) return;
    if (pos > last) {
      stopped = true;
      target.end();
      finish();
      return;
    }
    const pool = last - first + 1 <= small.size ? small : large;
    const want = Math.min(pool.size, last - pos + 1);
    const buf = pool.take();
    const recycle = (): void => pool.giveBack(buf);
    reading = true;
    read(fd, buf, 0, want, pos, (err, bytesRead) => {
      reading = false;
      if (stopped || target.destroyed) {
        recycle();
        stop();
        return;
      }
      if (err || bytesRead === 0) {
        recycle();
        const why = err ?? new Error('file ended before its recorded size');
        onShort(why);
        stopped = true;
        target.destroy(why);
        finish();
        return;
      }
      pos += bytesRead;
      writing++;
      target.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), (e) => {
        writing--;
        // After a failed write the socket may still hold the bytes: that buffer is left to the GC.
        if (e) return stop();
        recycle();
        next();
      });
      next();
    });
  };
  next();
}
