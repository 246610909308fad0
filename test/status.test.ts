import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attachEdgeToCluster, type AttachedEdge } from '../src/cluster/attach-edge.js';
import { clusterSectionSchema } from '../src/config/cluster-schema.js';
import { Nameserver } from '../src/dns/nameserver.js';
import { Rcode, RRType } from '../src/dns/wire/constants.js';
import { createMemoryStore } from '../src/edge/cache/memory-store.js';
import { exampleZone } from './fixtures/test-zone.js';
import { query } from './helpers/dns.js';
import { draft } from './helpers/edge-store-suite.js';
import { hasRedis, NO_REDIS, startRedis, type TestRedis } from './helpers/redis.js';
import { tempDir } from './helpers/tmp.js';
import { discardingLogger } from './helpers/log.js';

const TOKEN = 'status-test-token-0123';
const cli = new URL('../src/cli.js', import.meta.url).pathname;
const silent = discardingLogger('test');

/** Runs `geocdn status` for real, in its own process (the nameservers run in this one). */
function status(...admins: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [cli, 'status', ...admins.flatMap((a) => (a.startsWith('--') ? [a] : ['--admin', a]))], { env: { ...process.env, GEOCDN_ADMIN_TOKEN: TOKEN, GEOCDN_LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ status: code, stdout, stderr }));
  });
}

/** A nameserver in its own folder: the same config as every other but for its node name (and the given cluster lines). */
async function nameserver(node: string, cluster = ''): Promise<{ ns: Nameserver; dir: string; admin: string }> {
  const dir = tempDir(`geocdn-status-${node}-`);
  writeFileSync(join(dir, 'example.test.zone'), exampleZone);
  writeFileSync(
    join(dir, 'geocdn.yaml'),
    `dns: { listen: ["127.0.0.1:0"], watch: false }
zones:
  - { origin: example.test, file: example.test.zone }
admin: { listen: "127.0.0.1:0", token: ${TOKEN} }
cluster:
  node: ${node}
  state_dir: ${dir}
${cluster}`,
  );
  const ns = await Nameserver.start(join(dir, 'geocdn.yaml'), silent);
  return { ns, dir, admin: ns.admin!.url };
}

const row = (out: string, node: string) => new RegExp(`^${node}\\s+(nameserver|edge)\\s+([0-9a-f]{12}|\\S+)\\s`, 'm').exec(out);

describe('geocdn status: config versions and skew', () => {
  let a: Awaited<ReturnType<typeof nameserver>>;
  let b: Awaited<ReturnType<typeof nameserver>>;
  before(async () => {
    a = await nameserver('ns-a');
    b = await nameserver('ns-b');
  });
  after(async () => {
    await a?.ns.stop();
    await b?.ns.stop();
  });

  it('shows the version each nameserver runs; the same config (but for node names) is no skew', async () => {
    const r = await status(a.admin, b.admin);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(row(r.stdout, 'ns-a')?.[2], a.ns.version!.version);
    assert.equal(row(r.stdout, 'ns-b')?.[2], b.ns.version!.version);
    assert.equal(a.ns.version!.version, b.ns.version!.version);
    assert.doesNotMatch(r.stdout, /SKEW/);
  });

  it('flags skew when one nameserver reloads a different zone', async () => {
    writeFileSync(join(b.dir, 'example.test.zone'), exampleZone.replace('2026112301', '2026112302').replace('192.0.2.25', '192.0.2.26'));
    assert.equal(await b.ns.reload(), true);
    assert.notEqual(a.ns.version!.version, b.ns.version!.version);
    const r = await status(a.admin, b.admin);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(row(r.stdout, 'ns-b')?.[2], b.ns.version!.version);
    assert.match(r.stdout, new RegExp(`^VERSION SKEW: nameservers run 2 config versions: .*${a.ns.version!.version} on ns-a.*${b.ns.version!.version} on ns-b|^VERSION SKEW: nameservers run 2 config versions: .*${b.ns.version!.version} on ns-b.*${a.ns.version!.version} on ns-a`, 'm'));
    const json = await status(a.admin, b.admin, '--json');
    const parsed = JSON.parse(json.stdout) as { status: { version: string } }[];
    assert.deepEqual(parsed.map((p) => p.status.version), [a.ns.version!.version, b.ns.version!.version]);
  });
});

describe('geocdn status with Redis: versions over the bus, Redis down and queued purges', { skip: hasRedis() ? false : NO_REDIS }, () => {
  let redis: TestRedis;
  let ns: Awaited<ReturnType<typeof nameserver>>;
  const edges: AttachedEdge[] = [];
  const stores = [createMemoryStore(1 << 20), createMemoryStore(1 << 20)];
  before(async () => {
    redis = await startRedis();
    ns = await nameserver('ns-r', `  redis: ${redis.url}\n  prefix: status-test\n  ack_timeout_ms: 500\n`);
    for (const [i, store] of stores.entries()) {
      const dir = tempDir('geocdn-status-edge-');
      const section = clusterSectionSchema.parse({ redis: redis.url, prefix: 'status-test', node: `edge-${i}`, state_dir: dir });
      // Edge 1 runs another config than edge 0: edge skew.
      edges.push((await attachEdgeToCluster(section, store, undefined, silent, { version: i === 0 ? 'aaaaaaaaaaaa' : 'bbbbbbbbbbbb' }))!);
    }
  });
  after(async () => {
    for (const e of edges) await e.stop();
    await ns?.ns.stop();
    await redis?.stop();
  });

  const nsStatus = async () => (await (await fetch(`${ns.admin}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { cluster: { bus: { connected: boolean; queued: number } } };
  async function until(what: string, ok: () => Promise<boolean>, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('lists the edges that published their versions on the bus, with edge skew', async () => {
    await until('versions on the bus', async () => {
      const r = await status(ns.admin);
      return /^edge-1\s/m.test(r.stdout) && /^edge-0\s/m.test(r.stdout);
    });
    const r = await status(ns.admin);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(row(r.stdout, 'ns-r')?.[2], ns.ns.version!.version);
    assert.equal(row(r.stdout, 'edge-0')?.[1], 'edge');
    assert.equal(row(r.stdout, 'edge-0')?.[2], 'aaaaaaaaaaaa');
    assert.equal(row(r.stdout, 'edge-1')?.[2], 'bbbbbbbbbbbb');
    assert.match(r.stdout, /^VERSION SKEW: edges run 2 config versions: aaaaaaaaaaaa on edge-0; bbbbbbbbbbbb on edge-1$/m);
    assert.doesNotMatch(r.stdout, /nameservers run/);
    assert.match(r.stdout, /cluster bus \(redis\) seen from ns-r .*: connected, 0 purge\(s\) queued/);
  });

  it('Redis killed: status says so and counts the purges queued locally; DNS answers; the purges apply when Redis returns', async () => {
    const fill = (url: string) => {
      for (const s of stores) {
        const w = s.open(draft(url), 1)!;
        w.write(Buffer.from('x'));
        void w.commit();
      }
    };
    fill('http://h/a');
    await redis.kill();
    await until('the nameserver to see Redis down', async () => !(await nsStatus()).cluster.bus.connected);
    for (const body of ['{"urls":["http://h/a"]}', '{"tags":["t"]}']) {
      const res = await fetch(`${ns.admin}/v1/purge`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body });
      assert.equal(res.status, 202);
      assert.equal(((await res.json()) as { queued: boolean }).queued, true);
    }
    const r = await status(ns.admin);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /cluster bus \(redis\) seen from ns-r \(127\.0\.0\.1:\d+\): Redis DOWN; 2 purge\(s\) queued locally, written when it returns; DNS answers are not affected/);
    // Its own version is still known; the others' are not, while the bus is down.
    assert.equal(row(r.stdout, 'ns-r')?.[2], ns.ns.version!.version);
    assert.equal((await query(ns.ns.server.bound.udp[0]!.port, 'www.example.test', RRType.A)).rcode, Rcode.NOERROR);
    for (const s of stores) assert.equal(s.stats().entries, 1);

    await redis.restart();
    await until('the queued purges to reach the edges', async () => stores.every((s) => s.stats().entries === 0));
    await until('the queue to empty', async () => (await nsStatus()).cluster.bus.queued === 0);
    // Redis came back empty: every node writes its version again on reconnect.
    await until('the versions back on the bus', async () => /^edge-1\s/m.test((await status(ns.admin)).stdout));
    const back = await status(ns.admin);
    assert.match(back.stdout, /cluster bus \(redis\) seen from ns-r .*: connected, 0 purge\(s\) queued/);
    assert.equal(row(back.stdout, 'edge-0')?.[2], 'aaaaaaaaaaaa');

    // edge-1 stops: its version stays on the bus, but a stopped edge is no skew.
    await edges.pop()!.stop();
    await until('edge-1 to leave the live nodes', async () => /^edge-1\s+edge \(gone\)/m.test((await status(ns.admin)).stdout));
    assert.doesNotMatch((await status(ns.admin)).stdout, /SKEW/);
  });
});
