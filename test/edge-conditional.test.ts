// RFC 9110 §13 conditional requests answered by the edge, from cache and on a miss.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixed, get, originAndEdge, raw } from './helpers/edge-harness.js';

const LAST_MODIFIED = 'Mon, 01 Jan 2024 00:00:00 GMT';
const BEFORE = 'Sun, 01 Jan 2023 00:00:00 GMT';
const AFTER = 'Tue, 01 Jan 2030 00:00:00 GMT';

const representation = {
  'cache-control': 'max-age=300',
  etag: '"v1"',
  'last-modified': LAST_MODIFIED,
  expires: 'Tue, 01 Jan 2036 00:00:00 GMT',
  vary: 'accept-language',
  'content-location': '/doc.en.txt',
  'content-type': 'text/plain',
  'content-language': 'en',
};

describe('edge: conditional requests (RFC 9110 §13)', () => {
  const t = originAndEdge({
    routes: {
      '/doc': fixed(200, representation, 'hello world'),
      '/weak': fixed(200, { 'cache-control': 'max-age=300', etag: 'W/"w1"', 'last-modified': LAST_MODIFIED }, 'weak body'),
      '/missing': fixed(404, { 'cache-control': 'max-age=300', etag: '"gone"' }, 'not here'),
    },
  });

  /** The status of a request for `path` with these fields, after the object is cached; the origin must not see it. */
  async function statusOf(path: string, headers: Record<string, string>, method = 'GET'): Promise<number> {
    await get(t.edge, path);
    const before = t.origin.count(path);
    const r = await get(t.edge, path, { method, headers });
    assert.equal(t.origin.count(path), before, `${JSON.stringify(headers)} is answered from cache`);
    return r.status;
  }

  it('If-Match uses the strong comparison: a weak tag on either side fails with 412; * and an exact tag pass', async () => {
    assert.equal(await statusOf('/doc', { 'if-match': '"v1"' }), 200);
    assert.equal(await statusOf('/doc', { 'if-match': '"x", "v1"' }), 200);
    assert.equal(await statusOf('/doc', { 'if-match': '*' }), 200);
    assert.equal(await statusOf('/doc', { 'if-match': '"nope"' }), 412);
    assert.equal(await statusOf('/doc', { 'if-match': 'W/"v1"' }), 412);
    assert.equal(await statusOf('/weak', { 'if-match': 'W/"w1"' }), 412);
    assert.equal(await statusOf('/weak', { 'if-match': '"w1"' }), 412);
  });

  it('If-Unmodified-Since: 412 when modified since; an invalid date is ignored; If-Match present overrides it', async () => {
    assert.equal(await statusOf('/doc', { 'if-unmodified-since': BEFORE }), 412);
    assert.equal(await statusOf('/doc', { 'if-unmodified-since': AFTER }), 200);
    assert.equal(await statusOf('/doc', { 'if-unmodified-since': LAST_MODIFIED }), 200);
    assert.equal(await statusOf('/doc', { 'if-unmodified-since': 'yesterday' }), 200);
    assert.equal(await statusOf('/doc', { 'if-match': '"v1"', 'if-unmodified-since': BEFORE }), 200);
  });

  it('412 wins over 304 and over Range; the 412 says what the cache did', async () => {
    assert.equal(await statusOf('/doc', { 'if-match': '"nope"', 'if-none-match': '"v1"' }), 412);
    assert.equal(await statusOf('/doc', { 'if-unmodified-since': BEFORE, 'if-modified-since': AFTER }), 412);
    assert.equal(await statusOf('/doc', { 'if-match': '"nope"', range: 'bytes=0-1' }), 412);
    const r = await get(t.edge, '/doc', { headers: { 'if-match': '"nope"' } });
    assert.equal(r.headers['x-cache-status'], 'HIT');
    assert.equal(r.headers['cache-control'], 'no-store');
  });

  it('If-None-Match is weak, * matches, and when present If-Modified-Since is ignored', async () => {
    assert.equal(await statusOf('/doc', { 'if-none-match': 'W/"v1"' }), 304);
    assert.equal(await statusOf('/weak', { 'if-none-match': '"w1"' }), 304);
    assert.equal(await statusOf('/doc', { 'if-none-match': '*' }), 304);
    assert.equal(await statusOf('/doc', { 'if-none-match': '"other"', 'if-modified-since': AFTER }), 200);
    assert.equal(await statusOf('/doc', { 'if-modified-since': AFTER }), 304);
    assert.equal(await statusOf('/doc', { 'if-modified-since': BEFORE }), 200);
    assert.equal(await statusOf('/doc', { 'if-modified-since': 'not a date' }), 200);
  });

  it('preconditions are ignored on a stored response that is not 2xx (§13.2.1)', async () => {
    assert.equal(await statusOf('/missing', { 'if-none-match': '*' }), 404);
    assert.equal(await statusOf('/missing', { 'if-none-match': '"gone"' }), 404);
    assert.equal(await statusOf('/missing', { 'if-match': '"nope"' }), 404);
  });

  it('HEAD: 304 and 412 as for GET', async () => {
    assert.equal(await statusOf('/doc', { 'if-none-match': '"v1"' }, 'HEAD'), 304);
    assert.equal(await statusOf('/doc', { 'if-match': '"nope"' }, 'HEAD'), 412);
  });

  it('a 304 from cache carries the fields of §15.4.5 and neither a body nor the body\'s Content-Length', async () => {
    await get(t.edge, '/doc');
    // pipelined: the second reply must start right after the 304's head
    const head = 'Host: www.example.test\r\nIf-None-Match: "v1"\r\n';
    const r = await raw(t.edge.port, `GET /doc HTTP/1.1\r\n${head}\r\nGET /doc HTTP/1.1\r\n${head}Connection: close\r\n\r\n`);
    const replies = r.split(/(?=HTTP\/1\.1 )/);
    assert.equal(replies.length, 2, r);
    const first = replies[0]!;
    assert.match(first, /^HTTP\/1\.1 304 /);
    assert.ok(first.endsWith('\r\n\r\n'), 'nothing after the head');
    const fields = new Map(first.split('\r\n').slice(1, -2).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    assert.equal(fields.get('etag'), '"v1"');
    assert.equal(fields.get('cache-control'), 'max-age=300');
    assert.equal(fields.get('expires'), representation.expires);
    assert.equal(fields.get('content-location'), '/doc.en.txt');
    assert.match(fields.get('vary') ?? '', /accept-language/i);
    assert.ok(fields.has('date'));
    for (const name of ['content-length', 'content-type', 'content-language', 'transfer-encoding']) assert.ok(!fields.has(name), `${name} on a 304`);
    assert.match(replies[1]!, /^HTTP\/1\.1 304 /);
  });

  it('on a miss the fill fetches the whole object, the client\'s preconditions are evaluated on it, and it is stored', async () => {
    t.origin.route('/fresh-412', fixed(200, representation, 'hello world'));
    t.origin.route('/fresh-304', fixed(200, representation, 'hello world'));
    const failed = await get(t.edge, '/fresh-412', { headers: { 'if-match': '"nope"' } });
    assert.equal(failed.status, 412);
    assert.equal(failed.headers['x-cache-status'], 'MISS');
    assert.equal(t.origin.requests.find((q) => q.url === '/fresh-412')?.headers['if-match'], undefined);
    const again = await get(t.edge, '/fresh-412');
    assert.equal(again.headers['x-cache-status'], 'HIT');
    assert.equal(again.text, 'hello world');
    const notModified = await get(t.edge, '/fresh-304', { headers: { 'if-none-match': '"x", "v1"', 'if-match': '"v1"' } });
    assert.equal(notModified.status, 304);
  });

  it('a response that is not stored is answered 412 too: the origin never saw the precondition', async () => {
    t.origin.route('/private', fixed(200, { 'cache-control': 'no-store', etag: '"p1"' }, 'secret'));
    const r = await get(t.edge, '/private', { headers: { 'if-match': '"p0"' } });
    assert.equal(r.status, 412);
    const ok = await get(t.edge, '/private', { headers: { 'if-match': '"p1"' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.text, 'secret');
  });
});
