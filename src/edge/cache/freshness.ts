import { type Directives, deltaSeconds, fieldNames, parseDirectives, parseTargetedDirectives } from './cache-control.js';
import { parseHttpDate } from './http-date.js';

export { parseHttpDate };

/** Response or request header fields as node and undici give them: lower-case names. */
export type HeaderMap = Readonly<Record<string, string | string[] | undefined>>;

/** What a stored response allows, computed once when it is stored (or freshened by a 304). */
export interface CachePolicy {
  /** Freshness lifetime in seconds (RFC 9111 §4.2.1). */
  readonly lifetime: number;
  /** corrected_initial_age in seconds (RFC 9111 §4.2.3). */
  readonly initialAge: number;
  /** When the response was received, ms since the epoch. */
  readonly responseTime: number;
  /** RFC 5861 windows, seconds; 0 when absent. */
  readonly staleWhileRevalidate: number;
  readonly staleIfError: number;
  /** must-revalidate, proxy-revalidate or bare no-cache: never served stale, not even on error. */
  readonly mustRevalidate: boolean;
  /** s-maxage implies proxy-revalidate for shared caches (§5.2.2.10): no site grace, explicit stale-* still apply. */
  readonly noGrace: boolean;
  /** Bare no-cache (§5.2.2.4): stored, but validated before every use. */
  readonly noCache: boolean;
}

export type NoStoreReason =
  | 'method'
  | 'status'
  | 'no-store'
  | 'private'
  | 'request-no-store'
  | 'authorization'
  | 'vary-star'
  | 'set-cookie'
  | 'no-freshness'
  | 'too-large';

export type StoreVerdict =
  | { readonly store: true; readonly policy: CachePolicy; readonly stripHeaders: readonly string[] }
  | { readonly store: false; readonly reason: NoStoreReason };

export interface ResponseFacts {
  readonly method: string;
  readonly status: number;
  readonly headers: HeaderMap;
  /** The request carried Authorization. */
  readonly authorized: boolean;
  readonly requestNoStore: boolean;
  readonly requestTime: number;
  readonly responseTime: number;
  readonly heuristicMax: number;
}

/** RFC 9110 §15.1: statuses cacheable by default. 206 is left out: we store whole objects only. */
const HEURISTIC_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);
/**
 * Statuses whose semantics this cache implements: what `must-understand` asks
 * about (RFC 9111 §5.2.2.3). Any other final status may still be stored when
 * the response has explicit freshness (§3).
 */
const UNDERSTOOD_STATUS = new Set([...HEURISTIC_STATUS, 302, 303, 307, 400, 403, 500, 502, 503, 504]);

export function headerValue(h: HeaderMap, name: string): string | undefined {
  const v = h[name];
  return v === undefined ? undefined : typeof v === 'string' ? v : v.join(', ');
}

/**
 * RFC 9213: CDN-Cache-Control, then Surrogate-Control, are meant for us and
 * replace Cache-Control + Expires, when valid and non-empty (§2.1): an
 * invalid CDN-Cache-Control is skipped, not half-read.
 */
export function cacheDirectives(h: HeaderMap): { directives: Directives; targeted: boolean } {
  const cdn = parseTargetedDirectives(h['cdn-cache-control']);
  if (cdn) return { directives: cdn, targeted: true };
  // Surrogate-Control predates Structured Fields: read like Cache-Control
  const surrogate = parseDirectives(h['surrogate-control']);
  if (surrogate.size > 0) return { directives: surrogate, targeted: true };
  return { directives: parseDirectives(h['cache-control']), targeted: false };
}

/** RFC 9111 §3 (may we store it?) and §4.2 (for how long), as a shared cache. */
export function evaluateResponse(f: ResponseFacts): StoreVerdict {
  if (f.method !== 'GET') return { store: false, reason: 'method' };
  // §3: only final responses; 206 because we store whole objects, 304 because it is no representation
  if (f.status < 200 || f.status > 599 || f.status === 206 || f.status === 304) return { store: false, reason: 'status' };
  if (f.requestNoStore) return { store: false, reason: 'request-no-store' };
  const { directives: d, targeted } = cacheDirectives(f.headers);
  // §5.2.2.3: must-understand limits storing to caches that implement the status, and then overrides no-store
  const mustUnderstand = d.has('must-understand');
  if (mustUnderstand && !UNDERSTOOD_STATUS.has(f.status)) return { store: false, reason: 'status' };
  if (d.has('no-store') && !mustUnderstand) return { store: false, reason: 'no-store' };
  const privateFields = fieldNames(d, 'private');
  if (d.has('private') && !privateFields) return { store: false, reason: 'private' };
  const sMaxAge = deltaSeconds(d, 's-maxage');
  const explicitlyShared = d.has('public') || sMaxAge !== undefined || d.has('must-revalidate');
  // §3.5: a response to an authorized request is stored only when the origin says it is shared
  if (f.authorized && !explicitlyShared) return { store: false, reason: 'authorization' };
  const vary = headerValue(f.headers, 'vary');
  if (vary && vary.split(',').some((v) => v.trim() === '*')) return { store: false, reason: 'vary-star' };

  const noCacheFields = fieldNames(d, 'no-cache');
  const stripHeaders = [...(noCacheFields ?? []), ...(privateFields ?? [])];
  if (f.headers['set-cookie'] !== undefined && !stripHeaders.includes('set-cookie')) {
    return { store: false, reason: 'set-cookie' };
  }

  const date = parseHttpDate(headerValue(f.headers, 'date'), f.responseTime);
  const dateValue = Number.isNaN(date) ? f.responseTime : date;
  let lifetime: number | undefined = sMaxAge ?? deltaSeconds(d, 'max-age');
  if (lifetime === undefined && !targeted) {
    const expiresText = headerValue(f.headers, 'expires');
    if (expiresText !== undefined) {
      const expires = parseHttpDate(expiresText, f.responseTime);
      lifetime = Number.isNaN(expires) ? 0 : Math.max(0, Math.floor((expires - dateValue) / 1000));
    }
  }
  const explicit = lifetime !== undefined || d.has('public') || d.has('no-cache');
  if (lifetime === undefined) {
    if (!HEURISTIC_STATUS.has(f.status) && !d.has('public')) return { store: false, reason: 'status' };
    lifetime = heuristicLifetime(f.headers, dateValue, f.heuristicMax);
  }
  const hasValidator = f.headers['etag'] !== undefined || f.headers['last-modified'] !== undefined;
  if (!explicit && lifetime === 0 && !hasValidator) return { store: false, reason: 'no-freshness' };

  const mustRevalidate = d.has('must-revalidate') || d.has('proxy-revalidate') || (d.has('no-cache') && !noCacheFields);
  return {
    store: true,
    stripHeaders,
    policy: {
      lifetime,
      initialAge: initialAge(f.headers, dateValue, f.requestTime, f.responseTime),
      responseTime: f.responseTime,
      staleWhileRevalidate: deltaSeconds(d, 'stale-while-revalidate') ?? 0,
      staleIfError: deltaSeconds(d, 'stale-if-error') ?? 0,
      mustRevalidate,
      noGrace: mustRevalidate || sMaxAge !== undefined,
      noCache: d.has('no-cache') && !noCacheFields,
    },
  };
}

/** RFC 9111 §4.2.2: 10% of the time since Last-Modified, capped. */
function heuristicLifetime(h: HeaderMap, dateValue: number, cap: number): number {
  const lm = parseHttpDate(headerValue(h, 'last-modified'), dateValue);
  if (Number.isNaN(lm) || lm >= dateValue) return 0;
  return Math.min(cap, Math.floor((dateValue - lm) / 10_000));
}

/** RFC 9111 §4.2.3: corrected_initial_age. */
function initialAge(h: HeaderMap, dateValue: number, requestTime: number, responseTime: number): number {
  const ageValue = ageSeconds(headerValue(h, 'age'));
  const apparentAge = Math.max(0, (responseTime - dateValue) / 1000);
  const responseDelay = Math.max(0, (responseTime - requestTime) / 1000);
  return Math.max(apparentAge, ageValue + responseDelay);
}

/**
 * The Age field's delta-seconds (RFC 9111 §5.1); 0 when absent or invalid.
 * A list (several lines, or "7200, 0" on one) is invalid as a whole, but its
 * first member is what the sender most likely meant: taking it never makes a
 * response look younger than the first Age says, so an old one is not reused.
 */
function ageSeconds(text: string | undefined): number {
  if (text === undefined) return 0;
  const comma = text.indexOf(',');
  const first = (comma < 0 ? text : text.slice(0, comma)).trim();
  return /^\d+$/.test(first) ? Math.min(Number(first), 2147483648) : 0;
}

/** current_age in whole seconds (§4.2.3), as the Age field carries it. */
export function currentAge(p: CachePolicy, now: number): number {
  return Math.floor(p.initialAge + Math.max(0, now - p.responseTime) / 1000);
}

/** Seconds of freshness left; negative once stale. */
export function remainingTtl(p: CachePolicy, now: number): number {
  return p.lifetime - currentAge(p, now);
}
