import type { EdgeSection, SiteConfig, SitesSection } from '../config/edge-schema.js';
import type { KeyRules } from './cache/keys.js';

/** A configured site, compiled once at load: nothing here is parsed per request. */
export interface Site {
  readonly name: string;
  /** `http://host:port` of the origin. */
  readonly origin: string;
  readonly originHost: string | undefined;
  readonly keyRules: KeyRules;
  readonly bypassPrefixes: readonly string[];
  readonly bypassCookies: readonly string[];
  readonly bypassMethods: ReadonlySet<string>;
  readonly graceSeconds: number;
  readonly honorClientNoCache: boolean;
  readonly maxObjectSize: number;
  /** Objects are filled and stored in slices of this many bytes; undefined: whole objects. */
  readonly sliceSize: number | undefined;
}

/**
 * Host name → site, as the running edge knows it. A reload replaces its contents in one
 * synchronous step: every reader (handlers, the fast path, purges) sees the new sites on
 * its next lookup, and a request under way keeps the `Site` it started with.
 */
export class SiteTable extends Map<string, Site> {
  /** Bumped by each `replaceWith`, so lookups can drop what they remembered. */
  generation = 0;

  replaceWith(next: ReadonlyMap<string, Site>): void {
    this.clear();
    for (const [host, site] of next) this.set(host, site);
    this.generation++;
  }
}

function compileSite(name: string, c: SiteConfig, edge: EdgeSection): Site {
  return {
    name,
    origin: c.origin.replace(/\/$/, ''),
    originHost: c.origin_host,
    keyRules: {
      ignoreQuery: c.cache_key.ignore_query === '*' ? '*' : new Set(c.cache_key.ignore_query),
      sortQuery: c.cache_key.sort_query,
    },
    // `/admin*` and `/admin` both mean "starts with /admin"
    bypassPrefixes: c.bypass.paths.map((p) => (p.endsWith('*') ? p.slice(0, -1) : p)),
    bypassCookies: c.bypass.cookies,
    bypassMethods: new Set(c.bypass.methods),
    graceSeconds: c.grace_s,
    honorClientNoCache: c.honor_client_no_cache,
    maxObjectSize: c.max_object_size ?? Math.max(edge.max_object_size, edge.disk?.max_object_size ?? 0),
    // a slice is one cache object: it cannot be larger than one may be
    sliceSize: c.slice_size === undefined ? undefined : Math.min(c.slice_size, c.max_object_size ?? Math.max(edge.max_object_size, edge.disk?.max_object_size ?? 0)),
  };
}

/** Host name (lower-case, no port, no trailing dot) → site, aliases included. */
export function buildSiteTable(sites: SitesSection, edge: EdgeSection): SiteTable {
  const table = new SiteTable();
  for (const [name, c] of Object.entries(sites)) {
    const site = compileSite(normalizeHost(name), c, edge);
    for (const h of [name, ...c.aliases]) table.set(normalizeHost(h), site);
  }
  return table;
}

/**
 * The site for a Host field value as sent (any case, port, trailing dot), with the
 * answers remembered: the same few values come on every request. Bounded: past 1024
 * distinct values (a client making them up) it starts over, and after a reload.
 */
export function siteLookup(sites: SiteTable): (host: string) => Site | undefined {
  const seen = new Map<string, Site | null>();
  let generation = sites.generation;
  return (host) => {
    if (generation !== sites.generation) {
      seen.clear();
      generation = sites.generation;
    }
    let s = seen.get(host);
    if (s === undefined) {
      if (seen.size > 1024) seen.clear();
      s = sites.get(normalizeHost(host)) ?? null;
      seen.set(host, s);
    }
    return s ?? undefined;
  };
}

/** The host part of a Host field value, lower-cased, without port or trailing dot. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.indexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** Does this request skip the cache by the site's rules? Returns the rule that matched. */
export function bypassRule(site: Site, method: string, path: string, cookie: string | undefined): 'rule-path' | 'rule-cookie' | 'rule-method' | undefined {
  if (site.bypassMethods.has(method)) return 'rule-method';
  for (const p of site.bypassPrefixes) if (path.startsWith(p)) return 'rule-path';
  if (cookie && site.bypassCookies.length > 0) {
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      const name = (eq < 0 ? part : part.slice(0, eq)).trim();
      if (site.bypassCookies.includes(name)) return 'rule-cookie';
    }
  }
  return undefined;
}
