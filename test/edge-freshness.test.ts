import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDirectives } from '../src/edge/cache/cache-control.js';
import { evaluatePreconditions } from '../src/edge/cache/conditional.js';
import { type CacheOutcome, cacheStatusValue, decideLookup, mayServeStaleOnError } from '../src/edge/cache/decision.js';
import { type ResponseFacts, currentAge, evaluateResponse } from '../src/edge/cache/freshness.js';
import { primaryKey, secondaryKey, varyNames } from '../src/edge/cache/keys.js';

const T = Date.parse('2026-01-01T00:00:00Z');
const date = new Date(T).toUTCString();
function facts(headers: Record<string, string>, over: Partial<ResponseFacts> = {}): ResponseFacts {
  return { method: 'GET', status: 200, headers: { date, ...headers }, authorized: false, requestNoStore: false, requestTime: T, responseTime: T, heuristicMax: 86400, ...over };
}
function lifetime(headers: Record<string, string>, over: Partial<ResponseFacts> = {}): number | string {
  const v = evaluateResponse(facts(headers, over));
  return v.store ? v.policy.lifetime : v.reason;
}
const noReq = { noCache: false, maxAge: undefined };

describe('edge cache: pure RFC 9111 functions', () => {
  it('parses directive lists with quoted values and odd spacing', () => {
    const d = parseDirectives('Max-Age=60 , no-cache="Set-Cookie, X-A", private, s-maxage="30"');
    assert.equal(d.get('max-age'), '60');
    assert.equal(d.get('no-cache'), 'Set-Cookie, X-A');
    assert.equal(d.get('private'), true);
    assert.equal(d.get('s-maxage'), '30');
  });

  it('freshness lifetime: s-maxage > max-age > Expires > heuristic, targeted fields first', () => {
    assert.equal(lifetime({ 'cache-control': 'max-age=10, s-maxage=20' }), 20);
    assert.equal(lifetime({ 'cache-control': 'max-age=10' }), 10);
    assert.equal(lifetime({ expires: new Date(T + 30_000).toUTCString() }), 30);
    assert.equal(lifetime({ 'cache-control': 'max-age=5', expires: new Date(T + 30_000).toUTCString() }), 5);
    assert.equal(lifetime({ 'last-modified': new Date(T - 100_000).toUTCString() }), 10);
    assert.equal(lifetime({ 'last-modified': new Date(T - 10_000_000_000).toUTCString() }), 86400);
    assert.equal(lifetime({ 'cache-control': 'max-age=5', 'cdn-cache-control': 'max-age=50' }), 50);
    assert.equal(lifetime({ 'cache-control': 'no-store', 'surrogate-control': 'max-age=70' }), 70);
    assert.equal(lifetime({ 'cdn-cache-control': 'no-store', 'cache-control': 'max-age=5' }), 'no-store');
    assert.equal(lifetime({ 'cache-control': 'max-age=99999999999' }), 2147483648);
  });

  it('storability: status, no-store, private, Authorization, Vary *', () => {
    assert.equal(lifetime({}, { status: 302 }), 'status');
    assert.equal(lifetime({ 'cache-control': 'max-age=5' }, { status: 302 }), 5);
    assert.equal(lifetime({}, { status: 418 }), 'status');
    assert.equal(lifetime({ 'cache-control': 'max-age=5' }, { method: 'POST' }), 'method');
    assert.equal(lifetime({ 'cache-control': 'private, max-age=5' }), 'private');
    assert.equal(lifetime({ 'cache-control': 'private="x-user", max-age=5' }), 5);
    assert.equal(lifetime({ 'cache-control': 'max-age=5' }, { authorized: true }), 'authorization');
    for (const cc of ['public, max-age=5', 's-maxage=5', 'must-revalidate, max-age=5']) assert.equal(lifetime({ 'cache-control': cc }, { authorized: true }), 5);
    assert.equal(lifetime({ 'cache-control': 'max-age=5', vary: 'a, *' }), 'vary-star');
    assert.equal(lifetime({}), 'no-freshness');
    assert.equal(lifetime({ etag: '"x"' }), 0);
  });

  it('Age: corrected initial age from Age, Date and the response delay (§4.2.3)', () => {
    const v = evaluateResponse(facts({ 'cache-control': 'max-age=100', age: '10' }, { requestTime: T, responseTime: T + 2000 }));
    assert.ok(v.store);
    assert.equal(currentAge(v.policy, T + 2000), 12);
    assert.equal(currentAge(v.policy, T + 12_000), 22);
    const skew = evaluateResponse(facts({ 'cache-control': 'max-age=100' }, { responseTime: T + 30_000 }));
    assert.ok(skew.store);
    assert.equal(currentAge(skew.policy, T + 30_000), 30);
  });

  it('lookup: hit, updating within stale-while-revalidate, refresh otherwise', () => {
    const v = evaluateResponse(facts({ 'cache-control': 'max-age=10, stale-while-revalidate=5, stale-if-error=100' }));
    assert.ok(v.store);
    assert.deepEqual(decideLookup(v.policy, noReq, T + 9000), { kind: 'hit', ttl: 1 });
    assert.deepEqual(decideLookup(v.policy, noReq, T + 12_000), { kind: 'updating', ttl: -2 });
    assert.deepEqual(decideLookup(v.policy, noReq, T + 20_000), { kind: 'fetch', reason: 'stale' });
    assert.deepEqual(decideLookup(v.policy, { noCache: true, maxAge: undefined }, T), { kind: 'fetch', reason: 'client-no-cache' });
    assert.deepEqual(decideLookup(v.policy, { noCache: false, maxAge: 3 }, T + 5000), { kind: 'fetch', reason: 'client-max-age' });
    assert.equal(mayServeStaleOnError(v.policy, 0, T + 100_000), true);
    assert.equal(mayServeStaleOnError(v.policy, 0, T + 200_000), false);
    assert.equal(mayServeStaleOnError(v.policy, 500, T + 200_000), true);
    const mr = evaluateResponse(facts({ 'cache-control': 'max-age=10, must-revalidate, stale-while-revalidate=50' }));
    assert.ok(mr.store);
    assert.deepEqual(decideLookup(mr.policy, noReq, T + 12_000), { kind: 'fetch', reason: 'stale' });
    assert.equal(mayServeStaleOnError(mr.policy, 1000, T + 12_000), false);
    const smax = evaluateResponse(facts({ 'cache-control': 's-maxage=10' }));
    assert.ok(smax.store);
    assert.equal(mayServeStaleOnError(smax.policy, 1000, T + 12_000), false);
  });

  it('conditional requests: weak comparison, lists, *, If-Modified-Since', () => {
    assert.equal(evaluatePreconditions({ 'if-none-match': 'W/"a"' }, 200, '"a"', undefined), 'not-modified');
    assert.equal(evaluatePreconditions({ 'if-none-match': '"b", "a,1"' }, 200, 'W/"a,1"', undefined), 'not-modified');
    assert.equal(evaluatePreconditions({ 'if-none-match': '"b"' }, 200, '"a"', undefined), 'proceed');
    assert.equal(evaluatePreconditions({ 'if-none-match': '*' }, 200, undefined, undefined), 'not-modified');
    assert.equal(evaluatePreconditions({ 'if-modified-since': date }, 200, undefined, new Date(T - 1000).toUTCString()), 'not-modified');
    assert.equal(evaluatePreconditions({ 'if-modified-since': date }, 200, undefined, new Date(T + 1000).toUTCString()), 'proceed');
    assert.equal(evaluatePreconditions({ 'if-none-match': '"x"', 'if-modified-since': date }, 200, '"a"', new Date(T - 1000).toUTCString()), 'proceed');
  });

  it('keys: query rules, Vary normalisation', () => {
    const none = { ignoreQuery: new Set<string>(), sortQuery: false };
    assert.equal(primaryKey('http', 'h', '/p?b=1&a=2', none), 'http://h/p?b=1&a=2');
    assert.equal(primaryKey('http', 'h', '/p?b=1&a=2&a=1', { ignoreQuery: new Set(['x']), sortQuery: true }), 'http://h/p?a=2&a=1&b=1');
    assert.equal(primaryKey('http', 'h', '/p?x=1', { ignoreQuery: new Set(['x']), sortQuery: false }), 'http://h/p');
    assert.equal(primaryKey('http', 'h', '/p?x=1', { ignoreQuery: '*', sortQuery: false }), 'http://h/p');
    assert.deepEqual(varyNames('Accept-Encoding, accept-language,Accept-Encoding'), ['accept-encoding', 'accept-language']);
    assert.equal(secondaryKey(['accept-encoding'], { 'accept-encoding': 'gzip,  br' }), secondaryKey(['accept-encoding'], { 'accept-encoding': 'gzip, br' }));
  });

  it('Cache-Status for every status comes from one function', () => {
    const cases: [CacheOutcome, string][] = [
      [{ status: 'HIT', ttl: 5 }, 'geocdn; hit; ttl=5'],
      [{ status: 'UPDATING', ttl: -3 }, 'geocdn; hit; ttl=-3'],
      [{ status: 'REVALIDATED', ttl: 60 }, 'geocdn; fwd=stale; fwd-status=304; ttl=60'],
      [{ status: 'STALE', reason: 'origin-5xx', fwdStatus: 503, ttl: -9 }, 'geocdn; hit; fwd=stale; fwd-status=503; ttl=-9; detail=origin-5xx'],
      [{ status: 'MISS', reason: 'uri-miss', collapsed: true, stored: true }, 'geocdn; fwd=uri-miss; collapsed; stored'],
      [{ status: 'EXPIRED', reason: 'stale', collapsed: false, stored: 'private' }, 'geocdn; fwd=stale; detail=private'],
      [{ status: 'BYPASS', reason: 'rule-cookie', stored: 'method' }, 'geocdn; fwd=bypass; detail=rule-cookie'],
    ];
    for (const [o, want] of cases) assert.equal(cacheStatusValue('geocdn', o), want);
  });
});
