import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { createProgress, formatProgress } from '../src/core/progress.js';
import { portsFrom, startDemo, type Demo } from '../src/demo/run.js';
import { parseUrlList, warm } from '../src/warm/warm.js';
import { warmTargets } from '../src/cli/warm.js';
import { discardingLogger } from './helpers/log.js';

const cli = new URL('../../dist/cli.js', import.meta.url).pathname;

function runCli(args: string[], stdin: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, GEOCDN_LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('geocdn warm, against the demo edges', () => {
  let demo: Demo;
  let base: number;
  before(async () => {
    base = 20000 + Math.floor(Math.random() * 12000);
    demo = await startDemo(portsFrom(base), discardingLogger('test'));
  });
  after(() => demo?.stop());

  test('fetches each URL through every POP: MISS then HIT, counted per POP, progress on stderr', async () => {
    const list = `# the demo site\nhttp://cdn.example.test/\n\nhttp://cdn.example.test/img/logo.svg\n`;
    const first = await runCli(['warm', '-', '--config', demo.configPath, '-n', '2'], list);
    assert.equal(first.status, 0, first.stdout + first.stderr);
    const rows = first.stdout.split('\n');
    assert.match(rows[0]!, /^POP\s+EDGE\s+FETCHED\s+HIT\s+MISS\s+ERRORS$/);
    for (const pop of ['eu-milan', 'us-newyork', 'ap-singapore']) {
      assert.match(first.stdout, new RegExp(`^${pop}\\s+http://127\\.0\\.0\\.\\d:${base + 1}\\s+2/2\\s+0\\s+2\\s+0$`, 'm'), first.stdout);
    }
    // stderr is not a TTY here: plain lines, the last one with the whole count.
    assert.match(first.stderr, /^warm 6\/6 \(100%\) /m);
    assert.doesNotMatch(first.stderr, /\r/);

    const again = await runCli(['warm', '-', '--config', demo.configPath, '--pop', 'eu-milan'], list);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^eu-milan\s+\S+\s+2\/2\s+2\s+0\s+0$/m);
    assert.doesNotMatch(again.stdout, /us-newyork/);
  });

  test('errors are counted per POP and make the exit status 1', async () => {
    const r = await runCli(['warm', '-', '-c', demo.configPath, '-p', 'us-newyork'], 'http://cdn.example.test/no-such-page\nhttp://unknown.example.test/\n');
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^us-newyork\s+\S+\s+2\/2\s+.*\s2$/m);
    assert.match(r.stdout, /us-newyork: http:\/\/unknown\.example\.test\/: HTTP 421/);
  });

  test('a stopped edge: the requests fail, the other POPs are still warmed', async () => {
    const targets = warmTargets({ a: { edge: `http://127.0.0.2:${base + 1}` }, b: { edge: 'http://127.0.0.1:1' } }, []);
    const out = await warm({ urls: parseUrlList('http://cdn.example.test/news\n', 'list'), targets, concurrency: 4, timeoutMs: 5000 });
    assert.equal(out[0]!.errors, 0);
    assert.equal(out[0]!.fetched, 1);
    assert.equal(out[1]!.errors, 1);
    assert.match(out[1]!.errorSamples[0]!, /ECONNREFUSED/);
  });
});

test('a bad line in the URL list is named with file:line', () => {
  assert.throws(() => parseUrlList('http://a.test/\nftp://b.test/x\n', 'urls.txt'), (e: Error & { format(): string }) => /GEOCDN_USAGE urls\.txt:2: not an http\(s\) URL/.test(e.format()));
});

test('--pop must name a POP with an edge', () => {
  assert.throws(() => warmTargets({ a: {} }, ['a']), /has no edge/);
  assert.throws(() => warmTargets({ a: { edge: 'http://x' } }, ['b']), /unknown POP "b"/);
  assert.throws(() => warmTargets({ a: {} }, []), /no POP has an edge/);
});

test('progress: a TTY line is redrawn in place at most every 100 ms; plain lines every 2 s', () => {
  let t = 0;
  const out: string[] = [];
  const tty = createProgress({ label: 'warm', total: 10, stream: { write: (s: string) => out.push(s), isTTY: true, columns: 80 }, now: () => t });
  for (let i = 0; i < 10; i++) {
    t += 30;
    tty.tick();
  }
  tty.done();
  assert.ok(out.length >= 3 && out.length <= 5, `redraws: ${out.length}`);
  assert.ok(out.slice(0, -1).every((s) => s.startsWith('\r') && s.endsWith('\x1b[K')));
  assert.equal(out.at(-1), '\n');

  const plain: string[] = [];
  t = 0;
  const p = createProgress({ label: 'warm', stream: { write: (s: string) => plain.push(s) }, now: () => t });
  for (let i = 0; i < 100; i++) {
    t += 100;
    p.tick();
  }
  p.done();
  assert.deepEqual(plain, ['warm 20 2.0s 10/s\n', 'warm 40 4.0s 10/s\n', 'warm 60 6.0s 10/s\n', 'warm 80 8.0s 10/s\n', 'warm 100 10.0s 10/s\n', 'warm 100 10.0s 10/s\n']);
  assert.equal(formatProgress('load', 5, 20, 2500, 'zones'), 'load 5/20 (25%) 2.5s 2.0/s zones');
});
