#!/usr/bin/env node
// Type-checks and compiles the tests, runs them with node:test, then lists
// every skipped test with its reason (a missing tool such as dig or redis-server),
// and fails the run if a test left a temporary file behind.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
rmSync(join(root, 'build'), { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.test.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (entry.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filter = process.argv.slice(2);
let files = findTests(join(root, 'build'));
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
files.sort();

const tapFile = join(root, 'build', 'results.tap');
// The tests (and the processes they start) get a temporary folder of their own: whatever is
// still in it when they have ended is a leak, named below, that would otherwise pile up in /tmp.
const tmp = mkdtempSync(join(tmpdir(), 'geocdn-run-'));
chmodSync(tmp, 0o1777); // as /tmp: a test's edge may run as user nobody
const run = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tapFile}`, ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, GEOCDN_LOG_LEVEL: process.env.GEOCDN_LOG_LEVEL ?? 'silent', TMPDIR: tmp } },
);
const leftBehind = readdirSync(tmp);
rmSync(tmp, { recursive: true, force: true });

const skipped = [];
try {
  const lines = readFileSync(tapFile, 'utf8').split('\n');
  for (const line of lines) {
    const m = /^\s*ok \d+ - (.*) # SKIP(.*)$/.exec(line);
    if (m) skipped.push(`${m[1].trim()} — ${m[2].trim() || 'skipped'}`);
  }
} catch {
  // no TAP output: the run itself failed and said why
}
if (skipped.length) {
  console.log(`\n${skipped.length} test(s) skipped:`);
  for (const s of skipped) console.log(`  - ${s}`);
} else {
  console.log('\nNo tests skipped.');
}
if (leftBehind.length) {
  console.log(`\n${leftBehind.length} temporary file(s) left behind by the tests (make them with tempDir() from test/helpers/tmp.ts):`);
  for (const name of leftBehind) console.log(`  - ${name}`);
  process.exit(run.status || 1);
}
process.exit(run.status ?? 1);
