import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { issuePurge } from '../src/cluster/acks.js';
import type { Subscription } from '../src/cluster/bus.js';
import { memoryCursor } from '../src/cluster/cursor.js';
import { linkEdge } from '../src/cluster/edge-link.js';
import { createMemoryBus } from '../src/cluster/memory-bus.js';
import { newPurge } from '../src/cluster/purge.js';
import { addPurgeRoute } from '../src/admin/purge.js';
import { AdminRouter } from '../src/admin/router.js';
import { AdminServer } from '../src/admin/server.js';
import { createMemoryStore } from '../src/edge/cache/memory-store.js';
import type { CacheStore } from '../src/edge/cache/store.js';
import { draft } from './helpers/edge-store-suite.js';

const TOKEN = 'purge-test-token';
const cli = new URL('../src/cli.js', import.meta.url).pathname;

function runCli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [cli, ...args], { env: { ...process.env, GEOCDN_ADMIN_TOKEN: TOKEN, GEOCDN_LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function fill(store: CacheStore, url: string): void {
  const w = store.open(draft(url), 1)!;
  w.write(Buffer.from('x'));
  void w.commit();
}

describe('POST /v1/purge and geocdn purge', () => {
  const bus = createMemoryBus();
  const stores = ['edge-a', 'edge-b'].map(() => createMemoryStore(1 << 20));
  const subs: Subscription[] = [];
  let stuck: Subscription;
  let admin: AdminServer;

  before(async () => {
    for (const [i, store] of stores.entries()) subs.push(await linkEdge(bus, { node: `edge-${'ab'[i]}`, cursor: memoryCursor(), store }));
    const router = new AdminRouter();
    addPurgeRoute(router, (target, soft) => issuePurge(bus, newPurge(target, soft, Date.now()), { timeoutMs: 300 }), 'ns1');
    admin = await AdminServer.start({ listen: '127.0.0.1:0', token: TOKEN, router });
  });
  after(async () => {
    for (const s of subs) await s.stop();
    await stuck?.stop();
    await admin.stop();
  });

  it('the CLI purges every edge and prints each edge\'s latency', async () => {
    for (const s of stores) for (const u of ['http://h/a', 'http://h/b', 'http://h/c']) fill(s, u);
    const r = await runCli('purge', 'http://h/a', 'http://h/b', '--admin', admin.url);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^edge-a {2}applied in [\d.]+ ms$/m);
    assert.match(r.stdout, /^edge-b {2}applied in [\d.]+ ms$/m);
    assert.match(r.stdout, /2 edge\(s\) applied/);
    for (const s of stores) assert.deepEqual((await s.metas()).map((m) => m.primaryKey), ['http://h/c']);
  });

  it('names an edge that did not apply it, with exit status 1 and HTTP 202', async () => {
    stuck = await bus.subscribe({ node: 'edge-stuck', cursor: memoryCursor(), onPurge: () => new Promise<void>(() => undefined), onGap: () => undefined });
    const r = await runCli('purge', '--all', '--soft', '--admin', admin.url);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^edge-stuck {2}NOT applied/m);
    const res = await fetch(`${admin.url}/v1/purge`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ tags: ['t'] }) });
    assert.equal(res.status, 202);
    const body = (await res.json()) as { missing: string[]; applied: { node: string }[] };
    assert.deepEqual(body.missing, ['edge-stuck']);
    assert.deepEqual(body.applied.map((a) => a.node), ['edge-a', 'edge-b']);
  });

  it('refuses a body that is not exactly one target, and requests without the token', async () => {
    const post = (body: string, auth = `Bearer ${TOKEN}`) => fetch(`${admin.url}/v1/purge`, { method: 'POST', headers: { authorization: auth }, body });
    assert.equal((await post('{"all":true,"prefix":"x"}')).status, 400);
    assert.equal((await post('not json')).status, 400);
    assert.equal((await post('{"all":true}', 'Bearer wrong')).status, 401);
    const usage = await runCli('purge', '--admin', admin.url);
    assert.notEqual(usage.status, 0);
    assert.match(usage.stderr, /GEOCDN_USAGE/);
  });
});
