import { type HeaderMap, headerValue } from './freshness.js';
import { parseHttpDate } from './http-date.js';

/** Opaque tag of an entity-tag, without the weakness prefix: what weak comparison compares (RFC 9110 §8.8.3.2). */
function opaque(tag: string): string {
  const t = tag.trim();
  return t.startsWith('W/') ? t.slice(2) : t;
}

/** RFC 9110 §8.8.3.2 strong comparison: neither tag weak, and the same characters. */
function strongMatch(tag: string, etag: string): boolean {
  const t = tag.trim();
  return !t.startsWith('W/') && !etag.startsWith('W/') && t === etag;
}

/** What the preconditions of a GET/HEAD make of a response we hold (RFC 9110 §13.2.2). */
export type Precondition = 'proceed' | 'not-modified' | 'failed';

/**
 * RFC 9110 §13.2.2, evaluated by a cache on a stored (or just fetched) response
 * of status `status`: If-Match, else If-Unmodified-Since (412 when false);
 * then If-None-Match, else If-Modified-Since (304 when false). Preconditions
 * are ignored on a response that would not be 2xx (§13.2.1), and a date that
 * is not an HTTP-date is no condition at all.
 */
export function evaluatePreconditions(req: HeaderMap, status: number, etag: string | undefined, lastModified: string | undefined): Precondition {
  if (status < 200 || status > 299) return 'proceed';
  const im = headerValue(req, 'if-match');
  if (im !== undefined) {
    if (im.trim() !== '*' && (etag === undefined || !splitTags(im).some((t) => strongMatch(t, etag)))) return 'failed';
  } else {
    const ius = parseHttpDate(headerValue(req, 'if-unmodified-since'));
    const modified = parseHttpDate(lastModified);
    if (!Number.isNaN(ius) && !Number.isNaN(modified) && modified > ius) return 'failed';
  }
  const inm = headerValue(req, 'if-none-match');
  if (inm !== undefined) {
    if (inm.trim() === '*') return 'not-modified';
    if (etag === undefined) return 'proceed';
    const mine = opaque(etag);
    return splitTags(inm).some((t) => opaque(t) === mine) ? 'not-modified' : 'proceed';
  }
  const since = parseHttpDate(headerValue(req, 'if-modified-since'));
  const modified = parseHttpDate(lastModified);
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since ? 'not-modified' : 'proceed';
}

/** Does the request carry any precondition evaluated by `evaluatePreconditions`? (Most carry none: skip the work.) */
export function hasPreconditions(req: HeaderMap): boolean {
  return req['if-none-match'] !== undefined || req['if-modified-since'] !== undefined || req['if-match'] !== undefined || req['if-unmodified-since'] !== undefined;
}

/**
 * Splits an entity-tag list at the commas outside quotes (a quoted tag may
 * hold one). Members are kept as sent, malformed ones too (an unquoted `abc`):
 * an origin that sends such an ETag gets it back from its clients, and a 304
 * for an exact match of what it sent is what it means.
 */
function splitTags(v: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= v.length; i++) {
    const c = v[i];
    if (c === '"') quoted = !quoted;
    else if (i === v.length || (c === ',' && !quoted)) {
      const t = v.slice(start, i).trim();
      if (t) out.push(t);
      start = i + 1;
    }
  }
  return out;
}

/** Request fields a cache fill must not pass on: the fill wants the full 200 for everyone. */
export const CLIENT_CONDITIONALS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range'] as const;
