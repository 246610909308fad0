import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { applyPurge } from '../src/edge/cache/purge.js';
import { type TestEdge, type TestOrigin, fixed, get, startEdge, startOrigin, testClock, until } from './helpers/edge-harness.js';
import { type Representation, getWhole, parseMultipart, pattern, rangedOrigin, startStreamingEdge } from './helpers/edge-range.js';

const SLICE = 1000;
const URL_KEY = 'http://www.example.test';

describe('edge: slicing large objects (slice_size)', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let rep: Representation;
  let seen = 0;

  /** The Range fields the origin received since the last call, sorted by offset (the next slice is fetched ahead, on another connection). */
  function originRanges(path: string): (string | undefined)[] {
    const start = (r: string | undefined): number => Number(/(\d+)-/.exec(r ?? '')?.[1] ?? -1);
    const out = origin.requests.slice(seen).filter((r) => r.url === path).map((r) => r.headers.range).sort((a, b) => start(a) - start(b));
    seen = origin.requests.length;
    return out;
  }

  before(async () => {
    origin = await startOrigin();
    edge = await startEdge({ sites: { 'www.example.test': { origin: origin.url, slice_size: SLICE } }, edge: { max_object_size: '4KiB' } });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });
  beforeEach(() => {
    seen = origin.requests.length;
  });

  it('a range into an uncached object fetches only the slice it falls in', async () => {
    rep = { body: pattern(10_500), headers: { 'cache-control': 'max-age=300', etag: '"v1"', 'content-type': 'video/mp4' } };
    origin.route('/movie.mp4', rangedOrigin(rep));
    const r = await get(edge, '/movie.mp4', { headers: { range: 'bytes=2500-2599' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['x-cache-status'], 'MISS');
    assert.equal(r.headers['content-range'], 'bytes 2500-2599/10500');
    assert.equal(r.headers['content-type'], 'video/mp4');
    assert.equal(r.headers.etag, '"v1"');
    assert.deepEqual(r.body, rep.body.subarray(2500, 2600));
    assert.deepEqual(originRanges('/movie.mp4'), ['bytes=2000-2999']);
  });

  it('a range across slices fetches the missing ones and reuses the stored one', async () => {
    const r = await get(edge, '/movie.mp4', { headers: { range: 'bytes=1990-4009' } });
    assert.equal(r.status, 206);
    assert.deepEqual(r.body, rep.body.subarray(1990, 4010));
    assert.deepEqual(originRanges('/movie.mp4'), ['bytes=1000-1999', 'bytes=3000-3999', 'bytes=4000-4999']);
    const again = await get(edge, '/movie.mp4', { headers: { range: 'bytes=2000-2999' } });
    assert.equal(again.headers['x-cache-status'], 'HIT');
    assert.deepEqual(originRanges('/movie.mp4'), []);
  });

  it('a full GET streams every slice in order, byte-identical; then everything is a HIT', async () => {
    const full = await get(edge, '/movie.mp4');
    assert.equal(full.status, 200);
    assert.equal(full.headers['content-length'], '10500');
    assert.equal(full.headers['content-range'], undefined);
    assert.ok(full.body.equals(rep.body));
    assert.deepEqual(originRanges('/movie.mp4'), ['bytes=0-999', 'bytes=5000-5999', 'bytes=6000-6999', 'bytes=7000-7999', 'bytes=8000-8999', 'bytes=9000-9999', 'bytes=10000-10999']);
    const hit = await get(edge, '/movie.mp4');
    assert.equal(hit.headers['x-cache-status'], 'HIT');
    assert.ok(hit.body.equals(rep.body));
    assert.deepEqual(originRanges('/movie.mp4'), []);
  });

  it('several ranges, suffix, If-Range, 416 and HEAD on a sliced object', async () => {
    const multi = await get(edge, '/movie.mp4', { headers: { range: 'bytes=0-9,9000-9009,-3' } });
    const parts = parseMultipart(multi.headers['content-type'], multi.body);
    assert.deepEqual(parts.map((p) => p.headers['content-range']), ['bytes 0-9/10500', 'bytes 9000-9009/10500', 'bytes 10497-10499/10500']);
    assert.deepEqual(parts[1]!.body, rep.body.subarray(9000, 9010));
    assert.deepEqual(parts[2]!.body, rep.body.subarray(10497));
    assert.equal((await get(edge, '/movie.mp4', { headers: { range: 'bytes=0-9', 'if-range': '"v1"' } })).status, 206);
    assert.equal((await get(edge, '/movie.mp4', { headers: { range: 'bytes=0-9', 'if-range': '"v0"' } })).status, 200);
    const head = await get(edge, '/movie.mp4', { method: 'HEAD', headers: { range: 'bytes=100-199' } });
    assert.equal(head.status, 206);
    assert.equal(head.headers['content-length'], '100');
    assert.equal(head.body.length, 0);
    assert.equal((await get(edge, '/movie.mp4', { headers: { 'if-none-match': '"v1"' } })).status, 304);
    assert.deepEqual(originRanges('/movie.mp4'), []);
    // past the end: the stored first slice knows the length
    const bad = await get(edge, '/movie.mp4', { headers: { range: 'bytes=20000-' } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], 'bytes */10500');
    assert.deepEqual(originRanges('/movie.mp4'), []);
  });

  it('past the end of an object whose first slice is not stored: the origin\'s own 416 is passed on', async () => {
    origin.route('/short.bin', rangedOrigin({ body: pattern(1500), headers: { 'cache-control': 'max-age=300' } }));
    const bad = await get(edge, '/short.bin', { headers: { range: 'bytes=5000-' } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], 'bytes */1500');
  });

  it('concurrent requests for one slice cost one origin fetch', async () => {
    const body = pattern(3000, 5);
    origin.route('/collapse', rangedOrigin({ body, headers: { 'cache-control': 'max-age=300' } }));
    const rs = await Promise.all(Array.from({ length: 5 }, () => get(edge, '/collapse', { headers: { range: 'bytes=10-19' } })));
    for (const r of rs) assert.deepEqual(r.body, body.subarray(10, 20));
    assert.deepEqual(originRanges('/collapse'), ['bytes=0-999']);
  });

  it('purge by URL removes every slice', async () => {
    const before = edge.context.store.stats().entries;
    const result = await applyPurge(edge.context.store, { target: { kind: 'url', urls: [`${URL_KEY}/movie.mp4`] }, soft: false }, Date.now());
    assert.equal(result.deleted, 11);
    assert.equal(edge.context.store.stats().entries, before - 11);
    const r = await get(edge, '/movie.mp4', { headers: { range: 'bytes=0-0' } });
    assert.equal(r.headers['x-cache-status'], 'MISS');
    assert.deepEqual(originRanges('/movie.mp4'), ['bytes=0-999']);
  });

  it('the origin changes the object between slices: stale slices are refetched, never spliced', async () => {
    const v1 = pattern(5000, 11);
    const v2 = pattern(5000, 99);
    const live: Representation = { body: v1, headers: { 'cache-control': 'max-age=300', etag: '"a1"' } };
    origin.route('/changing', rangedOrigin(live));
    // slices 1 and 3 of version 1 are stored
    await get(edge, '/changing', { headers: { range: 'bytes=1000-1009,3000-3009' } });
    live.body = v2;
    live.headers = { 'cache-control': 'max-age=300', etag: '"a2"' };
    originRanges('/changing');
    // slice 0 comes from the origin (version 2): the stored version-1 slices are dropped and refetched
    const full = await getWhole(edge.port, '/changing');
    assert.equal(full.complete, true);
    assert.equal(full.headers.etag, '"a2"');
    assert.ok(full.body.equals(v2), 'the body is version 2 only');
    assert.deepEqual(originRanges('/changing'), ['bytes=0-999', 'bytes=1000-1999', 'bytes=2000-2999', 'bytes=3000-3999', 'bytes=4000-4999']);
    const hit = await get(edge, '/changing');
    assert.ok(hit.body.equals(v2));
  });

  it('the object changes under a response already sent from an older slice: it is cut, and the next one is whole', async () => {
    const v1 = pattern(3000, 21);
    const v2 = pattern(3000, 42);
    const live: Representation = { body: v1, headers: { 'cache-control': 'max-age=300', etag: '"b1"' } };
    origin.route('/cut', rangedOrigin(live));
    await get(edge, '/cut', { headers: { range: 'bytes=0-0' } });
    live.body = v2;
    live.headers = { 'cache-control': 'max-age=300', etag: '"b2"' };
    const cut = await getWhole(edge.port, '/cut');
    assert.equal(cut.headers.etag, '"b1"');
    assert.equal(cut.complete, false, 'a response is never finished with bytes of another version');
    assert.ok(v1.subarray(0, cut.body.length).equals(cut.body));
    const next = await getWhole(edge.port, '/cut');
    assert.equal(next.complete, true);
    assert.equal(next.headers.etag, '"b2"');
    assert.ok(next.body.equals(v2));
  });

  it('Vary: each variant has its own slices', async () => {
    const body = pattern(2500, 13);
    origin.route('/vary.bin', rangedOrigin({ body, headers: { 'cache-control': 'max-age=300', vary: 'Accept-Encoding' } }));
    const gz = { 'accept-encoding': 'gzip' };
    assert.equal((await get(edge, '/vary.bin', { headers: { ...gz, range: 'bytes=0-9' } })).headers['x-cache-status'], 'MISS');
    const full = await get(edge, '/vary.bin', { headers: gz });
    assert.ok(full.body.equals(body));
    assert.equal((await get(edge, '/vary.bin', { headers: { ...gz, range: 'bytes=1500-1509' } })).headers['x-cache-status'], 'HIT');
    assert.equal((await get(edge, '/vary.bin', { headers: { 'accept-encoding': 'br', range: 'bytes=0-9' } })).headers['x-cache-status'], 'MISS');
    assert.deepEqual(originRanges('/vary.bin'), ['bytes=0-999', 'bytes=0-999', 'bytes=1000-1999', 'bytes=2000-2999']);
  });

  it('an origin that ignores Range: the whole object is filled and stored as usual', async () => {
    origin.route('/plain', fixed(200, { 'cache-control': 'max-age=300', 'content-length': '10' }, '0123456789'));
    const r = await get(edge, '/plain', { headers: { range: 'bytes=3-4' } });
    assert.equal(r.status, 206);
    assert.equal(r.text, '34');
    const hit = await get(edge, '/plain', { headers: { range: 'bytes=5-' } });
    assert.equal(hit.headers['x-cache-status'], 'HIT');
    assert.equal(hit.text, '56789');
  });

  it('an uncacheable answer goes to the origin with the client\'s own Range', async () => {
    const body = pattern(3000, 7);
    origin.route('/private', rangedOrigin({ body, headers: { 'cache-control': 'private' } }));
    const r = await get(edge, '/private', { headers: { range: 'bytes=2500-2509' } });
    assert.equal(r.status, 206);
    assert.deepEqual(r.body, body.subarray(2500, 2510));
    assert.deepEqual(originRanges('/private'), ['bytes=2000-2999', 'bytes=2500-2509']);
  });
});

describe('edge: slices from a tier with only stream(start, end)', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  before(async () => {
    origin = await startOrigin();
    edge = await startStreamingEdge({ 'www.example.test': { origin: origin.url, slice_size: SLICE } });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  it('ranges and a full GET of a stored sliced object read through the ranged stream', async () => {
    const body = pattern(4321, 77);
    origin.route('/s.bin', rangedOrigin({ body, headers: { 'cache-control': 'max-age=300', etag: '"s"' } }));
    assert.ok((await get(edge, '/s.bin')).body.equals(body));
    const before = origin.requests.length;
    const r = await get(edge, '/s.bin', { headers: { range: 'bytes=999-1000,4000-' } });
    assert.equal(r.headers['x-cache-status'], 'HIT');
    const parts = parseMultipart(r.headers['content-type'], r.body);
    assert.deepEqual(parts[0]!.body, body.subarray(999, 1001));
    assert.deepEqual(parts[1]!.body, body.subarray(4000));
    assert.ok((await get(edge, '/s.bin')).body.equals(body));
    assert.equal(origin.requests.length, before);
  });
});

describe('edge: a large sliced object to a client that reads slowly', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  before(async () => {
    origin = await startOrigin();
    edge = await startEdge({ sites: { 'www.example.test': { origin: origin.url, slice_size: '256KiB' } } });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  it('streams every slice with backpressure and completes, byte-identical', async () => {
    const body = pattern(6 << 20, 3);
    origin.route('/big.bin', rangedOrigin({ body, headers: { 'cache-control': 'max-age=300' } }));
    const { request } = await import('node:http');
    const got = await new Promise<Buffer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: edge.port, path: '/big.bin', headers: { host: 'www.example.test' }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        // stop reading now and then: the edge's socket fills up, drains while no slice waits, fills again
        let n = 0;
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          if (++n % 16 === 0) {
            res.pause();
            setTimeout(() => res.resume(), 20);
          }
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      });
      req.setTimeout(20_000, () => req.destroy(new Error('stalled')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(got.length, body.length);
    assert.ok(got.equals(body));
  });
});

describe('edge: freshness of slices', () => {
  it('each slice ages on its own: stale-while-revalidate serves it and refreshes it once in the background', async () => {
    const clock = testClock();
    const origin = await startOrigin(clock);
    const edge = await startEdge({ sites: { 'www.example.test': { origin: origin.url, slice_size: SLICE } }, clock });
    try {
      const body = pattern(2500, 9);
      origin.route('/fresh.bin', rangedOrigin({ body, headers: { 'cache-control': 'max-age=10, stale-while-revalidate=60', etag: '"f1"' } }));
      assert.equal((await get(edge, '/fresh.bin', { headers: { range: 'bytes=0-9' } })).headers['x-cache-status'], 'MISS');
      clock.advance(20);
      const stale = await get(edge, '/fresh.bin', { headers: { range: 'bytes=0-9' } });
      assert.equal(stale.headers['x-cache-status'], 'UPDATING');
      assert.deepEqual(stale.body, body.subarray(0, 10));
      await until(() => origin.requests.length === 2, 'the background refresh');
      assert.equal(origin.requests[1]!.headers.range, 'bytes=0-999');
      assert.equal(origin.requests[1]!.headers['if-none-match'], '"f1"');
      await until(() => edge.context.collapser.size === 0, 'the refresh to be stored');
      assert.equal((await get(edge, '/fresh.bin', { headers: { range: 'bytes=0-9' } })).headers['x-cache-status'], 'HIT');
    } finally {
      await edge.close();
      await origin.close();
    }
  });
});
