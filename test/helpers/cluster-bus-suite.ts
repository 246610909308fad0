import assert from 'node:assert/strict';
import { it } from 'node:test';
import { issuePurge, subscribeWithAcks } from '../../src/cluster/acks.js';
import type { ClusterBus, SubscribeOptions } from '../../src/cluster/bus.js';
import { memoryCursor, type CursorStore } from '../../src/cluster/cursor.js';
import { newPurge, type PurgeCommand } from '../../src/cluster/purge.js';

/** One cluster backend for one test: `connect` is one node's bus; `teardown` closes them all. */
export interface BusBackend {
  connect(): ClusterBus;
  teardown(): Promise<void>;
}

export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function recorder(node: string, cursor: CursorStore = memoryCursor()): SubscribeOptions & { seen: string[]; gaps: number } {
  const r = {
    node,
    cursor,
    seen: [] as string[],
    gaps: 0,
    onPurge(p: PurgeCommand) {
      r.seen.push(p.target.kind === 'url' ? p.target.urls[0]! : p.target.kind);
    },
    onGap() {
      r.gaps++;
    },
  };
  return r;
}

const urlPurge = (u: string): PurgeCommand => newPurge({ kind: 'url', urls: [u] }, false, Date.now());

/** The contract every cluster bus keeps. `make(maxLen)` opens a fresh, empty backend. */
export function busConformance(make: (maxLen: number) => Promise<BusBackend>): void {
  it('delivers purges in publish order to every subscriber', async () => {
    const be = await make(1_000);
    try {
      const [a, b] = [recorder('a'), recorder('b')];
      const subs = [await be.connect().subscribe(a), await be.connect().subscribe(b)];
      const pub = be.connect();
      for (let i = 0; i < 20; i++) await pub.publishPurge(urlPurge(`/p${i}`));
      await until(() => a.seen.length === 20 && b.seen.length === 20, 'both subscribers');
      const want = Array.from({ length: 20 }, (_, i) => `/p${i}`);
      assert.deepEqual(a.seen, want);
      assert.deepEqual(b.seen, want);
      for (const s of subs) await s.stop();
    } finally {
      await be.teardown();
    }
  });

  it('a newcomer starts at the end and remembers it; a returning node replays what it missed', async () => {
    const be = await make(1_000);
    try {
      const pub = be.connect();
      await pub.publishPurge(urlPurge('/before'));
      const cursor = memoryCursor();
      const first = recorder('n', cursor);
      const sub = await be.connect().subscribe(first);
      assert.ok(await cursor.load(), 'the starting position is saved');
      await pub.publishPurge(urlPurge('/one'));
      await until(() => first.seen.length === 1, 'the first purge');
      assert.deepEqual(first.seen, ['/one']);
      await sub.stop();
      for (const u of ['/two', '/three']) await pub.publishPurge(urlPurge(u));
      const back = recorder('n', cursor);
      const again = await be.connect().subscribe(back);
      await until(() => back.seen.length === 2, 'the missed purges');
      assert.deepEqual(back.seen, ['/two', '/three']);
      assert.equal(back.gaps, 0);
      await again.stop();
    } finally {
      await be.teardown();
    }
  });

  it('reports a gap when the log was trimmed past a node, then carries on', async () => {
    const be = await make(100);
    try {
      const pub = be.connect();
      const cursor = memoryCursor();
      const sub = await be.connect().subscribe(recorder('n', cursor));
      await sub.stop();
      for (let i = 0; i < 400; i++) await pub.publishPurge(urlPurge(`/old${i}`));
      const back = recorder('n', cursor);
      const again = await be.connect().subscribe(back);
      await until(() => back.gaps === 1, 'the gap');
      await pub.publishPurge(urlPurge('/new'));
      await until(() => back.seen.at(-1) === '/new', 'the next purge');
      assert.equal(back.gaps, 1);
      await again.stop();
    } finally {
      await be.teardown();
    }
  });

  it('the issuer hears each live edge apply a purge, and names one that does not', async () => {
    const be = await make(1_000);
    try {
      const subs = [];
      for (const n of ['edge-a', 'edge-b']) subs.push(await subscribeWithAcks(be.connect(), recorder(n)));
      const stuck = recorder('edge-c');
      stuck.onPurge = () => new Promise<void>(() => undefined);
      const stuckSub = await be.connect().subscribe(stuck);
      const admin = be.connect();
      await until(async () => (await admin.liveNodes()).length === 3, 'three live nodes');
      const report = await issuePurge(admin, newPurge({ kind: 'tag', tags: ['t1'] }, true, Date.now()), { timeoutMs: 300 });
      assert.deepEqual(report.applied.map((r) => r.node), ['edge-a', 'edge-b']);
      assert.ok(report.applied.every((r) => r.latencyMs >= 0 && r.latencyMs < 300));
      assert.deepEqual(report.missing, ['edge-c']);
      assert.equal(report.complete, false);
      for (const s of subs) await s.stop();
      await until(async () => (await admin.liveNodes()).join() === 'edge-c', 'stopped nodes leave the live set');
      void stuckSub;
    } finally {
      await be.teardown();
    }
  });

  it('carries each node\'s config version', async () => {
    const be = await make(1_000);
    try {
      const a = be.connect();
      await a.publishVersion('ns1', 'v1');
      await be.connect().publishVersion('ns2', 'v2');
      await a.publishVersion('ns1', 'v3');
      const v = await be.connect().versions();
      assert.deepEqual(Object.fromEntries(Object.entries(v).map(([n, x]) => [n, x.version])), { ns1: 'v3', ns2: 'v2' });
      assert.equal(typeof v.ns1!.at, 'number');
    } finally {
      await be.teardown();
    }
  });
}
