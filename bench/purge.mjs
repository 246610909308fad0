#!/usr/bin/env node
// Purge propagation to 3 edges on loopback: from the purge call until every
// edge answers the new content. Redis bus when redis-server is installed,
// else the memory bus. Goal: p99 < 50 ms. Run: npm run bench:purge
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const { edgeSectionSchema, sitesSectionSchema } = await import(join(dist, 'config/edge-schema.js'));
const { createLogger } = await import(join(dist, 'core/log.js'));
const { createEdgeServer } = await import(join(dist, 'edge/server.js'));
const { issuePurge } = await import(join(dist, 'cluster/acks.js'));
const { memoryCursor } = await import(join(dist, 'cluster/cursor.js'));
const { linkEdge } = await import(join(dist, 'cluster/edge-link.js'));
const { createMemoryBus } = await import(join(dist, 'cluster/memory-bus.js'));
const { createRedisBus } = await import(join(dist, 'cluster/redis-bus.js'));
const { newPurge } = await import(join(dist, 'cluster/purge.js'));

const ROUNDS = Number(process.env.ROUNDS ?? 300);
const listenOn = (srv) => new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv.address().port)));

function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: 'www.example.test' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startRedis() {
  const bin = '/usr/bin/redis-server';
  if (!existsSync(bin)) return undefined;
  const probe = createServer();
  const port = await listenOn(probe);
  await new Promise((r) => probe.close(r));
  const dir = mkdtempSync(join(tmpdir(), 'geocdn-bench-redis-'));
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  await new Promise((r) => child.stdout.on('data', (d) => d.toString().includes('Ready to accept') && r()));
  return { url: `redis://127.0.0.1:${port}`, stop: () => (child.kill('SIGKILL'), rmSync(dir, { recursive: true, force: true })) };
}

let version = 0;
const origin = createServer((req, res) => {
  res.writeHead(200, { 'cache-control': 'max-age=3600', 'content-type': 'text/plain' });
  res.end(`v${version}`);
});
const originPort = await listenOn(origin);
const redis = await startRedis();
const memory = createMemoryBus();
const busFor = () => (redis ? createRedisBus({ url: redis.url, prefix: 'bench' }) : memory);
const buses = [];
const edges = [];
const subs = [];
for (const pop of ['a', 'b', 'c']) {
  const config = { sites: sitesSectionSchema.parse({ 'www.example.test': { origin: `http://127.0.0.1:${originPort}` } }), edge: edgeSectionSchema.parse({ listen: '127.0.0.1:0' }) };
  const edge = createEdgeServer({ config, log: createLogger('bench', 'silent') });
  const { port } = await edge.listen();
  const bus = busFor();
  buses.push(bus);
  subs.push(await linkEdge(bus, { node: `edge-${pop}`, cursor: memoryCursor(), store: edge.context.store }));
  edges.push({ edge, port });
}
const admin = busFor();
const times = [];
for (let i = 0; i < ROUNDS; i++) {
  for (const e of edges) await get(e.port, '/obj');
  version++;
  const want = `v${version}`;
  const t0 = performance.now();
  const report = await issuePurge(admin, newPurge({ kind: 'url', urls: ['http://www.example.test/obj'] }, false, Date.now()), { timeoutMs: 1000 });
  if (!report.complete) throw new Error(`purge incomplete: ${report.missing.join(' ')}`);
  const bodies = await Promise.all(edges.map((e) => get(e.port, '/obj')));
  if (bodies.some((b) => b !== want)) throw new Error(`an edge answered stale: ${bodies.join(' ')}`);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(2);
console.log(`purge propagation, 3 edges, ${redis ? 'redis' : 'memory'} bus, ${ROUNDS} rounds: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms (goal p99 < 50 ms)`);
for (const s of subs) await s.stop();
for (const b of new Set([...buses, admin])) await b.close();
for (const e of edges) await e.edge.close();
origin.close();
redis?.stop();
