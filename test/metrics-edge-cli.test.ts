import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type TestOrigin, fixed, get, startOrigin } from './helpers/edge-harness.js';
import { parseProm, sample } from './helpers/prom-text.js';
import { tempDir } from './helpers/tmp.js';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const TOKEN = 'edge-admin-test-token-0123';

function run(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [cli, ...args], { env: { ...process.env, GEOCDN_ADMIN_TOKEN: TOKEN, GEOCDN_LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('geocdn edge with an admin API (edge.pops.NAME.admin)', () => {
  let origin: TestOrigin;
  let dir: string;
  before(async () => {
    origin = await startOrigin();
    origin.route('/hello', fixed(200, { 'cache-control': 'max-age=60' }, 'hello from origin'));
    dir = tempDir('geocdn-edge-admin-');
  });
  after(() => origin.close());

  it('serves /metrics and /v1/status with the token, and geocdn status shows its version', async () => {
    const config = join(dir, 'geocdn.yaml');
    writeFileSync(
      config,
      `edge:
  pops:
    eu-test: { listen: "127.0.0.1:0", admin: "127.0.0.1:0" }
sites:
  www.example.test: { origin: "${origin.url}" }
admin: { listen: false }
`,
    );
    const child = spawn(process.execPath, [cli, 'edge', '--config', config, '--pop', 'eu-test'], { env: { ...process.env, GEOCDN_ADMIN_TOKEN: TOKEN, GEOCDN_LOG_LEVEL: 'info' } });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const { port, admin } = await new Promise<{ port: number; admin: string }>((resolve, reject) => {
        let err = '';
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const p = /"address":"127\.0\.0\.1:(\d+)"/.exec(err);
          const a = /"url":"(http:\/\/127\.0\.0\.1:\d+)".*edge admin API listening/.exec(err);
          if (p && a) resolve({ port: Number(p[1]), admin: a[1]! });
        });
        void exited.then((code) => reject(new Error(`edge exited (${code}): ${err}`)));
      });
      assert.equal((await get({ port }, '/hello', { agent: false })).headers['x-cache-status'], 'MISS');
      assert.equal((await get({ port }, '/hello', { agent: false })).headers['x-cache-status'], 'HIT');

      assert.equal((await fetch(`${admin}/metrics`)).status, 401);
      const res = await fetch(`${admin}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.status, 200);
      const m = parseProm(await res.text());
      assert.equal(sample(m, 'geocdn_edge_requests_total', { pop: 'eu-test', cache_status: 'HIT' }), 1);
      assert.equal(sample(m, 'geocdn_edge_requests_total', { pop: 'eu-test', cache_status: 'MISS' }), 1);
      assert.equal(sample(m, 'geocdn_edge_store_entries', { pop: 'eu-test' }), 1);
      assert.equal(sample(m, 'geocdn_edge_origin_latency_seconds_count', { pop: 'eu-test' }), 1);

      const status = (await (await fetch(`${admin}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { node: string; role: string; version: string; edges: { store: { entries: number }; hitRatio: number }[] };
      assert.equal(status.node, 'edge-eu-test');
      assert.equal(status.role, 'edge');
      assert.match(status.version, /^[0-9a-f]{12}$/);
      assert.equal(status.edges[0]!.store.entries, 1);

      const r = await run('status', '--admin', admin);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^edge-eu-test\\s+edge\\s+${status.version}\\s`, 'm'));

      // A reload that changes the sites: the version the admin API reports is the new one.
      writeFileSync(config, readFileSync(config, 'utf8').replace('sites:', 'sites:\n  www2.example.test: { origin: "http://127.0.0.1:1" }'));
      child.kill('SIGHUP');
      const versionNow = async (): Promise<string> => ((await (await fetch(`${admin}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { version: string }).version;
      let reloaded = status.version;
      for (let i = 0; i < 100 && reloaded === status.version; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        reloaded = await versionNow();
      }
      assert.notEqual(reloaded, status.version, 'the reloaded config has a version of its own');
      assert.match(reloaded, /^[0-9a-f]{12}$/);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });
  it('a reload that changes admin.token says it takes a restart (the admin API keeps checking the token it started with)', async () => {
    const config = join(dir, 'token.yaml');
    const text = (token: string): string => `edge:\n  pops:\n    eu-test: { listen: "127.0.0.1:0", admin: "127.0.0.1:0" }\nsites:\n  www.example.test: { origin: "${origin.url}" }\nadmin: { listen: false, token: "${token}" }\n`;
    writeFileSync(config, text(TOKEN));
    const env: NodeJS.ProcessEnv = { ...process.env, GEOCDN_LOG_LEVEL: 'info' };
    delete env['GEOCDN_ADMIN_TOKEN'];
    const child = spawn(process.execPath, [cli, 'edge', '--config', config, '--pop', 'eu-test'], { env });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let log = '';
    try {
      const admin = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          log += d.toString();
          const a = /"url":"(http:\/\/127\.0\.0\.1:\d+)".*edge admin API listening/.exec(log);
          if (a) resolve(a[1]!);
        });
        void exited.then((code) => reject(new Error(`edge exited (${code}): ${log}`)));
      });
      writeFileSync(config, text('a-rotated-admin-token-4567'));
      child.kill('SIGHUP');
      for (let i = 0; i < 100 && !/edge config reloaded/.test(log); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(log, /edge config reloaded/);
      assert.match(log, /"sections":\["admin.token"\].*apply at the next restart/, 'the operator is told the new token is not in force');
      const old = await fetch(`${admin}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(old.status, 200, 'the token it started with is the one checked');
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });
});
