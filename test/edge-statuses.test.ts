import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestClock, type TestEdge, type TestOrigin, fixed, get, startEdge, startOrigin, testClock, until } from './helpers/edge-harness.js';

describe('edge: the seven X-Cache-Status values, with Cache-Status', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let clock: TestClock;

  before(async () => {
    clock = testClock();
    origin = await startOrigin(clock);
    edge = await startEdge({
      sites: { 'www.example.test': { origin: origin.url, bypass: { paths: ['/private/'] } } },
      clock,
    });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  it('MISS then HIT, with Age and ttl', async () => {
    origin.route('/hit', fixed(200, { 'cache-control': 'max-age=100', 'content-type': 'text/plain' }, 'hello'));
    const a = await get(edge, '/hit');
    assert.equal(a.status, 200);
    assert.equal(a.headers['x-cache-status'], 'MISS');
    assert.equal(a.headers['cache-status'], 'geocdn; fwd=uri-miss; stored');
    assert.equal(a.text, 'hello');
    clock.advance(30);
    const b = await get(edge, '/hit');
    assert.equal(b.headers['x-cache-status'], 'HIT');
    assert.equal(b.headers['age'], '30');
    assert.equal(b.headers['cache-status'], 'geocdn; hit; ttl=70');
    assert.equal(b.headers['content-length'], '5');
    assert.equal(b.text, 'hello');
    assert.equal(origin.count('/hit'), 1);
  });

  it('EXPIRED: a stale entry without validators is fetched again', async () => {
    origin.route('/exp', fixed(200, { 'cache-control': 'max-age=10' }, 'v1'));
    await get(edge, '/exp');
    clock.advance(11);
    origin.route('/exp', fixed(200, { 'cache-control': 'max-age=10' }, 'v2'));
    const r = await get(edge, '/exp');
    assert.equal(r.headers['x-cache-status'], 'EXPIRED');
    assert.match(String(r.headers['cache-status']), /fwd=stale; stored/);
    assert.equal(r.text, 'v2');
    assert.equal((await get(edge, '/exp')).headers['x-cache-status'], 'HIT');
  });

  it('REVALIDATED: a stale entry confirmed by 304 keeps its body and gets the new headers', async () => {
    origin.route('/reval', (req, res) => {
      if (req.headers['if-none-match'] === '"e1"') {
        res.writeHead(304, { etag: '"e1"', 'cache-control': 'max-age=50', 'x-version': 'two' });
        return void res.end();
      }
      res.writeHead(200, { etag: '"e1"', 'cache-control': 'max-age=10', 'x-version': 'one' });
      res.end('body-1');
    });
    await get(edge, '/reval');
    clock.advance(20);
    const r = await get(edge, '/reval');
    assert.equal(r.headers['x-cache-status'], 'REVALIDATED');
    assert.match(String(r.headers['cache-status']), /fwd=stale; fwd-status=304/);
    assert.equal(r.text, 'body-1');
    assert.equal(r.headers['x-version'], 'two');
    const h = await get(edge, '/reval');
    assert.equal(h.headers['x-cache-status'], 'HIT');
    assert.equal(h.headers['x-version'], 'two');
    assert.equal(origin.requests.filter((q) => q.url === '/reval')[1]!.headers['if-none-match'], '"e1"');
  });

  it('UPDATING: stale-while-revalidate serves stale and refreshes once in the background', async () => {
    origin.route('/swr', fixed(200, { 'cache-control': 'max-age=10, stale-while-revalidate=100' }, 'old'));
    await get(edge, '/swr');
    clock.advance(15);
    origin.route('/swr', fixed(200, { 'cache-control': 'max-age=10, stale-while-revalidate=100' }, 'new'));
    const [u1, u2] = await Promise.all([get(edge, '/swr'), get(edge, '/swr')]);
    assert.equal(u1.headers['x-cache-status'], 'UPDATING');
    assert.equal(u2.headers['x-cache-status'], 'UPDATING');
    assert.equal(u1.headers['cache-status'], 'geocdn; hit; ttl=-5');
    assert.equal(u1.text, 'old');
    await until(() => edge.context.collapser.size === 0 && origin.count('/swr') === 2, 'background refresh');
    const h = await get(edge, '/swr');
    assert.equal(h.headers['x-cache-status'], 'HIT');
    assert.equal(h.text, 'new');
    assert.equal(origin.count('/swr'), 2);
  });

  it('STALE: stale-if-error serves the stored copy when the origin answers 5xx', async () => {
    origin.route('/sie', fixed(200, { 'cache-control': 'max-age=10, stale-if-error=600' }, 'keep'));
    await get(edge, '/sie');
    clock.advance(60);
    origin.route('/sie', fixed(503, {}, 'down'));
    const r = await get(edge, '/sie');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-cache-status'], 'STALE');
    assert.match(String(r.headers['cache-status']), /fwd=stale; fwd-status=503/);
    assert.equal(r.text, 'keep');
  });

  it('BYPASS: a path rule and an unsafe method go to the origin', async () => {
    origin.route('/private/x', fixed(200, { 'cache-control': 'max-age=100' }, 'p'));
    const r = await get(edge, '/private/x');
    assert.equal(r.headers['x-cache-status'], 'BYPASS');
    assert.equal(r.headers['cache-status'], 'geocdn; fwd=bypass; detail=rule-path');
    await get(edge, '/private/x');
    assert.equal(origin.count('/private/x'), 2);
    origin.route('/form', fixed(200, {}, 'posted'));
    const p = await get(edge, '/form', { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(p.headers['x-cache-status'], 'BYPASS');
    assert.equal(p.text, 'posted');
  });

  it('a response the cache may not store says why', async () => {
    origin.route('/nostore', fixed(200, { 'cache-control': 'no-store' }, 'x'));
    const r = await get(edge, '/nostore');
    assert.equal(r.headers['x-cache-status'], 'MISS');
    assert.equal(r.headers['cache-status'], 'geocdn; fwd=uri-miss; detail=no-store');
    assert.equal((await get(edge, '/nostore')).headers['x-cache-status'], 'MISS');
  });
});
