import { normalizeAcceptEncoding } from './accept-encoding.js';
import type { HeaderMap } from './freshness.js';

export interface KeyRules {
  /** `*` drops the query from the key; otherwise these parameter names are dropped. */
  readonly ignoreQuery: '*' | ReadonlySet<string>;
  readonly sortQuery: boolean;
}

/**
 * The primary cache key (RFC 9111 §2): scheme, host and target. The host is the
 * site's canonical name, so aliases share entries. `target` is path + query as received.
 */
export function primaryKey(scheme: string, host: string, target: string, rules: KeyRules): string {
  const q = target.indexOf('?');
  if (q < 0) return `${scheme}://${host}${target}`;
  const path = target.slice(0, q);
  if (rules.ignoreQuery === '*') return `${scheme}://${host}${path}`;
  if (rules.ignoreQuery.size === 0 && !rules.sortQuery) return `${scheme}://${host}${target}`;
  let params = target.slice(q + 1).split('&').filter((p) => p.length > 0);
  const ignore = rules.ignoreQuery;
  if (ignore.size > 0) params = params.filter((p) => !ignore.has(paramName(p)));
  // Stable sort by name keeps the order of repeated names, which the origin may care about.
  if (rules.sortQuery) params.sort((a, b) => (paramName(a) < paramName(b) ? -1 : paramName(a) > paramName(b) ? 1 : 0));
  return params.length > 0 ? `${scheme}://${host}${path}?${params.join('&')}` : `${scheme}://${host}${path}`;
}

function paramName(p: string): string {
  const eq = p.indexOf('=');
  const raw = eq < 0 ? p : p.slice(0, eq);
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** The lower-case, sorted, de-duplicated field names of a Vary value. */
export function varyNames(vary: string | undefined): string[] {
  if (!vary) return [];
  const names = new Set<string>();
  for (const part of vary.split(',')) {
    const n = part.trim().toLowerCase();
    if (n) names.add(n);
  }
  return [...names].sort();
}

/**
 * The secondary key (RFC 9111 §4.1): the request's values of the Vary fields,
 * whitespace-normalised so `gzip,br` and `gzip, br` select the same variant;
 * Accept-Encoding reduced to the one coding served (br, gzip or identity).
 * Accept-Language is lower-cased too: language ranges are case-insensitive
 * (RFC 4647 §2). Its order is kept: servers pick the first of equal q-values.
 */
export function secondaryKey(names: readonly string[], headers: HeaderMap): string {
  if (names.length === 0) return '';
  let out = '';
  for (const n of names) {
    const v = headers[n];
    if (n === 'accept-encoding') {
      out += `\n${n}:${normalizeAcceptEncoding(v)}`;
      continue;
    }
    const text = v === undefined ? '' : typeof v === 'string' ? v : v.join(',');
    const normal = text.replace(/\s*,\s*/g, ',').trim();
    out += `\n${n}:${n === 'accept-language' ? normal.toLowerCase() : normal}`;
  }
  return out;
}

export function fullKey(primary: string, secondary: string): string {
  return secondary ? primary + secondary : primary;
}
