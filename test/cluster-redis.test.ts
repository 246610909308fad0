import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterBus } from '../src/cluster/bus.js';
import { fileCursor } from '../src/cluster/cursor.js';
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
});
