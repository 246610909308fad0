// Regression tests for what the HTTP cache conformance suite (cache-tests.fyi)
// found in the edge: each drives a real origin through a real edge, as the suite does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { parseDirectives } from '../src/edge/cache/cache-control.js';
import { parseHttpDate } from '../src/edge/cache/http-date.js';
import { type TestEdge, type TestOrigin, fixed, get, originAndEdge, startEdge, startOrigin } from './helpers/edge-harness.js';

describe('edge conformance: RFC 9111/9110 details over HTTP', () => {
  const t = originAndEdge();

  /** Two GETs of a path answered by `headers`; how many reached the origin, and the second reply. */
  async function twice(path: string, status: number, headers: Record<string, string | string[]>, reqHeaders: Record<string, string> = {}) {
    t.origin.route(path, fixed(status, { 'content-type': 'text/plain', ...headers }, 'body'));
    await get(t.edge, path, { headers: reqHeaders });
    const second = await get(t.edge, path, { headers: reqHeaders });
    return { fetches: t.origin.count(path), second };
  }

  it('an Expires that is not an HTTP-date means already expired (RFC 9111 §5.3, RFC 9110 §5.6.7)', async () => {
    const invalid = [
      'Thu, 18 Aug 2050 02:01:18 UTC',
      'Thu, 18 Aug 2050 02:01:18 AEST',
      'Thu 18 Aug 2050 02:01:18 GMT',
      'Thu, 18  Aug  2050 02:01:18 GMT',
      'Thu, 18-Aug-2050 02:01:18 GMT',
      'Thu, 18 Aug 2050 2:01:18 GMT',
      'Thu, 18 Aug 50 02:01:18 GMT',
    ];
    for (const [i, expires] of invalid.entries()) {
      const r = await twice(`/expires-invalid-${i}`, 200, { expires });
      assert.equal(r.fetches, 2, `Expires: ${expires} must not make the response fresh`);
      assert.notEqual(r.second.headers['x-cache-status'], 'HIT');
    }
  });

  it('the obsolete RFC 850 and asctime forms, and any case, are still dates', async () => {
    const valid = ['Thursday, 18-Aug-50 02:01:18 GMT', 'Thu Aug  8 02:01:18 2050', 'THU, 18 AUG 2050 02:01:18 gmt', 'Tue, 19 Jan 2038 14:14:08 GMT'];
    for (const [i, expires] of valid.entries()) {
      const r = await twice(`/expires-valid-${i}`, 200, { expires });
      assert.equal(r.fetches, 1, `Expires: ${expires} is a future date`);
      assert.equal(r.second.headers['x-cache-status'], 'HIT');
    }
  });

  it('Age: the first member of a list counts, so an old response is not reused as new', async () => {
    const old = await twice('/age-old-first', 200, { 'cache-control': 'max-age=3600', age: '7200, 0' });
    assert.equal(old.fetches, 2);
    const oldLines = await twice('/age-old-lines', 200, { 'cache-control': 'max-age=3600', age: ['7200', '0'] });
    assert.equal(oldLines.fetches, 2);
    const young = await twice('/age-young-first', 200, { 'cache-control': 'max-age=3600', age: '0, 7200' });
    assert.equal(young.fetches, 1);
    assert.equal(young.second.headers['x-cache-status'], 'HIT');
  });

  it('any final status with explicit freshness is stored; must-understand limits it to statuses we know (§3, §5.2.2.3)', async () => {
    for (const status of [299, 499, 599]) {
      const r = await twice(`/status-${status}`, status, { 'cache-control': 'max-age=3600' });
      assert.equal(r.fetches, 1, `${status} with max-age is reusable`);
      assert.equal(r.second.status, status);
      assert.equal(r.second.headers['x-cache-status'], 'HIT');
    }
    const noHeuristic = await twice('/status-599-lm', 599, { 'last-modified': 'Wed, 01 Jan 2020 00:00:00 GMT' });
    assert.equal(noHeuristic.fetches, 2, 'no heuristic freshness for a status not cacheable by default');
    const publicHeuristic = await twice('/status-599-public', 599, { 'cache-control': 'public', 'last-modified': 'Wed, 01 Jan 2020 00:00:00 GMT' });
    assert.equal(publicHeuristic.fetches, 1, 'public allows heuristic freshness');
    const unknown = await twice('/mu-599', 599, { 'cache-control': 'max-age=3600, no-store, must-understand' });
    assert.equal(unknown.fetches, 2);
    const known = await twice('/mu-200', 200, { 'cache-control': 'max-age=3600, no-store, must-understand' });
    assert.equal(known.fetches, 1, 'must-understand overrides no-store for an understood status');
    const plainNoStore = await twice('/no-store-200', 200, { 'cache-control': 'max-age=3600, no-store' });
    assert.equal(plainNoStore.fetches, 2);
  });

  it('If-None-Match matches entity-tags as the origin sent them, malformed ones too', async () => {
    for (const [i, etag] of ['abcdef', 'w/"abcdef"', 'W"abcdef"'].entries()) {
      const path = `/etag-odd-${i}`;
      t.origin.route(path, fixed(200, { 'cache-control': 'max-age=3600', etag }, 'body'));
      await get(t.edge, path);
      const r = await get(t.edge, path, { headers: { 'if-none-match': `"zzz", ${etag}` } });
      assert.equal(r.status, 304, `If-None-Match: ${etag}`);
      assert.equal(r.headers['x-cache-status'], 'HIT');
      assert.equal(t.origin.count(path), 1);
    }
    t.origin.route('/etag-list', fixed(200, { 'cache-control': 'max-age=3600', etag: '"a,1"' }, 'body'));
    await get(t.edge, '/etag-list');
    assert.equal((await get(t.edge, '/etag-list', { headers: { 'if-none-match': '"b", W/"a,1"' } })).status, 304);
    assert.equal((await get(t.edge, '/etag-list', { headers: { 'if-none-match': '"a", "1"' } })).status, 200);
  });

  it('a max-age with whitespace around "=" is no max-age (RFC 9111 §5.2 grammar)', async () => {
    for (const [i, cc] of ['max-age =3600', 'max-age= 3600'].entries()) {
      const r = await twice(`/cc-space-${i}`, 200, { 'cache-control': cc });
      assert.equal(r.fetches, 2, `Cache-Control: ${cc}`);
    }
    const ok = await twice('/cc-ows', 200, { 'cache-control': 'public , max-age=3600 ' });
    assert.equal(ok.fetches, 1);
  });

  it('CDN-Cache-Control is a Structured Field: an invalid one is skipped for Cache-Control (RFC 9213 §2.1, RFC 8941)', async () => {
    for (const [i, cdn] of ['max-age=10000, &&&&&', 'max-age =10000', 'MAX-AGE=10000', 'max-age=10000,'].entries()) {
      const r = await twice(`/cdn-invalid-${i}`, 200, { 'cdn-cache-control': cdn, 'cache-control': 'no-store' });
      assert.equal(r.fetches, 2, `CDN-Cache-Control: ${cdn} is invalid, Cache-Control: no-store applies`);
      assert.equal(r.second.headers['cdn-cache-control'], undefined);
    }
    const wrongType = await twice('/cdn-wrong-type', 200, { 'cdn-cache-control': 'max-age="10000"', 'cache-control': 'max-age=10000' });
    assert.equal(wrongType.fetches, 2, 'a string max-age is ignored, and the valid field still replaces Cache-Control');
    const valid = await twice('/cdn-valid', 200, { 'cdn-cache-control': 'foo;a=1, max-age=10000;b="x", bar=?1', 'cache-control': 'no-store' });
    assert.equal(valid.fetches, 1);
    assert.equal(valid.second.headers['x-cache-status'], 'HIT');
  });

  it('Vary: Accept-Language selects the same variant whatever the case of the tags', async () => {
    const vary = { 'cache-control': 'max-age=3600', vary: 'Accept-Language' };
    t.origin.route('/lang', fixed(200, vary, 'body'));
    await get(t.edge, '/lang', { headers: { 'accept-language': 'en, de' } });
    const r = await get(t.edge, '/lang', { headers: { 'accept-language': 'eN,De' } });
    assert.equal(r.headers['x-cache-status'], 'HIT');
    const other = await get(t.edge, '/lang', { headers: { 'accept-language': 'de, en' } });
    assert.equal(other.headers['x-cache-status'], 'MISS', 'order is a preference: another variant');
    assert.equal(t.origin.count('/lang'), 2);
  });

  it('the proxy-specific fields of RFC 9111 §3.1 (Proxy-Authentication-Info too) are neither forwarded nor stored', async () => {
    const proxyFields = { 'proxy-authenticate': 'Basic realm="origin-side"', 'proxy-authentication-info': 'nextnonce="abc"' };
    const r = await twice('/proxy-fields', 200, { 'cache-control': 'max-age=3600', 'x-kept': 'yes', ...proxyFields });
    assert.equal(r.fetches, 1);
    assert.equal(r.second.headers['x-cache-status'], 'HIT');
    assert.equal(r.second.headers['x-kept'], 'yes');
    for (const name of Object.keys(proxyFields)) assert.equal(r.second.headers[name], undefined, `${name} from the cache`);
    t.origin.route('/proxy-fields-pass', fixed(200, { 'cache-control': 'no-store', ...proxyFields }, 'body'));
    const passed = await get(t.edge, '/proxy-fields-pass');
    for (const name of Object.keys(proxyFields)) assert.equal(passed.headers[name], undefined, `${name} on a response that is not stored`);
  });
});

describe('edge conformance: request directives on a site that honours them', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  before(async () => {
    origin = await startOrigin();
    edge = await startEdge({ origin, sites: { 'www.example.test': { origin: origin.url, honor_client_no_cache: true } } });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  it('min-fresh: a response fresh for less than asked is fetched again (RFC 9111 §5.2.1.3)', async () => {
    origin.route('/min-fresh', fixed(200, { 'cache-control': 'max-age=1500' }, 'body'));
    await get(edge, '/min-fresh');
    const enough = await get(edge, '/min-fresh', { headers: { 'cache-control': 'min-fresh=1000' } });
    assert.equal(enough.headers['x-cache-status'], 'HIT');
    const tooShort = await get(edge, '/min-fresh', { headers: { 'cache-control': 'min-fresh=2000' } });
    assert.equal(tooShort.headers['x-cache-status'], 'EXPIRED');
    assert.match(String(tooShort.headers['cache-status']), /fwd=request/);
    assert.equal(origin.count('/min-fresh'), 2);
  });
});

describe('edge conformance: scripts/cache-tests.sh', () => {
  it('says how to get the suite when CACHE_TESTS_DIR is missing, and downloads nothing', () => {
    const script = new URL('../../scripts/cache-tests.sh', import.meta.url).pathname;
    const env = { ...process.env };
    delete env['CACHE_TESTS_DIR'];
    const r = spawnSync('bash', [script], { encoding: 'utf8', env, timeout: 10_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /git clone https:\/\/github\.com\/http-tests\/cache-tests/);
    assert.match(r.stderr, /CACHE_TESTS_DIR=/);
  });
});

describe('edge conformance: the pure parsers', () => {
  it('parseHttpDate takes the three HTTP-date forms only', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37);
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), t);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), t);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), t);
    const now = Date.UTC(2026, 0, 1);
    assert.equal(new Date(parseHttpDate('Thursday, 18-Aug-50 02:01:18 GMT', now)).getUTCFullYear(), 2050);
    assert.equal(new Date(parseHttpDate('Monday, 18-Aug-80 02:01:18 GMT', now)).getUTCFullYear(), 1980);
    for (const bad of ['0', '', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 24:00:00 GMT', '1994-11-06T08:49:37Z', 'Sun, 06 Nov 1994 08:49:37 +0000']) {
      assert.ok(Number.isNaN(parseHttpDate(bad)), bad);
    }
  });

  it('parseDirectives ignores a directive with whitespace around "="', () => {
    const d = parseDirectives('max-age =10, s-maxage= 20, no-cache , x="a = b"');
    assert.equal(d.has('max-age'), false);
    assert.equal(d.has('s-maxage'), false);
    assert.equal(d.get('no-cache'), true);
    assert.equal(d.get('x'), 'a = b');
  });
});
