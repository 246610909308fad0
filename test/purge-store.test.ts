import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { remainingTtl } from '../src/edge/cache/freshness.js';
import { createMemoryStore } from '../src/edge/cache/memory-store.js';
import { applyPurge, purgeMatches, responseTags, staleNow } from '../src/edge/cache/purge.js';
import type { CacheStore, EntryDraft } from '../src/edge/cache/store.js';
import { draft } from './helpers/edge-store-suite.js';

const T0 = Date.UTC(2026, 0, 1);

function put(store: CacheStore, d: EntryDraft): void {
  const w = store.open(d, 1)!;
  w.write(Buffer.from('x'));
  void w.commit();
}

function tagged(url: string, headers: [string, string][], secondary = ''): EntryDraft {
  const d = draft(url, secondary, secondary ? ['accept-encoding'] : []);
  return { ...d, headers: [...d.headers, ...headers], policy: { ...d.policy, lifetime: 100, responseTime: T0, staleWhileRevalidate: 30 } };
}

describe('purge on one cache tier', () => {
  it('reads tags from Surrogate-Key (spaces) and Cache-Tag (commas)', () => {
    assert.deepEqual([...responseTags([['surrogate-key', ' a  b '], ['cache-tag', 'c, d ,e'], ['x-other', 'f']])], ['a', 'b', 'c', 'd', 'e']);
    assert.equal(responseTags([['content-type', 'text/plain']]).size, 0);
  });

  it('matches URL, prefix, tag and all', () => {
    const meta = { ...tagged('http://h/a/b', [['surrogate-key', 'red']]), bodySize: 1 };
    assert.ok(purgeMatches(meta, { kind: 'url', urls: ['http://h/x', 'http://h/a/b'] }));
    assert.ok(!purgeMatches(meta, { kind: 'url', urls: ['http://h/a'] }));
    assert.ok(purgeMatches(meta, { kind: 'prefix', prefix: 'http://h/a/' }));
    assert.ok(!purgeMatches(meta, { kind: 'prefix', prefix: 'http://h/b' }));
    assert.ok(purgeMatches(meta, { kind: 'tag', tags: ['blue', 'red'] }));
    assert.ok(!purgeMatches(meta, { kind: 'tag', tags: ['blue'] }));
    assert.ok(purgeMatches(meta, { kind: 'all' }));
  });

  it('a soft purge makes an object stale now, keeping its stale windows', () => {
    const p = tagged('http://h/a', []).policy;
    const later = T0 + 40_000;
    assert.equal(remainingTtl(p, later), 60);
    const s = staleNow(p, later);
    assert.equal(remainingTtl(s, later), 0);
    assert.equal(s.staleWhileRevalidate, 30);
    assert.equal(staleNow(s, later), s, 'already stale: unchanged');
  });

  it('hard deletes every variant; soft keeps the objects, stale', async () => {
    const store = createMemoryStore(1 << 20);
    put(store, tagged('http://h/a', [], '\naccept-encoding:gzip'));
    put(store, tagged('http://h/a', [], '\naccept-encoding:br'));
    put(store, tagged('http://h/b', [['cache-tag', 't1']]));
    put(store, tagged('http://h/c', [['surrogate-key', 't1 t2']]));
    assert.deepEqual(await applyPurge(store, { target: { kind: 'url', urls: ['http://h/a'] }, soft: false }, T0), { deleted: 2, staled: 0 });
    assert.deepEqual(await applyPurge(store, { target: { kind: 'tag', tags: ['t1'] }, soft: true }, T0 + 1_000), { deleted: 0, staled: 2 });
    const metas = await store.metas();
    assert.deepEqual(metas.map((m) => m.primaryKey).sort(), ['http://h/b', 'http://h/c']);
    for (const m of metas) assert.ok(remainingTtl(m.policy, T0 + 1_000) <= 0);
    assert.deepEqual(await applyPurge(store, { target: { kind: 'all' }, soft: false }, T0), { deleted: 2, staled: 0 });
    assert.equal(store.stats().entries, 0);
  });
});
