import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { printTour } from '../src/demo/tour.js';
import { tempDir } from './helpers/tmp.js';

const cli = new URL('../../dist/cli.js', import.meta.url).pathname;

// Below the kernel's ephemeral range (32768+), where other tests' listen(0) and outgoing sockets land.
const randomPort = () => String(20000 + Math.floor(Math.random() * 12000));

/** `geocdn demo` on random ports with its own TMPDIR, running once it has printed its tour; `out()` is all it wrote. */
async function runningDemo(tmp: string): Promise<{ child: ChildProcess; exited: Promise<number | null>; out: () => string }> {
  const child = spawn(process.execPath, [cli, 'demo', '--port', randomPort()], { env: { ...process.env, GEOCDN_LOG_LEVEL: 'silent', TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 300 && !out.includes('Press Ctrl-C to stop.') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
  return { child, exited, out: () => out };
}

test('geocdn demo --check: every step of the printed tour behaves as printed, and leaves no files behind', () => {
  // The demo's own temporary folder (moved config, certificate) lands in a TMPDIR of its own, which must end empty.
  const tmp = tempDir('geocdn-demo-test-');
  const r = spawnSync(process.execPath, [cli, 'demo', '--check', '--port', randomPort()], { encoding: 'utf8', env: { ...process.env, GEOCDN_LOG_LEVEL: 'silent', TMPDIR: tmp }, timeout: 30_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /every step behaved as printed/);
  assert.doesNotMatch(r.stdout, /FAIL/);
  assert.deepEqual(readdirSync(tmp), []);
});

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  test(`geocdn demo stopped by ${signal} exits 0 and removes the files it wrote`, async () => {
    const tmp = tempDir('geocdn-demo-test-');
    const { child, exited, out } = await runningDemo(tmp);
    try {
      assert.match(out(), /Press Ctrl-C to stop\./);
      assert.notDeepEqual(readdirSync(tmp), [], 'the running demo keeps its moved config and certificate here');
      child.kill(signal);
      assert.equal(await exited, 0, out());
      assert.match(out(), /demo stopped/);
      assert.deepEqual(readdirSync(tmp), []);
    } finally {
      child.kill('SIGKILL');
    }
  });
}

test('with --port, the geocdn commands the demo prints reach this demo (its moved config), not the default ports', async () => {
  const { child, exited, out } = await runningDemo(tempDir('geocdn-demo-test-'));
  try {
    const printed = [...out().matchAll(/npx geocdn ((?:purge|drain|lookup) [^)\n]*)/g)].map((m) => m[1]!.trim().split(/\s+/));
    assert.deepEqual(printed.map((a) => a[0]).sort(), ['drain', 'lookup', 'purge'], out());
    for (const args of printed) {
      const r = await new Promise<{ status: number | null; out: string }>((resolve) => {
        const c = spawn(process.execPath, [cli, ...args], { env: { ...process.env, GEOCDN_LOG_LEVEL: 'silent', GEOCDN_ADMIN_TOKEN: '' } });
        let o = '';
        c.stdout.on('data', (d: Buffer) => (o += d.toString()));
        c.stderr.on('data', (d: Buffer) => (o += d.toString()));
        c.on('exit', (status) => resolve({ status, out: o }));
      });
      assert.equal(r.status, 0, `geocdn ${args.join(' ')}:\n${r.out}`);
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
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
