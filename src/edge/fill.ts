import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { normalizeAcceptEncoding } from './cache/accept-encoding.js';
import type { BodyBroadcast, Fill } from './cache/collapse.js';
import { type NotStoredReason, type StaleReason, mayServeStaleOnError } from './cache/decision.js';
import { type CachePolicy, evaluateResponse, headerValue } from './cache/freshness.js';
import { fullKey, secondaryKey, varyNames } from './cache/keys.js';
import { parseContentRange } from './cache/range.js';
import { sliceBounds, sliceKey } from './cache/slices.js';
import type { StoredObject, StoreWriter } from './cache/store.js';
import { createEncoder, encodedFields, encodingPlan, keepEncodedFields } from './compress.js';
import type { EdgeContext } from './context.js';
import { type HeaderList, freshenHeaders, headerListToMap, originRequestHeaders, responseHeaderList } from './headers.js';
import { OriginError, type OriginResponse } from './origin.js';
import type { Site } from './sites.js';

/** The bytes of one slice in the whole object (a 206's Content-Range). */
export interface SliceExtent {
  readonly index: number;
  readonly start: number;
  readonly end: number;
  /** Length of the whole object. */
  readonly size: number;
}

/** How a fill turned out once the origin's head arrived: what every joined request serves. */
export type FillHead =
  | {
      readonly kind: 'store';
      readonly status: number;
      /** The fields as stored, which joiners get. */
      readonly headers: HeaderList;
      /** The fields the leader gets: also those stored copies must leave out (no-cache="set-cookie"). */
      readonly leaderHeaders: HeaderList;
      readonly contentLength: number | undefined;
      readonly policy: CachePolicy;
      readonly etag: string | undefined;
      readonly lastModified: string | undefined;
      readonly vary: readonly string[];
      /** Secondary key of the request that led the fill: joiners with another one fetch on their own. */
      readonly secondary: string;
      readonly body: BodyBroadcast;
      /** A slice fill that the origin answered with its 206: where the bytes sit in the whole object. */
      readonly slice?: SliceExtent;
    }
  | { readonly kind: 'revalidated'; readonly obj: StoredObject }
  | { readonly kind: 'stale'; readonly obj: StoredObject; readonly reason: StaleReason; readonly fwdStatus: number | undefined }
  /** Not cacheable: the leader streams this response; everyone else goes to the origin at once. */
  | { readonly kind: 'pass'; readonly reason: NotStoredReason; readonly response: OriginResponse; claimed: boolean }
  | { readonly kind: 'error'; readonly status: 502 | 504; readonly reason: StaleReason; readonly message: string };

export interface FillSpec {
  readonly site: Site;
  readonly primary: string;
  /** Path and query sent to the origin, as the client sent them. */
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
  /** The request's host (Host field or absolute-form target). */
  readonly host: string;
  readonly scheme: 'http' | 'https';
  readonly clientIp: string;
  /** The stored response being refreshed, for validators and stale-if-error. */
  readonly stale: StoredObject | undefined;
  readonly mayStore: boolean;
  /** Fetch only this slice (`Range: bytes=a-b`) and store it under its own key; an origin that answers 200 fills the whole object instead. */
  readonly slice?: { readonly index: number; readonly size: number };
}

/** Runs one origin fetch for a fill: settles its head, then pumps the body to the store and every joiner. */
export async function runFill(ctx: EdgeContext, fill: Fill<FillHead>, spec: FillSpec): Promise<void> {
  const { site, stale } = spec;
  // A purge recorded after this point and matching the response keeps it out of the store.
  const since = ctx.fence.position;
  // The origin is asked for the coding the variant is keyed by (Varnish's normalisation): never for one we could not store apart.
  const coding = normalizeAcceptEncoding(spec.headers['accept-encoding']);
  const extra: Record<string, string> = { 'accept-encoding': coding };
  if (stale?.meta.etag) extra['if-none-match'] = stale.meta.etag;
  else if (stale?.meta.lastModified) extra['if-modified-since'] = stale.meta.lastModified;
  if (spec.slice) {
    const b = sliceBounds(spec.slice.index, spec.slice.size);
    extra['range'] = `bytes=${b.start}-${b.end}`;
  }
  let res: OriginResponse;
  try {
    res = await ctx.origins.request(site.origin, {
      method: 'GET',
      path: spec.target,
      headers: originRequestHeaders(spec.headers, { clientIp: spec.clientIp, via: ctx.id.via, host: site.originHost ?? spec.host, forFill: true, proto: spec.scheme }, extra),
    });
  } catch (e) {
    const kind = e instanceof OriginError ? e.kind : 'unreachable';
    const reason: StaleReason = kind === 'timeout' ? 'origin-timeout' : 'origin-unreachable';
    ctx.log.warn({ origin: site.origin, err: (e as Error).message }, 'origin request failed');
    if (stale && mayServeStaleOnError(stale.meta.policy, site.graceSeconds, ctx.now())) fill.settle({ kind: 'stale', obj: stale, reason, fwdStatus: undefined });
    else fill.settle({ kind: 'error', status: kind === 'timeout' ? 504 : 502, reason, message: kind === 'timeout' ? 'Gateway Timeout' : 'Bad Gateway' });
    ctx.collapser.done(fill);
    return;
  }

  if (res.status === 204 || res.status === 304) res = withoutContent(res);

  if (res.status >= 500 && stale && mayServeStaleOnError(stale.meta.policy, site.graceSeconds, ctx.now())) {
    res.body.resume();
    fill.settle({ kind: 'stale', obj: stale, reason: 'origin-5xx', fwdStatus: res.status });
    ctx.collapser.done(fill);
    return;
  }

  if (res.status === 304 && stale) {
    res.body.resume();
    const obj = await freshen(ctx, spec, stale, res);
    fill.settle(obj ? { kind: 'revalidated', obj } : { kind: 'revalidated', obj: stale });
    ctx.collapser.done(fill);
    return;
  }

  let slice: SliceExtent | undefined;
  if (spec.slice && res.status === 206) {
    const cr = parseContentRange(headerValue(res.headers, 'content-range'));
    const want = sliceBounds(spec.slice.index, spec.slice.size);
    if (!cr || cr.start !== want.start || cr.end !== Math.min(want.end, cr.size - 1)) {
      // Not the bytes we asked for: storing them as this slice would corrupt the object.
      res.body.resume();
      ctx.log.warn({ origin: site.origin, path: spec.target, range: headerValue(res.headers, 'content-range') }, 'origin answered a slice with other bytes');
      fill.settle({ kind: 'error', status: 502, reason: 'origin-5xx', message: 'Bad Gateway: origin sent another range' });
      ctx.collapser.done(fill);
      return;
    }
    slice = { index: spec.slice.index, start: cr.start, end: cr.end, size: cr.size };
  }

  const authorized = spec.headers.authorization !== undefined;
  const verdict = evaluateResponse({
    method: 'GET',
    // RFC 9111 §3.3: a cache may store a partial response; its cacheability is the representation's
    status: slice ? 200 : res.status,
    headers: res.headers,
    authorized,
    requestNoStore: false,
    requestTime: res.requestTime,
    responseTime: res.responseTime,
    heuristicMax: ctx.heuristicMax,
  });
  const lengthText = headerValue(res.headers, 'content-length');
  const contentLength = lengthText !== undefined && /^\d+$/.test(lengthText) ? Number(lengthText) : undefined;
  const pass = (reason: NotStoredReason): void => {
    fill.settle({ kind: 'pass', reason, response: res, claimed: false });
    ctx.collapser.done(fill);
  };
  if (!verdict.store) return pass(verdict.reason);
  if (!spec.mayStore) return pass('authorization');
  if (contentLength !== undefined && contentLength > site.maxObjectSize) return pass('too-large');

  // Compression: Accept-Encoding joins the key of responses the edge would compress or the origin encoded.
  const plan = encodingPlan(ctx.compression, res.status, res.headers, contentLength, coding);
  const originVary = headerValue(res.headers, 'vary');
  const vary = varyNames(plan.vary ? (originVary ? `${originVary},accept-encoding` : 'accept-encoding') : originVary);
  const secondary = secondaryKey(vary, spec.headers);
  const headers = encodedFields(withDate(responseHeaderList(res.headers, verdict.stripHeaders), res.responseTime), plan);
  const originEtag = headerValue(res.headers, 'etag');
  const etag = plan.encode && originEtag !== undefined ? headerValue(headerListToMap(headers), 'etag') : originEtag;
  const lastModified = headerValue(res.headers, 'last-modified');
  const bodyLength = plan.encode ? undefined : contentLength;
  const key = slice ? sliceKey(fullKey(spec.primary, secondary), slice.index) : fullKey(spec.primary, secondary);
  const writer = ctx.store.open({ key, primaryKey: spec.primary, vary, status: res.status, headers, policy: verdict.policy, etag, lastModified }, bodyLength);
  if (!writer) return pass('too-large');
  if (stale && stale.meta.key !== key) {
    try {
      await ctx.store.delete(stale.meta.key);
    } catch (e) {
      writer.abort(); // its temp file and handle go with it
      throw e;
    }
  }
  const body = fill.body;
  const leaderHeaders = verdict.stripHeaders.length > 0 ? encodedFields(withDate(responseHeaderList(res.headers), res.responseTime), plan) : headers;
  fill.settle({ kind: 'store', status: res.status, headers, leaderHeaders, contentLength: bodyLength, policy: verdict.policy, etag, lastModified, vary, secondary, body, slice });
  let source: Readable = res.body;
  if (plan.encode) {
    const encoder = createEncoder(plan.encode, ctx.compression, contentLength);
    res.body.on('error', (e: Error) => encoder.destroy(e));
    source = res.body.pipe(encoder);
  }
  // Clients read a body of known length back from its file; one without could outgrow the limit and
  // stop being written, cutting whoever reads it there: that body stays in memory (up to the limit).
  if (writer.growing && bodyLength !== undefined) body.spillTo(writer.growing);
  pump(ctx, fill, source, writer, site.maxObjectSize, { since, key, meta: { primaryKey: spec.primary, headers } });
}

/** What a fill checks against the purges recorded since it began, before and after it commits. */
interface Fenced {
  readonly since: number;
  readonly key: string;
  readonly meta: { readonly primaryKey: string; readonly headers: HeaderList };
}

/** Moves the body (the origin's, or its compressed form) to the store and every attached client. */
function pump(ctx: EdgeContext, fill: Fill<FillHead>, source: Readable, writer: StoreWriter, limit: number, fenced: Fenced): void {
  let size = 0;
  let storing = true;
  source.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (storing && size > limit) {
      // Too large after all (no Content-Length): stop storing, keep streaming to who is attached.
      storing = false;
      writer.abort();
      ctx.collapser.done(fill);
    }
    if (storing) {
      writer.write(chunk);
      // A disk slower than the origin: the origin is read at the disk's pace (clients may be reading the file).
      const behind = writer.drained?.();
      if (behind) {
        source.pause();
        void behind.then(() => source.resume());
      }
    }
    fill.body.push(chunk);
  });
  source.on('end', () => {
    // The clients' responses end with the last byte; newcomers still join the fill until the store holds it.
    fill.body.end();
    if (!storing) return;
    if (ctx.fence.purgedSince(fenced.since, fenced.meta)) {
      writer.abort();
      ctx.collapser.done(fill);
      return;
    }
    Promise.resolve(writer.commit()).then(
      async () => {
        // A purge that came while the store committed did not see this object: take it out again.
        if (ctx.fence.purgedSince(fenced.since, fenced.meta)) await ctx.store.delete(fenced.key);
        ctx.collapser.done(fill);
      },
      (e: unknown) => {
        ctx.log.error({ err: (e as Error).message }, 'store commit failed');
        ctx.collapser.done(fill);
      },
    );
  });
  source.on('error', (e: Error) => {
    // A partial object is never stored (the writer is aborted before commit).
    writer.abort();
    ctx.collapser.done(fill);
    fill.body.fail(e);
  });
}

/**
 * A 204 or 304 ends at its head (RFC 9112 §6.3): bytes an origin sends after it are no body of it, and
 * undici fails the body they make too long. The response goes on with an empty body, and no Content-Length
 * for a 204 (RFC 9110 §8.6); the connection those bytes were sent on is dropped.
 */
function withoutContent(res: OriginResponse): OriginResponse {
  res.body.on('error', () => undefined).destroy();
  const headers = { ...res.headers };
  if (res.status === 204) delete headers['content-length'];
  return { ...res, headers, body: Readable.from([]) };
}

/** RFC 9111 §4.3.4: a 304 freshens the stored response's fields and freshness. */
async function freshen(ctx: EdgeContext, spec: FillSpec, stale: StoredObject, res: OriginResponse): Promise<StoredObject | undefined> {
  const headers = keepEncodedFields(stale.meta, freshenHeaders(stale.meta.headers, responseHeaderList(res.headers)));
  const verdict = evaluateResponse({
    method: 'GET',
    status: stale.meta.status,
    headers: headerListToMap(headers),
    authorized: spec.headers.authorization !== undefined,
    requestNoStore: false,
    requestTime: res.requestTime,
    responseTime: res.responseTime,
    heuristicMax: ctx.heuristicMax,
  });
  if (!verdict.store) {
    await ctx.store.delete(stale.meta.key);
    return undefined;
  }
  const stripped = headers.filter(([n]) => !verdict.stripHeaders.includes(n));
  return ctx.store.update({ ...stale.meta, headers: withDate(stripped, res.responseTime), policy: verdict.policy, etag: headerValue(headerListToMap(stripped), 'etag') ?? stale.meta.etag, lastModified: headerValue(res.headers, 'last-modified') ?? stale.meta.lastModified });
}

/** RFC 9110 §6.6.1: a cache adds Date when the origin sent none. */
function withDate(list: HeaderList, responseTime: number): HeaderList {
  if (list.some(([n]) => n === 'date')) return list;
  return [...list, ['date', new Date(responseTime).toUTCString()]];
}
