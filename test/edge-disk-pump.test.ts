import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, truncateSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { objectName } from '../src/edge/cache/disk-format.js';
import { type OriginHandler, type TestClock, type TestEdge, type TestOrigin, fillsSettled, fixed, get, startEdge, startOrigin, testClock, until } from './helpers/edge-harness.js';
import { tempDir } from './helpers/tmp.js';

// Disk-tier HITs of bodies larger than the pump's buffers (512 KiB, two in flight):
// sent through reused buffers, byte for byte, and the file closed however the response ends.

const work = tempDir('geocdn-disk-pump-');
// Random bytes: a buffer reused too early would show, as no two chunks of the body are alike.
const big = randomBytes(3 * 1024 * 1024 + 12_345);
const medium = randomBytes(100 * 1024); // read into a buffer of its own size, not a pooled one
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let origin: TestOrigin;
let edge: TestEdge;
let dir: string;

before(async () => {
  origin = await startOrigin();
  for (const p of ['/a', '/b', '/c', '/d']) origin.route(p, fixed(200, { 'cache-control': 'max-age=600', 'content-type': 'application/octet-stream' }, big));
  origin.route('/medium', fixed(200, { 'cache-control': 'max-age=600', 'content-type': 'application/octet-stream' }, medium));
  dir = join(work, 'disk');
  // Nothing above 1 KiB in memory: every HIT below reads its object file.
  edge = await startEdge({ origin, edge: { memory_size: '1MiB', max_object_size: '1KiB', disk: { path: dir, size: '64MiB', max_object_size: '16MiB' } } });
});
after(async () => {
  await edge.close();
  await origin.close();
});

function objectFile(path: string): string {
  const name = objectName(`http://www.example.test${path}`);
  return join(dir, 'objects', name.slice(0, 2), name);
}

/** Open file descriptors of this process (the edge runs in it). */
const openFds = () => readdirSync('/proc/self/fd').length;

describe('disk-tier HITs through reused buffers', () => {
  it('twenty concurrent HITs, and four in a row on one keep-alive connection, each get the whole body', async () => {
    assert.equal((await get(edge, '/a')).headers['x-cache-status'], 'MISS');
    await fillsSettled(edge); // the store has it: the next requests read the disk, not the fill
    const replies = await Promise.all(Array.from({ length: 20 }, () => get(edge, '/a')));
    for (const r of replies) {
      assert.equal(r.headers['x-cache-status'], 'HIT');
      assert.equal(r.body.length, big.length);
      assert.equal(sha(r.body), sha(big));
    }
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 4; i++) {
        const r = await get(edge, '/a', { agent });
        assert.equal(r.headers['x-cache-status'], 'HIT');
        assert.equal(sha(r.body), sha(big));
      }
    } finally {
      agent.destroy();
    }
    assert.equal(origin.count('/a'), 1);
  });

  it('a 100 KiB disk object: concurrent HITs each get the whole body', async () => {
    await get(edge, '/medium');
    await fillsSettled(edge);
    const replies = await Promise.all(Array.from({ length: 20 }, () => get(edge, '/medium')));
    for (const r of replies) {
      assert.equal(r.headers['x-cache-status'], 'HIT');
      assert.equal(sha(r.body), sha(medium));
    }
  });

  it('a client that reads slowly gets its own bytes while other HITs reuse the buffers', async () => {
    await get(edge, '/a');
    await fillsSettled(edge);
    const chunks: Buffer[] = [];
    const slow = connect(edge.port, '127.0.0.1');
    const done = new Promise<void>((resolve, reject) => {
      slow.on('end', resolve);
      slow.on('error', reject);
    });
    slow.pause();
    slow.on('data', (d: Buffer) => chunks.push(d));
    slow.write('GET /a HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n');
    // While its writes wait in the socket, other responses go through the same pool.
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 6 }, () => get(edge, '/a')));
    slow.resume();
    await done;
    const reply = Buffer.concat(chunks);
    const body = reply.subarray(reply.indexOf('\r\n\r\n') + 4);
    assert.equal(body.length, big.length);
    assert.equal(sha(body), sha(big));
  });

  it('a file truncated behind the store is found changed before the head goes out: the client gets a MISS with the whole body', async () => {
    await get(edge, '/b');
    await fillsSettled(edge);
    assert.equal((await get(edge, '/b')).headers['x-cache-status'], 'HIT');
    truncateSync(objectFile('/b'), 1024 * 1024);
    const again = await get(edge, '/b');
    assert.equal(again.headers['x-cache-status'], 'MISS');
    assert.equal(sha(again.body), sha(big));
    assert.equal(origin.count('/b'), 2);
    const hit = await get(edge, '/b');
    assert.equal(hit.headers['x-cache-status'], 'HIT');
    assert.equal(sha(hit.body), sha(big));
  });

  it('a client that goes away mid-body leaves no file open', async () => {
    await get(edge, '/c');
    await fillsSettled(edge);
    const baseline = openFds();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const s = connect(edge.port, '127.0.0.1', () => s.write('GET /c HTTP/1.1\r\nHost: www.example.test\r\n\r\n'));
        let got = 0;
        s.on('data', (d: Buffer) => {
          got += d.length;
          if (got > 700_000) {
            s.destroy();
            resolve();
          }
        });
        s.on('error', reject);
      });
    }
    await until(() => openFds() <= baseline, 'object files closed after the clients left');
    const r = await get(edge, '/c');
    assert.equal(r.headers['x-cache-status'], 'HIT');
    assert.equal(sha(r.body), sha(big));
  });

  it('HEAD of a disk object sends the head only, and the connection stays usable', async () => {
    await get(edge, '/d');
    await fillsSettled(edge);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const head = await get(edge, '/d', { method: 'HEAD', agent });
      assert.equal(head.headers['x-cache-status'], 'HIT');
      assert.equal(head.headers['content-length'], String(big.length));
      assert.equal(head.body.length, 0);
      const body = await get(edge, '/d', { agent });
      assert.equal(sha(body.body), sha(big));
    } finally {
      agent.destroy();
    }
  });
});

/**
 * An origin route for `big` that answers If-None-Match with 304, with Date on the edge's
 * clock (which the tests move) and the fields `fields()` gives at the time of the request.
 */
function revalidating(clock: TestClock, etag: string, fields: () => Record<string, string>): OriginHandler {
  return (req, res) => {
    res.setHeader('date', new Date(clock.now()).toUTCString());
    const headers = { 'cache-control': 'max-age=10', etag, 'content-type': 'application/octet-stream', ...fields() };
    res.writeHead(req.headers['if-none-match'] === etag ? 304 : 200, headers);
    res.end(req.headers['if-none-match'] === etag ? undefined : big);
  };
}

/** A disk-only edge (nothing above 1 KiB in memory) on `clock`, in its own folder. */
function diskEdgeOn(clock: TestClock, folder: string): Promise<TestEdge> {
  return startEdge({ origin, clock, edge: { memory_size: '1MiB', max_object_size: '1KiB', disk: { path: join(work, folder), size: '64MiB', max_object_size: '16MiB' } } });
}

describe('disk-tier HITs after a revalidation', () => {
  it('a 304 that changes the stored headers shows on the next HIT (the parsed metadata kept for HITs is replaced)', async () => {
    const clock = testClock();
    let version = 1;
    origin.route('/reval', revalidating(clock, '"v"', () => ({ 'x-version': String(version) })));
    const e = await diskEdgeOn(clock, 'reval');
    try {
      assert.equal((await get(e, '/reval')).headers['x-cache-status'], 'MISS');
      await fillsSettled(e);
      for (let i = 0; i < 2; i++) {
        const hit = await get(e, '/reval');
        assert.equal(hit.headers['x-cache-status'], 'HIT');
        assert.equal(hit.headers['x-version'], '1');
      }
      version = 2;
      clock.advance(20);
      const reval = await get(e, '/reval');
      assert.equal(reval.headers['x-cache-status'], 'REVALIDATED');
      assert.equal(reval.headers['x-version'], '2');
      const hit = await get(e, '/reval');
      assert.equal(hit.headers['x-cache-status'], 'HIT');
      assert.equal(hit.headers['x-version'], '2');
      assert.equal(sha(hit.body), sha(big));
    } finally {
      await e.close();
    }
  });

  it('a 304 whose headers outgrow the room in the object file is served whole, and the copied file keeps serving HITs', async () => {
    const clock = testClock();
    let extra = '';
    origin.route('/grow', revalidating(clock, '"g"', () => ({ 'x-extra': extra || 'none' })));
    const e = await diskEdgeOn(clock, 'grow');
    try {
      await get(e, '/grow');
      await fillsSettled(e);
      assert.equal((await get(e, '/grow')).headers['x-cache-status'], 'HIT');
      extra = 'x'.repeat(6000); // far beyond the header's spare room: the file is copied with a larger header
      clock.advance(20);
      const reval = await get(e, '/grow');
      assert.equal(reval.headers['x-cache-status'], 'REVALIDATED');
      assert.equal(reval.headers['x-extra'], extra);
      assert.equal(sha(reval.body), sha(big));
      const hit = await get(e, '/grow');
      assert.equal(hit.headers['x-cache-status'], 'HIT');
      assert.equal(hit.headers['x-extra'], extra);
      assert.equal(sha(hit.body), sha(big));
      assert.equal(origin.requests.filter((r) => r.url === '/grow' && r.headers['if-none-match'] === undefined).length, 1, 'the body was fetched once');
    } finally {
      await e.close();
    }
  });
});
