import { read } from 'node:fs';

/**
 * Sends bytes of an open file to an HTTP/1.1 response through a few reused read
 * buffers, as nginx's `output_buffers 2 1m` does. A fresh buffer per read costs a
 * page fault for each of its pages (the kernel zeroes every one) and then a GC to
 * free it; at 10 MiB per response that halved disk-tier throughput.
 */

const BUFFER_SIZE = 512 * 1024;
/**
 * A body this small is read into a buffer of its own size instead: under load more
 * responses are in flight than the pool keeps, and a fresh 512 KiB buffer for a
 * 100 KiB body cost the allocation (an mmap at that size) for nothing.
 */
const OWN_BUFFER_MAX = 128 * 1024;
/** Reads ahead of the socket: one buffer being written while the next is read. */
const IN_FLIGHT = 2;
/** Idle buffers kept between responses (8 MiB). */
const POOL_MAX = 16;

const pool: Buffer[] = [];

function takeBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(BUFFER_SIZE);
}

function giveBack(buf: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(buf);
}

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
    const want = Math.min(BUFFER_SIZE, last - pos + 1);
    const own = pos === first && want <= OWN_BUFFER_MAX;
    const buf = own ? Buffer.allocUnsafe(want) : takeBuffer();
    const recycle = own ? () => undefined : () => giveBack(buf);
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
