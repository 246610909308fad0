#!/usr/bin/env node
// npm run bench:http — the geocdn edge beside nginx proxy_cache and Varnish, in one run of
// ../shared/tools/http-peers.sh, on the same pinned core; prints cache-HIT req/s ratios.
// Extra arguments go to http-peers.sh (e.g. --duration 5 --sizes 1k).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpRatios } from './tables.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const script = resolve(root, '../shared/tools/http-peers.sh');
if (!existsSync(script)) {
  console.error(`bench:http: ${script} not found. The peer scripts live in ../shared/tools beside the repository.`);
  process.exit(2);
}
if (!existsSync(join(root, 'dist/cli.js'))) {
  console.error('bench:http: dist/cli.js not found; run `npm run build` first (npm run bench:http does).');
  process.exit(2);
}

const basePort = Number(process.env.BENCH_BASE_PORT ?? 8081);
const edgePort = Number(process.env.BENCH_EDGE_PORT ?? 8090);
const diskEdgePort = edgePort + 1;
const work = mkdtempSync(join(tmpdir(), 'geocdn-bench-http-'));
const config = join(work, 'edge.yaml');
// The peers' clients send Host: 127.0.0.1:PORT; the site is that host. 10 MiB objects must fit.
writeFileSync(
  config,
  `edge:
  listen: "127.0.0.1:${edgePort}"
  access_log: false   # as the nginx peer (access_log off)
  fast_path: ${process.env.BENCH_EDGE_FAST_PATH === 'false' ? 'false' : 'true'}   # BENCH_EDGE_FAST_PATH=false: node:http only, for comparison
  memory_size: 512MiB
  max_object_size: 16MiB
sites:
  "127.0.0.1":
    origin: "http://127.0.0.1:${basePort}"
`,
);
// The disk tier alone: nothing above 512 bytes is kept in memory, so every hit reads its
// object file (through the page cache), as nginx's proxy_cache does.
const diskConfig = join(work, 'edge-disk.yaml');
writeFileSync(
  diskConfig,
  `edge:
  listen: "127.0.0.1:${diskEdgePort}"
  access_log: false
  memory_size: 1MiB
  max_object_size: 512
  disk: { path: "${join(work, 'disk-cache')}", size: 1GiB, max_object_size: 16MiB }
sites:
  "127.0.0.1":
    origin: "http://127.0.0.1:${basePort}"
`,
);
const resultsDir = join(root, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const tsv = join(resultsDir, 'http.tsv');
rmSync(tsv, { force: true });
const args = [
  script,
  '--base-port', String(basePort),
  '--extra', `edge=127.0.0.1:${edgePort}`,
  '--extra-cmd', `edge=GEOCDN_LOG_LEVEL=warn exec taskset -c 1 ${process.execPath} ${join(root, 'dist/cli.js')} edge --config ${config}`,
  '--extra', `edge-disk=127.0.0.1:${diskEdgePort}`,
  '--extra-cmd', `edge-disk=GEOCDN_LOG_LEVEL=warn exec taskset -c 1 ${process.execPath} ${join(root, 'dist/cli.js')} edge --config ${diskConfig}`,
  '--out', tsv,
  ...(process.env.BENCH_DURATION ? ['--duration', process.env.BENCH_DURATION] : []),
  ...process.argv.slice(2),
];
const run = spawnSync('bash', args, { stdio: 'inherit' });
rmSync(work, { recursive: true, force: true });

if (!existsSync(tsv)) {
  console.error('bench:http: no results were written');
  process.exit(run.status || 1);
}

const tsvText = readFileSync(tsv, 'utf8');
if (!/^edge\twrk\t/m.test(tsvText) || /^edge\twrk\t\S+\tn\/a/m.test(tsvText)) {
  console.error('bench:http: the edge was not measured (it did not start or did not answer); see its log lines above.');
  process.exit(1);
}
console.log('\nCache-HIT requests/second, geocdn edge vs the peers (same run, same pinned core):\n');
console.log(httpRatios(tsvText));
process.exit(run.status ?? 1);
