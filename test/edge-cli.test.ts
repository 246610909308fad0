import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type TestOrigin, fixed, get, startOrigin } from './helpers/edge-harness.js';
import { tempDir } from './helpers/tmp.js';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

describe('geocdn edge (the command)', () => {
  let origin: TestOrigin;
  let dir: string;
  before(async () => {
    origin = await startOrigin();
    origin.route('/hello', fixed(200, { 'cache-control': 'max-age=60' }, 'hello from origin'));
    dir = tempDir('geocdn-edge-cli-');
  });
  after(() => origin.close());

  it('starts from a YAML config with --pop, serves and caches, stops on SIGTERM', async () => {
    const config = join(dir, 'geocdn.yaml');
    writeFileSync(
      config,
      `edge:
  listen: "127.0.0.1:1"
  pops:
    eu-test: { listen: "127.0.0.1:0" }
sites:
  www.example.test:
    origin: "${origin.url}"
    grace_s: 600
`,
    );
    const child = spawn(process.execPath, [cli, 'edge', '--config', config, '--pop', 'eu-test'], { env: { ...process.env, GEOCDN_LOG_LEVEL: 'info' } });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const port = await new Promise<number>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /"address":"127\.0\.0\.1:(\d+)"/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      void exited.then((code) => reject(new Error(`edge exited (${code}): ${err}`)));
    });
    const a = await get({ port }, '/hello', { agent: false });
    const b = await get({ port }, '/hello', { agent: false });
    assert.equal(a.text, 'hello from origin');
    assert.equal(a.headers['x-cache-status'], 'MISS');
    assert.equal(b.headers['x-cache-status'], 'HIT');
    assert.equal(b.headers['via'], '1.1 geocdn-eu-test');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it('refuses to start without --config', async () => {
    const child = spawn(process.execPath, [cli, 'edge'], { stdio: 'ignore' });
    assert.equal(await new Promise((r) => child.on('exit', r)), 2);
  });
});
