import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type TestEdge, type TestOrigin, fixed, gate, get, originAndEdge, startEdge, startOrigin } from './helpers/edge-harness.js';
import { type Representation, parseMultipart, pattern, rangedOrigin, startStreamingEdge } from './helpers/edge-range.js';

const LAST_MODIFIED = 'Mon, 23 Nov 2026 10:00:00 GMT';

const hasCurl = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;
const NO_CURL = 'curl not installed (Debian package curl)';

for (const tier of ['memory', 'streaming'] as const) {
  describe(`edge: Range on a stored object (${tier === 'memory' ? 'body in memory' : 'tier with only stream(start, end)'})`, () => {
    let origin: TestOrigin;
    let edge: TestEdge;
    const body = pattern(1000);
    before(async () => {
      origin = await startOrigin();
      origin.route('/obj', fixed(200, { 'cache-control': 'max-age=300', etag: '"v1"', 'last-modified': LAST_MODIFIED, 'content-type': 'video/mp4' }, body));
      origin.route('/weak', fixed(200, { 'cache-control': 'max-age=300', etag: 'W/"w1"' }, body));
      origin.route('/empty', fixed(200, { 'cache-control': 'max-age=300', etag: '"e"', 'content-length': '0' }, ''));
      edge = tier === 'memory' ? await startEdge({ origin }) : await startStreamingEdge({ 'www.example.test': { origin: origin.url } });
      await get(edge, '/obj');
      await get(edge, '/weak');
      await get(edge, '/empty');
    });
    after(async () => {
      await edge.close();
      await origin.close();
    });

    it('one range: 206 with Content-Range and exactly those bytes', async () => {
      const r = await get(edge, '/obj', { headers: { range: 'bytes=100-299' } });
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], 'bytes 100-299/1000');
      assert.equal(r.headers['content-length'], '200');
      assert.equal(r.headers['content-type'], 'video/mp4');
      assert.equal(r.headers['x-cache-status'], 'HIT');
      assert.deepEqual(r.body, body.subarray(100, 300));
    });

    it('open and suffix ranges, and a last-byte-pos past the end', async () => {
      const open = await get(edge, '/obj', { headers: { range: 'bytes=990-' } });
      assert.equal(open.headers['content-range'], 'bytes 990-999/1000');
      assert.deepEqual(open.body, body.subarray(990));
      const suffix = await get(edge, '/obj', { headers: { range: 'bytes=-5' } });
      assert.equal(suffix.status, 206);
      assert.equal(suffix.headers['content-range'], 'bytes 995-999/1000');
      assert.deepEqual(suffix.body, body.subarray(995));
      const longSuffix = await get(edge, '/obj', { headers: { range: 'bytes=-5000' } });
      assert.equal(longSuffix.headers['content-range'], 'bytes 0-999/1000');
      const past = await get(edge, '/obj', { headers: { range: 'bytes=900-5000' } });
      assert.equal(past.headers['content-range'], 'bytes 900-999/1000');
      assert.deepEqual(past.body, body.subarray(900));
    });

    it('several ranges: multipart/byteranges, each part with its Content-Type and Content-Range', async () => {
      const r = await get(edge, '/obj', { headers: { range: 'bytes=0-9, 500-509,-10' } });
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], undefined);
      assert.equal(Number(r.headers['content-length']), r.body.length);
      const parts = parseMultipart(r.headers['content-type'], r.body);
      assert.deepEqual(
        parts.map((p) => [p.headers['content-type'], p.headers['content-range']]),
        [['video/mp4', 'bytes 0-9/1000'], ['video/mp4', 'bytes 500-509/1000'], ['video/mp4', 'bytes 990-999/1000']],
      );
      assert.deepEqual(parts[0]!.body, body.subarray(0, 10));
      assert.deepEqual(parts[1]!.body, body.subarray(500, 510));
      assert.deepEqual(parts[2]!.body, body.subarray(990));
    });

    it('overlapping ranges are coalesced; an absurd number of ranges gets the whole object', async () => {
      const r = await get(edge, '/obj', { headers: { range: 'bytes=100-199,150-250' } });
      assert.equal(r.headers['content-range'], 'bytes 100-250/1000');
      assert.deepEqual(r.body, body.subarray(100, 251));
      const many = Array.from({ length: 200 }, (_, i) => `${i * 4}-${i * 4}`).join(',');
      const all = await get(edge, '/obj', { headers: { range: `bytes=${many}` } });
      assert.equal(all.status, 200);
      assert.equal(all.body.length, 1000);
      const overlapping = await get(edge, '/obj', { headers: { range: 'bytes=0-999,0-999,0-999' } });
      assert.equal(overlapping.body.length, 1000);
    });

    it('several ranges that ask for the whole object, overlapping or not, get it once as a 200 (as nginx)', async () => {
      for (const range of ['bytes=0-999,0-3', 'bytes=1-,0-0', 'bytes=0-599,500-']) {
        const r = await get(edge, '/obj', { headers: { range } });
        assert.equal(r.status, 200, range);
        assert.equal(r.headers['content-range'], undefined, range);
        assert.deepEqual(r.body, body, range);
      }
      const parts = await get(edge, '/obj', { headers: { range: 'bytes=0-9,5-14' } });
      assert.equal(parts.status, 206);
      assert.equal(parts.headers['content-range'], 'bytes 0-14/1000');
    });

    it('an empty body: any Range gets the empty 200 (a suffix range of it is satisfiable, and a 206 could hold no byte)', async () => {
      for (const range of ['bytes=-1', 'bytes=0-0', 'bytes=0-']) {
        const r = await get(edge, '/empty', { headers: { range } });
        assert.equal(r.status, 200, range);
        assert.equal(r.headers['content-length'], '0', range);
        assert.equal(r.headers['content-range'], undefined, range);
        assert.equal(r.headers['x-cache-status'], 'HIT', range);
      }
    });

    it('If-Range: a matching strong ETag or date gets the range; a changed or weak one the whole object', async () => {
      const match = await get(edge, '/obj', { headers: { range: 'bytes=0-3', 'if-range': '"v1"' } });
      assert.equal(match.status, 206);
      const date = await get(edge, '/obj', { headers: { range: 'bytes=0-3', 'if-range': LAST_MODIFIED } });
      assert.equal(date.status, 206);
      const changed = await get(edge, '/obj', { headers: { range: 'bytes=0-3', 'if-range': '"v0"' } });
      assert.equal(changed.status, 200);
      assert.deepEqual(changed.body, body);
      const oldDate = await get(edge, '/obj', { headers: { range: 'bytes=0-3', 'if-range': 'Sun, 22 Nov 2026 10:00:00 GMT' } });
      assert.equal(oldDate.status, 200);
      const weak = await get(edge, '/weak', { headers: { range: 'bytes=0-3', 'if-range': 'W/"w1"' } });
      assert.equal(weak.status, 200);
    });

    it('416 with Content-Range bytes */N when no range is satisfiable; bad syntax is ignored', async () => {
      const r = await get(edge, '/obj', { headers: { range: 'bytes=1000-' } });
      assert.equal(r.status, 416);
      assert.equal(r.headers['content-range'], 'bytes */1000');
      assert.equal(r.body.length, 0);
      assert.equal((await get(edge, '/obj', { headers: { range: 'bytes=5-2' } })).status, 200);
      assert.equal((await get(edge, '/obj', { headers: { range: 'lines=1-2' } })).status, 200);
    });

    it('HEAD with Range: the 206 head without a body', async () => {
      const r = await get(edge, '/obj', { method: 'HEAD', headers: { range: 'bytes=10-19' } });
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], 'bytes 10-19/1000');
      assert.equal(r.headers['content-length'], '10');
      assert.equal(r.body.length, 0);
      assert.equal(origin.count('/obj'), 1);
    });
  });
}

describe('edge: Range on a miss', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  before(async () => {
    origin = await startOrigin();
    edge = await startEdge({ origin, edge: { max_object_size: '64KiB' } });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  it('gets its 206 out of the fill while the whole object goes to the cache', async () => {
    const body = pattern(200_000 >> 4);
    origin.route('/miss', fixed(200, { 'cache-control': 'max-age=300', etag: '"m"', 'content-type': 'application/octet-stream' }, body));
    const r = await get(edge, '/miss', { headers: { range: 'bytes=1000-1999' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['x-cache-status'], 'MISS');
    assert.equal(r.headers['content-range'], `bytes 1000-1999/${body.length}`);
    assert.deepEqual(r.body, body.subarray(1000, 2000));
    assert.equal(origin.requests.at(-1)!.headers.range, undefined, 'the fill asks for the whole object');
    const hit = await get(edge, '/miss');
    assert.equal(hit.headers['x-cache-status'], 'HIT');
    assert.deepEqual(hit.body, body);
  });

  it('streams the window before the fill has finished', async () => {
    const open = gate();
    origin.route('/slow', async (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=300', 'content-length': 2000 });
      res.write(pattern(1000));
      await open.promise;
      res.end(pattern(1000, 1000));
    });
    const got = new Promise<Buffer>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        request({ host: '127.0.0.1', port: edge.port, path: '/slow', headers: { host: 'www.example.test', range: 'bytes=0-99' }, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        }).on('error', reject).end();
      }, reject);
    });
    const window = await got; // arrives while the origin still holds back the second half
    assert.deepEqual(window, pattern(1000).subarray(0, 100));
    open.open();
  });

  it('several ranges on a miss: multipart cut from the fill; 416 on a miss', async () => {
    const body = pattern(5000, 3);
    origin.route('/multi', fixed(200, { 'cache-control': 'max-age=300', 'content-type': 'text/plain' }, body));
    const r = await get(edge, '/multi', { headers: { range: 'bytes=0-0,4000-4099' } });
    assert.equal(r.status, 206);
    const parts = parseMultipart(r.headers['content-type'], r.body);
    assert.deepEqual(parts.map((p) => p.headers['content-range']), ['bytes 0-0/5000', 'bytes 4000-4099/5000']);
    assert.deepEqual(parts[1]!.body, body.subarray(4000, 4100));
    origin.route('/miss416', fixed(200, { 'cache-control': 'max-age=300' }, 'short'));
    const bad = await get(edge, '/miss416', { headers: { range: 'bytes=10-' } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], 'bytes */5');
    origin.route('/miss-empty', fixed(200, { 'cache-control': 'max-age=300' }, ''));
    const empty = await get(edge, '/miss-empty', { headers: { range: 'bytes=-1' } });
    assert.equal(empty.status, 200);
    assert.equal(empty.body.length, 0);
  });

  it('an object too large to cache: the client\'s Range goes to the origin, not the whole object', async () => {
    const rep: Representation = { body: pattern(200_000), headers: { 'cache-control': 'max-age=300', etag: '"big"' } };
    origin.route('/big', rangedOrigin(rep));
    const r = await get(edge, '/big', { headers: { range: 'bytes=150000-150009' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], 'bytes 150000-150009/200000');
    assert.deepEqual(r.body, rep.body.subarray(150000, 150010));
    assert.equal(origin.requests.at(-1)!.headers.range, 'bytes=150000-150009');
  });

  it('a response that is not stored: the part is cut from the one origin fetch, the request is not sent again', async () => {
    const body = pattern(3000, 5);
    origin.route('/nostore', fixed(200, { 'cache-control': 'no-store', etag: '"n"', 'content-type': 'application/octet-stream', 'content-length': body.length }, body));
    const one = await get(edge, '/nostore', { headers: { range: 'bytes=-5' } });
    assert.equal(one.status, 206);
    assert.equal(one.headers['content-range'], `bytes ${body.length - 5}-${body.length - 1}/${body.length}`);
    assert.deepEqual(one.body, body.subarray(body.length - 5));
    assert.match(String(one.headers['cache-status']), /detail=no-store/);
    assert.equal(origin.count('/nostore'), 1, 'one origin request for one client request');
    const multi = await get(edge, '/nostore', { headers: { range: 'bytes=0-0,2000-2009' } });
    assert.deepEqual(parseMultipart(multi.headers['content-type'], multi.body).map((p) => p.body), [body.subarray(0, 1), body.subarray(2000, 2010)]);
    const stale = await get(edge, '/nostore', { headers: { range: 'bytes=0-3', 'if-range': '"old"' } });
    assert.equal(stale.status, 200, 'If-Range does not hold: the whole response');
    assert.deepEqual(stale.body, body);
    assert.equal((await get(edge, '/nostore', { headers: { range: 'bytes=5000-' } })).status, 416);
    assert.equal(origin.count('/nostore'), 4);
    assert.ok(origin.requests.filter((q) => q.url === '/nostore').every((q) => q.headers.range === undefined));
  });

  it('HEAD with Range on a miss: 206 head, and the object is filled', async () => {
    origin.route('/headmiss', fixed(200, { 'cache-control': 'max-age=300' }, '0123456789'));
    const r = await get(edge, '/headmiss', { method: 'HEAD', headers: { range: 'bytes=2-3' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], 'bytes 2-3/10');
    assert.equal(r.body.length, 0);
    assert.equal((await get(edge, '/headmiss', { headers: { range: 'bytes=2-3' } })).text, '23');
  });
});

describe('edge: Range with curl -r', { skip: hasCurl ? false : NO_CURL }, () => {
  const t = originAndEdge();

  it('curl -r 2-5 gets 206 and the four bytes, as in the README', async () => {
    t.origin.route('/file.bin', fixed(200, { 'cache-control': 'max-age=300' }, '0123456789'));
    const { stdout } = await promisify(execFile)('curl', ['-s', '-r', '2-5', '-D', '-', '-H', 'Host: www.example.test', `${t.edge.url}/file.bin`], { encoding: 'utf8' });
    assert.match(stdout, /^HTTP\/1\.1 206 Partial Content/);
    assert.match(stdout, /content-range: bytes 2-5\/10/i);
    assert.ok(stdout.endsWith('\r\n\r\n2345'));
  });
});
