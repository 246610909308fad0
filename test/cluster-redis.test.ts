import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterBus } from '../src/cluster/bus.js';
import { fileCursor, memoryCursor } from '../src/cluster/cursor.js';
import { issuePurge } from '../src/cluster/acks.js';
import { newPurge } from '../src/cluster/purge.js';
import { createRedisBus } from '../src/cluster/redis-bus.js';
import { busConformance, recorder, until } from './helpers/cluster-bus-suite.js';
import { hasRedis, NO_REDIS, startRedis, type TestRedis } from './helpers/redis.js';
import { tempDir } from './helpers/tmp.js';

describe('redis cluster bus', { skip: hasRedis() ? false : NO_REDIS }, () => {
  let redis: TestRedis;
  let n = 0;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  /** Every test gets its own key prefix on the one server, and closes every bus it opened. */
  function backend(maxLen: number) {
    const prefix = `t${++n}`;
    const buses: ClusterBus[] = [];
    return {
      connect: () => {
        const b = createRedisBus({ url: redis.url, prefix, maxLen, heartbeatMs: 100 });
        buses.push(b);
        return b;
      },
      teardown: async () => {
        for (const b of buses) await b.close();
      },
    };
  }

  describe('conformance', () => busConformance(async (maxLen) => backend(maxLen)));

  it('a subscriber stopped during 1,000 purges applies all of them when it restarts', async () => {
    const dir = tempDir('geocdn-bus-');
    const be = backend(100_000);
    try {
      const cursorPath = join(dir, 'cursor');
      const pub = be.connect();
      const first = recorder('edge', fileCursor(cursorPath));
      let sub = await be.connect().subscribe(first);
      for (let i = 0; i < 100; i++) await pub.publishPurge(newPurge({ kind: 'url', urls: [`/u${i}`] }, false, Date.now()));
      await until(() => first.seen.length >= 10, 'some purges applied');
      await sub.stop();
      for (let i = 100; i < 1_000; i++) await pub.publishPurge(newPurge({ kind: 'url', urls: [`/u${i}`] }, false, Date.now()));
      const back = recorder('edge', fileCursor(cursorPath));
      sub = await be.connect().subscribe(back);
      await until(() => first.seen.length + back.seen.length >= 1_000, 'all 1,000 purges', 10_000);
      // Stopping may cut a batch after it was applied but before the cursor moved: a replay repeats, never skips.
      const all = new Set([...first.seen, ...back.seen]);
      assert.equal(all.size, 1_000);
      assert.equal(back.seen.at(-1), '/u999');
      assert.equal(back.gaps, 0);
      await sub.stop();
    } finally {
      await be.teardown();
    }
  });

  it('Redis killed and restarted loses no purge: publishers queue, subscribers reconnect', async () => {
    const be = backend(100_000);
    try {
      const pub = be.connect();
      const edge = recorder('edge');
      const sub = await be.connect().subscribe(edge);
      for (let i = 0; i < 5; i++) await pub.publishPurge(newPurge({ kind: 'url', urls: [`/a${i}`] }, false, Date.now()));
      await until(() => edge.seen.length === 5, 'purges before the outage');
      await redis.kill();
      await until(() => !pub.status().connected, 'the bus to notice');
      for (let i = 0; i < 5; i++) await pub.publishPurge(newPurge({ kind: 'url', urls: [`/b${i}`] }, false, Date.now()));
      assert.equal(pub.status().queued, 5);
      await redis.restart();
      await until(() => edge.seen.length === 10, 'queued purges after Redis returns', 10_000);
      assert.deepEqual(edge.seen.slice(5), ['/b0', '/b1', '/b2', '/b3', '/b4']);
      assert.equal(pub.status().queued, 0);
      await sub.stop();
    } finally {
      await be.teardown();
    }
  });

  it('a hung Redis (stopped, as behind a partition): a purge is answered as queued within the timeouts, written when Redis answers again, applied once', { timeout: 20_000 }, async () => {
    const be = backend(100_000);
    try {
      const pub = be.connect();
      const edge = recorder('edge');
      const sub = await be.connect().subscribe(edge);
      await pub.publishPurge(newPurge({ kind: 'url', urls: ['/before'] }, false, Date.now()));
      await until(() => edge.seen.length === 1, 'the purge before the hang');
      redis.pause();
      const t0 = Date.now();
      const report = await issuePurge(pub, newPurge({ kind: 'url', urls: ['/during'] }, false, Date.now()), { timeoutMs: 500 });
      const took = Date.now() - t0;
      assert.ok(took < 4_000, `the purge was answered after ${took} ms`);
      assert.deepEqual({ complete: report.complete, queued: report.queued }, { complete: false, queued: true });
      assert.deepEqual(pub.status(), { kind: 'redis', connected: false, queued: 1 }, 'a Redis that answers nothing is not reported connected');
      redis.resume();
      // No other purge comes to push the queue out: the bus retries on its own.
      await until(() => edge.seen.length === 2, 'the queued purge after Redis answers again', 10_000);
      await until(() => pub.status().connected && pub.status().queued === 0, 'the bus to say it is connected again');
      // The XADD that timed out ran when Redis woke, and the retry wrote it again: the edge applies it once.
      await pub.publishPurge(newPurge({ kind: 'url', urls: ['/after'] }, false, Date.now()));
      await until(() => edge.seen.includes('/after'), 'the purge after');
      assert.deepEqual(edge.seen, ['/before', '/during', '/after']);
      await sub.stop();
    } finally {
      redis.resume();
      await be.teardown();
    }
  });
});

describe('redis cluster bus with Redis away', () => {
  it('tells a connection error once per interval with its count, not on every reconnect', async () => {
    const seen: string[] = [];
    // A port nothing listens on: every connection attempt fails at once.
    const bus = createRedisBus({ url: 'redis://127.0.0.1:1', prefix: 'away', onError: (e) => seen.push((e as Error).message) });
    // The subscriber waits for Redis (it never comes): its reader connection retries too.
    void bus.subscribe({ node: 'n1', cursor: memoryCursor(), onPurge: () => undefined, onGap: () => undefined });
    await new Promise((r) => setTimeout(r, 2500));
    await bus.close();
    // Two connections retrying for 2.5 s made some twenty errors each; each distinct message is told once.
    assert.ok(seen.length >= 1, 'the outage is told');
    assert.ok(seen.length <= 3, `told ${seen.length} times: ${seen.slice(0, 5).join(' | ')}`);
    assert.equal(new Set(seen).size, seen.length);
  });
});
