import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Readable, pipeline } from 'node:stream';
import type { CacheOutcome } from './cache/decision.js';
import { headerValue } from './cache/freshness.js';
import { primaryKey } from './cache/keys.js';
import { ascending, selectRanges } from './cache/range.js';
import type { EdgeContext } from './context.js';
import { originRequestHeaders, responseHeaderList } from './headers.js';
import { OriginError, type OriginResponse } from './origin.js';
import { planRanges, planSink, writeRangeHead, writeUnsatisfiable } from './range-body.js';
import { writeError, writeStreamingHead } from './respond.js';
import { framesBody } from './request-checks.js';
import { ResponseOut } from './response-out.js';
import type { Site } from './sites.js';

/** Methods that do not change state (RFC 9110 §9.2.1); any other one invalidates (RFC 9111 §4.4). */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export interface PassRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly site: Site;
  readonly target: string;
  /** The request's host: from the Host field, or from an absolute-form target (RFC 9112 §3.2.2). */
  readonly host: string;
  /** The scheme the client used: the edge tells the origin in X-Forwarded-Proto. */
  readonly scheme: 'http' | 'https';
}

/** The peer address, read only when a request goes to the origin (it costs a getpeername call). */
export function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? '';
}

/**
 * The request's content as the origin gets it. node ends an HTTP/2 request whose client went away
 * mid-content (closed the connection, reset the stream) as if the content were complete, and undici
 * would send it on as a whole, shorter body (its length even taken from what was read). Through a
 * stream of its own, such a request fails instead, and the origin request is aborted, as when an
 * HTTP/1.1 client goes away.
 */
function contentOf(req: IncomingMessage): Readable {
  if ((req as { stream?: unknown }).stream === undefined) return req;
  const body = new PassThrough();
  // It may fail before undici listens: undici then finds it `errored`.
  body.on('error', () => undefined);
  const abandon = (): void => void body.destroy(new Error('the client abandoned its request'));
  if (req.aborted) abandon();
  else {
    req.once('aborted', abandon);
    req.pipe(body);
  }
  return body;
}

/** Streams an origin response to the client with backpressure; nothing is stored. */
export function streamResponse(ctx: EdgeContext, p: PassRequest, r: OriginResponse, outcome: CacheOutcome): void {
  const lengthText = headerValue(r.headers, 'content-length');
  const length = lengthText !== undefined && /^\d+$/.test(lengthText) ? Number(lengthText) : undefined;
  writeStreamingHead(p.res, r.status, responseHeaderList(r.headers), length, outcome, ctx.id, undefined);
  if (p.req.method === 'HEAD' || r.status === 204 || r.status === 304) {
    // whatever an origin sends after such a head is no body of it (undici fails it)
    r.body.on('error', () => undefined).resume();
    p.res.end();
    return;
  }
  r.body.on('data', (c: Buffer) => {
    ctx.stats.bytes += c.length;
  });
  pipeline(r.body, p.res, () => {
    // a client gone or an origin failing mid-body: both ends are closed by pipeline
  });
}

/**
 * Answers a Range request from a whole 200 that a fill fetched and will not store
 * (RFC 9110 §14.2: the client's part, cut as the bytes arrive), so the request
 * reaches the origin once, as nginx and Varnish answer it. False when the body
 * is not worth reading to the end for a part (length unknown, or over the site's
 * object limit) or the ranges cannot be cut in order: the caller asks the origin
 * for the part instead.
 */
export function streamRangesOf(ctx: EdgeContext, p: PassRequest, r: OriginResponse, outcome: CacheOutcome): boolean {
  const lengthText = headerValue(r.headers, 'content-length');
  if (r.status !== 200 || lengthText === undefined || !/^\d+$/.test(lengthText)) return false;
  const size = Number(lengthText);
  if (size > p.site.maxObjectSize) return false;
  const headers = responseHeaderList(r.headers);
  const answer = selectRanges(p.req.headers.range, headerValue(p.req.headers, 'if-range'), size, headerValue(r.headers, 'etag'), headerValue(r.headers, 'last-modified'));
  if (answer.kind === 'full') {
    streamResponse(ctx, p, r, outcome);
    return true;
  }
  if (answer.kind === 'partial' && !ascending(answer.ranges)) return false;
  const { res } = p;
  // The rest of the body is read and dropped (at most the object limit): the origin connection stays reusable.
  r.body.on('error', () => undefined);
  res.once('close', () => r.body.resume());
  if (answer.kind === 'unsatisfiable') {
    writeUnsatisfiable(res, size, headers, outcome, ctx.id, undefined);
    r.body.resume();
    return true;
  }
  const plan = planRanges(answer.ranges, size, headers);
  writeRangeHead(res, plan, outcome, ctx.id, undefined);
  if (p.req.method === 'HEAD') {
    res.end();
    r.body.resume();
    return true;
  }
  const out = new ResponseOut(res, (n) => (ctx.stats.bytes += n));
  const cut = planSink(out, plan);
  r.body.on('data', (c: Buffer) => {
    cut.write(c);
    // the client's pace; a client gone resumes the body too (it is read to the end, above)
    const behind = out.drained();
    if (behind && !out.closed) {
      r.body.pause();
      void behind.then(() => r.body.resume());
    }
  });
  r.body.on('end', () => cut.end());
  r.body.on('error', (e: Error) => cut.fail(e));
  return true;
}

/** Forwards a request as it is (method, body), for bypasses and unsafe methods. */
export async function passThrough(ctx: EdgeContext, p: PassRequest, outcome: CacheOutcome): Promise<void> {
  const { req, res, site } = p;
  const method = req.method ?? 'GET';
  const hasBody = framesBody(req);
  let r: OriginResponse;
  try {
    r = await ctx.origins.request(site.origin, {
      method,
      path: p.target,
      headers: originRequestHeaders(req.headers, { clientIp: clientIp(req), via: ctx.id.via, host: site.originHost ?? p.host, forFill: false, proto: p.scheme }),
      body: hasBody ? contentOf(req) : undefined,
    });
  } catch (e) {
    const timeout = e instanceof OriginError && e.kind === 'timeout';
    writeError(res, timeout ? 504 : 502, timeout ? 'Gateway Timeout' : 'Bad Gateway', ctx.id, outcome);
    return;
  }
  if (!SAFE.has(method) && r.status < 400) await invalidate(ctx, site, p.target, r, p.host);
  streamResponse(ctx, p, r, outcome);
}

/** RFC 9111 §4.4: the target URI, and same-origin Location / Content-Location, are invalidated. */
async function invalidate(ctx: EdgeContext, site: Site, target: string, r: OriginResponse, host: string): Promise<void> {
  const targets = [target];
  for (const field of ['location', 'content-location']) {
    const v = headerValue(r.headers, field);
    if (!v) continue;
    try {
      const base = `http://${host}${target}`;
      const u = new URL(v, base);
      // same origin only: another host could be used to purge someone else's entries
      if (u.origin === new URL(base).origin) targets.push(u.pathname + u.search);
    } catch {
      // an unparsable Location invalidates nothing
    }
  }
  for (const t of targets) await ctx.store.deleteUrl(primaryKey('http', site.name, t, site.keyRules));
}
