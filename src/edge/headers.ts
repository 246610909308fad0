import type { IncomingHttpHeaders } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { HeaderMap } from './cache/freshness.js';

/**
 * RFC 9110 §7.6.1 hop-by-hop fields, plus the legacy ones every proxy drops, and the
 * fields RFC 9111 §3.1 names as specific to the proxy that received them (RFC 9110
 * §11.7: they apply to the next client on the chain only, here the edge itself).
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // connection-specific (RFC 7540 §3.2.1); node's HTTP/2 layer throws on it
  'http2-settings',
  'proxy-authenticate',
  'proxy-authentication-info',
  'proxy-authorization',
]);

/** Meant for this cache only (RFC 9213 §2.1; Surrogate-Control by convention): never forwarded to clients. */
const CDN_TARGETED = new Set(['cdn-cache-control', 'surrogate-control']);

/** Fields we generate ourselves on every response. */
const REGENERATED = new Set(['age', 'content-length', 'x-cache-status']);

/** Field names listed in Connection (RFC 9110 §7.6.1): hop-by-hop too. */
function connectionTokens(h: HeaderMap): Set<string> | undefined {
  const c = h['connection'];
  if (c === undefined) return undefined;
  const text = typeof c === 'string' ? c : c.join(',');
  return new Set(text.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

export type HeaderList = readonly (readonly [string, string])[];

/**
 * The origin's response fields as a stored entry or a forwarded response keeps
 * them: hop-by-hop, Connection-named and CDN-targeted fields removed, and
 * `strip` (no-cache="…" / private="…" names) left out.
 */
export function responseHeaderList(h: HeaderMap, strip: readonly string[] = []): HeaderList {
  const conn = connectionTokens(h);
  const out: [string, string][] = [];
  for (const name in h) {
    if (HOP_BY_HOP.has(name) || CDN_TARGETED.has(name) || REGENERATED.has(name)) continue;
    if (conn?.has(name) || strip.includes(name)) continue;
    const v = h[name];
    if (v === undefined) continue;
    if (typeof v === 'string') out.push([name, v]);
    else for (const one of v) out.push([name, one]);
  }
  return out;
}

export interface ForwardContext {
  /** The client's address, appended to X-Forwarded-For. */
  readonly clientIp: string;
  /** Our Via entry, e.g. `1.1 geocdn-eu`. */
  readonly via: string;
  /** Host sent to the origin. */
  readonly host: string;
  /** Drop the client's conditionals and Range: a cache fill wants the full response. */
  readonly forFill: boolean;
  /** The scheme the client used (X-Forwarded-Proto); default http. */
  readonly proto?: 'http' | 'https';
}

/**
 * Request fields this hop sets itself (Host, Via, X-Forwarded-For, Content-Length) or
 * answers itself: `Expect: 100-continue` is node's business with the client, and undici
 * refuses to send Expect.
 */
const SET_PER_HOP = new Set(['host', 'via', 'x-forwarded-for', 'content-length', 'expect']);

/** The request fields sent to the origin (RFC 9110 §7.6: hop-by-hop out, Via and X-Forwarded-For in). */
export function originRequestHeaders(h: IncomingHttpHeaders, ctx: ForwardContext, extra?: Record<string, string>): Record<string, string | string[]> {
  const conn = connectionTokens(h);
  const out: Record<string, string | string[]> = {};
  for (const name in h) {
    // HTTP/2 pseudo-header fields (:method, :path, :authority, :scheme) are not fields to forward.
    if (HOP_BY_HOP.has(name) || conn?.has(name) || name.charCodeAt(0) === 58 /* ':' */) continue;
    if (SET_PER_HOP.has(name)) continue;
    if (ctx.forFill && FILL_DROPS.has(name)) continue;
    const v = h[name];
    if (v !== undefined) out[name] = v;
  }
  out['host'] = ctx.host;
  out['via'] = h['via'] ? `${h['via']}, ${ctx.via}` : ctx.via;
  out['x-forwarded-for'] = h['x-forwarded-for'] ? `${h['x-forwarded-for']}, ${ctx.clientIp}` : ctx.clientIp;
  // we are the first hop: a client's own X-Forwarded-Proto is not to be trusted
  out['x-forwarded-proto'] = ctx.proto ?? 'http';
  if (!ctx.forFill && h['content-length'] !== undefined) out['content-length'] = h['content-length'];
  if (extra) Object.assign(out, extra);
  return out;
}

/** Does a Via value already list this cache (RFC 9110 §7.6.3)? Then the request is looping. */
export function viaHasLoop(via: string, ours: string): boolean {
  for (const part of via.split(',')) {
    const entry = part.replace(/\(.*\)/, '').trim();
    if (entry === ours) return true;
  }
  return false;
}

const FILL_DROPS = new Set(['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range']);

/** `Name: value` lines, names as given (lower-case: valid HTTP/1.1, and what HTTP/2 needs anyway). */
export function headerLines(list: HeaderList): string {
  let s = '';
  for (const [n, v] of list) s += `${n}: ${v}\r\n`;
  return s;
}

export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
}

/** A flat [name, value, name, value…] array for `res.writeHead`. */
export function flatHeaders(list: HeaderList, extra: readonly string[]): string[] {
  const out: string[] = [];
  for (const [n, v] of list) out.push(n, v);
  for (const x of extra) out.push(x);
  return out;
}

/** Response fields node's HTTP/2 layer sends once at most: a second line of one throws instead of being sent. */
const HTTP2_SINGLE_VALUE = new Set([
  'access-control-allow-credentials',
  'access-control-max-age',
  'age',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-md5',
  'content-range',
  'content-type',
  'date',
  'etag',
  'expires',
  'last-modified',
  'location',
  'retry-after',
  'tk',
  'x-content-type-options',
]);

/**
 * The fields as an HTTP/2 response can carry them: of a field node takes once, only the first
 * line (as node's own HTTP/2 client reads such a field). An origin may send two `Date` or
 * `X-Content-Type-Options` lines, and HTTP/1.1 passes them on. (Connection-specific fields,
 * RFC 9113 §8.2.2, never get this far: they are hop-by-hop, dropped from every origin response.)
 */
export function http2Fields(list: HeaderList): HeaderList {
  let seen: Set<string> | undefined;
  let out: [string, string][] | undefined;
  for (let i = 0; i < list.length; i++) {
    const name = list[i]![0];
    let drop = false;
    if (HTTP2_SINGLE_VALUE.has(name)) {
      seen ??= new Set();
      drop = seen.has(name);
      seen.add(name);
    }
    // Copied only from the first field dropped: the common response goes through untouched.
    if (drop) out ??= list.slice(0, i) as [string, string][];
    else out?.push(list[i] as [string, string]);
  }
  return out ?? list;
}

/** RFC 9110 §15.4.5: the fields a 304 carries from the selected representation. */
const NOT_MODIFIED_FIELDS = new Set(['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified']);
export function notModifiedHeaders(list: HeaderList): HeaderList {
  return list.filter(([n]) => NOT_MODIFIED_FIELDS.has(n));
}

/**
 * RFC 9111 §4.3.4: fields of a 304 replace the stored ones of the same name
 * (Content-Length and the hop-by-hop ones excepted).
 */
export function freshenHeaders(stored: HeaderList, fresh: HeaderList): HeaderList {
  const replaced = new Set(fresh.map(([n]) => n));
  return [...stored.filter(([n]) => !replaced.has(n)), ...fresh];
}

export function headerListToMap(list: HeaderList): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [n, v] of list) {
    const prev = out[n];
    out[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}
