import type { PurgeTarget } from '../cluster/purge.js';
import { primaryKey } from './cache/keys.js';
import { normalizeHost, type SiteTable } from './sites.js';

/** `scheme://authority` and the rest (path and query; the fragment is never sent, so never keyed). */
const ABSOLUTE_URL = /^(https?):\/\/([^/?#]+)([^#]*)/i;

/** Whether a purge URL or prefix is one the edge can map to its cache keys. */
export function isPurgeUrl(url: string): boolean {
  return ABSOLUTE_URL.test(url);
}

/**
 * A purge URL as an operator writes it (the address bar's `https://`, a port, an alias,
 * any letter case) as the edge keys it: `http://` (HTTP and HTTPS share entries), the
 * site's canonical host, and for a URL the site's cache-key rules on its query. A URL of
 * no configured site keeps its path, with the host lower-cased.
 */
function canonicalUrl(url: string, sites: SiteTable, asPrefix: boolean): string {
  const m = ABSOLUTE_URL.exec(url);
  if (!m) return url;
  const host = normalizeHost(m[2]!);
  const site = sites.get(host);
  const target = m[3] || '/';
  if (!site) return `http://${host}${target}`;
  return asPrefix ? `http://${site.name}${target}` : primaryKey('http', site.name, target, site.keyRules);
}

export function canonicalPurgeTarget(target: PurgeTarget, sites: SiteTable): PurgeTarget {
  switch (target.kind) {
    case 'url':
      return { kind: 'url', urls: [...new Set(target.urls.map((u) => canonicalUrl(u, sites, false)))] };
    case 'prefix':
      return { kind: 'prefix', prefix: canonicalUrl(target.prefix, sites, true) };
    case 'tag':
    case 'all':
      return target;
    default: {
      const never: never = target;
      return never;
    }
  }
}
