#!/usr/bin/env node
// npm run bench:dns — geocdn beside gdnsd, Knot and PowerDNS, in one run of
// ../shared/tools/dns-peers.sh, on the same pinned core; prints ratios.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
export function dnsRatios(tsvText) {
  const rows = tsvText.trim().split('\n').slice(1).map((l) => l.split('\t'));
  const qps = new Map(rows.map(([peer, mode, q]) => [`${peer}/${mode}`, Number(q)]));
  const modes = [...new Set(rows.map((r) => r[1]))];
  const peers = [...new Set(rows.map((r) => r[0]))].filter((p) => p !== 'geocdn');
  const lines = ['| mode | geocdn QPS | ' + peers.map((p) => `${p} QPS | geocdn/${p}`).join(' | ') + ' |'];
  lines.push('|' + ' --- |'.repeat(2 + peers.length * 2));
  for (const m of modes) {
    const g = qps.get(`geocdn/${m}`);
    const cells = peers.map((p) => {
      const v = qps.get(`${p}/${m}`);
      return `${v || 'n/a'} | ${g && v ? (g / v).toFixed(2) + '×' : 'n/a'}`;
    });
    lines.push(`| ${m} | ${g || 'n/a'} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
const table = dnsRatios(readFileSync(tsv, 'utf8'));
const note = 'geocdn serves the geo name from BENCH_GEO_JSON as a geo service (country map over BENCH_MMDB_GEOIP2, see bench/dns-config.mjs). Servers pinned to one core; ratios are geocdn QPS / peer QPS from this run.';
const md = `# DNS: geocdn beside its peers (${new Date().toISOString()})\n\n${table}\n\n${note}\n`;
writeFileSync(join(resultsDir, 'dns.md'), md);
console.log(`\n${md}`);
process.exit(run.status ?? 1);
