import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { issuePurge } from '../src/cluster/acks.js';
import type { ClusterBus, Subscription } from '../src/cluster/bus.js';
import { memoryCursor } from '../src/cluster/cursor.js';
import { linkEdge } from '../src/cluster/edge-link.js';
import { createMemoryBus } from '../src/cluster/memory-bus.js';
import { newPurge, type PurgeTarget } from '../src/cluster/purge.js';
import { createRedisBus } from '../src/cluster/redis-bus.js';
import { type TestClock, type TestEdge, type TestOrigin, fixed, gate, get, startEdge, startOrigin, testClock, until } from './helpers/edge-harness.js';
import { hasRedis, NO_REDIS, startRedis, type TestRedis } from './helpers/redis.js';

const HOST = 'http://www.example.test';

/** Three edges on loopback, one origin, one bus: purges issued the way the admin API issues them. */
function purgeScenarios(busFor: (node: string) => ClusterBus): void {
  let origin: TestOrigin;
  let clock: TestClock;
  const edges: TestEdge[] = [];
  const subs: Subscription[] = [];
  let admin: ClusterBus;

  before(async () => {
    clock = testClock();
    origin = await startOrigin(clock);
    origin.route('/a/one', fixed(200, { 'cache-control': 'max-age=300', 'surrogate-key': 'red blue', vary: 'accept-encoding' }, 'one'));
    origin.route('/a/two', fixed(200, { 'cache-control': 'max-age=300', 'cache-tag': 'green, blue' }, 'two'));
    origin.route('/b/three', fixed(200, { 'cache-control': 'max-age=300, stale-while-revalidate=60', etag: '"3"' }, 'three'));
    for (const pop of ['x', 'y', 'z']) {
      const edge = await startEdge({ origin, clock });
      edges.push(edge);
      subs.push(await linkEdge(busFor(`edge-${pop}`), { node: `edge-${pop}`, cursor: memoryCursor(), store: edge.context.store, fence: edge.context.fence, now: clock.now }));
    }
    admin = busFor('admin');
  });
  after(async () => {
    for (const s of subs) await s.stop();
    for (const e of edges) await e.close();
    await origin.close();
  });

  async function warm(): Promise<void> {
    for (const e of edges) {
      for (const [path, enc] of [['/a/one', 'gzip'], ['/a/one', 'br'], ['/a/two', ''], ['/b/three', '']] as const) {
        await get(e, path, { headers: enc ? { 'accept-encoding': enc } : {} });
        assert.equal((await get(e, path, { headers: enc ? { 'accept-encoding': enc } : {} })).headers['x-cache-status'], 'HIT');
      }
    }
  }
  async function statuses(path: string, method = 'GET', headers = {}): Promise<string[]> {
    return Promise.all(edges.map(async (e) => String((await get(e, path, { method, headers })).headers['x-cache-status'])));
  }
  async function purge(target: PurgeTarget, soft = false) {
    const report = await issuePurge(admin, newPurge(target, soft, Date.now()), { timeoutMs: 2_000 });
    assert.equal(report.complete, true, `missing: ${report.missing.join(' ')}`);
    assert.deepEqual(report.applied.map((r) => r.node), ['edge-x', 'edge-y', 'edge-z']);
    return report;
  }

  it('by URL: every Vary variant, GET and HEAD, on every edge', async () => {
    await warm();
    await purge({ kind: 'url', urls: [`${HOST}/a/one`] });
    assert.deepEqual(await statuses('/a/one', 'HEAD', { 'accept-encoding': 'gzip' }), ['MISS', 'MISS', 'MISS']);
    assert.deepEqual(await statuses('/a/one', 'GET', { 'accept-encoding': 'br' }), ['MISS', 'MISS', 'MISS']);
    assert.deepEqual(await statuses('/a/two'), ['HIT', 'HIT', 'HIT']);
  });

  it('by tag: Surrogate-Key and Cache-Tag', async () => {
    await warm();
    await purge({ kind: 'tag', tags: ['blue'] });
    assert.deepEqual(await statuses('/a/one', 'GET', { 'accept-encoding': 'gzip' }), ['MISS', 'MISS', 'MISS']);
    assert.deepEqual(await statuses('/a/two'), ['MISS', 'MISS', 'MISS']);
    assert.deepEqual(await statuses('/b/three'), ['HIT', 'HIT', 'HIT']);
  });

  it('by prefix, and everything', async () => {
    await warm();
    await purge({ kind: 'prefix', prefix: `${HOST}/a/` });
    assert.deepEqual(await statuses('/a/two'), ['MISS', 'MISS', 'MISS']);
    assert.deepEqual(await statuses('/b/three'), ['HIT', 'HIT', 'HIT']);
    await purge({ kind: 'all' });
    assert.deepEqual(await statuses('/b/three'), ['MISS', 'MISS', 'MISS']);
  });

  it('a fill under way when a purge lands is not stored, and nobody joins it after the ack', async () => {
    const edge = edges[0]!;
    const bodyHeld = gate();
    let version = 'old';
    origin.route('/c/slow', async (_req, res) => {
      const v = version;
      res.writeHead(200, { 'cache-control': 'max-age=300', 'surrogate-key': 'slow', 'content-length': String(v.length + 5) });
      res.write(`${v}-`);
      if (v === 'old') await bodyHeld.promise;
      res.end('body');
    });
    const first = get(edge, '/c/slow');
    await until(() => origin.count('/c/slow') === 1, 'the fill to reach the origin');
    await new Promise((r) => setTimeout(r, 50)); // its head and first bytes reach the edge
    version = 'new';
    await purge({ kind: 'tag', tags: ['slow'] });
    // Acknowledged: from here on no edge may answer the old bytes, not even by joining the old fill.
    const joined = get(edge, '/c/slow');
    await new Promise((r) => setTimeout(r, 50));
    bodyHeld.open();
    assert.equal((await first).text, 'old-body', 'the request from before the purge gets what it started');
    assert.equal((await joined).text, 'new-body');
    const after = await get(edge, '/c/slow');
    assert.equal(after.text, 'new-body');
  });

  it('soft: the next request revalidates, stale-while-revalidate still applies', async () => {
    await warm();
    const before = origin.count('/b/three');
    await purge({ kind: 'prefix', prefix: `${HOST}/b/` }, true);
    // stale-while-revalidate=60: served stale at once while the edge revalidates in the background.
    assert.deepEqual(await statuses('/b/three'), ['UPDATING', 'UPDATING', 'UPDATING']);
    await until(() => origin.count('/b/three') >= before + 3, 'a revalidation per edge');
  });
}

describe('purge across three edges: memory bus', () => {
  const bus = createMemoryBus();
  purgeScenarios(() => bus);
});

describe('purge across three edges: Redis bus', { skip: hasRedis() ? false : NO_REDIS }, () => {
  let redis: TestRedis | undefined;
  const buses: ClusterBus[] = [];
  const url = { value: '' };
  before(async () => {
    redis = await startRedis();
    url.value = redis.url;
  });
  after(async () => {
    for (const b of buses) await b.close();
    await redis?.stop();
  });
  purgeScenarios(() => {
    const b = createRedisBus({ url: url.value, prefix: 'purge-edge', heartbeatMs: 200 });
    buses.push(b);
    return b;
  });
});
