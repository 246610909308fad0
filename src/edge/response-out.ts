import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Pace } from './cache/collapse.js';

/**
 * Most bytes handed to an HTTP/2 stream at once. node counts what its streams have been handed and
 * not yet sent against the session's allowance (maxSessionMemory, 10 MiB): past it, every new stream
 * on the connection is refused with ENHANCE_YOUR_CALM. A client that stops reading one large body
 * (a video paused in a browser) would otherwise have all its other requests on that connection
 * refused; in pieces, 160 streams that are not read stay within the allowance.
 */
const HTTP2_PIECE = 64 * 1024;

/** The stream of an HTTP/2 response (compatibility API); undefined for HTTP/1.x. */
function http2Stream(res: ServerResponse): { readonly destroyed: boolean } | undefined {
  return (res as unknown as { stream?: { readonly destroyed: boolean } }).stream;
}

/** Is this an HTTP/2 response (compatibility API)? Connection-specific fields are forbidden there. */
export function isHttp2(res: ServerResponse): boolean {
  return http2Stream(res) !== undefined;
}

/** The client has gone (closed the connection, reset its stream): nothing written reaches it any more. */
export function responseGone(res: ServerResponse): boolean {
  // node's HTTP/2 response has no `destroyed`: its stream has.
  return res.destroyed || http2Stream(res)?.destroyed === true;
}

/**
 * A response body written with backpressure: `write` returns a promise only when the client
 * is behind. HTTP/1.x bytes go to the socket as they come; HTTP/2 bytes wait here and go to
 * the stream a piece at a time, the next once the last one is sent.
 */
export class ResponseOut implements Pace {
  private waiting: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** The last write found the response's buffer full (read from write's result: HTTP/1 and HTTP/2 responses both give it). */
  private full = false;
  /** HTTP/2: bytes not yet handed to the stream. */
  private readonly queue: Buffer[] | undefined;
  private queuedBytes = 0;
  private ending = false;

  constructor(
    readonly res: ServerResponse,
    private readonly count: (bytes: number) => void,
  ) {
    if (!isHttp2(res)) return;
    this.queue = [];
    res.on('drain', () => {
      this.full = false;
      this.pump();
    });
    res.once('close', () => {
      this.queue!.length = 0;
      this.queuedBytes = 0;
      this.settle();
    });
  }

  /** Nothing more is to be written: the client has gone, or the body is complete. */
  get closed(): boolean {
    return this.ending || this.res.writableEnded || responseGone(this.res);
  }

  /** Bytes written and not yet sent to the client (as far as node knows: the kernel's buffer is not counted). */
  get backlog(): number {
    return this.queuedBytes + this.res.writableLength;
  }

  write(chunk: Buffer): Promise<void> | undefined {
    this.send(chunk);
    return this.drained();
  }

  /** Writes without waiting (bytes a fill pushes at the origin's pace); call `drained` after a bounded amount. */
  send(chunk: Buffer): void {
    this.count(chunk.length);
    if (this.queue === undefined) {
      if (!this.res.write(chunk)) this.full = true;
      return;
    }
    if (chunk.length === 0 || responseGone(this.res)) return;
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    this.pump();
  }

  /** Ends the response once every byte sent has been handed over. */
  end(): void {
    if (this.queue === undefined) return void this.res.end();
    this.ending = true;
    this.pump();
  }

  /** Resolves once the client has room again (or has gone); undefined when it has room now. */
  drained(): Promise<void> | undefined {
    const res = this.res;
    if (this.queue) {
      if ((!this.full && this.queue.length === 0) || responseGone(res)) return undefined;
      this.waiting ??= new Promise<void>((resolve) => (this.wake = resolve));
      return this.waiting;
    }
    // A drain may have come and gone while bytes were sent without waiting: the response's own flag knows.
    const needDrain = (res as { writableNeedDrain?: boolean }).writableNeedDrain ?? this.full;
    if (!needDrain || res.destroyed) {
      this.full = false;
      return undefined;
    }
    this.waiting ??= new Promise<void>((resolve) => {
      const go = (): void => {
        res.off('drain', go);
        res.off('close', go);
        this.waiting = undefined;
        this.full = false;
        resolve();
      };
      res.on('drain', go);
      res.on('close', go);
    });
    return this.waiting;
  }

  /** HTTP/2: hands the stream pieces while it has room; after the last one, the end when asked for. */
  private pump(): void {
    const q = this.queue!;
    const res = this.res;
    if (responseGone(res)) return;
    while (!this.full && q.length > 0) {
      const head = q[0]!;
      let piece = head;
      if (head.length > HTTP2_PIECE) {
        piece = head.subarray(0, HTTP2_PIECE);
        q[0] = head.subarray(HTTP2_PIECE);
      } else q.shift();
      this.queuedBytes -= piece.length;
      if (!res.write(piece)) this.full = true;
    }
    if (q.length > 0) return;
    if (this.ending && !res.writableEnded) res.end();
    if (!this.full) this.settle();
  }

  private settle(): void {
    const wake = this.wake;
    this.wake = undefined;
    this.waiting = undefined;
    wake?.();
  }
}

/** A whole body (a buffer, or a stream read with backpressure) to `out`, then the end; a failing stream rejects. */
export async function writeWholeBody(out: ResponseOut, body: Buffer | Readable): Promise<void> {
  if (Buffer.isBuffer(body)) out.send(body);
  else {
    for await (const chunk of body) {
      // leaving the loop destroys the stream (and closes its file)
      if (out.closed) return;
      await out.write(chunk as Buffer);
    }
  }
  out.end();
}
