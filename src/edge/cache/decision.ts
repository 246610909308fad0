import { type CachePolicy, type NoStoreReason, currentAge, remainingTtl } from './freshness.js';

/** nginx's `$upstream_cache_status` vocabulary, exactly. */
export type CacheStatus = 'MISS' | 'BYPASS' | 'EXPIRED' | 'STALE' | 'UPDATING' | 'REVALIDATED' | 'HIT';

export type BypassReason = 'method' | 'rule-path' | 'rule-cookie' | 'rule-method' | 'authorization' | 'range' | 'request-body';
export type RefreshReason = 'stale' | 'no-cache' | 'client-no-cache' | 'client-max-age' | 'client-min-fresh';
export type StaleReason = 'origin-unreachable' | 'origin-timeout' | 'origin-5xx';
/** Why a forwarded response did not end up in the cache. */
export type NotStoredReason = NoStoreReason | 'origin-error' | 'aborted';

/** What to do with a stored response for a request (bypass rules were applied before the lookup). */
export type Lookup =
  | { readonly kind: 'hit'; readonly ttl: number }
  | { readonly kind: 'updating'; readonly ttl: number }
  | { readonly kind: 'fetch'; readonly reason: 'uri-miss' | 'vary-miss' | RefreshReason };

/**
 * What the client was served: every response gets exactly one. Outcomes that
 * did not come fresh from the cache carry the reason.
 */
export type CacheOutcome =
  | { readonly status: 'HIT'; readonly ttl: number }
  | { readonly status: 'UPDATING'; readonly ttl: number }
  | { readonly status: 'REVALIDATED'; readonly ttl: number }
  | { readonly status: 'STALE'; readonly reason: StaleReason; readonly fwdStatus: number | undefined; readonly ttl: number }
  | { readonly status: 'MISS'; readonly reason: 'uri-miss' | 'vary-miss'; readonly collapsed: boolean; readonly stored: true | NotStoredReason }
  | { readonly status: 'EXPIRED'; readonly reason: RefreshReason; readonly collapsed: boolean; readonly stored: true | NotStoredReason }
  | { readonly status: 'BYPASS'; readonly reason: BypassReason; readonly stored: true | NotStoredReason };

export interface RequestCacheControl {
  /** `Cache-Control: no-cache` / `Pragma: no-cache`, when the site honours it. */
  readonly noCache: boolean;
  /** Request `max-age`, when the site honours it. */
  readonly maxAge: number | undefined;
  /** Request `min-fresh` (RFC 9111 §5.2.1.3), when the site honours it: seconds of freshness the client still wants. */
  readonly minFresh?: number | undefined;
}

/** RFC 9111 §4: may a stored response be used for this request at `now`? */
export function decideLookup(policy: CachePolicy, req: RequestCacheControl, now: number): Lookup {
  if (policy.noCache) return { kind: 'fetch', reason: 'no-cache' };
  if (req.noCache) return { kind: 'fetch', reason: 'client-no-cache' };
  if (req.maxAge !== undefined && currentAge(policy, now) > req.maxAge) return { kind: 'fetch', reason: 'client-max-age' };
  const ttl = remainingTtl(policy, now);
  if (ttl > 0 && req.minFresh !== undefined && ttl < req.minFresh) return { kind: 'fetch', reason: 'client-min-fresh' };
  if (ttl > 0) return { kind: 'hit', ttl };
  // RFC 5861 §3: serve stale once while one request refreshes it
  if (!policy.mustRevalidate && -ttl < policy.staleWhileRevalidate) return { kind: 'updating', ttl };
  return { kind: 'fetch', reason: 'stale' };
}

/** RFC 5861 §4 stale-if-error, or the site's grace: may this entry stand in for a failed origin? */
export function mayServeStaleOnError(policy: CachePolicy, graceSeconds: number, now: number): boolean {
  if (policy.mustRevalidate) return false;
  const staleFor = -remainingTtl(policy, now);
  if (staleFor <= 0) return true;
  if (staleFor <= policy.staleIfError) return true;
  return !policy.noGrace && staleFor <= graceSeconds;
}

/** The RFC 9211 Cache-Status member of this cache for an outcome. */
export function cacheStatusValue(name: string, o: CacheOutcome): string {
  switch (o.status) {
    case 'HIT':
    case 'UPDATING':
      return `${name}; hit; ttl=${o.ttl}`;
    case 'REVALIDATED':
      return `${name}; fwd=stale; fwd-status=304; ttl=${o.ttl}`;
    case 'STALE':
      return `${name}; hit; fwd=stale${o.fwdStatus !== undefined ? `; fwd-status=${o.fwdStatus}` : ''}; ttl=${o.ttl}; detail=${o.reason}`;
    case 'MISS':
      return `${name}; fwd=${o.reason}${o.collapsed ? '; collapsed' : ''}${storedParam(o.stored)}`;
    case 'EXPIRED':
      return `${name}; fwd=${o.reason === 'stale' || o.reason === 'no-cache' ? 'stale' : 'request'}${o.collapsed ? '; collapsed' : ''}${storedParam(o.stored)}`;
    case 'BYPASS':
      return `${name}; fwd=bypass${o.stored === true ? '; stored' : ''}; detail=${o.reason}`;
    default: {
      const never: never = o;
      return never;
    }
  }
}

function storedParam(stored: true | NotStoredReason): string {
  return stored === true ? '; stored' : `; detail=${stored}`;
}
