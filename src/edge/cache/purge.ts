import type { PurgeCommand, PurgeTarget } from '../../cluster/purge.js';
import type { CachePolicy } from './freshness.js';
import { currentAge } from './freshness.js';
import type { CacheStore, EntryMeta } from './store.js';

/** The origin's tags of a stored response: `Surrogate-Key` (space-separated) and `Cache-Tag` (comma-separated). */
export function responseTags(headers: EntryMeta['headers']): Set<string> {
  const tags = new Set<string>();
  for (const [name, value] of headers) {
    const sep = name === 'surrogate-key' ? /\s+/ : name === 'cache-tag' ? /\s*,\s*/ : undefined;
    if (!sep) continue;
    for (const t of value.trim().split(sep)) if (t) tags.add(t);
  }
  return tags;
}

/** Whether a purge target takes this stored object. URLs and prefixes compare against the primary key (`scheme://host/path?query`). */
export function purgeMatches(meta: Pick<EntryMeta, 'primaryKey' | 'headers'>, target: PurgeTarget): boolean {
  switch (target.kind) {
    case 'url':
      return target.urls.includes(meta.primaryKey);
    case 'prefix':
      return meta.primaryKey.startsWith(target.prefix);
    case 'tag': {
      const tags = responseTags(meta.headers);
      return target.tags.some((t) => tags.has(t));
    }
    case 'all':
      return true;
    default: {
      const never: never = target;
      return never;
    }
  }
}

/**
 * A soft purge: the object becomes stale now (lifetime = its current age), so
 * the next request revalidates, while its stale-while-revalidate and
 * stale-if-error windows (RFC 5861) start counting from now.
 */
export function staleNow(policy: CachePolicy, now: number): CachePolicy {
  const age = Math.floor(currentAge(policy, now));
  return policy.lifetime <= age ? policy : { ...policy, lifetime: age };
}

export interface PurgeResult {
  readonly deleted: number;
  readonly staled: number;
}

/** Applies one purge to one cache tier: delete (hard) or mark stale (soft) every matching variant. */
export async function applyPurge(store: CacheStore, purge: Pick<PurgeCommand, 'target' | 'soft'>, now: number): Promise<PurgeResult> {
  let deleted = 0;
  let staled = 0;
  const { target, soft } = purge;
  const metas = target.kind === 'url' && !soft ? [] : await store.metas();
  if (target.kind === 'url' && !soft) {
    // Every Vary variant of the URL (GET and HEAD share one entry) goes through the variant index.
    for (const url of target.urls) deleted += await store.deleteUrl(url);
    return { deleted, staled };
  }
  for (const meta of metas) {
    if (!purgeMatches(meta, target)) continue;
    if (soft) {
      const policy = staleNow(meta.policy, now);
      if (policy !== meta.policy && (await store.update({ ...meta, policy }))) staled++;
    } else if (await store.delete(meta.key)) deleted++;
  }
  return { deleted, staled };
}
