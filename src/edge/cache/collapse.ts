import type { GrowingBody } from './growing-file.js';

/** How far behind its client a response is. */
export interface Pace {
  /** Bytes handed to the response and not yet sent to the client. */
  readonly backlog: number;
  /** Resolves once the client has room again (or has gone); undefined when it has room now. */
  drained(): Promise<void> | undefined;
  /** Nothing more is to be written: the client has gone, or the body is complete. */
  readonly closed: boolean;
}

/** Receives a body as it streams in. */
export interface BodySink {
  write(chunk: Buffer): void;
  end(): void;
  fail(err: Error): void;
  /** A sink that can tell how far behind its client is reads a spilled body at its client's pace. */
  readonly pace?: Pace;
}

/** Bytes kept in memory for late joiners, at most, when the body can be read back from its file. */
const RETAIN_MAX = 4 * 1024 * 1024;
/** A client this far behind stops being handed the origin's bytes and reads the rest from the file. */
const BEHIND_MAX = 2 * 1024 * 1024;
/** Bytes read from the file per write to a client. */
const READ_PIECE = 64 * 1024;

/**
 * One body fanned out to many clients while it arrives. Chunks are kept for
 * clients that join late, as long as the object may still be cached and until
 * the store holds it: a client that joins after the last byte, while the store
 * still commits, gets the whole body from here. Past `release()` nobody new may
 * join.
 *
 * When the store writes the body to a file (`spillTo`), memory holds at most
 * RETAIN_MAX of it: past that, late joiners read the file from its start, and a
 * client that falls BEHIND_MAX behind reads the rest from the file at its own
 * pace. A fill of a 4 GiB object costs a few MiB of memory, whatever its clients do.
 */
export class BodyBroadcast {
  private chunks: Buffer[] | undefined = [];
  private retained = 0;
  /** Bytes pushed so far. */
  private length = 0;
  private joinable = true;
  private sinks: BodySink[] = [];
  private readonly followers = new Map<BodySink, { stopped: boolean }>();
  private file: GrowingBody | undefined;
  /** The broadcast's own hold on the file, let go once the body can no longer be joined. */
  private held: GrowingBody | undefined;
  private state: 'open' | 'ended' | 'failed' = 'open';
  private error: Error | undefined;
  /** Followers waiting for bytes, woken also when the body ends or fails. */
  private readonly waiting = new Set<() => void>();
  private onRelease!: () => void;
  /** Settles once the chunks are let go: the store holds the object by then, or never will. */
  readonly released = new Promise<void>((resolve) => {
    this.onRelease = resolve;
  });

  /** The body (of known length) is also being written to `file`: readers past what memory keeps read it there. */
  spillTo(file: GrowingBody): void {
    // Held open while the body can be joined: the writer lets go of the file before the store has it
    // (while it renames it into place), and a client joining then still reads it from byte 0.
    if (!file.retain()) return;
    this.file = file;
    this.held = file;
  }

  push(chunk: Buffer): void {
    if (this.state !== 'open') return;
    this.length += chunk.length;
    if (this.chunks) {
      this.chunks.push(chunk);
      this.retained += chunk.length;
      if (this.retained > RETAIN_MAX && this.readable()) this.chunks = undefined;
    }
    for (const s of this.sinks) {
      s.write(chunk);
      if (s.pace && s.pace.backlog > BEHIND_MAX && this.readable()) {
        this.detach(s);
        this.follow(s, this.length);
      }
    }
  }

  /** The last byte is in: every attached client's response ends now, not when the store is done. */
  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ended';
    const sinks = this.sinks;
    this.sinks = [];
    this.wakeFollowers();
    for (const s of sinks) s.end();
  }

  fail(err: Error): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    this.error = err;
    const sinks = this.sinks;
    this.sinks = [];
    this.release();
    for (const s of sinks) s.fail(err);
    this.cutFollowers(err);
  }

  /** Stop keeping chunks for late joiners: the store has the object, or it will not be cached. */
  release(): void {
    this.joinable = false;
    this.chunks = undefined;
    this.letGo();
    this.onRelease();
  }

  /** Every byte is in and can still be joined here (the store is committing it). */
  get complete(): boolean {
    return this.state === 'ended' && this.joinable;
  }

  /** Whether `attach` would take a client now (a failed body is "taken": the client is failed). */
  get attachable(): boolean {
    return this.state === 'failed' || (this.joinable && (this.chunks !== undefined || this.readable()));
  }

  /** Replays what arrived so far, then follows (or ends); false when the body can no longer be joined. */
  attach(sink: BodySink): boolean {
    if (this.state === 'failed') {
      sink.fail(this.error!);
      return true;
    }
    if (!this.joinable) return false;
    if (this.chunks === undefined) {
      if (!this.readable()) return false;
      this.follow(sink, 0);
      return true;
    }
    for (const c of this.chunks) sink.write(c);
    if (this.state === 'ended') sink.end();
    else this.sinks.push(sink);
    return true;
  }

  detach(sink: BodySink): void {
    const f = this.followers.get(sink);
    if (f) f.stopped = true;
    // A new array, never an in-place splice: a sink may detach from inside push()'s loop,
    // which must still reach every other sink with that chunk.
    if (this.sinks.includes(sink)) this.sinks = this.sinks.filter((s) => s !== sink);
  }

  private readable(): boolean {
    return this.file !== undefined && this.file.failure === undefined;
  }

  /** Feeds `sink` from the file, from byte `from`, at its client's pace. */
  private follow(sink: BodySink, from: number): void {
    const file = this.file!;
    if (!file.retain()) return sink.fail(new Error('body file closed'));
    const f = { stopped: false };
    this.followers.set(sink, f);
    this.readFile(file, from, sink, f)
      .catch((e: unknown) => sink.fail(e as Error))
      .finally(() => {
        file.release();
        if (this.followers.get(sink) === f) this.followers.delete(sink);
      });
  }

  private async readFile(file: GrowingBody, from: number, sink: BodySink, f: { stopped: boolean }): Promise<void> {
    let pos = from;
    for (;;) {
      if (f.stopped || sink.pace?.closed) return;
      if (this.state === 'failed') return sink.fail(this.error!);
      if (pos < file.available) {
        const buf = Buffer.allocUnsafe(Math.min(READ_PIECE, file.available - pos));
        const n = await file.read(buf, pos);
        if (n === 0) throw new Error('body file shorter than written');
        pos += n;
        sink.write(n === buf.length ? buf : buf.subarray(0, n));
        await sink.pace?.drained();
        continue;
      }
      if (this.state === 'ended' && pos >= this.length) return sink.end();
      if (file.failure) throw file.failure;
      await new Promise<void>((resolve) => {
        this.waiting.add(resolve);
        void file.changed().then(() => {
          this.waiting.delete(resolve);
          resolve();
        });
      });
    }
  }

  private letGo(): void {
    const file = this.held;
    this.held = undefined;
    file?.release();
  }

  /**
   * The body will not be whole for those reading the file: they are cut now, as the attached clients are,
   * not once their clients have read what they were sent. A client that stopped reading would otherwise
   * keep the file (and its disk space) open until it timed out.
   */
  private cutFollowers(err: Error): void {
    for (const [sink, f] of this.followers) {
      f.stopped = true;
      sink.fail(err);
    }
    this.wakeFollowers();
  }

  private wakeFollowers(): void {
    for (const wake of this.waiting) wake();
    this.waiting.clear();
  }
}

/** One origin fetch that concurrent requests for the same key wait on. */
export class Fill<Head> {
  readonly head: Promise<Head>;
  readonly body = new BodyBroadcast();
  /** Requests that joined instead of fetching. */
  waiters = 0;
  /** The head once settled, for who must look without waiting (a purge). */
  settled: Head | undefined;
  private resolveHead!: (h: Head) => void;

  constructor(
    readonly key: string,
    /** The URL's primary key (`key` is a slice's own key for a slice fill). */
    readonly primary: string = key,
  ) {
    this.head = new Promise<Head>((resolve) => {
      this.resolveHead = resolve;
    });
  }

  settle(head: Head): void {
    this.settled ??= head;
    this.resolveHead(head);
  }
}

/** Request collapsing: the first request for a key leads one fetch, the others join it. */
export class Collapser<Head> {
  private readonly inflight = new Map<string, Fill<Head>>();

  /** The fill in progress for `key`, joined by the caller. */
  join(key: string): Fill<Head> | undefined {
    const f = this.inflight.get(key);
    if (f) f.waiters++;
    return f;
  }

  /** Registers a new fill; the caller leads it and must call `done`. */
  lead(key: string, primary?: string): Fill<Head> {
    const f = new Fill<Head>(key, primary);
    this.inflight.set(key, f);
    return f;
  }

  /** The fill is over for newcomers: they look in the store from now on. */
  done(fill: Fill<Head>): void {
    if (this.inflight.get(fill.key) === fill) this.inflight.delete(fill.key);
    fill.body.release();
  }

  /** Newcomers no longer join the fills `test` picks (a purge took what they fetch); those attached go on. */
  forget(test: (fill: Fill<Head>) => boolean): void {
    for (const [key, f] of this.inflight) if (test(f)) this.inflight.delete(key);
  }

  get size(): number {
    return this.inflight.size;
  }
}
