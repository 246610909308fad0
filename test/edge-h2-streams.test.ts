import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestEdge, type TestOrigin, fillsSettled, fixed, gate, startEdge, startOrigin, until } from './helpers/edge-harness.js';
import { rangedOrigin } from './helpers/edge-range.js';
import { h2get, h2reset, h2session, h2stalled, testTlsSection, tlsPort } from './helpers/tls.js';
import { h2frame } from './helpers/h2-frames.js';
import { filesOpenIn } from './helpers/process.js';
import { tempDir } from './helpers/tmp.js';

// HTTP/2 bodies: clients that reset their streams, read slowly or not at all.

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('HTTP/2: disk-only objects', () => {
  const big = randomBytes(8 * 1024 * 1024);
  const medium = randomBytes(1024 * 1024 + 17);
  let origin: TestOrigin;
  let edge: TestEdge;
  let port: number;
  let dir: string;

  before(async () => {
    origin = await startOrigin();
    origin.route('/big', fixed(200, { 'cache-control': 'max-age=600', etag: '"big"' }, big));
    origin.route('/medium', fixed(200, { 'cache-control': 'max-age=600' }, medium));
    dir = join(tempDir('geocdn-h2-streams-'), 'disk');
    // Nothing above 1 KiB in memory: /big is read from its file.
    edge = await startEdge({ origin, edge: { memory_size: '1MiB', max_object_size: '1KiB', disk: { path: dir, size: '64MiB', max_object_size: '16MiB' }, tls: await testTlsSection() } });
    port = tlsPort(edge);
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  it('a disk-only object, whole, one range or several: a reset leaves no file open', async () => {
    const s = await h2session(port);
    try {
      assert.equal((await h2get(s, '/big')).headers['x-cache-status'], 'MISS');
      await fillsSettled(edge);
      await h2reset(s, '/big', 300_000);
      await h2reset(s, '/big', 300_000, { range: 'bytes=1000-7000000' });
      await h2reset(s, '/big', 300_000, { range: 'bytes=0-9,2000000-7000000' });
      await until(() => filesOpenIn(dir) === 0, 'the object file to be closed after the resets');
      const again = await h2get(s, '/big', { range: 'bytes=1000-7000000' });
      assert.equal(again.headers['x-cache-status'], 'HIT');
      assert.equal(sha(again.body), sha(big.subarray(1000, 7_000_001)));
    } finally {
      s.close();
    }
    assert.equal(origin.count('/big'), 1);
  });

  it('thirty HITs not read on one connection: its other requests are answered; each body is whole once read', async () => {
    const s = await h2session(port);
    try {
      assert.equal((await h2get(s, '/medium')).headers['x-cache-status'], 'MISS');
      await fillsSettled(edge);
      // each has had bytes: the edge has handed its stream what it hands at once
      const stalled = await Promise.all(Array.from({ length: 30 }, () => h2stalled(s, '/medium', 1)));
      const other = await h2get(s, '/big', { range: 'bytes=0-99' });
      assert.equal(other.status, 206);
      assert.deepEqual(other.body, big.subarray(0, 100));
      for (const one of stalled) assert.equal(sha(await one.finish()), sha(medium));
    } finally {
      s.close();
    }
  });
});

describe('HTTP/2: large bodies in memory, to a client that does not read', () => {
  const big = randomBytes(20 * 1024 * 1024);
  const fill = randomBytes(32 * 1024 * 1024);
  let origin: TestOrigin;
  let edge: TestEdge;
  let port: number;

  before(async () => {
    origin = await startOrigin();
    origin.route('/big', fixed(200, { 'cache-control': 'max-age=600' }, big));
    origin.route('/fill', fixed(200, { 'cache-control': 'max-age=600' }, fill));
    origin.route('/small', fixed(200, { 'cache-control': 'max-age=600' }, 'small'));
    origin.route('/sliced', rangedOrigin({ body: big, headers: { 'cache-control': 'max-age=600' } }));
    edge = await startEdge({
      origin,
      sites: { 'www.example.test': { origin: origin.url }, 'slices.example.test': { origin: origin.url, slice_size: '4MiB' } },
      edge: { memory_size: '128MiB', max_object_size: '48MiB', tls: await testTlsSection() },
    });
    port = tlsPort(edge);
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  /** A request on `s` that must be answered while the stalled streams wait. */
  async function answered(s: Awaited<ReturnType<typeof h2session>>): Promise<void> {
    const r = await h2get(s, '/small');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'small');
  }

  it('a HIT: the other requests on the connection are answered, and the body is whole once read', async () => {
    const s = await h2session(port);
    try {
      assert.equal(sha((await h2get(s, '/big')).body), sha(big));
      await fillsSettled(edge);
      const stalled = await h2stalled(s, '/big');
      assert.equal(stalled.headers['x-cache-status'], 'HIT');
      await answered(s);
      assert.equal(sha(await stalled.finish()), sha(big));
    } finally {
      s.close();
    }
  });

  it('a MISS read slowly: the bytes the fill brings meanwhile wait at the edge, not in the connection', async () => {
    const s = await h2session(port);
    try {
      const stalled = await h2stalled(s, '/fill');
      assert.equal(stalled.headers['x-cache-status'], 'MISS');
      await fillsSettled(edge); // every byte of the origin's is at the edge
      // Read a MiB at a time: whatever the edge had handed the stream is read in the end,
      // and what it hands next is everything the fill brought meanwhile, unless it holds it back.
      let read = 0;
      const onData = (c: Buffer): void => void (read += c.length);
      stalled.stream.on('data', onData);
      for (let mib = 1; mib <= fill.length / 2 / 2 ** 20 + 1; mib++) {
        stalled.stream.resume();
        await until(() => read >= mib * 2 ** 20, 'a MiB more of the body');
        stalled.stream.pause();
        await answered(s);
      }
      stalled.stream.off('data', onData);
      assert.equal(sha(await stalled.finish()), sha(fill));
    } finally {
      s.close();
    }
  });

  it('a sliced object: four streams not read, each holding a slice, leave the connection usable', async () => {
    const s = await h2session(port);
    try {
      const whole = await h2get(s, '/sliced', { ':authority': 'slices.example.test' });
      assert.equal(sha(whole.body), sha(big));
      await fillsSettled(edge);
      const stalled = await Promise.all(Array.from({ length: 4 }, () => h2stalled(s, '/sliced', 1, { ':authority': 'slices.example.test' })));
      await answered(s);
      for (const one of stalled) assert.equal(sha(await one.finish()), sha(big));
    } finally {
      s.close();
    }
  });
});

describe('HTTP/2: clients that leave a MISS others are collapsed onto', () => {
  const body = randomBytes(4 * 1024 * 1024);
  let origin: TestOrigin;
  let edge: TestEdge;
  let port: number;
  const rest = gate();

  before(async () => {
    origin = await startOrigin();
    // Half the body at once, the rest when the test says so.
    origin.route('/slow', async (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600', 'content-length': body.length });
      res.write(body.subarray(0, body.length / 2));
      await rest.promise;
      res.end(body.subarray(body.length / 2));
    });
    edge = await startEdge({ origin, edge: { tls: await testTlsSection() } });
    port = tlsPort(edge);
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  it('the leader resets its stream and another client closes its connection mid-body: the fill goes on for the rest and is stored', async () => {
    const [leading, joining, leaving] = await Promise.all([h2session(port), h2session(port), h2session(port)]);
    try {
      const reset = h2reset(leading, '/slow', 100_000);
      await until(() => origin.count('/slow') === 1, 'the fill to start');
      const joined = h2get(joining, '/slow');
      const left = await h2stalled(leaving, '/slow', 100_000);
      assert.equal(left.headers['x-cache-status'], 'MISS');
      await reset;
      leaving.destroy();
      rest.open();
      const r = await joined;
      assert.equal(r.headers['x-cache-status'], 'MISS');
      assert.match(String(r.headers['cache-status']), /collapsed/);
      assert.equal(sha(r.body), sha(body));
      await fillsSettled(edge);
      const hit = await h2get(joining, '/slow');
      assert.equal(hit.headers['x-cache-status'], 'HIT');
      assert.equal(sha(hit.body), sha(body));
      assert.equal(origin.count('/slow'), 1);
      await until(() => edge.context.stats.inflight === 0, 'every response to be over');
    } finally {
      for (const s of [leading, joining, leaving]) s.destroy();
    }
  });
});

describe('HTTP/2: many streams on one connection', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let port: number;
  const bodyOf = (n: number): Buffer => Buffer.alloc((n % 7) * 30_000 + 10, n);

  before(async () => {
    origin = await startOrigin();
    origin.route('/obj', async (req, res) => {
      const n = Number(new URL(req.url ?? '', 'http://x').searchParams.get('n'));
      await new Promise((r) => setTimeout(r, 20)); // long enough for the requests of one URL to collapse
      res.writeHead(200, { 'cache-control': 'max-age=600', etag: `"e${n}"`, 'content-length': bodyOf(n).length });
      res.end(bodyOf(n));
    });
    origin.route('/upload', (req, res, body) => {
      res.writeHead(200, { 'cache-control': 'no-store' });
      res.end(`${req.method} ${body.length} ${sha(body)}`);
    });
    edge = await startEdge({ origin, edge: { tls: await testTlsSection() } });
    port = tlsPort(edge);
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  it('100 at once, HITs and MISSes, GET, HEAD, If-None-Match and Range: each gets its own answer', async () => {
    const s = await h2session(port);
    try {
      // Even n are stored first; odd n are MISSes, each asked for twice at once.
      await Promise.all(Array.from({ length: 25 }, (_, i) => h2get(s, `/obj?n=${2 * i}`)));
      await fillsSettled(edge);
      const asks = Array.from({ length: 100 }, (_, i) => ({ n: i < 50 ? 2 * (i % 25) + 1 : 2 * (i % 25), kind: i % 4 }));
      const replies = await Promise.all(
        asks.map(({ n, kind }) => {
          const path = `/obj?n=${n}`;
          if (kind === 1) return h2get(s, path, {}, 'HEAD');
          if (kind === 2) return h2get(s, path, { 'if-none-match': `"e${n}"` });
          if (kind === 3) return h2get(s, path, { range: 'bytes=0-4,8-9' });
          return h2get(s, path);
        }),
      );
      replies.forEach((r, i) => {
        const { n, kind } = asks[i]!;
        const body = bodyOf(n);
        const what = `n=${n} kind=${kind}`;
        assert.equal(r.headers['x-cache-status'], n % 2 === 0 ? 'HIT' : 'MISS', what);
        if (kind === 0) assert.deepEqual(r.body, body, what);
        if (kind === 1) assert.deepEqual([r.status, r.headers['content-length'], r.body.length], [200, String(body.length), 0], what);
        if (kind === 2) assert.deepEqual([r.status, r.body.length], [304, 0], what);
        if (kind === 3) {
          assert.equal(r.status, 206, what);
          assert.equal(r.body.length, Number(r.headers['content-length']), what);
        }
      });
    } finally {
      s.close();
    }
    // one fetch per URL: 25 stored first, 25 MISSes asked for twice
    assert.equal(origin.requests.filter((r) => r.url.startsWith('/obj')).length, 50);
    await until(() => edge.context.stats.inflight === 0, 'every response to be over');
  });

  it('a 3 MiB POST body without Content-Length reaches the origin whole, beside other streams', async () => {
    const upload = randomBytes(3 * 1024 * 1024);
    const s = await h2session(port);
    try {
      const [post, get] = await Promise.all([h2get(s, '/upload', {}, 'POST', upload), h2get(s, '/obj?n=0')]);
      assert.equal(post.headers['x-cache-status'], 'BYPASS');
      assert.equal(post.body.toString(), `POST ${upload.length} ${sha(upload)}`);
      assert.equal(get.headers['x-cache-status'], 'HIT');
    } finally {
      s.close();
    }
  });
});

/**
 * Starts an upload on a connection of raw frames (node's client sends END_STREAM before any
 * RST_STREAM, as a browser cancelling an upload does not); `reset()` sends RST_STREAM (CANCEL) alone.
 */
async function rawUpload(port: number, path: string, bytes: Buffer, resetAtOnce = false): Promise<{ reset(): void; close(): void }> {
  const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'www.example.test', ALPNProtocols: ['h2'], rejectUnauthorized: false });
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  socket.on('data', () => undefined);
  socket.on('error', () => undefined);
  // HPACK literal fields without indexing, new names (RFC 7541 §6.2.2)
  const field = (n: string, v: string): Buffer => Buffer.concat([Buffer.from([0, n.length]), Buffer.from(n), Buffer.from([v.length]), Buffer.from(v)]);
  const fields = Buffer.concat([field(':method', 'PUT'), field(':path', path), field(':scheme', 'https'), field(':authority', 'www.example.test')]);
  socket.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
  socket.write(h2frame(0x4, 0, 0, Buffer.alloc(0))); // SETTINGS
  socket.write(h2frame(0x1, 0x4, 1, fields)); // HEADERS, END_HEADERS, the stream left open
  const reset = (): void => void socket.write(h2frame(0x3, 0, 1, Buffer.from([0, 0, 0, 8])));
  socket.cork();
  socket.write(h2frame(0x0, 0, 1, bytes)); // DATA
  if (resetAtOnce) reset();
  socket.uncork();
  return { reset, close: () => socket.destroy() };
}

describe('HTTP/2: an upload the client abandons', () => {
  let origin: Server;
  let edge: TestEdge;
  let port: number;
  /** How each request to the origin ended: `<path> end` (the whole body, as far as it knows) or `<path> aborted`. */
  const uploads: string[] = [];
  let received = 0;
  const held = gate();

  before(async () => {
    origin = createServer((req, res) => {
      let done = false;
      req.on('data', (c: Buffer) => void (received += c.length));
      req.on('end', () => {
        done = true;
        uploads.push(`${req.url} end`);
        if (req.url === '/hold') void held.promise.then(() => res.end('held'));
        else res.end('stored');
      });
      req.on('close', () => void (done || uploads.push(`${req.url} aborted`)));
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    // One origin connection: a request sent after another reaches the origin after it.
    edge = await startEdge({ sites: { 'www.example.test': { origin: url } }, edge: { origin_connections: 1, tls: await testTlsSection() } });
    port = tlsPort(edge);
  });
  after(async () => {
    await edge?.close();
    origin.closeAllConnections();
    await new Promise((resolve) => origin.close(resolve));
  });

  it('a connection closed mid-upload is no shorter upload to the origin: the origin request is aborted', async () => {
    const s = await h2session(port);
    s.on('error', () => undefined);
    const put = s.request({ ':method': 'PUT', ':path': '/file', ':authority': 'www.example.test' }, { endStream: false });
    put.on('error', () => undefined);
    put.write(randomBytes(256 * 1024));
    await until(() => received > 0, 'the first bytes to reach the origin');
    s.destroy();
    await until(() => uploads.length === 1, 'the origin request to end one way or the other');
    assert.deepEqual(uploads.splice(0), ['/file aborted']);
  });

  it('a stream reset mid-upload (RST_STREAM without END_STREAM, as a browser cancels) aborts the origin request', async () => {
    received = 0;
    const upload = await rawUpload(port, '/file', randomBytes(1000));
    try {
      await until(() => received > 0, 'the first bytes to reach the origin');
      upload.reset();
      await until(() => uploads.length === 1, 'the origin request to end one way or the other');
      assert.deepEqual(uploads.splice(0), ['/file aborted']);
    } finally {
      upload.close();
    }
  });

  it('a stream reset while its upload waits for an origin connection: the origin never gets it as a whole', async () => {
    const s = await h2session(port);
    try {
      // The one origin connection is busy: the upload waits in line behind /hold.
      const hold = h2get(s, '/hold', { 'cache-control': 'no-cache' });
      await until(() => uploads.includes('/hold end'), 'the origin to hold its connection');
      const asked = edge.context.stats.requests;
      const upload = await rawUpload(port, '/early', randomBytes(1000), true);
      try {
        await until(() => edge.context.stats.requests > asked && edge.context.stats.inflight === 1, 'the edge to take the upload and see it reset');
        held.open();
        assert.equal((await hold).status, 200);
        // after whatever of the upload was sent, on the one origin connection
        assert.equal((await h2get(s, '/marker')).status, 200);
        assert.deepEqual(uploads.filter((u) => u !== '/early aborted'), ['/hold end', '/marker end']);
      } finally {
        upload.close();
      }
    } finally {
      s.close();
    }
  });
});
