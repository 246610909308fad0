import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestClock, type TestEdge, type TestOrigin, fixed, get, startEdge, startOrigin, testClock } from './helpers/edge-harness.js';

describe('edge: RFC 9111 storage and freshness rules over HTTP', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let clock: TestClock;

  before(async () => {
    clock = testClock();
    origin = await startOrigin(clock);
    edge = await startEdge({
      sites: {
        'www.example.test': {
          origin: origin.url,
          aliases: ['alias.example.test'],
          cache_key: { ignore_query: ['utm_source'], sort_query: true },
          bypass: { cookies: ['session'], methods: ['OPTIONS'] },
        },
      },
      clock,
    });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  const status = async (path: string, headers: Record<string, string> = {}): Promise<string> => String((await get(edge, path, { headers })).headers['x-cache-status']);

  it('s-maxage wins over max-age for a shared cache', async () => {
    origin.route('/smax', fixed(200, { 'cache-control': 'max-age=1, s-maxage=100' }, 's'));
    await get(edge, '/smax');
    clock.advance(50);
    assert.equal(await status('/smax'), 'HIT');
  });

  it('CDN-Cache-Control and Surrogate-Control take precedence and are not forwarded', async () => {
    origin.route('/cdncc', fixed(200, { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=100' }, 'c'));
    const a = await get(edge, '/cdncc');
    assert.equal(a.headers['cdn-cache-control'], undefined);
    assert.equal(a.headers['cache-control'], 'no-store');
    assert.equal(await status('/cdncc'), 'HIT');
    origin.route('/surr', fixed(200, { 'cache-control': 'max-age=0', 'surrogate-control': 'max-age=100' }, 's'));
    const b = await get(edge, '/surr');
    assert.equal(b.headers['surrogate-control'], undefined);
    assert.equal(await status('/surr'), 'HIT');
  });

  it('Expires without max-age gives the lifetime; an invalid Expires means stale', async () => {
    const date = new Date(clock.now()).toUTCString();
    origin.route('/expires', fixed(200, { date, expires: new Date(clock.now() + 60_000).toUTCString() }, 'e'));
    await get(edge, '/expires');
    assert.equal(await status('/expires'), 'HIT');
    origin.route('/badexp', fixed(200, { expires: '0' }, 'e'));
    await get(edge, '/badexp');
    assert.equal(await status('/badexp'), 'EXPIRED');
  });

  it('heuristic freshness: 10% of the time since Last-Modified', async () => {
    origin.route('/lm', fixed(200, { 'last-modified': new Date(clock.now() - 1000_000).toUTCString() }, 'l'));
    await get(edge, '/lm');
    clock.advance(90);
    assert.equal(await status('/lm'), 'HIT');
    clock.advance(20);
    assert.equal(await status('/lm'), 'EXPIRED');
  });

  it('no-store, private, Set-Cookie and 500 are not stored; 404 and 301 are by default', async () => {
    origin.route('/priv', fixed(200, { 'cache-control': 'private, max-age=100' }, 'p'));
    origin.route('/cookie', fixed(200, { 'cache-control': 'max-age=100', 'set-cookie': 'a=1' }, 'p'));
    origin.route('/err', fixed(500, { 'last-modified': new Date(clock.now() - 1000_000).toUTCString() }, 'x'));
    origin.route('/gone', fixed(404, { 'cache-control': 'max-age=100' }, 'nf'));
    origin.route('/moved', fixed(301, { location: '/else', 'cache-control': 'max-age=100' }));
    for (const p of ['/priv', '/cookie', '/err', '/gone', '/moved']) await get(edge, p);
    assert.equal(await status('/priv'), 'MISS');
    assert.equal(await status('/cookie'), 'MISS');
    assert.equal(await status('/err'), 'MISS');
    assert.equal(await status('/gone'), 'HIT');
    assert.equal(await status('/moved'), 'HIT');
  });

  it('no-cache="set-cookie" stores the response without that field', async () => {
    origin.route('/nc-field', fixed(200, { 'cache-control': 'max-age=100, no-cache="set-cookie"', 'set-cookie': 'a=1' }, 'p'));
    const a = await get(edge, '/nc-field');
    assert.equal(a.headers['set-cookie']?.[0], 'a=1');
    const b = await get(edge, '/nc-field');
    assert.equal(b.headers['x-cache-status'], 'HIT');
    assert.equal(b.headers['set-cookie'], undefined);
  });

  it('bare no-cache is stored but revalidated on every use', async () => {
    origin.route('/nocache', (req, res) => {
      if (req.headers['if-none-match'] === '"n"') return void res.writeHead(304, { etag: '"n"' }).end();
      res.writeHead(200, { 'cache-control': 'no-cache', etag: '"n"' }).end('n');
    });
    await get(edge, '/nocache');
    assert.equal(await status('/nocache'), 'REVALIDATED');
    assert.equal(origin.count('/nocache'), 2);
  });

  it('must-revalidate: never served stale, not even when the origin fails', async () => {
    origin.route('/mr', fixed(200, { 'cache-control': 'max-age=10, must-revalidate, stale-if-error=1000' }, 'm'));
    await get(edge, '/mr');
    clock.advance(20);
    origin.route('/mr', fixed(500, {}, 'down'));
    const r = await get(edge, '/mr');
    assert.equal(r.status, 500);
    assert.equal(r.headers['x-cache-status'], 'EXPIRED');
  });

  it('Authorization: not answered from cache; stored only when the origin marks the response shared', async () => {
    origin.route('/auth-plain', fixed(200, { 'cache-control': 'max-age=100' }, 'secret'));
    origin.route('/auth-public', fixed(200, { 'cache-control': 'public, max-age=100' }, 'shared'));
    const a = await get(edge, '/auth-plain', { headers: { authorization: 'Bearer x' } });
    assert.equal(a.headers['x-cache-status'], 'BYPASS');
    assert.equal(await status('/auth-plain'), 'MISS');
    const b = await get(edge, '/auth-public', { headers: { authorization: 'Bearer x' } });
    assert.equal(b.headers['cache-status'], 'geocdn; fwd=bypass; stored; detail=authorization');
    assert.equal(await status('/auth-public'), 'HIT');
    assert.equal(await status('/auth-public', { authorization: 'Bearer y' }), 'BYPASS');
  });

  it('Vary: one variant per secondary key, all found by purge-by-URL', async () => {
    origin.route('/vary', (req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=100', vary: 'Accept-Language' }).end(`lang=${req.headers['accept-language']}`);
    });
    const en = await get(edge, '/vary', { headers: { 'accept-language': 'en' } });
    const de = await get(edge, '/vary', { headers: { 'accept-language': 'de' } });
    assert.equal(en.text, 'lang=en');
    assert.equal(de.text, 'lang=de');
    const en2 = await get(edge, '/vary', { headers: { 'accept-language': 'en' } });
    assert.equal(en2.headers['x-cache-status'], 'HIT');
    assert.equal(en2.text, 'lang=en');
    const de2 = await get(edge, '/vary', { headers: { 'accept-language': 'de' } });
    assert.equal(de2.text, 'lang=de');
    assert.equal(de2.headers['x-cache-status'], 'HIT');
    assert.equal(await edge.context.store.deleteUrl('http://www.example.test/vary'), 2);
  });

  it('Vary: * is never stored', async () => {
    origin.route('/varystar', fixed(200, { 'cache-control': 'max-age=100', vary: '*' }, 'v'));
    await get(edge, '/varystar');
    assert.equal(await status('/varystar'), 'MISS');
  });

  it('HEAD is answered from a stored GET, and a HEAD miss fills the cache for GET', async () => {
    origin.route('/head', fixed(200, { 'cache-control': 'max-age=100' }, 'twelve bytes'));
    const h = await get(edge, '/head', { method: 'HEAD' });
    assert.equal(h.headers['x-cache-status'], 'MISS');
    assert.equal(h.body.length, 0);
    const h2 = await get(edge, '/head', { method: 'HEAD' });
    assert.equal(h2.headers['x-cache-status'], 'HIT');
    assert.equal(h2.headers['content-length'], '12');
    const g = await get(edge, '/head');
    assert.equal(g.headers['x-cache-status'], 'HIT');
    assert.equal(g.text, 'twelve bytes');
    assert.equal(origin.requests.filter((r) => r.url === '/head')[0]!.method, 'GET');
  });

  it('Age counts the origin Age and resident time; Date is the origin Date', async () => {
    const date = new Date(clock.now()).toUTCString();
    origin.route('/age', fixed(200, { 'cache-control': 'max-age=100', age: '7', date }, 'a'));
    await get(edge, '/age');
    clock.advance(3);
    const r = await get(edge, '/age');
    assert.equal(r.headers['age'], '10');
    assert.equal(r.headers['date'], date);
  });

  it('Via, X-Forwarded-For to the origin; hop-by-hop and Connection-named fields removed both ways', async () => {
    origin.route('/hop', fixed(200, { 'cache-control': 'max-age=100', connection: 'x-secret', 'x-secret': 'no', 'keep-alive': 'timeout=5', 'x-kept': 'yes' }, 'h'));
    const r = await get(edge, '/hop', { headers: { connection: 'x-client-hop', 'x-client-hop': '1', te: 'trailers', 'x-forwarded-for': '192.0.2.1' } });
    assert.equal(r.headers['x-secret'], undefined);
    assert.equal(r.headers['x-kept'], 'yes');
    assert.equal(r.headers['via'], '1.1 geocdn');
    const seen = origin.requests.find((q) => q.url === '/hop')!.headers;
    assert.equal(seen['x-client-hop'], undefined);
    assert.equal(seen['te'], undefined);
    assert.equal(seen['via'], '1.1 geocdn');
    assert.equal(seen['x-forwarded-for'], '192.0.2.1, 127.0.0.1');
    assert.equal(seen['host'], 'www.example.test');
  });

  it('cache key: ignored and sorted query parameters, aliases share entries', async () => {
    origin.route('/q', fixed(200, { 'cache-control': 'max-age=100' }, 'q'));
    await get(edge, '/q?b=2&a=1&utm_source=x');
    assert.equal(await status('/q?a=1&b=2'), 'HIT');
    assert.equal(await status('/q?a=1&b=2&utm_source=y'), 'HIT');
    assert.equal(await status('/q?a=1&b=3'), 'MISS');
    const alias = await get(edge, '/q?a=1&b=2', { headers: { host: 'alias.example.test:8080' } });
    assert.equal(alias.headers['x-cache-status'], 'HIT');
  });

  it('bypass by cookie and by method', async () => {
    origin.route('/c', fixed(200, { 'cache-control': 'max-age=100' }, 'c'));
    await get(edge, '/c');
    assert.equal(await status('/c', { cookie: 'theme=dark; session=abc' }), 'BYPASS');
    assert.equal(await status('/c', { cookie: 'theme=dark' }), 'HIT');
    const o = await get(edge, '/c', { method: 'OPTIONS' });
    assert.equal(o.headers['x-cache-status'], 'BYPASS');
  });

  it("clients' own conditionals are answered 304 from cache (weak ETag comparison, If-Modified-Since)", async () => {
    const lm = new Date(clock.now() - 5000_000).toUTCString();
    origin.route('/cond', fixed(200, { 'cache-control': 'max-age=100', etag: 'W/"v1"', 'last-modified': lm }, 'body'));
    await get(edge, '/cond');
    const a = await get(edge, '/cond', { headers: { 'if-none-match': '"x", "v1"' } });
    assert.equal(a.status, 304);
    assert.equal(a.headers['x-cache-status'], 'HIT');
    assert.equal(a.headers['etag'], 'W/"v1"');
    const b = await get(edge, '/cond', { headers: { 'if-modified-since': new Date(clock.now()).toUTCString() } });
    assert.equal(b.status, 304);
    const c = await get(edge, '/cond', { headers: { 'if-none-match': '"v2"' } });
    assert.equal(c.status, 200);
    assert.equal(origin.count('/cond'), 1);
  });

  it('unsafe methods invalidate the URI and same-origin Location / Content-Location (RFC 9111 §4.4)', async () => {
    for (const p of ['/inv/a', '/inv/b', '/inv/c']) origin.route(p, fixed(200, { 'cache-control': 'max-age=100' }, p));
    for (const p of ['/inv/a', '/inv/b', '/inv/c']) await get(edge, p);
    origin.route('/inv/a', (req, res) => {
      if (req.method === 'POST') return void res.writeHead(201, { location: '/inv/b', 'content-location': 'http://other.test/inv/c' }).end();
      res.writeHead(200, { 'cache-control': 'max-age=100' }).end('/inv/a');
    });
    const p = await get(edge, '/inv/a', { method: 'POST', body: 'x' });
    assert.equal(p.status, 201);
    assert.equal(await status('/inv/a'), 'MISS');
    assert.equal(await status('/inv/b'), 'MISS');
    assert.equal(await status('/inv/c'), 'HIT');
    origin.route('/inv/d', (req, res) => {
      if (req.method === 'DELETE') return void res.writeHead(404).end();
      res.writeHead(200, { 'cache-control': 'max-age=100' }).end('d');
    });
    await get(edge, '/inv/d');
    await get(edge, '/inv/d', { method: 'DELETE' });
    assert.equal(await status('/inv/d'), 'HIT');
  });

  it('Range on a stored object: 206 for one range, 416 past the end, whole body when If-Range fails', async () => {
    origin.route('/range', fixed(200, { 'cache-control': 'max-age=100', etag: '"r1"' }, '0123456789'));
    await get(edge, '/range');
    const a = await get(edge, '/range', { headers: { range: 'bytes=2-5' } });
    assert.equal(a.status, 206);
    assert.equal(a.text, '2345');
    assert.equal(a.headers['content-range'], 'bytes 2-5/10');
    assert.equal(a.headers['x-cache-status'], 'HIT');
    assert.equal((await get(edge, '/range', { headers: { range: 'bytes=-3' } })).text, '789');
    const b = await get(edge, '/range', { headers: { range: 'bytes=20-' } });
    assert.equal(b.status, 416);
    assert.equal(b.headers['content-range'], 'bytes */10');
    const c = await get(edge, '/range', { headers: { range: 'bytes=2-5', 'if-range': '"old"' } });
    assert.equal(c.status, 200);
    assert.equal(c.text, '0123456789');
    assert.equal(origin.count('/range'), 1);
  });
});
