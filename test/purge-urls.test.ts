import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { tempDir } from './helpers/tmp.js';

/**
 * Purge by URL as an operator writes it: the URL from the browser's address bar (https,
 * a port, an alias, any letter case), through `geocdn purge` and the admin API of a
 * running demo, to its edges over real HTTP.
 */
const cli = new URL('../../dist/cli.js', import.meta.url).pathname;
const TOKEN = 'demo-token-only-for-loopback';
const base = 20000 + Math.floor(Math.random() * 12000);
const ports = { http: base + 1, admin: base + 3 };

function cacheStatus(path: string, host = 'cdn.example.test'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.3', port: ports.http, path, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-cache-status'])));
    });
    req.on('error', reject);
    req.end();
  });
}

function geocdn(...args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [cli, ...args, '--admin', `http://127.0.0.1:${ports.admin}`], { env: { ...process.env, GEOCDN_ADMIN_TOKEN: TOKEN, GEOCDN_LOG_LEVEL: 'silent' } });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', (status) => resolve({ status, out }));
  });
}

describe('purge by URL, as written in a browser', () => {
  let demo: ChildProcess;
  before(async () => {
    demo = spawn(process.execPath, [cli, 'demo', '--port', String(base)], { env: { ...process.env, GEOCDN_LOG_LEVEL: 'silent', TMPDIR: tempDir('geocdn-purge-urls-') }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    demo.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 300 && !out.includes('Press Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 50));
  });
  after(async () => {
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGTERM');
    await exited;
  });

  for (const url of ['https://cdn.example.test/guide.html', 'http://CDN.Example.Test:8080/guide.html', 'http://www.example.test/guide.html', 'https://www.example.test./guide.html']) {
    it(`${url} purges the cached http://cdn.example.test/guide.html`, async () => {
      await cacheStatus('/guide.html');
      assert.equal(await cacheStatus('/guide.html'), 'HIT');
      const r = await geocdn('purge', url);
      assert.equal(r.status, 0, r.out);
      assert.equal(await cacheStatus('/guide.html'), 'MISS');
    });
  }

  it('a prefix is taken the same way', async () => {
    await cacheStatus('/guide.html');
    assert.equal(await cacheStatus('/guide.html'), 'HIT');
    const r = await geocdn('purge', '--prefix', 'https://WWW.example.test/gui');
    assert.equal(r.status, 0, r.out);
    assert.equal(await cacheStatus('/guide.html'), 'MISS');
  });

  it('a URL that is not absolute is refused with 400, naming it', async () => {
    const r = await geocdn('purge', '/guide.html');
    assert.equal(r.status, 1);
    assert.match(r.out, /GEOCDN_ADMIN_BODY.*urls\.0: "\/guide\.html" is not an absolute http:\/\/ or https:\/\/ URL/);
    const res = await fetch(`http://127.0.0.1:${ports.admin}/v1/purge`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{"tags":"home"}' });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /^tags: /);
  });
});
