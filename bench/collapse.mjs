#!/usr/bin/env node
// npm run bench:collapse — request collapsing: 1000 clients ask at once for one
// object that is not cached; the origin takes 300 ms to answer. Counts the
// origin fetches and times the last client, for geocdn's edge and, when nginx is
// installed, nginx with proxy_cache_lock on (its waiters poll the lock every 500 ms).
// Writes bench/results/collapse.tsv.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENTS = Number(process.env.CLIENTS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const ORIGIN_DELAY_MS = 300;
const work = mkdtempSync(join(tmpdir(), 'geocdn-bench-collapse-'));
const children = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const listen = (srv, port = 0) => new Promise((r) => srv.listen(port, '127.0.0.1', () => r(srv.address().port)));
async function freePort() {
  const s = createServer();
  const p = await listen(s);
  await new Promise((r) => s.close(r));
  return p;
}

const body = Buffer.alloc(64 * 1024, 'x');
const fetches = new Map();
const origin = createServer((req, res) => {
  fetches.set(req.url, (fetches.get(req.url) ?? 0) + 1);
  setTimeout(() => {
    res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  }, ORIGIN_DELAY_MS);
});
const originPort = await listen(origin);

function get(port, path, agent) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { host: '127.0.0.1' } }, (res) => {
      let n = 0;
      res.on('data', (c) => (n += c.length));
      res.on('end', () => resolve({ ok: res.statusCode === 200 && n === body.length, ms: performance.now() - t0 }));
    });
    req.on('error', () => resolve({ ok: false, ms: performance.now() - t0 }));
    req.end();
  });
}

async function waitHttp(port) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const req = request({ host: '127.0.0.1', port, path: '/ready', headers: { host: '127.0.0.1' } }, (res) => {
        res.resume();
        r(true);
      });
      req.on('error', () => r(false));
      req.end();
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answers on port ${port}`);
}

async function measure(name, port) {
  await waitHttp(port);
  const rows = [];
  // The client's connections are opened (and kept) first, so rounds time the server, not connection set-up.
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS, maxFreeSockets: CLIENTS });
  await Promise.all(Array.from({ length: CLIENTS }, () => get(port, `/warm-${name}`, agent)));
  for (let round = 0; round < ROUNDS; round++) {
    const path = `/object-${name}-${round}`;
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: CLIENTS }, () => get(port, path, agent)));
    const all = performance.now() - t0;
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    const row = { name, round, fetches: fetches.get(path) ?? 0, failed: results.filter((r) => !r.ok).length, p50: ms[Math.floor(ms.length / 2)], all };
    console.log(`${name.padEnd(8)} round ${round}: ${row.fetches} origin fetch(es), ${row.failed} failed, p50 ${row.p50.toFixed(0)} ms, last ${row.all.toFixed(0)} ms`);
    rows.push(row);
  }
  agent.destroy();
  return rows;
}

const rows = [];
const edgePort = await freePort();
writeFileSync(
  join(work, 'edge.yaml'),
  `edge:\n  listen: "127.0.0.1:${edgePort}"\n  access_log: false\nsites:\n  "127.0.0.1":\n    origin: "http://127.0.0.1:${originPort}"\n`,
);
const edge = spawn('sh', [join(root, 'bin/geocdn'), 'edge', '--config', join(work, 'edge.yaml')], { stdio: 'ignore', env: { ...process.env, GEOCDN_LOG_LEVEL: 'warn' } });
children.push(edge);
rows.push(...(await measure('geocdn', edgePort)));
edge.kill('SIGTERM');

if (spawnSync('sh', ['-c', 'command -v nginx']).status === 0) {
  const nginxPort = await freePort();
  const d = join(work, 'nginx');
  mkdirSync(join(d, 'cache'), { recursive: true });
  writeFileSync(
    join(d, 'nginx.conf'),
    `worker_processes 1; daemon off; pid ${d}/nginx.pid; error_log ${d}/error.log warn; user root;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${d}/body; proxy_temp_path ${d}/proxy; fastcgi_temp_path ${d}/fcgi; uwsgi_temp_path ${d}/uwsgi; scgi_temp_path ${d}/scgi;
  proxy_cache_path ${d}/cache levels=1:2 keys_zone=edge:16m max_size=1g inactive=1h use_temp_path=off;
  server {
    listen 127.0.0.1:${nginxPort};
    location / { proxy_pass http://127.0.0.1:${originPort}; proxy_cache edge; proxy_cache_lock on; proxy_cache_valid 200 1h; }
  }
}
`,
  );
  const nginx = spawn('nginx', ['-p', d, '-c', join(d, 'nginx.conf')], { stdio: 'ignore' });
  children.push(nginx);
  rows.push(...(await measure('nginx', nginxPort)));
  nginx.kill('SIGTERM');
} else {
  console.log('nginx not installed: geocdn measured alone');
}
origin.close();
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/collapse.tsv'), `server\tround\torigin_fetches\tfailed\tp50_ms\tlast_ms\n${rows.map((r) => [r.name, r.round, r.fetches, r.failed, r.p50.toFixed(0), r.all.toFixed(0)].join('\t')).join('\n')}\n`);
process.exit(0);
