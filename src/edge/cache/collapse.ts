/** Receives a body as it streams in. */
export interface BodySink {
  write(chunk: Buffer): void;
  end(): void;
  fail(err: Error): void;
}

/**
 * One body fanned out to many clients while it arrives. Chunks are kept for
 * clients that join late, as long as the object may still be cached (its size
 * is bounded by the store's object limit) and until the store holds it: a client
 * that joins after the last byte, while the store still commits, gets the whole
 * body from here. Past `release()` nobody new may join.
 */
export class BodyBroadcast {
  private chunks: Buffer[] | undefined = [];
  private sinks: BodySink[] = [];
  private state: 'open' | 'ended' | 'failed' = 'open';
  private error: Error | undefined;
  private onRelease!: () => void;
  /** Settles once the chunks are let go: the store holds the object by then, or never will. */
  readonly released = new Promise<void>((resolve) => {
    this.onRelease = resolve;
  });

  push(chunk: Buffer): void {
    if (this.state !== 'open') return;
    this.chunks?.push(chunk);
    for (const s of this.sinks) s.write(chunk);
  }

  /** The last byte is in: every attached client's response ends now, not when the store is done. */
  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ended';
    const sinks = this.sinks;
    this.sinks = [];
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
  }

  /** Stop keeping chunks for late joiners: the store has the object, or it will not be cached. */
  release(): void {
    this.chunks = undefined;
    this.onRelease();
  }

  /** Every byte is in and still held here (the store is committing it). */
  get complete(): boolean {
    return this.state === 'ended' && this.chunks !== undefined;
  }

  /** Replays what arrived so far, then follows (or ends); false when the body can no longer be joined. */
  attach(sink: BodySink): boolean {
    if (this.state === 'failed') {
      sink.fail(this.error!);
      return true;
    }
    if (this.chunks === undefined) return false;
    for (const c of this.chunks) sink.write(c);
    if (this.state === 'ended') sink.end();
    else this.sinks.push(sink);
    return true;
  }

  detach(sink: BodySink): void {
    // A new array, never an in-place splice: a sink may detach from inside push()'s loop,
    // which must still reach every other sink with that chunk.
    if (this.sinks.includes(sink)) this.sinks = this.sinks.filter((s) => s !== sink);
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
