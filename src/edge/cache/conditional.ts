import { type HeaderMap, headerValue } from './freshness.js';
import { parseHttpDate } from './http-date.js';

/** Opaque tag of an entity-tag, without the weakness prefix: what weak comparison compares (RFC 9110 §8.8.3.2). */
function opaque(tag: string): string {
  const t = tag.trim();
  return t.startsWith('W/') ? t.slice(2) : t;
}

/**
 * RFC 9110 §13.1.2 / §13.1.3, evaluated by a cache on a stored response:
 * true when a GET/HEAD may be answered 304 Not Modified.
 */
export function notModified(req: HeaderMap, etag: string | undefined, lastModified: string | undefined): boolean {
  const inm = headerValue(req, 'if-none-match');
  if (inm !== undefined) {
    if (inm.trim() === '*') return true;
    if (etag === undefined) return false;
    const mine = opaque(etag);
    return splitTags(inm).some((t) => opaque(t) === mine);
  }
  const ims = headerValue(req, 'if-modified-since');
  if (ims === undefined || lastModified === undefined) return false;
  const since = parseHttpDate(ims);
  const modified = parseHttpDate(lastModified);
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
}

/**
 * Splits an If-None-Match list at the commas outside quotes (a quoted tag may
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
