import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BodySink, Fill } from './cache/collapse.js';
import { deltaSeconds, parseDirectives } from './cache/cache-control.js';
import { evaluatePreconditions, hasPreconditions } from './cache/conditional.js';
import { type CacheOutcome, type Lookup, type NotStoredReason, type RequestCacheControl, decideLookup } from './cache/decision.js';
import { currentAge, headerValue } from './cache/freshness.js';
import { fullKey, primaryKey, secondaryKey } from './cache/keys.js';
import { type RangeAnswer, ascending, selectRanges } from './cache/range.js';
import type { OpenedBody, StoredObject, VariantIndex } from './cache/store.js';
import type { EdgeContext } from './context.js';
import { type FillHead, runFill } from './fill.js';
import { responseHeaderList, viaHasLoop } from './headers.js';
import { declaresContent, framingRefusal, hasHttp2Content, mayCarryHttp2Content } from './request-checks.js';
import { writeHealth } from './health.js';
import { type PassRequest, clientIp, passThrough, streamRangesOf, streamResponse } from './pass.js';
import { planRanges, planSink, writeRangeHead, writeStoredRanges, writeUnsatisfiable } from './range-body.js';
import { OUTCOME, type WithOutcome, writeError, writeMethodNotAllowed, writeNotModified, writePreconditionFailed, writeServerOptions, writeStored, writeStreamingHead } from './respond.js';
import { ResponseOut, responseGone } from './response-out.js';
import { type SliceFallback, serveSliced } from './slice.js';
import { type Site, bypassRule, siteLookup } from './sites.js';

/** One request on its way through the cache; the only per-request object. */
interface Rq extends PassRequest {
  readonly primary: string;
  readonly cc: RequestCacheControl;
}

/** Why a request goes to the origin through a fill; `authorization` fills are bypasses that may still store. */
type MissReason = 'uri-miss' | 'vary-miss' | 'stale' | 'no-cache' | 'client-no-cache' | 'client-max-age' | 'client-min-fresh' | 'authorization';

const IGNORE_CLIENT_CC: RequestCacheControl = { noCache: false, maxAge: undefined };

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}

/**
 * The edge's request handler, for node's HTTP/1.1 server and for the HTTP/2 compatibility API
 * (whose request and response objects have the shape used here). `scheme` is the listener's.
 */
export function createRequestHandler(ctx: EdgeContext, scheme: 'http' | 'https' = 'http'): (req: IncomingMessage, res: ServerResponse) => void {
  const siteFor = siteLookup(ctx.sites);

  /**
   * Once per response: counts its cache status and writes the access line. `client` is read
   * when the request comes in: by the time the response closes, undici has set `req.socket`
   * to null if it sent a request body on to the origin (nodejs/node#38505), and an HTTP/2
   * request's socket no longer leads to its session.
   */
  function finish(req: IncomingMessage, res: ServerResponse, client: string | undefined, startedAt: number, endedInHandler = false): void {
    ctx.stats.inflight--;
    const outcome = (res as WithOutcome)[OUTCOME];
    ctx.stats.statuses[outcome?.status ?? 'NONE']++;
    if (startedAt === 0) return;
    // The nameservers probe the health path every interval: those lines only at debug.
    ctx.log[req.url === ctx.healthPath ? 'debug' : 'info'](
      {
        client,
        method: req.method,
        host: req.headers.host ?? req.headers[':authority'],
        url: req.url,
        status: res.statusCode,
        cache: outcome?.status ?? '-',
        reason: outcome !== undefined && 'reason' in outcome ? outcome.reason : undefined,
        ms: Math.round((performance.now() - startedAt) * 10) / 10,
        // an HTTP/2 stream finishes after the handler returns even when the whole answer was written in it
        aborted: res.writableFinished || endedInHandler ? undefined : true,
      },
      'access',
    );
  }

  const countBytes = (n: number): void => {
    ctx.stats.bytes += n;
  };

  function fail(rq: PassRequest, e: unknown): void {
    ctx.log.error({ err: (e as Error).message, stack: (e as Error).stack }, 'request failed');
    try {
      writeError(rq.res, 502, 'Bad Gateway', ctx.id);
    } catch {
      // The head that failed is still set on an HTTP/2 response and fails again: thrown here, from a promise's catch, it would end the process.
      rq.res.destroy();
    }
  }

  function missOutcome(reason: MissReason, collapsed: boolean, stored: true | NotStoredReason): CacheOutcome {
    if (reason === 'authorization') return { status: 'BYPASS', reason, stored };
    return reason === 'uri-miss' || reason === 'vary-miss'
      ? { status: 'MISS', reason, collapsed, stored }
      : { status: 'EXPIRED', reason, collapsed, stored };
  }

  function serveStored(rq: Rq, obj: StoredObject, outcome: CacheOutcome): void {
    const m = obj.meta;
    if (hasPreconditions(rq.req.headers)) {
      const pre = evaluatePreconditions(rq.req.headers, m.status, m.etag, m.lastModified);
      if (pre === 'not-modified') return writeNotModified(rq.res, m.headers, outcome, ctx.id, currentAge(m.policy, ctx.now()));
      if (pre === 'failed') return writePreconditionFailed(rq.res, outcome, ctx.id);
    }
    let part: Extract<RangeAnswer, { kind: 'partial' }> | undefined;
    const range = rq.req.headers.range;
    if (range !== undefined && m.status === 200) {
      const r = selectRanges(range, headerValue(rq.req.headers, 'if-range'), m.bodySize, m.etag, m.lastModified);
      if (r.kind === 'unsatisfiable') return writeStoredRanges(rq.res, obj, r, outcome, ctx.id, currentAge(m.policy, ctx.now()), countBytes);
      if (r.kind !== 'full') part = r;
    }
    if (obj.body !== undefined || obj.openBody === undefined || rq.req.method === 'HEAD') return sendStored(rq, obj, outcome, part, undefined);
    // The body's file is opened before the head is committed: a purge or eviction that unlinks
    // it after this cannot cut the response. One that came first makes this a miss.
    obj.openBody().then((opened) => {
      if (!opened) return fetch(rq, 'uri-miss', undefined);
      sendStored(rq, obj, outcome, part, opened);
    }, (e: unknown) => fail(rq, e));
  }

  /** The stored body, whole or the parts asked for; `opened` (released by the writer) when the tier opened its file first. */
  function sendStored(rq: Rq, obj: StoredObject, outcome: CacheOutcome, part: Extract<RangeAnswer, { kind: 'partial' }> | undefined, opened: OpenedBody | undefined): void {
    if (part) return writeStoredRanges(rq.res, obj, part, outcome, ctx.id, currentAge(obj.meta.policy, ctx.now()), countBytes, opened);
    ctx.stats.bytes += writeStored(rq.res, obj, outcome, ctx.id, ctx.now(), opened);
  }

  /** Starts a fill for the request's URL; the caller serves from it like any joiner. */
  function lead(rq: Rq, stale: StoredObject | undefined, register: boolean, mayStore = true): Fill<FillHead> {
    const fill = register ? ctx.collapser.lead(rq.primary) : new Fill<FillHead>(rq.primary);
    runFill(ctx, fill, { site: rq.site, primary: rq.primary, target: rq.target, headers: rq.req.headers, host: rq.host, scheme: rq.scheme, clientIp: clientIp(rq.req), stale, mayStore }).catch((e: unknown) => {
      ctx.log.error({ err: (e as Error).message }, 'fill failed');
      fill.settle({ kind: 'error', status: 502, reason: 'origin-unreachable', message: 'Bad Gateway' });
      ctx.collapser.done(fill);
    });
    return fill;
  }

  function fetch(rq: Rq, reason: MissReason, stale: StoredObject | undefined): void {
    const joined = ctx.collapser.join(rq.primary);
    if (joined) serveFill(rq, joined, reason, true, false);
    else serveFill(rq, lead(rq, stale, true), reason, false, true);
  }

  function serveFill(rq: Rq, fill: Fill<FillHead>, reason: MissReason, collapsed: boolean, leader: boolean): void {
    fill.head.then((head) => {
      const { req, res } = rq;
      switch (head.kind) {
        case 'store': {
          if (collapsed && head.secondary !== secondaryKey(head.vary, req.headers)) {
            // another variant than the leader's: fetch our own, uncollapsed
            return serveFill(rq, lead(rq, undefined, false), 'vary-miss', false, true);
          }
          // Too late to join (the store took the object meanwhile, or its file can no longer be read): fetch our own.
          if (collapsed && !head.body.attachable) return serveFill(rq, lead(rq, undefined, false), reason, false, true);
          const age = currentAge(head.policy, ctx.now());
          // Joined after the last byte, while the store commits: the whole object is cached already.
          const outcome: CacheOutcome = collapsed && head.body.complete ? { status: 'HIT', ttl: head.policy.lifetime - age } : missOutcome(reason, collapsed, true);
          const headers = leader ? head.leaderHeaders : head.headers;
          if (hasPreconditions(req.headers)) {
            // The fill asked without the client's preconditions: they are evaluated here, on what came back.
            const pre = evaluatePreconditions(req.headers, head.status, head.etag, head.lastModified);
            if (pre === 'not-modified') return writeNotModified(res, headers, outcome, ctx.id, age);
            if (pre === 'failed') return writePreconditionFailed(res, outcome, ctx.id);
          }
          if (req.headers.range !== undefined && head.status === 200 && head.contentLength !== undefined) {
            // RFC 9110 §14.2: the client's part of the object, cut from the fill as it arrives
            const r = selectRanges(req.headers.range, headerValue(req.headers, 'if-range'), head.contentLength, head.etag, head.lastModified);
            if (r.kind === 'unsatisfiable') return writeUnsatisfiable(res, head.contentLength, headers, outcome, ctx.id, age);
            if (r.kind === 'partial' && ascending(r.ranges)) {
              const plan = planRanges(r.ranges, head.contentLength, headers);
              writeRangeHead(res, plan, outcome, ctx.id, age);
              if (req.method === 'HEAD') return void res.end();
              const cut = planSink(new ResponseOut(res, countBytes), plan);
              if (!head.body.attach(cut)) return void res.destroy();
              res.once('close', () => head.body.detach(cut));
              return;
            }
          }
          if (req.headers.range !== undefined && head.status === 200 && head.contentLength === undefined) {
            // No length yet (chunked): the range is served from the store once the whole object is in.
            return serveRangeAfterFill(rq, head, outcome);
          }
          if (req.method === 'HEAD') {
            writeStreamingHead(res, head.status, headers, head.contentLength, outcome, ctx.id, age);
            return void res.end();
          }
          const out = new ResponseOut(res, countBytes);
          const sink: BodySink = { write: (c) => out.send(c), end: () => out.end(), fail: () => res.destroy(), pace: out };
          writeStreamingHead(res, head.status, headers, head.contentLength, outcome, ctx.id, age);
          if (!head.body.attach(sink)) return void res.destroy();
          res.once('close', () => head.body.detach(sink));
          return;
        }
        case 'revalidated':
        case 'stale':
          if (collapsed && head.obj.meta.key !== fullKey(rq.primary, secondaryKey(head.obj.meta.vary, req.headers))) {
            // the leader refreshed another variant than ours
            return serveFill(rq, lead(rq, undefined, false), 'vary-miss', false, true);
          }
          return head.kind === 'revalidated'
            ? serveStored(rq, head.obj, { status: 'REVALIDATED', ttl: ttlOf(head.obj) })
            : serveStored(rq, head.obj, { status: 'STALE', reason: head.reason, fwdStatus: head.fwdStatus, ttl: ttlOf(head.obj) });
        case 'pass':
          if (leader && !head.claimed) {
            head.claimed = true;
            const outcome = missOutcome(reason, false, head.reason);
            const r = head.response;
            const pre = hasPreconditions(req.headers) ? evaluatePreconditions(req.headers, r.status, headerValue(r.headers, 'etag'), headerValue(r.headers, 'last-modified')) : 'proceed';
            if (pre !== 'proceed') {
              r.body.on('error', () => undefined).destroy();
              if (pre === 'failed') return writePreconditionFailed(res, outcome, ctx.id);
              return writeNotModified(res, responseHeaderList(r.headers), outcome, ctx.id, undefined);
            }
            if (req.headers.range === undefined || head.response.status !== 200) return streamResponse(ctx, rq, head.response, outcome);
            if (streamRangesOf(ctx, rq, head.response, outcome)) return;
            // The fill asked for the whole object, too large to read for a part: the origin can send the client's part itself.
            head.response.body.on('error', () => undefined).destroy();
          }
          return void passThrough(ctx, rq, missOutcome(reason, collapsed, head.reason)).catch((e: unknown) => fail(rq, e));
        case 'error':
          return writeError(res, head.status, head.message, ctx.id, missOutcome(reason, collapsed, 'origin-error'));
        default: {
          const never: never = head;
          return never;
        }
      }
    }).catch((e: unknown) => fail(rq, e));
  }

  function serveRangeAfterFill(rq: Rq, head: Extract<FillHead, { kind: 'store' }>, outcome: CacheOutcome): void {
    const key = fullKey(rq.primary, head.secondary);
    head.body.released.then(async () => {
      if (responseGone(rq.res)) return;
      const obj = await ctx.store.get(key);
      if (obj) return serveStored(rq, obj, outcome);
      // not stored after all (it grew past the object limit, or the origin failed): the origin answers the range itself
      return passThrough(ctx, rq, outcome);
    }).catch((e: unknown) => fail(rq, e));
  }

  function ttlOf(obj: StoredObject): number {
    const p = obj.meta.policy;
    return p.lifetime - currentAge(p, ctx.now());
  }

  /** stale-while-revalidate: one background refresh, no client attached. */
  function refreshInBackground(rq: Rq, stale: StoredObject): void {
    if (ctx.collapser.join(rq.primary)) return;
    lead(rq, stale, true).head.then((h) => {
      if (h.kind === 'pass' && !h.claimed) h.response.body.resume();
    }, () => undefined);
  }

  function afterGet(rq: Rq, obj: StoredObject | undefined, varyMiss: boolean): void {
    if (!obj) return fetch(rq, varyMiss ? 'vary-miss' : 'uri-miss', undefined);
    const d: Lookup = decideLookup(obj.meta.policy, rq.cc, ctx.now());
    switch (d.kind) {
      case 'hit':
        return serveStored(rq, obj, { status: 'HIT', ttl: d.ttl });
      case 'updating':
        serveStored(rq, obj, { status: 'UPDATING', ttl: d.ttl });
        return refreshInBackground(rq, obj);
      case 'fetch':
        return fetch(rq, d.reason, obj);
      default: {
        const never: never = d;
        return never;
      }
    }
  }

  function afterIndex(rq: Rq, index: VariantIndex | undefined): void {
    if (rq.site.sliceSize !== undefined && !index?.keys.has(fullKey(rq.primary, secondaryKey(index?.vary ?? [], rq.req.headers)))) {
      // not stored whole: served from slices (an origin that ignores Range still gets the whole object stored)
      return void serveSliced(ctx, rq, index, rq.site.sliceSize, sliceFallback(rq)).catch((e: unknown) => fail(rq, e));
    }
    if (!index) return fetch(rq, 'uri-miss', undefined);
    const key = fullKey(rq.primary, secondaryKey(index.vary, rq.req.headers));
    const got = ctx.store.get(key);
    if (isPromise(got)) got.then((o) => afterGet(rq, o, true), (e: unknown) => fail(rq, e));
    else afterGet(rq, got, true);
  }

  function sliceFallback(rq: Rq): SliceFallback {
    return { serveWhole: (fill, reason, collapsed, leader) => serveFill(rq, fill, reason, collapsed, leader) };
  }

  function requestCacheControl(site: Site, req: IncomingMessage): RequestCacheControl {
    if (!site.honorClientNoCache) return IGNORE_CLIENT_CC;
    const cc = req.headers['cache-control'];
    const pragma = req.headers['pragma'];
    if (cc === undefined && pragma === undefined) return IGNORE_CLIENT_CC;
    const d = parseDirectives(cc);
    return { noCache: d.has('no-cache') || (cc === undefined && /no-cache/i.test(pragma ?? '')), maxAge: deltaSeconds(d, 'max-age'), minFresh: deltaSeconds(d, 'min-fresh') };
  }

  return function handle(req: IncomingMessage, res: ServerResponse): void {
    ctx.stats.requests++;
    ctx.stats.inflight++;
    const startedAt = ctx.accessLog ? performance.now() : 0;
    const client = startedAt === 0 ? undefined : req.socket.remoteAddress;
    route(req, res);
    // A hit from memory has ended by now: no listener needed for it.
    if (res.writableEnded) finish(req, res, client, startedAt, true);
    else res.once('close', () => finish(req, res, client, startedAt));
  };

  function route(req: IncomingMessage, res: ServerResponse): void {
    const refusal = framingRefusal(req);
    if (refusal) return writeError(res, refusal[0], refusal[1], ctx.id, undefined, true);
    let target = req.url ?? '/';
    // A fragment is no part of a request target (RFC 9112 §3.2); a client that sends one anyway is served
    // without it, as nginx does: never keyed, never forwarded.
    const fragment = target.indexOf('#');
    if (fragment >= 0) target = target.slice(0, fragment) || '/';
    // HTTP/2 names the host in :authority (RFC 9113 §8.3.1); Host only when a client converted from HTTP/1.1 sends it.
    let host = req.headers.host ?? (req.headers[':authority'] as string | undefined);
    if (target === '*' && req.method === 'OPTIONS') return writeServerOptions(res, ctx.id);
    if (target.charCodeAt(0) !== 47 /* '/' */) {
      // RFC 9112 §3.2.2: absolute-form names the host itself; it must still be one of ours.
      // Userinfo in it is an error (RFC 9110 §4.2.4).
      const m = /^https?:\/\/([^/?#@]+)([/?][^#]*)?$/i.exec(target);
      if (!m) return writeError(res, 400, 'Bad Request', ctx.id);
      host = m[1];
      target = m[2] === undefined ? '/' : m[2].charCodeAt(0) === 63 /* '?' */ ? `/${m[2]}` : m[2];
    }
    if (target === ctx.healthPath && (req.method === 'GET' || req.method === 'HEAD')) return writeHealth(ctx, res);
    if (req.method === 'TRACE' || req.method === 'CONNECT') return writeMethodNotAllowed(res, ctx.id);
    if (!host) return writeError(res, 400, 'Bad Request: no Host', ctx.id);
    const site = siteFor(host);
    if (!site) return writeError(res, 421, 'Misdirected Request: unknown host', ctx.id);
    const h = req.headers;
    const via = h.via;
    if (via !== undefined && viaHasLoop(via, ctx.id.via)) return writeError(res, 508, 'Loop Detected', ctx.id);
    const method = req.method ?? 'GET';
    const p: PassRequest = { req, res, site, target, host, scheme };
    if (method !== 'GET' && method !== 'HEAD') {
      return void passThrough(ctx, p, { status: 'BYPASS', reason: 'method', stored: 'method' }).catch((e: unknown) => fail(p, e));
    }
    const rule = bypassRule(site, method, target, h.cookie);
    if (rule) return void passThrough(ctx, p, { status: 'BYPASS', reason: rule, stored: 'method' }).catch((e: unknown) => fail(p, e));
    if (declaresContent(req)) return passContent(p);
    if (mayCarryHttp2Content(req)) {
      return void hasHttp2Content(req).then((has) => (has ? passContent(p) : lookup(p, method)), (e: unknown) => fail(p, e));
    }
    lookup(p, method);
  }

  /** A GET or HEAD with content goes to the origin as it is: the content may change the answer. */
  function passContent(p: PassRequest): void {
    passThrough(ctx, p, { status: 'BYPASS', reason: 'request-body', stored: 'method' }).catch((e: unknown) => fail(p, e));
  }

  /** A GET or HEAD that may be answered from the cache. */
  function lookup(p: PassRequest, method: string): void {
    const { req, site, target } = p;
    const rq: Rq = { ...p, primary: primaryKey('http', site.name, target, site.keyRules), cc: requestCacheControl(site, req) };
    if (req.headers.authorization !== undefined) {
      // RFC 9111 §3.5: never answered from cache; the response is stored only if the origin marks it shared
      if (method === 'HEAD') return void passThrough(ctx, p, { status: 'BYPASS', reason: 'authorization', stored: 'authorization' }).catch((e: unknown) => fail(p, e));
      return serveBypassFill(rq);
    }
    const index = ctx.store.variants(rq.primary);
    if (isPromise(index)) index.then((i) => afterIndex(rq, i), (e: unknown) => fail(rq, e));
    else afterIndex(rq, index);
  }

  function serveBypassFill(rq: Rq): void {
    serveFill(rq, lead(rq, undefined, false), 'authorization', false, true);
  }
}
