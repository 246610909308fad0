#!/usr/bin/env node
// npm run bench:dns — geocdn beside gdnsd, Knot and PowerDNS, in one run of
// ../shared/tools/dns-peers.sh, on the same pinned core; prints ratios.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dnsRatios } from './tables.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const script = resolve(root, '../shared/tools/dns-peers.sh');
if (!existsSync(script)) {
  console.error(`bench:dns: ${script} not found. The peer scripts live in ../shared/tools beside the repository.`);
  process.exit(2);
}
const resultsDir = join(root, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const tsv = join(resultsDir, 'dns.tsv');
const port = process.env.BENCH_GEOCDN_PORT ?? '5399';
const args = [
  script,
  '--extra', `geocdn=127.0.0.1:${port}`,
  '--extra-cmd', `geocdn=exec taskset -c 1 ${process.execPath} ${join(root, 'bench/serve-dns.mjs')}`,
  '--out', tsv,
  ...(process.env.BENCH_DURATION ? ['--duration', process.env.BENCH_DURATION] : []),
  ...process.argv.slice(2),
];
const run = spawnSync('bash', args, { stdio: 'inherit' });

if (!existsSync(tsv)) {
  console.error('bench:dns: no results were written');
  process.exit(run.status ?? 1);
}
const table = dnsRatios(readFileSync(tsv, 'utf8'));
const note = 'geocdn serves the geo name from BENCH_GEO_JSON as a geo service (country map over BENCH_MMDB_GEOIP2, see bench/dns-config.mjs). Servers pinned to one core; ratios are geocdn QPS / peer QPS from this run.';
const md = `# DNS: geocdn beside its peers (${new Date().toISOString()})\n\n${table}\n\n${note}\n`;
writeFileSync(join(resultsDir, 'dns.md'), md);
console.log(`\n${md}`);
process.exit(run.status ?? 1);
