import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { printTour } from '../src/demo/tour.js';

const cli = new URL('../../dist/cli.js', import.meta.url).pathname;

test('geocdn demo --check: every step of the printed tour behaves as printed', () => {
  const port = String(20000 + Math.floor(Math.random() * 20000));
  const r = spawnSync(process.execPath, [cli, 'demo', '--check', '--port', port], { encoding: 'utf8', env: { ...process.env, GEOCDN_LOG_LEVEL: 'silent' }, timeout: 30_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /every step behaved as printed/);
  assert.doesNotMatch(r.stdout, /FAIL/);
});

test("the README's quick start shows commands the tour prints", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const tour = printTour(5353);
  for (const line of readme.split('\n').filter((l) => l.startsWith('dig @127.0.0.1 -p 5353'))) {
    const command = line.split('#')[0].trim();
    assert.ok(tour.includes(command), `README command not in the tour: ${command}`);
  }
});
