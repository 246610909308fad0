import type { Fill } from './cache/collapse.js';
import { evaluatePreconditions, hasPreconditions } from './cache/conditional.js';
import { type CacheOutcome, type RefreshReason, type RequestCacheControl, decideLookup } from './cache/decision.js';
import { type CachePolicy, currentAge, headerValue } from './cache/freshness.js';
import { fullKey, secondaryKey } from './cache/keys.js';
import { type RangeSpec, parseContentRange, parseRangeHeader, selectRanges } from './cache/range.js';
import { type SliceVersion, isSliceOf, sameVersion, sliceKey, slicesOf } from './cache/slices.js';
import type { StoredObject, VariantIndex } from './cache/store.js';
import type { EdgeContext } from './context.js';
import { type FillHead, runFill } from './fill.js';
import type { HeaderList } from './headers.js';
import { type PassRequest, clientIp, passThrough, streamResponse } from './pass.js';
import { RangeCutter, planRanges, storedReader, writePlanBody, writeRangeHead, writeUnsatisfiable } from './range-body.js';
import { writeError, writeNotModified, writePreconditionFailed, writeStreamingHead } from './respond.js';
import { ResponseOut } from './response-out.js';

export interface SliceRequest extends PassRequest {
  readonly primary: string;
  readonly cc: RequestCacheControl;
}

/** What the handler does when a sliced site's origin does not slice (answers 200 to a Range). */
export interface SliceFallback {
  /** Serve the fill of the whole object as any miss is served. */
  serveWhole(fill: Fill<FillHead>, outcome: 'uri-miss', collapsed: boolean, leader: boolean): void;
}

/** One slice ready to read: stored, or streaming in from its fill. */
type Slice =
  | { readonly kind: 'stored'; readonly obj: StoredObject; readonly version: SliceVersion; readonly outcome: CacheOutcome; readonly fromStore: boolean }
  | { readonly kind: 'filling'; readonly key: string; readonly head: Extract<FillHead, { kind: 'store' }>; readonly version: SliceVersion; readonly outcome: CacheOutcome };

type Acquired =
  | Slice
  | { readonly kind: 'whole'; readonly fill: Fill<FillHead>; readonly collapsed: boolean; readonly leader: boolean }
  | { readonly kind: 'pass'; readonly head: Extract<FillHead, { kind: 'pass' }>; readonly leader: boolean }
  | { readonly kind: 'error'; readonly head: Extract<FillHead, { kind: 'error' }> };

/** The origin's object changed under a response already under way: it cannot be finished without splicing two versions. */
class VersionChanged extends Error {}

function storedVersion(obj: StoredObject): SliceVersion | undefined {
  const cr = parseContentRange(obj.meta.headers.find(([n]) => n === 'content-range')?.[1]);
  return cr && { size: cr.size, etag: obj.meta.etag, lastModified: obj.meta.lastModified };
}

/** The slice's stored fields as the whole object's: its own Content-Range left out. */
function objectHeaders(headers: HeaderList): HeaderList {
  return headers.filter(([n]) => n !== 'content-range');
}

/**
 * Reads one variant of a sliced object for one response: takes each slice from
 * the store or from its (collapsed) fill, one slice ahead, and keeps every
 * slice to the version (length and validators) of the first.
 */
class SliceReader {
  private pinned: SliceVersion | undefined;
  private readonly pending = new Map<number, Promise<Acquired>>();

  constructor(
    private readonly ctx: EdgeContext,
    private readonly rq: SliceRequest,
    private readonly variantKey: string,
    private readonly sliceSize: number,
  ) {}

  /** The first slice of a response: it decides the version every later slice must have. */
  async first(index: number): Promise<Acquired> {
    const got = await this.acquire(index);
    if (got.kind === 'stored' || got.kind === 'filling') this.pinned = got.version;
    return got;
  }

  acquire(index: number, refetch = false): Promise<Acquired> {
    let p = refetch ? undefined : this.pending.get(index);
    if (!p) {
      p = this.load(index, refetch);
      this.pending.set(index, p);
    }
    return p;
  }

  private async load(index: number, refetch: boolean): Promise<Acquired> {
    const { ctx, rq } = this;
    const key = sliceKey(this.variantKey, index);
    let stale: StoredObject | undefined;
    let reason: 'uri-miss' | RefreshReason = 'uri-miss';
    const obj = refetch ? undefined : await ctx.store.get(key);
    const objVersion = obj && storedVersion(obj);
    if (obj && objVersion) {
      const d = decideLookup(obj.meta.policy, rq.cc, ctx.now());
      if (d.kind === 'hit') return { kind: 'stored', obj, version: objVersion, outcome: { status: 'HIT', ttl: d.ttl }, fromStore: true };
      if (d.kind === 'updating') {
        // RFC 5861 §3: this slice is served stale while one background fetch refreshes it
        if (!ctx.collapser.join(key)) {
          this.startFill(index, key, obj).head.then((h) => {
            if (h.kind === 'pass' && !h.claimed) h.response.body.on('error', () => undefined).destroy();
          }, () => undefined);
        }
        return { kind: 'stored', obj, version: objVersion, outcome: { status: 'UPDATING', ttl: d.ttl }, fromStore: true };
      }
      stale = obj;
      reason = d.reason === 'uri-miss' || d.reason === 'vary-miss' ? 'uri-miss' : d.reason;
    }
    const joined = ctx.collapser.join(key);
    const collapsed = joined !== undefined;
    const fill = joined ?? this.startFill(index, key, stale);
    const head = await fill.head;
    const miss: CacheOutcome = reason === 'uri-miss' ? { status: 'MISS', reason, collapsed, stored: true } : { status: 'EXPIRED', reason, collapsed, stored: true };
    switch (head.kind) {
      case 'store':
        if (!head.slice) return { kind: 'whole', fill, collapsed, leader: !collapsed };
        // stored under the variant of the response's own Vary (the reader may not have known it yet)
        return { kind: 'filling', key: sliceKey(fullKey(rq.primary, head.secondary), index), head, version: { size: head.slice.size, etag: head.etag, lastModified: head.lastModified }, outcome: miss };
      case 'revalidated':
      case 'stale': {
        const v = storedVersion(head.obj);
        if (!v) return { kind: 'error', head: { kind: 'error', status: 502, reason: 'origin-5xx', message: 'Bad Gateway' } };
        const ttl = head.obj.meta.policy.lifetime - currentAge(head.obj.meta.policy, ctx.now());
        const outcome: CacheOutcome = head.kind === 'revalidated' ? { status: 'REVALIDATED', ttl } : { status: 'STALE', reason: head.reason, fwdStatus: head.fwdStatus, ttl };
        return { kind: 'stored', obj: head.obj, version: v, outcome, fromStore: false };
      }
      case 'pass':
        return { kind: 'pass', head, leader: !collapsed };
      case 'error':
        return { kind: 'error', head };
      default: {
        const never: never = head;
        return never;
      }
    }
  }

  /** Leads the (collapsed) origin fetch of one slice. */
  private startFill(index: number, key: string, stale: StoredObject | undefined): Fill<FillHead> {
    const { ctx, rq } = this;
    const fill = ctx.collapser.lead(key, rq.primary);
    const spec = { site: rq.site, primary: rq.primary, target: rq.target, headers: rq.req.headers, host: rq.host, scheme: rq.scheme, clientIp: clientIp(rq.req), stale, mayStore: true, slice: { index, size: this.sliceSize } };
    runFill(ctx, fill, spec).catch((e: unknown) => {
      ctx.log.error({ err: (e as Error).message }, 'slice fill failed');
      fill.settle({ kind: 'error', status: 502, reason: 'origin-unreachable', message: 'Bad Gateway' });
      ctx.collapser.done(fill);
    });
    return fill;
  }

  /** A slice of the pinned version: a stored one of another version is fetched again; a fetched one of another version means the object changed. */
  private async slice(index: number): Promise<Slice> {
    let got = await this.acquire(index);
    if (got.kind === 'stored' && got.fromStore && !sameVersion(got.version, this.pinned!)) {
      // left over from another version: fetch this slice again rather than splice
      await this.ctx.store.delete(got.obj.meta.key);
      got = await this.acquire(index, true);
    }
    if (got.kind !== 'stored' && got.kind !== 'filling') throw new VersionChanged(`slice ${index}: origin answered ${got.kind}`);
    if (!sameVersion(got.version, this.pinned!)) {
      await this.dropOtherSlices(got.kind === 'stored' ? got.obj.meta.key : got.key);
      throw new VersionChanged(`slice ${index}: the object changed at the origin`);
    }
    return got;
  }

  /** nginx#911: slices of an older version are dropped, so the next response is built from the new one only. */
  private async dropOtherSlices(keep: string): Promise<void> {
    const index = await this.ctx.store.variants(this.rq.primary);
    if (!index) return;
    for (const key of [...index.keys]) if (key !== keep && isSliceOf(key, this.variantKey)) await this.ctx.store.delete(key);
  }

  /** Writes bytes `start..end` of the object, slice by slice, fetching the next slice while one is written. */
  readonly read = async (start: number, end: number, out: ResponseOut): Promise<void> => {
    const size = this.pinned!.size;
    const { first, last } = slicesOf(start, end, this.sliceSize);
    for (let k = first; k <= last; k++) {
      if (out.closed) return;
      const s = await this.slice(k);
      const lastSlice = Math.floor((size - 1) / this.sliceSize);
      if (k < last && k < lastSlice) this.acquire(k + 1).catch(() => undefined);
      const off = k * this.sliceSize;
      const a = Math.max(start, off);
      const b = Math.min(end, off + this.sliceSize - 1, size - 1);
      if (s.kind === 'stored') await storedReader(s.obj, off)(a, b, out);
      else await this.fromFill(s, a - off, b - off, out);
      // A slice arriving from its fill is written at the origin's pace: at most one slice waits in the socket buffer.
      await out.drained();
      this.pending.delete(k);
    }
  };

  /** Bytes of a slice as its fill brings them; from the store when the fill ended before we could join. */
  private fromFill(s: Extract<Slice, { kind: 'filling' }>, a: number, b: number, out: ResponseOut): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const res = out.res;
      const stop = (): void => {
        res.off('close', stop);
        // not now: this runs inside the broadcast's loop over its sinks, which a removal would make skip the next one
        queueMicrotask(() => s.head.body.detach(cutter));
        resolve();
      };
      const cutter = new RangeCutter([{ start: a, end: b }], 0, {
        part: (_i, bytes) => out.send(bytes),
        done: stop,
        short: (err) => {
          res.off('close', stop);
          reject(err ?? new Error('slice fill ended early'));
        },
      });
      res.once('close', stop);
      if (s.head.body.attach(cutter)) return;
      res.off('close', stop);
      Promise.resolve(this.ctx.store.get(s.key)).then((obj) => {
        if (!obj) throw new VersionChanged('slice left the cache before it could be read');
        return storedReader(obj, 0)(a, b, out);
      }).then(resolve, reject);
    });
  }
}

/** The lowest first-byte-pos of the specs, when every spec has one: the slice to start from. */
function firstByteAsked(specs: readonly RangeSpec[] | undefined): number {
  if (!specs) return 0;
  let min = Infinity;
  for (const s of specs) {
    if (!('first' in s)) return 0;
    min = Math.min(min, s.first);
  }
  return min;
}

/**
 * The slice to read first: the one holding the first byte asked for, unless
 * a stored first slice says that byte is past the end (then the 416 needs no origin).
 */
async function firstSlice(ctx: EdgeContext, variantKey: string, firstByte: number, sliceSize: number): Promise<number> {
  if (firstByte < sliceSize) return 0;
  const zero = await ctx.store.get(sliceKey(variantKey, 0));
  const v = zero && storedVersion(zero);
  return v && firstByte >= v.size ? 0 : Math.floor(firstByte / sliceSize);
}

/**
 * A GET or HEAD on a site with `slice_size` whose object is not stored whole:
 * answered from slices (nginx's slice module), each its own cache object.
 */
export async function serveSliced(ctx: EdgeContext, rq: SliceRequest, index: VariantIndex | undefined, sliceSize: number, fallback: SliceFallback): Promise<void> {
  const { req, res } = rq;
  const variantKey = fullKey(rq.primary, secondaryKey(index?.vary ?? [], req.headers));
  const range = req.headers.range;
  const specs = range !== undefined ? parseRangeHeader(range) : undefined;
  const reader = new SliceReader(ctx, rq, variantKey, sliceSize);
  const got = await reader.first(await firstSlice(ctx, variantKey, firstByteAsked(specs), sliceSize));
  switch (got.kind) {
    case 'whole':
      return fallback.serveWhole(got.fill, 'uri-miss', got.collapsed, got.leader);
    case 'pass': {
      // Not storable (or not sliceable): the client's own request goes to the origin as it is.
      const outcome: CacheOutcome = { status: 'MISS', reason: 'uri-miss', collapsed: !got.leader, stored: got.head.reason };
      if (got.leader && !got.head.claimed) {
        got.head.claimed = true;
        // an origin that ignored our Range sent the whole object, which is what a client without Range asked for
        if (range === undefined && got.head.response.status === 200) return streamResponse(ctx, rq, got.head.response, outcome);
        got.head.response.body.on('error', () => undefined).destroy();
      }
      return passThrough(ctx, rq, outcome);
    }
    case 'error':
      return writeError(res, got.head.status, got.head.message, ctx.id, { status: 'MISS', reason: 'uri-miss', collapsed: false, stored: 'origin-error' });
    case 'stored':
    case 'filling':
      break;
    default: {
      const never: never = got;
      return never;
    }
  }
  const { size, etag, lastModified } = got.version;
  const headers = objectHeaders(got.kind === 'stored' ? got.obj.meta.headers : got.head.headers);
  const policy: CachePolicy = got.kind === 'stored' ? got.obj.meta.policy : got.head.policy;
  const age = currentAge(policy, ctx.now());
  if (hasPreconditions(req.headers)) {
    const pre = evaluatePreconditions(req.headers, 200, etag, lastModified);
    if (pre === 'not-modified') return writeNotModified(res, headers, got.outcome, ctx.id, age);
    if (pre === 'failed') return writePreconditionFailed(res, got.outcome, ctx.id);
  }
  const answer = selectRanges(range, headerValue(req.headers, 'if-range'), size, etag, lastModified);
  if (answer.kind === 'unsatisfiable') return writeUnsatisfiable(res, size, headers, got.outcome, ctx.id, age);
  const out = new ResponseOut(res, (n) => (ctx.stats.bytes += n));
  const fail = (e: unknown): void => {
    if (!(e instanceof VersionChanged)) ctx.log.warn({ err: (e as Error).message, url: rq.primary }, 'sliced response failed');
    else ctx.log.info({ err: e.message, url: rq.primary }, 'sliced response cut');
    res.destroy();
  };
  if (answer.kind === 'partial') {
    const plan = planRanges(answer.ranges, size, headers);
    writeRangeHead(res, plan, got.outcome, ctx.id, age);
    if (req.method === 'HEAD') return void res.end();
    return writePlanBody(out, plan, reader.read).catch(fail);
  }
  writeStreamingHead(res, 200, headers, size, got.outcome, ctx.id, age);
  if (req.method === 'HEAD' || size === 0) return void res.end();
  return reader.read(0, size - 1, out).then(() => out.end(), fail);
}
