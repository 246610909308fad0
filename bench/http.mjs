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
// At 10 MiB the one wrk core is the limit and a single run moves ±10 % against the
// peers; several rounds give a median ratio. Within a round each object size is its own
// run of http-peers.sh, so the servers compared at one size are measured back to back
// (tens of seconds apart, not the minutes a run of every size per server takes).
const passThrough = process.argv.slice(2);
const takeOption = (name, fallback) => {
  const at = passThrough.indexOf(name);
  return at >= 0 ? passThrough.splice(at, 2)[1] : fallback;
};
const rounds = Math.max(1, Number(takeOption('--rounds', process.env.BENCH_HTTP_ROUNDS ?? 3)) || 1);
const sizes = String(takeOption('--sizes', '1k,100k,10m')).split(',').filter(Boolean);
const tsv = join(resultsDir, 'http.tsv');
rmSync(tsv, { force: true });
// The edges run as users run them, through bin/geocdn (it sets glibc's heap trim threshold).
// BENCH_EDGE_NODE_FLAGS: node flags for the edges only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
const nodeFlags = process.env.BENCH_EDGE_NODE_FLAGS ? `NODE_OPTIONS='${process.env.BENCH_EDGE_NODE_FLAGS}' ` : '';
const edgeCmd = (cfg) => `GEOCDN_LOG_LEVEL=warn ${nodeFlags}exec taskset -c 1 sh ${join(root, 'bin/geocdn')} edge --config ${cfg}`;
const tsvTexts = [];
let status = 0;
for (let round = 1; round <= rounds; round++) {
  for (const size of sizes) {
    console.log(`\n=== bench:http round ${round}/${rounds}, ${size}`);
    const out = join(work, `round-${round}-${size}.tsv`);
    const args = [
      script,
      '--base-port', String(basePort),
      '--extra', `edge=127.0.0.1:${edgePort}`,
      '--extra-cmd', `edge=${edgeCmd(config)}`,
      '--extra', `edge-disk=127.0.0.1:${diskEdgePort}`,
      '--extra-cmd', `edge-disk=${edgeCmd(diskConfig)}`,
      '--sizes', size,
      '--out', out,
      ...(process.env.BENCH_DURATION ? ['--duration', process.env.BENCH_DURATION] : []),
      ...passThrough,
    ];
    const run = spawnSync('bash', args, { stdio: 'inherit' });
    status ||= run.status ?? 1;
    rmSync(join(work, 'disk-cache'), { recursive: true, force: true });
    if (!existsSync(out)) continue;
    const text = readFileSync(out, 'utf8');
    if (!/^edge\twrk\t/m.test(text) || /^edge\twrk\t\S+\tn\/a/m.test(text)) {
      console.error('bench:http: the edge was not measured (it did not start or did not answer); see its log lines above.');
      rmSync(work, { recursive: true, force: true });
      process.exit(1);
    }
    tsvTexts.push(text);
  }
}
rmSync(work, { recursive: true, force: true });

if (!tsvTexts.length) {
  console.error('bench:http: no results were written');
  process.exit(status || 1);
}
// http.tsv: every round's rows, one round after another, for bench/run.mjs's report.
writeFileSync(tsv, tsvTexts.map((t, i) => (i ? t.split('\n').slice(1).join('\n') : t)).join(''));
const label = rounds > 1 ? `median of ${rounds} rounds; in brackets the lowest and highest round` : 'one round';
console.log(`\nCache-HIT requests/second, geocdn edge vs the peers (same run, same pinned core; ${label}):\n`);
console.log(httpRatios(readFileSync(tsv, 'utf8')));
process.exit(status);
