import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type TestEdge, type TestOrigin, fillsSettled, fixed, startEdge, startOrigin } from './helpers/edge-harness.js';
import { parseMultipart, pattern, rangedOrigin } from './helpers/edge-range.js';
import { curlHasHttp2, h2get, h2session, NO_CURL_HTTP2, testTlsSection, tlsPort, type H2Reply } from './helpers/tls.js';
import { tempDir } from './helpers/tmp.js';

// Ranges over HTTP/2 from each place a body can come from: the memory tier, a disk-only
// object's file, a sliced object's slices, and a fill in progress.

const run = promisify(execFile);
const small = pattern(5000, 1);
const large = pattern(300_000, 2);
const HEADERS = { 'cache-control': 'max-age=600', 'content-type': 'application/x-test' };

/** Where each object lives on the edge below: path, the authority of its site, its ETag and body. */
const SOURCES = [
  { name: 'memory', path: '/mem', authority: 'www.example.test', etag: '"mem"', body: small },
  { name: 'disk only', path: '/disk', authority: 'www.example.test', etag: '"disk"', body: large },
  { name: 'sliced', path: '/sliced', authority: 'slices.example.test', etag: '"sliced"', body: large },
] as const;

/** A 206 with `ranges` of `body`: one part with Content-Range, or multipart/byteranges; its length as Content-Length says. */
function assertRanges(r: H2Reply, body: Buffer, ranges: readonly (readonly [number, number])[], what: string): void {
  assert.equal(r.status, 206, what);
  assert.equal(Number(r.headers['content-length']), r.body.length, `${what}: Content-Length`);
  if (ranges.length === 1) {
    const [a, b] = ranges[0]!;
    assert.equal(r.headers['content-range'], `bytes ${a}-${b}/${body.length}`, what);
    assert.deepEqual(r.body, body.subarray(a, b + 1), what);
    return;
  }
  const parts = parseMultipart(String(r.headers['content-type']), r.body);
  assert.equal(parts.length, ranges.length, what);
  parts.forEach((part, i) => {
    const [a, b] = ranges[i]!;
    assert.equal(part.headers['content-range'], `bytes ${a}-${b}/${body.length}`, `${what}: part ${i}`);
    assert.equal(part.headers['content-type'], 'application/x-test', `${what}: part ${i}`);
    assert.deepEqual(part.body, body.subarray(a, b + 1), `${what}: part ${i}`);
  });
}

describe('HTTP/2: ranges from every tier', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let port: number;

  before(async () => {
    origin = await startOrigin();
    origin.route('/mem', fixed(200, { ...HEADERS, etag: '"mem"' }, small));
    origin.route('/disk', fixed(200, { ...HEADERS, etag: '"disk"' }, large));
    origin.route('/sliced', rangedOrigin({ body: large, headers: { ...HEADERS, etag: '"sliced"' } }));
    edge = await startEdge({
      origin,
      sites: { 'www.example.test': { origin: origin.url }, 'slices.example.test': { origin: origin.url, slice_size: '64KiB' } },
      // 64 KiB objects in memory: /disk lives on disk only, and so do the slices of /sliced
      edge: {
        memory_size: '8MiB',
        max_object_size: '64KiB',
        disk: { path: tempDir('geocdn-h2-ranges-'), size: '64MiB', max_object_size: '16MiB' },
        tls: await testTlsSection(['www.example.test', 'slices.example.test']),
      },
    });
    port = tlsPort(edge);
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  it('one range and several (multipart/byteranges), on the MISS and on the HITs after it', async () => {
    const s = await h2session(port);
    try {
      for (const src of SOURCES) {
        const n = src.body.length;
        const several = [[0, 9], [1000, 1099], [n - 1000, n - 1]] as const;
        const spec = `bytes=${several.map(([a, b]) => `${a}-${b}`).join(',')}`;
        for (const round of ['MISS', 'HIT', 'HIT again']) {
          const what = `${src.name}, ${round}`;
          const multi = await h2get(s, src.path, { ':authority': src.authority, range: spec });
          assert.equal(multi.headers['x-cache-status'], round === 'MISS' ? 'MISS' : 'HIT', what);
          assertRanges(multi, src.body, several, `${what}, several`);
          assertRanges(await h2get(s, src.path, { ':authority': src.authority, range: 'bytes=100-4099' }), src.body, [[100, 4099]], `${what}, one`);
          assertRanges(await h2get(s, src.path, { ':authority': src.authority, range: 'bytes=-10' }), src.body, [[n - 10, n - 1]], `${what}, suffix`);
          await fillsSettled(edge);
        }
      }
    } finally {
      s.close();
    }
    assert.equal(origin.count('/mem'), 1);
    assert.equal(origin.count('/disk'), 1);
  });

  it('416 past the end, If-Range that matches or not, HEAD with Range', async () => {
    const s = await h2session(port);
    try {
      for (const src of SOURCES) {
        const at = { ':authority': src.authority };
        const n = src.body.length;
        const unsatisfiable = await h2get(s, src.path, { ...at, range: `bytes=${n}-` });
        assert.equal(unsatisfiable.status, 416, src.name);
        assert.equal(unsatisfiable.headers['content-range'], `bytes */${n}`, src.name);
        assert.equal(unsatisfiable.body.length, 0, src.name);
        assertRanges(await h2get(s, src.path, { ...at, range: 'bytes=0-9', 'if-range': src.etag }), src.body, [[0, 9]], `${src.name}, If-Range matches`);
        const other = await h2get(s, src.path, { ...at, range: 'bytes=0-9', 'if-range': '"other"' });
        assert.equal(other.status, 200, src.name);
        assert.deepEqual(other.body, src.body, `${src.name}, If-Range does not match: the whole body`);
        const head = await h2get(s, src.path, { ...at, range: 'bytes=0-9,100-109' }, 'HEAD');
        assert.equal(head.status, 206, src.name);
        assert.match(String(head.headers['content-type']), /^multipart\/byteranges; boundary=/, src.name);
        assert.ok(Number(head.headers['content-length']) > 20, src.name);
        assert.equal(head.body.length, 0, src.name);
      }
    } finally {
      s.close();
    }
  });

  it('curl --http2: several ranges of a disk-only object', { skip: curlHasHttp2() ? false : NO_CURL_HTTP2 }, async () => {
    const url = `https://www.example.test:${port}/disk`;
    const { stdout } = await run('curl', ['--http2', '-k', '-sS', '-D', '-', '-r', '0-9,200000-200009', '--resolve', `www.example.test:${port}:127.0.0.1`, url], { encoding: 'latin1' });
    const split = stdout.indexOf('\r\n\r\n');
    const head = stdout.slice(0, split);
    assert.match(head, /^HTTP\/2 206/);
    const type = /^content-type: (.*)$/im.exec(head)?.[1]?.trim();
    const parts = parseMultipart(type, Buffer.from(stdout.slice(split + 4), 'latin1'));
    assert.deepEqual(parts.map((p) => p.body), [large.subarray(0, 10), large.subarray(200_000, 200_010)]);
  });
});
