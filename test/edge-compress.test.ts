import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { normalizeAcceptEncoding } from '../src/edge/cache/accept-encoding.js';
import { type TestClock, type TestEdge, type TestOrigin, fixed, get, startEdge, startOrigin, testClock } from './helpers/edge-harness.js';
import { h2get, h2session, testTlsSection, tlsPort } from './helpers/tls.js';

const PAGE = `<!doctype html><title>page</title>${'<p>geocdn compresses text on the edge.</p>\n'.repeat(100)}`;
const html = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'max-age=60', etag: '"p1"' };

describe('compression on the edge', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let clock: TestClock;
  before(async () => {
    clock = testClock();
    origin = await startOrigin(clock);
    edge = await startEdge({ origin, clock, edge: { tls: await testTlsSection() } });
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  const ae = (v: string | undefined) => (v === undefined ? {} : { 'accept-encoding': v });

  test('Accept-Encoding is reduced to br, gzip or identity', () => {
    assert.equal(normalizeAcceptEncoding(undefined), 'identity');
    assert.equal(normalizeAcceptEncoding(''), 'identity');
    assert.equal(normalizeAcceptEncoding('gzip, deflate, br, zstd'), 'br');
    assert.equal(normalizeAcceptEncoding('gzip, deflate'), 'gzip');
    assert.equal(normalizeAcceptEncoding('x-gzip'), 'gzip');
    assert.equal(normalizeAcceptEncoding('br;q=0.5, gzip;q=0.8'), 'gzip');
    assert.equal(normalizeAcceptEncoding('br;q=0, gzip;q=0'), 'identity');
    assert.equal(normalizeAcceptEncoding('*'), 'br');
    assert.equal(normalizeAcceptEncoding('*;q=0.5, br;q=0'), 'gzip');
    assert.equal(normalizeAcceptEncoding('deflate, identity'), 'identity');
    assert.equal(normalizeAcceptEncoding(['gzip', 'BR']), 'br');
  });

  test('gzip: compressed on the edge, cached, second request a HIT; the origin asked once, for gzip', async () => {
    origin.route('/page.html', fixed(200, html, PAGE));
    const first = await get(edge, '/page.html', { headers: ae('gzip, deflate') });
    assert.equal(first.headers['x-cache-status'], 'MISS');
    assert.equal(first.headers['content-encoding'], 'gzip');
    assert.match(String(first.headers['vary']), /Accept-Encoding/i);
    assert.equal(first.headers['etag'], 'W/"p1"', 'an edge-encoded variant has its own (weak) ETag');
    assert.equal(gunzipSync(first.body).toString(), PAGE);
    const second = await get(edge, '/page.html', { headers: ae('deflate, gzip') });
    assert.equal(second.headers['x-cache-status'], 'HIT');
    assert.equal(second.headers['content-encoding'], 'gzip');
    assert.equal(second.headers['etag'], 'W/"p1"');
    assert.equal(Number(second.headers['content-length']), second.body.length);
    assert.ok(second.body.length < PAGE.length / 4, `compressed: ${second.body.length} of ${PAGE.length} bytes`);
    assert.equal(gunzipSync(second.body).toString(), PAGE);
    assert.equal(origin.count('/page.html'), 1);
    assert.equal(origin.requests.find((r) => r.url === '/page.html')!.headers['accept-encoding'], 'gzip', 'the origin is asked with the normalised value');
  });

  test('br: its own cached variant', async () => {
    const first = await get(edge, '/page.html', { headers: ae('gzip, deflate, br') });
    assert.equal(first.headers['x-cache-status'], 'MISS');
    assert.equal(first.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(first.body).toString(), PAGE);
    const second = await get(edge, '/page.html', { headers: ae('br') });
    assert.equal(second.headers['x-cache-status'], 'HIT');
    assert.equal(second.headers['content-encoding'], 'br');
    assert.match(String(second.headers['vary']), /Accept-Encoding/i);
    assert.equal(brotliDecompressSync(second.body).toString(), PAGE);
    assert.equal(origin.count('/page.html'), 2);
  });

  test('a client without Accept-Encoding gets identity, fetched as identity and cached as its own variant', async () => {
    const first = await get(edge, '/page.html');
    assert.equal(first.headers['x-cache-status'], 'MISS');
    assert.equal(first.headers['content-encoding'], undefined);
    assert.match(String(first.headers['vary']), /Accept-Encoding/i, 'identity varies too: the others are compressed');
    assert.equal(first.text, PAGE);
    const second = await get(edge, '/page.html', { headers: ae('gzip;q=0, br;q=0') });
    assert.equal(second.headers['x-cache-status'], 'HIT');
    assert.equal(second.headers['content-encoding'], undefined);
    assert.equal(second.headers['etag'], '"p1"', 'the identity ETag is the origin\'s');
    assert.equal(second.text, PAGE);
    assert.equal(origin.count('/page.html'), 3);
    assert.equal(origin.requests.filter((r) => r.url === '/page.html')[2]!.headers['accept-encoding'], 'identity');
  });

  test('HTTP/2 gets the same variants and statuses', async () => {
    const s = await h2session(tlsPort(edge));
    try {
      const r = await h2get(s, '/page.html', { 'accept-encoding': 'gzip, deflate, br' });
      assert.equal(r.headers['x-cache-status'], 'HIT');
      assert.equal(r.headers['content-encoding'], 'br');
      assert.equal(brotliDecompressSync(r.body).toString(), PAGE);
    } finally {
      s.close();
    }
  });

  test('a response the origin compressed passes through as it is, never compressed twice', async () => {
    const gz = gzipSync(PAGE);
    origin.route('/pre.html', fixed(200, { ...html, etag: '"pre"', 'content-encoding': 'gzip' }, gz));
    const r = await get(edge, '/pre.html', { headers: ae('br') });
    assert.equal(r.headers['content-encoding'], 'gzip', "the origin's coding, not br on top of it");
    assert.deepEqual(r.body, gz);
    assert.equal(r.headers['etag'], '"pre"');
    assert.match(String(r.headers['vary']), /Accept-Encoding/i);
    const hit = await get(edge, '/pre.html', { headers: ae('br') });
    assert.equal(hit.headers['x-cache-status'], 'HIT');
    assert.deepEqual(hit.body, gz);
  });

  test('types that do not compress, small bodies and no-transform are left alone and not varied', async () => {
    const png = Buffer.alloc(4096, 7);
    origin.route('/logo.png', fixed(200, { 'content-type': 'image/png', 'cache-control': 'max-age=60' }, png));
    // min_size reads Content-Length, as nginx's gzip_min_length does: a body of unknown length is compressed.
    origin.route('/small.txt', fixed(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60', 'content-length': '4' }, 'tiny'));
    origin.route('/raw.json', fixed(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60, no-transform' }, JSON.stringify({ a: 'x'.repeat(4000) })));
    for (const path of ['/logo.png', '/small.txt', '/raw.json']) {
      const a = await get(edge, path, { headers: ae('gzip, br') });
      assert.equal(a.headers['content-encoding'], undefined, path);
      assert.equal(a.headers['vary'], undefined, path);
      const b = await get(edge, path);
      assert.equal(b.headers['x-cache-status'], 'HIT', `${path}: one variant for every client`);
      assert.equal(origin.count(path), 1, path);
    }
  });

  test('application/json and image/svg+xml are compressed', async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg">${'<rect width="1" height="1"/>'.repeat(100)}</svg>`;
    origin.route('/i.svg', fixed(200, { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=60' }, svg));
    origin.route('/d.json', fixed(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }, JSON.stringify({ a: 'y'.repeat(4000) })));
    assert.equal((await get(edge, '/i.svg', { headers: ae('gzip') })).headers['content-encoding'], 'gzip');
    assert.equal((await get(edge, '/d.json', { headers: ae('gzip') })).headers['content-encoding'], 'gzip');
  });

  test('Range applies to the encoded representation (RFC 9110 §14.1.2); If-Range never matches its weak ETag', async () => {
    const full = await get(edge, '/page.html', { headers: ae('gzip') });
    assert.equal(full.headers['x-cache-status'], 'HIT');
    const part = await get(edge, '/page.html', { headers: { ...ae('gzip'), range: 'bytes=0-9' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-encoding'], 'gzip');
    assert.equal(part.headers['content-range'], `bytes 0-9/${full.body.length}`);
    assert.deepEqual(part.body, full.body.subarray(0, 10));
    const plain = await get(edge, '/page.html', { headers: { range: 'bytes=0-9' } });
    assert.equal(plain.status, 206);
    assert.equal(plain.headers['content-range'], `bytes 0-9/${PAGE.length}`);
    assert.equal(plain.text, PAGE.slice(0, 10));
    const ifRange = await get(edge, '/page.html', { headers: { ...ae('gzip'), range: 'bytes=0-9', 'if-range': 'W/"p1"' } });
    assert.equal(ifRange.status, 200, 'a weak validator cannot make a range request conditional');
    assert.equal(origin.count('/page.html'), 3);
  });

  test('a 304 refreshes an edge-compressed variant and keeps its weak ETag and Vary', async () => {
    let conditional: string | undefined;
    origin.route('/reval.css', (req, res) => {
      conditional = req.headers['if-none-match'];
      if (conditional !== undefined) {
        res.writeHead(304, { etag: '"r1"', 'cache-control': 'max-age=60', vary: 'Origin' });
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'text/css', 'cache-control': 'max-age=60', etag: '"r1"', vary: 'Origin' });
      res.end('body { color: red; }\n'.repeat(200));
    });
    const first = await get(edge, '/reval.css', { headers: ae('gzip') });
    assert.equal(first.headers['content-encoding'], 'gzip');
    assert.match(String(first.headers['vary']), /^Origin, Accept-Encoding$/);
    clock.advance(120);
    const again = await get(edge, '/reval.css', { headers: ae('gzip') });
    assert.equal(conditional, 'W/"r1"', 'revalidated with the weak tag, which the origin matches weakly');
    assert.equal(again.headers['x-cache-status'], 'REVALIDATED');
    assert.equal(again.headers['etag'], 'W/"r1"');
    assert.equal(again.headers['content-encoding'], 'gzip');
    assert.match(String(again.headers['vary']), /Accept-Encoding/);
    assert.equal(gunzipSync(again.body).toString(), 'body { color: red; }\n'.repeat(200));
  });
});

describe('compression switched off', () => {
  test('edge.compression.enabled: false serves what the origin sent, keyed by the normalised Accept-Encoding only when the origin varies', async () => {
    const origin = await startOrigin();
    const edge = await startEdge({ origin, edge: { compression: { enabled: false } } });
    try {
      origin.route('/page.html', fixed(200, html, PAGE));
      const r = await get(edge, '/page.html', { headers: { 'accept-encoding': 'gzip, br' } });
      assert.equal(r.headers['content-encoding'], undefined);
      assert.equal(r.headers['vary'], undefined);
      assert.equal(r.text, PAGE);
      assert.equal((await get(edge, '/page.html')).headers['x-cache-status'], 'HIT');
    } finally {
      await edge.close();
      await origin.close();
    }
  });
});
