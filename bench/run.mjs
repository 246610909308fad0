#!/usr/bin/env node
// npm run bench — every benchmark beside its peers, then one report of ratios
// and figures, also written to bench/results/latest.md. Each part runs on its
// own, shows its progress, and a part that fails is reported while the others still run.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dnsRatios, httpRatios } from './tables.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, 'bench/results');
mkdirSync(results, { recursive: true });
const read = (f) => (existsSync(join(results, f)) ? readFileSync(join(results, f), 'utf8') : undefined);

/** Each part: the script, a title, and how its result reads in the report (from its TSV, or from the lines it printed). */
const parts = [
  { name: 'dns', script: 'bench/dns.mjs', title: 'DNS queries/second beside gdnsd, Knot and PowerDNS (dns-peers.sh, dnsperf)', report: () => { const t = read('dns.tsv'); return t && dnsRatios(t); } },
  { name: 'http', script: 'bench/http.mjs', title: 'Edge cache-HIT requests/second beside nginx and Varnish (http-peers.sh, wrk)', report: () => { const t = read('http.tsv'); return t && httpRatios(t); } },
  { name: 'large', script: 'bench/large.mjs', title: 'A 1 GiB object streamed through the edge beside nginx', report: (out) => lastLines(out, 8) },
  { name: 'collapse', script: 'bench/collapse.mjs', title: 'Request collapsing: 1000 clients, one uncached object, 300 ms origin (beside nginx proxy_cache_lock)', report: collapseTable },
  { name: 'failover', script: 'bench/failover.mjs', title: 'Failover: from killing an edge to the first DNS answer that avoids it', report: failoverLine },
  { name: 'purge', script: 'bench/purge.mjs', title: 'Purge propagation to 3 edges, until every edge answers the new content', report: (out) => grepLines(out, /^purge propagation/) },
  { name: 'disk', script: 'bench/disk-index.mjs', args: ['--expose-gc'], title: 'Disk tier: index rebuild at start for 100k objects', report: (out) => grepLines(out, /^disk tier index rebuild/) },
  { name: 'startup', script: 'bench/startup.mjs', title: 'Nameserver loads: a 100k-record zone, the embedded GeoIP databases', report: (out) => lastLines(out, 3) },
].filter((p) => existsSync(join(root, p.script)));

function lastLines(out, n) {
  return out.trim().split('\n').slice(-n).map((l) => `    ${l}`).join('\n');
}
function grepLines(out, re) {
  return out.split('\n').filter((l) => re.test(l)).map((l) => `    ${l}`).join('\n');
}
function collapseTable() {
  const t = read('collapse.tsv');
  if (!t) return undefined;
  const rows = t.trim().split('\n').slice(1).map((l) => l.split('\t'));
  const out = ['| server | origin fetches per round | failed | p50 ms | last client ms |', '| --- | --- | --- | --- | --- |'];
  for (const name of [...new Set(rows.map((r) => r[0]))]) {
    const mine = rows.filter((r) => r[0] === name);
    const avg = (i) => (mine.reduce((a, r) => a + Number(r[i]), 0) / mine.length).toFixed(0);
    out.push(`| ${name} | ${mine.map((r) => r[2]).join(', ')} | ${mine.reduce((a, r) => a + Number(r[3]), 0)} | ${avg(4)} | ${avg(5)} |`);
  }
  return out.join('\n');
}
function failoverLine() {
  const t = read('failover.tsv');
  if (!t) return undefined;
  const rows = t.trim().split('\n').slice(1).map((l) => l.split('\t'));
  const ms = rows.map((r) => Number(r[2]));
  const [, , , interval, fall, timeout] = rows[0];
  return `interval ${interval} ms × fall ${fall} (probe timeout ${timeout} ms): worst ${(Math.max(...ms) / 1000).toFixed(2)} s, mean ${(ms.reduce((a, b) => a + b, 0) / ms.length / 1000).toFixed(2)} s over ${ms.length} trials; goal ≤ interval × fall + 1 s = ${((Number(interval) * Number(fall) + 1000) / 1000).toFixed(2)} s`;
}

/** Runs one part, echoing its output as it comes, and returns its exit status and output. */
function run(part) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...(part.args ?? []), join(root, part.script)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      process.stdout.write(c);
    });
    child.on('close', (status) => done({ status, out }));
  });
}

const started = Date.now();
const sections = [`# geocdn benchmarks (${new Date().toISOString()})`, '', 'Ratios are geocdn ÷ peer, from the same run on the same pinned core; figures move 20–30 % between runs on shared machines.'];
let failed = 0;
for (const [i, part] of parts.entries()) {
  const elapsed = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`\n=== [${i + 1}/${parts.length}] bench ${part.name} (${elapsed} s so far) — ${part.title}`);
  const t0 = Date.now();
  const { status, out } = await run(part);
  console.log(`=== bench ${part.name}: ${status === 0 ? 'done' : `FAILED (exit ${status})`} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (status !== 0) failed++;
  const body = status === 0 ? part.report(out) : undefined;
  sections.push('', `## ${part.title}`, '', body || 'not measured', status === 0 ? '' : `\n(the ${part.name} run reported a failure: see its output)`);
}
const md = `${sections.join('\n')}\n`;
writeFileSync(join(results, 'latest.md'), md);
console.log(`\n${md}`);
process.exit(failed === 0 ? 0 : 1);
