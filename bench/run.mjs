#!/usr/bin/env node
// npm run bench — every benchmark beside its peers, then one table of ratios,
// also written to bench/results/latest.md. Each part runs on its own; a part
// that fails is reported and the others still run.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dnsRatios, httpRatios } from './tables.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, 'bench/results');
const parts = [
  ['dns', 'bench/dns.mjs', 'DNS queries/second beside gdnsd, Knot and PowerDNS (dns-peers.sh, dnsperf)'],
  ['http', 'bench/http.mjs', 'Edge cache-HIT requests/second beside nginx and Varnish (http-peers.sh, wrk)'],
  ['failover', 'bench/failover.mjs', 'Failover: from killing an edge to the first DNS answer that avoids it'],
];
const status = {};
for (const [name, script] of parts) {
  console.log(`\n=== bench ${name} ===`);
  status[name] = spawnSync(process.execPath, [join(root, script)], { stdio: 'inherit', cwd: root }).status;
}

const read = (f) => (existsSync(join(results, f)) ? readFileSync(join(results, f), 'utf8') : undefined);
const sections = [`# geocdn benchmarks (${new Date().toISOString()})`, '', 'Ratios are geocdn ÷ peer, from the same run on the same pinned core; figures move 20–30 % between runs on shared machines.'];
const dns = read('dns.tsv');
sections.push('', `## ${parts[0][2]}`, '', dns ? dnsRatios(dns) : 'not measured', status.dns === 0 ? '' : '\n(the DNS run reported a failure: see its output)');
const http = read('http.tsv');
sections.push('', `## ${parts[1][2]}`, '', http ? httpRatios(http) : 'not measured', status.http === 0 ? '' : '\n(the HTTP run reported a failure: see its output)');
const failover = read('failover.tsv');
if (failover) {
  const rows = failover.trim().split('\n').slice(1).map((l) => l.split('\t'));
  const ms = rows.map((r) => Number(r[2]));
  const [, , , interval, fall, timeout] = rows[0];
  sections.push('', `## ${parts[2][2]}`, '', `interval ${interval} ms × fall ${fall} (probe timeout ${timeout} ms): worst ${(Math.max(...ms) / 1000).toFixed(2)} s, mean ${(ms.reduce((a, b) => a + b, 0) / ms.length / 1000).toFixed(2)} s over ${ms.length} trials; goal ≤ interval × fall + 1 s = ${((Number(interval) * Number(fall) + 1000) / 1000).toFixed(2)} s`);
}
const md = `${sections.join('\n')}\n`;
writeFileSync(join(results, 'latest.md'), md);
console.log(`\n${md}`);
process.exit(Object.values(status).every((s) => s === 0) ? 0 : 1);
