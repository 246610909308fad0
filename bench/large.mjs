#!/usr/bin/env node
// npm run bench:large — one 1 GiB object streamed through the geocdn edge and through nginx
// (proxy_pass, both uncached: larger than max_object_size), MiB/s for each, the ratio, and the
// edge's peak RSS while streaming (VmRSS of the edge process, sampled every 20 ms). Then the same
// object through a geocdn site with slice_size (cold: every slice fetched with Range and stored).
// nginx is skipped with a message when it is not installed (Debian package nginx).
// Last, the object cached whole on a disk tier: a cold fill with a second client joining late and
// reading at a quarter of the speed, with the edge's peak RSS (the fill's memory stays bounded).
// Environment: BENCH_LARGE_MIB (default 1024), BENCH_LARGE_PORT (first of 5 ports, default 8190).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MIB = 1 << 20;
const sizeMiB = Number(process.env.BENCH_LARGE_MIB ?? 1024);
const size = sizeMiB * MIB;
const base = Number(process.env.BENCH_LARGE_PORT ?? 8190);
const ports = { origin: base, edge: base + 1, sliced: base + 2, nginx: base + 3, disk: base + 4 };
const deadline = Date.now() + 110_000; // the whole run stays under two minutes
const work = mkdtempSync(join(tmpdir(), 'geocdn-bench-large-'));
const children = [];

const hasTaskset = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
/** Servers on core 1, origin and client on core 0, when taskset is there (2-core machine). */
function pinned(core, cmd, args) {
  return hasTaskset ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
}

function start(name, core, cmd, args, env = {}) {
  const [c, a] = pinned(core, cmd, args);
  const child = spawn(c, a, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  child.on('error', (e) => console.error(`${name}: ${e.message}`));
  children.push(child);
  return child;
}

function stopAll() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
process.on('exit', () => {
  stopAll();
  rmSync(work, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));

async function waitForPort(port, what) {
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    const ok = await new Promise((r) => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

/** VmRSS of a process in KiB; the process named by `child` (taskset execs, so the pid is the server's). */
function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** GETs the object once, counting bytes (at most `rateMiBps` MiB/s when given); samples the RSS of `pid` meanwhile. */
function fetchOnce(port, path, pid, rateMiBps) {
  return new Promise((resolvePromise, reject) => {
    let peak = pid ? rssKiB(pid) : 0;
    const before = peak;
    const sampler = pid ? setInterval(() => (peak = Math.max(peak, rssKiB(pid))), 20) : undefined;
    const t0 = process.hrtime.bigint();
    const timer = setTimeout(() => req.destroy(new Error('timed out')), Math.max(5_000, deadline - Date.now()));
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { host: 'large.bench' } }, (res) => {
      let bytes = 0;
      res.on('data', (c) => {
        bytes += c.length;
        if (!rateMiBps) return;
        // a slow client: ahead of its rate, it stops reading until the rate catches up
        const aheadMs = (bytes / MIB / rateMiBps) * 1000 - Number(process.hrtime.bigint() - t0) / 1e6;
        if (aheadMs > 5) {
          res.pause();
          setTimeout(() => res.resume(), aheadMs);
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        if (sampler) clearInterval(sampler);
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        if (res.statusCode !== 200 || bytes !== size) return reject(new Error(`status ${res.statusCode}, ${bytes} of ${size} bytes`));
        resolvePromise({ mibps: bytes / MIB / s, seconds: s, rssBefore: before, rssPeak: peak, cache: res.headers['x-cache-status'] });
      });
      res.on('error', reject);
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      if (sampler) clearInterval(sampler);
      reject(e);
    });
    req.end();
  });
}

/** Milliseconds to get a 1 MiB range at `offset` of an object not yet cached. */
function rangeTime(port, path, offset) {
  const from = Math.min(offset, size - MIB);
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { host: 'large.bench', range: `bytes=${from}-${from + MIB - 1}` } }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => (res.statusCode === 206 && bytes === MIB ? resolvePromise(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`range: status ${res.statusCode}, ${bytes} bytes`))));
    });
    req.on('error', reject);
    req.end();
  });
}

// The origin: 1 GiB of a repeated 1 MiB pattern, with backpressure; honours one Range (for slices).
const originSource = `
const http = require('node:http');
const size = ${size};
const block = Buffer.alloc(1 << 20);
for (let i = 0; i < block.length; i++) block[i] = i % 251;
http.createServer((req, res) => {
  let start = 0, end = size - 1, status = 200;
  const m = /^bytes=(\\d+)-(\\d*)$/.exec(req.headers.range || '');
  if (m) { start = Number(m[1]); end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1; status = 206; }
  const headers = { 'content-length': end - start + 1, 'cache-control': 'max-age=3600', etag: '"large-1"', 'accept-ranges': 'bytes' };
  if (status === 206) headers['content-range'] = 'bytes ' + start + '-' + end + '/' + size;
  res.writeHead(status, headers);
  let pos = start;
  const pump = () => {
    while (pos <= end) {
      const off = pos % block.length;
      const n = Math.min(block.length - off, end - pos + 1);
      pos += n;
      if (!res.write(off === 0 && n === block.length ? block : block.subarray(off, off + n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}).listen(${ports.origin}, '127.0.0.1');
`;

function edgeConfig(port, sliced, disk = false) {
  const file = join(work, `edge-${port}.yaml`);
  writeFileSync(
    file,
    `edge:
  listen: "127.0.0.1:${port}"
  access_log: false
  memory_size: 128MiB
  max_object_size: 16MiB
${disk ? `  disk: { path: "${join(work, 'disk')}", size: ${4 * sizeMiB}MiB, max_object_size: ${2 * sizeMiB}MiB }
` : ''}sites:
  large.bench:
    origin: "http://127.0.0.1:${ports.origin}"
${sliced ? '    slice_size: 4MiB\n' : ''}`,
  );
  return file;
}

function nginxConfig() {
  const d = join(work, 'nginx');
  spawnSync('mkdir', ['-p', d]);
  writeFileSync(
    join(d, 'nginx.conf'),
    `daemon off;
master_process off;
worker_processes 1;
pid ${d}/nginx.pid;
error_log ${d}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${d}/body;
  proxy_temp_path ${d}/proxy;
  fastcgi_temp_path ${d}/fastcgi;
  uwsgi_temp_path ${d}/uwsgi;
  scgi_temp_path ${d}/scgi;
  upstream origin { server 127.0.0.1:${ports.origin}; keepalive 8; }
  server {
    listen 127.0.0.1:${ports.nginx};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering on;
      proxy_max_temp_file_size 0;   # stream, never spool the body to disk
    }
  }
}
`,
  );
  return d;
}

const fmt = (n) => n.toFixed(0);
const mib = (kib) => (kib / 1024).toFixed(1);

async function main() {
  console.log(`bench:large — a ${sizeMiB} MiB object, uncached (larger than max_object_size 16MiB) and sliced (slice_size 4MiB)`);
  start('origin', 0, process.execPath, ['-e', originSource]);
  await waitForPort(ports.origin, 'origin');
  // the installed command (bin/geocdn), as users run it: it sets glibc's heap trim threshold
  const geocdn = join(root, 'bin/geocdn');
  const edge = start('edge', 1, 'sh', [geocdn, 'edge', '--config', edgeConfig(ports.edge, false)], { GEOCDN_LOG_LEVEL: 'warn' });
  const sliced = start('edge-sliced', 1, 'sh', [geocdn, 'edge', '--config', edgeConfig(ports.sliced, true)], { GEOCDN_LOG_LEVEL: 'warn' });
  await waitForPort(ports.edge, 'geocdn edge');
  await waitForPort(ports.sliced, 'geocdn sliced edge');
  const disk = start('edge-disk', 1, 'sh', [geocdn, 'edge', '--config', edgeConfig(ports.disk, false, true)], { GEOCDN_LOG_LEVEL: 'warn' });
  await waitForPort(ports.disk, 'geocdn disk edge');

  console.log('');
  console.log('| path | MiB/s | seconds | RSS before → peak (MiB) |');
  console.log('| --- | --- | --- | --- |');
  // each row as soon as it is measured: a run cut by the time limit still shows what it had
  const rows = { push: ([name, r]) => console.log(`| ${name} | ${fmt(r.mibps)} | ${r.seconds.toFixed(2)} | ${mib(r.rssBefore)} → ${mib(r.rssPeak)} |`) };
  const g = await fetchOnce(ports.edge, '/large.bin', edge.pid);
  rows.push(['geocdn edge, pass-through', g]);

  let n;
  if (spawnSync('nginx', ['-v'], { stdio: 'ignore' }).status === 0) {
    const d = nginxConfig();
    const ng = start('nginx', 1, 'nginx', ['-p', d, '-c', join(d, 'nginx.conf')]);
    await waitForPort(ports.nginx, 'nginx');
    n = await fetchOnce(ports.nginx, '/large.bin', ng.pid);
    rows.push(['nginx proxy_pass, proxy_buffering', n]);
  } else {
    console.log('| nginx | skipped: not installed (Debian package nginx), no ratio | | |');
  }

  const s = await fetchOnce(ports.sliced, '/large.bin', sliced.pid);
  rows.push(['geocdn edge, slice_size 4MiB, cold fill', s]);
  // The cold fill to disk: one client at full speed, one joining 200 ms later at a quarter of it.
  const leader = fetchOnce(ports.disk, '/large.bin', disk.pid);
  await new Promise((r) => setTimeout(r, 200));
  const slowRate = Math.max(16, Math.round(g.mibps / 4));
  const slow = await fetchOnce(ports.disk, '/large.bin', undefined, slowRate);
  const led = await leader;
  rows.push(['geocdn edge, disk tier, cold fill (leader)', led]);
  rows.push([`geocdn edge, disk tier, joined late at ${slowRate} MiB/s`, { ...slow, rssBefore: led.rssBefore, rssPeak: Math.max(led.rssPeak, rssKiB(disk.pid)) }]);
  const seek = await rangeTime(ports.sliced, '/seek.bin', 900 * MIB);
  const seekPass = await rangeTime(ports.edge, '/seek.bin', 900 * MIB);

  console.log('');
  if (n) console.log(`geocdn / nginx, uncached ${sizeMiB} MiB stream: ${(g.mibps / n.mibps).toFixed(2)}×`);
  console.log(`geocdn edge peak RSS while streaming ${sizeMiB} MiB uncached: ${mib(g.rssPeak)} MiB (${mib(g.rssPeak - g.rssBefore)} MiB above idle)`);
  console.log(`geocdn sliced edge peak RSS: ${mib(s.rssPeak)} MiB (memory_size 128MiB)`);
  console.log(`geocdn disk-tier edge peak RSS during a ${sizeMiB} MiB cold fill with a slow late client: ${mib(led.rssPeak)} MiB (${mib(led.rssPeak - led.rssBefore)} MiB above idle)`);
  console.log(`1 MiB range at ${900 * MIB > size ? 0 : 900} MiB of an uncached object: ${seek.toFixed(1)} ms sliced (one slice fetched), ${seekPass.toFixed(1)} ms uncached (Range passed to the origin)`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench:large: ${e.message}`);
    process.exit(1);
  },
);
