import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { objectName } from '../src/edge/cache/disk-format.js';
import { diskEdgeConfig, nobodyCannotRunEdge, startChildEdge } from './helpers/disk-child.js';
import { type TestOrigin, fixed, get, startOrigin } from './helpers/edge-harness.js';
import { tempDir } from './helpers/tmp.js';

const work = tempDir('geocdn-disk-crash-');
chmodSync(work, 0o755); // an edge running as another user reads its config here
let origin: TestOrigin;
const SIZE = 4 * 1024 * 1024;
const CHUNK = 64 * 1024;
const slowBody = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 13) % 256));

before(async () => {
  origin = await startOrigin();
  // The first answer trickles out (about 1.3 s); later ones come at once.
  origin.route('/slow', async (_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'application/octet-stream', 'content-length': String(SIZE) });
    const trickle = origin.count('/slow') === 1;
    for (let at = 0; at < SIZE; at += CHUNK) {
      if (res.destroyed) return;
      res.write(slowBody.subarray(at, at + CHUNK));
      if (trickle) await new Promise((r) => setTimeout(r, 20));
    }
    res.end();
  });
  origin.route('/ro-old', fixed(200, { 'cache-control': 'max-age=600' }, 'stored before the disk went read-only'));
  origin.route('/ro-new', fixed(200, { 'cache-control': 'max-age=600' }, 'fetched while the disk is read-only'));
});
after(async () => {
  await origin.close();
});

function objectFile(dir: string, path: string): string {
  const name = objectName(`http://www.example.test${path}`);
  return join(dir, 'objects', name.slice(0, 2), name);
}

/** Reads from the edge until `enough` bytes came, then calls `then`; resolves with what was received. */
function readUntil(port: number, path: string, enough: number, then: () => void): Promise<number> {
  return new Promise((resolve) => {
    let got = 0;
    let fired = false;
    const req = request({ host: '127.0.0.1', port, path, headers: { host: 'www.example.test' }, agent: false }, (res) => {
      res.on('data', (c: Buffer) => {
        got += c.length;
        if (!fired && got >= enough) {
          fired = true;
          then();
        }
      });
      res.on('end', () => resolve(got));
      res.on('error', () => resolve(got));
      res.on('aborted', () => resolve(got));
    });
    req.on('error', () => resolve(got));
    req.end();
  });
}

describe('disk tier in a real edge process', () => {
  it('kill -9 in the middle of a write: after a restart nothing partial is served and the temp file is gone', async () => {
    const dir = join(work, 'crash');
    const config = diskEdgeConfig(work, origin.url, dir);
    const first = await startChildEdge(config);
    let tempsAtKill: string[] = [];
    const received = await readUntil(first.port, '/slow', SIZE / 4, () => {
      tempsAtKill = readdirSync(join(dir, 'tmp'));
      first.child.kill('SIGKILL');
    });
    await first.exited;
    assert.ok(received < SIZE, `killed mid-body (${received} of ${SIZE} bytes)`);
    assert.equal(tempsAtKill.length, 1, 'the object was being written to a temp file');
    assert.equal(existsSync(objectFile(dir, '/slow')), false, 'never renamed into place');
    assert.equal(readdirSync(join(dir, 'tmp')).length, 1, 'the half-written file outlived the process');

    const second = await startChildEdge(config);
    try {
      assert.deepEqual(readdirSync(join(dir, 'tmp')), [], 'temp files are cleaned up at start');
      const miss = await get(second, '/slow', { agent: false });
      assert.equal(miss.headers['x-cache-status'], 'MISS');
      assert.ok(miss.body.equals(slowBody), 'the whole body, fetched again');
      assert.equal(origin.count('/slow'), 2);
      const hit = await get(second, '/slow', { agent: false });
      assert.equal(hit.headers['x-cache-status'], 'HIT');
      assert.ok(hit.body.equals(slowBody));
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }

    // And the stored object survives the next kill -9: it was whole before it became visible.
    const third = await startChildEdge(config);
    try {
      const hit = await get(third, '/slow', { agent: false });
      assert.equal(hit.headers['x-cache-status'], 'HIT');
      assert.ok(hit.body.equals(slowBody));
      assert.equal(origin.count('/slow'), 2);
    } finally {
      third.child.kill('SIGTERM');
      assert.equal(await third.exited, 0);
    }
  });

  it('a read-only disk is reported in the health JSON; the edge serves what it holds and fills memory from the origin', { skip: nobodyCannotRunEdge() }, async () => {
    const dir = join(work, 'ro');
    const config = diskEdgeConfig(work, origin.url, dir);
    const writer = await startChildEdge(config);
    assert.equal((await get(writer, '/ro-old', { agent: false })).headers['x-cache-status'], 'MISS');
    writer.child.kill('SIGTERM');
    await writer.exited;

    // Root writes anywhere: run the edge as nobody, for whom the root-owned folder is read-only.
    const asRoot = process.getuid?.() === 0;
    const dirs = [dir, join(dir, 'tmp'), join(dir, 'objects'), ...readdirSync(join(dir, 'objects')).map((s) => join(dir, 'objects', s))];
    if (!asRoot) for (const d of dirs) chmodSync(d, 0o555);
    const edge = await startChildEdge(config, asRoot ? { uid: 65534, gid: 65534 } : {});
    try {
      const health = JSON.parse((await get(edge, '/.well-known/geocdn/health', { agent: false })).text);
      assert.equal(health.status, 'ok');
      assert.equal(health.cache.disk.state, 'read-only');
      assert.match(health.cache.disk.error, /EACCES|EROFS|EPERM/);
      assert.equal(health.cache.disk.entries, 1);
      assert.match(edge.log(), /disk tier cannot write/);

      const old = await get(edge, '/ro-old', { agent: false });
      assert.equal(old.headers['x-cache-status'], 'HIT', 'a read-only disk still serves');
      assert.equal(old.text, 'stored before the disk went read-only');
      const miss = await get(edge, '/ro-new', { agent: false });
      assert.equal(miss.headers['x-cache-status'], 'MISS');
      assert.equal(miss.text, 'fetched while the disk is read-only');
      const hit = await get(edge, '/ro-new', { agent: false });
      assert.equal(hit.headers['x-cache-status'], 'HIT', 'from memory');
      assert.equal(origin.count('/ro-new'), 1);
    } finally {
      edge.child.kill('SIGTERM');
      await edge.exited;
      if (!asRoot) for (const d of dirs) chmodSync(d, 0o755);
    }
  });
});
