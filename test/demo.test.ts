import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { printTour } from '../src/demo/tour.js';

const cli = new URL('../../dist/cli.js', import.meta.url).pathname;

test('geocdn demo --check: every step of the printed tour behaves as printed', () => {
  // Below the kernel's ephemeral range (32768+), where other tests' listen(0) and outgoing sockets land.
  const port = String(20000 + Math.floor(Math.random() * 12000));
  const r = spawnSync(process.execPath, [cli, 'demo', '--check', '--port', port], { encoding: 'utf8', env: { ...process.env, GEOCDN_LOG_LEVEL: 'silent' }, timeout: 30_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /every step behaved as printed/);
  assert.doesNotMatch(r.stdout, /FAIL/);
});

test("the README's quick start shows commands the tour prints", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const tour = printTour({ dns: 5353, http: 8080, admin: 8053 });
  const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));
  const commands = quickStart.split('\n').filter((l) => l.startsWith('dig @127.0.0.1 -p 5353') || l.startsWith('curl '));
  assert.ok(commands.length >= 4, 'the README shows the tour');
  for (const line of commands) {
    const command = line.split('#')[0].trim();
    assert.ok(tour.includes(command), `README command not in the tour: ${command}`);
  }
});
