import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestClock, type TestEdge, type TestOrigin, fixed, get, raw, startEdge, startOrigin, testClock } from './helpers/edge-harness.js';

describe('edge: a failing or slow origin', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let clock: TestClock;

  before(async () => {
    clock = testClock();
    origin = await startOrigin(clock);
    edge = await startEdge({
      sites: {
        'www.example.test': { origin: origin.url },
        'grace.example.test': { origin: origin.url, grace_s: 3600 },
      },
      edge: { origin_timeouts: { connect_ms: 500, headers_ms: 300, body_ms: 300 } },
      clock,
    });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  it('a slow origin costs 504, not a hang; with grace the stale copy is served (STALE)', async () => {
    origin.route('/slow', fixed(200, { 'cache-control': 'max-age=10' }, 'fast once'));
    await get(edge, '/slow', { headers: { host: 'grace.example.test' } });
    clock.advance(100);
    origin.route('/slow', () => undefined); // never answers
    const t0 = Date.now();
    const stale = await get(edge, '/slow', { headers: { host: 'grace.example.test' } });
    assert.equal(stale.headers['x-cache-status'], 'STALE');
    assert.match(String(stale.headers['cache-status']), /detail=origin-timeout/);
    assert.equal(stale.text, 'fast once');
    const miss = await get(edge, '/slow-never');
    origin.route('/slow-never', () => undefined);
    const r = await get(edge, '/slow-never2');
    assert.equal(miss.status, 404);
    origin.route('/slow-never2', () => undefined);
    const timeout = await get(edge, '/slow-never2?x');
    assert.equal(r.status, 404);
    assert.equal(timeout.status, 504);
    assert.equal(timeout.headers['x-cache-status'], 'MISS');
    assert.ok(Date.now() - t0 < 5000);
  });

  it('an origin that fails mid-body: the client connection is cut and nothing is stored', async () => {
    origin.route('/cut', (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=100', 'content-length': '100' });
      res.write('only part');
      setImmediate(() => res.destroy());
    });
    await assert.rejects(get(edge, '/cut'));
    origin.route('/cut', fixed(200, { 'cache-control': 'max-age=100' }, 'whole'));
    const r = await get(edge, '/cut');
    assert.equal(r.headers['x-cache-status'], 'MISS');
    assert.equal(r.text, 'whole');
  });

  it('origin outage: every URL cached before keeps answering (HIT, STALE), uncached ones get 502', async () => {
    origin.route('/kept', fixed(200, { 'cache-control': 'max-age=10, stale-if-error=86400' }, 'kept'));
    origin.route('/fresh', fixed(200, { 'cache-control': 'max-age=1000' }, 'fresh'));
    origin.route('/graced', fixed(200, { 'cache-control': 'max-age=10' }, 'graced'));
    await get(edge, '/kept');
    await get(edge, '/fresh');
    await get(edge, '/graced', { headers: { host: 'grace.example.test' } });
    await get(edge, '/graced');
    const down = await startEdge({ sites: { 'x.test': { origin: origin.url } } });
    await down.close();
    await origin.close();
    clock.advance(60);
    const kept = await get(edge, '/kept');
    assert.equal(kept.headers['x-cache-status'], 'STALE');
    assert.match(String(kept.headers['cache-status']), /detail=origin-unreachable/);
    assert.equal((await get(edge, '/fresh')).headers['x-cache-status'], 'HIT');
    assert.equal((await get(edge, '/graced', { headers: { host: 'grace.example.test' } })).headers['x-cache-status'], 'STALE');
    const noGrace = await get(edge, '/graced');
    assert.equal(noGrace.status, 502);
    assert.equal(noGrace.headers['x-cache-status'], 'EXPIRED');
    assert.equal((await get(edge, '/never-cached')).status, 502);
    const health = JSON.parse((await get(edge, '/.well-known/geocdn/health', { headers: { host: 'anything' } })).text);
    assert.equal(health.origins[0].state, 'down');
  });
});

describe('edge: a hung origin under more clients than origin connections', () => {
  it('every request is answered within connect_ms + headers_ms, queue included: 504, or STALE for a cached URL', async () => {
    const clock = testClock();
    const origin = await startOrigin(clock);
    const edge = await startEdge({
      sites: { 'www.example.test': { origin: origin.url, grace_s: 3600 } },
      edge: { origin_connections: 2, origin_timeouts: { connect_ms: 300, headers_ms: 300, body_ms: 300 } },
      clock,
    });
    try {
      origin.route('/cached', fixed(200, { 'cache-control': 'max-age=10' }, 'kept'));
      await get(edge, '/cached');
      clock.advance(60);
      for (let i = 0; i < 12; i++) origin.route(`/hung${i}`, () => undefined);
      origin.route('/cached', () => undefined);
      const t0 = Date.now();
      // Twelve fetches on two connections that each hang: without a deadline that counts the wait for a
      // connection, the last ones wait six rounds of headers_ms before theirs even starts.
      const timed = async (path: string) => {
        const r = await get(edge, path);
        return { status: r.status, cache: r.headers['x-cache-status'], ms: Date.now() - t0 };
      };
      const replies = await Promise.all([...Array.from({ length: 12 }, (_, i) => timed(`/hung${i}`)), timed('/cached')]);
      for (const r of replies.slice(0, 12)) assert.equal(r.status, 504);
      assert.deepEqual({ status: replies[12]!.status, cache: replies[12]!.cache }, { status: 200, cache: 'STALE' });
      const slowest = Math.max(...replies.map((r) => r.ms));
      assert.ok(slowest < 1_000, `slowest answer after ${slowest} ms (connect_ms + headers_ms = 600)`);
    } finally {
      await edge.close();
      await origin.close();
    }
  });
});

describe('edge: bad input is refused, never forwarded', () => {
  let origin: TestOrigin;
  let edge: TestEdge;

  before(async () => {
    origin = await startOrigin();
    origin.route('/', fixed(200, { 'cache-control': 'max-age=100' }, 'root'));
    edge = await startEdge({ origin, edge: { max_header_size: 4096 } });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  const host = 'Host: www.example.test\r\n';

  it('oversized headers get 431', async () => {
    const r = await raw(edge.port, `GET / HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(8000)}\r\n\r\n`);
    assert.match(r, /^HTTP\/1\.1 431 /);
  });

  it('Content-Length with Transfer-Encoding, duplicate Content-Length and bad chunking get 400', async () => {
    const attempts = [
      `POST / HTTP/1.1\r\n${host}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST / HTTP/1.1\r\n${host}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`,
      `POST / HTTP/1.1\r\n${host}Transfer-Encoding: gzip\r\n\r\nxxxx`,
      `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
      `GET / HTTP/1.1\r\n${host}Bad Header: x\r\n\r\n`,
      `GET / HTTP/1.1\r\n${host}X-Nul: a\u0000b\r\n\r\n`,
      `GARBAGE\r\n\r\n`,
      `GET / HTTP/1.1\r\n\r\n`,
    ];
    for (const a of attempts) {
      const r = await raw(edge.port, a);
      assert.match(r, /^HTTP\/1\.1 400 /, JSON.stringify(a));
    }
    assert.equal(origin.requests.filter((q) => q.method === 'POST').length, 0);
  });

  it('unknown hosts and absolute-form targets for other hosts are refused: never an open proxy', async () => {
    const unknown = await get(edge, '/', { headers: { host: 'evil.test' } });
    assert.equal(unknown.status, 421);
    const abs = await raw(edge.port, `GET http://evil.test/ HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
    assert.match(abs, /^HTTP\/1\.1 421 /);
    const ours = await raw(edge.port, `GET http://www.example.test/ HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n`);
    assert.match(ours, /^HTTP\/1\.1 200 /);
    const connect = await raw(edge.port, `CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n`);
    assert.doesNotMatch(connect, /^HTTP\/1\.1 200 /);
    assert.ok(origin.requests.every((q) => q.headers.host === 'www.example.test'));
  });

  it('a request that already passed this edge is a loop (508)', async () => {
    const r = await get(edge, '/', { headers: { via: '1.1 upstream, 1.1 geocdn' } });
    assert.equal(r.status, 508);
  });

  it('pipelined requests are answered in order', async () => {
    const r = await raw(edge.port, `GET / HTTP/1.1\r\n${host}\r\nGET /nothing HTTP/1.1\r\n${host}\r\nGET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
    const statuses = [...r.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
    assert.deepEqual(statuses, ['200', '404', '200']);
  });

  it('the health endpoint answers on any Host with load and origin state', async () => {
    const r = await get(edge, '/.well-known/geocdn/health', { headers: { host: 'whatever' } });
    assert.equal(r.status, 200);
    const h = JSON.parse(r.text);
    assert.equal(h.status, 'ok');
    assert.equal(typeof h.in_flight, 'number');
    assert.equal(typeof h.requests_per_second, 'number');
    assert.equal(typeof h.bytes_per_second, 'number');
    assert.ok(Array.isArray(h.origins));
  });
});

describe('edge: objects above the size limit', () => {
  let origin: TestOrigin;
  let edge: TestEdge;

  before(async () => {
    origin = await startOrigin();
    edge = await startEdge({ origin, edge: { max_object_size: 1000 } });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  it('pass through uncached, with or without Content-Length', async () => {
    const big = Buffer.alloc(5000, 'z');
    origin.route('/big', fixed(200, { 'cache-control': 'max-age=100', 'content-length': String(big.length) }, big));
    origin.route('/big-chunked', (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=100' });
      res.write(big.subarray(0, 2500));
      res.end(big.subarray(2500));
    });
    for (const p of ['/big', '/big-chunked']) {
      const a = await get(edge, p);
      assert.equal(a.body.length, 5000);
      const b = await get(edge, p);
      assert.equal(b.headers['x-cache-status'], 'MISS', p);
      assert.equal(b.body.length, 5000);
    }
    assert.match(String((await get(edge, '/big')).headers['cache-status']), /detail=too-large/);
  });
});
