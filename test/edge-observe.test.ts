import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { type TestEdge, type TestOrigin, fixed, get, startEdge, startOrigin } from './helpers/edge-harness.js';

let origin: TestOrigin;
let edge: TestEdge;
const lines: Record<string, unknown>[] = [];

before(async () => {
  origin = await startOrigin();
  origin.route('/page', fixed(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }, 'hello'));
  origin.route('/api', fixed(200, { 'cache-control': 'no-store' }, '{}'));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  edge = await startEdge({ origin, log: pino({ level: 'info' }, sink) });
});
after(async () => {
  await edge.close();
  await origin.close();
});

test('every response writes one access line with its cache status, and is counted by status', async () => {
  await get(edge, '/page');
  await get(edge, '/page');
  await get(edge, '/page');
  await get(edge, '/api');
  await get(edge, '/nothing', { headers: { host: 'unknown.example' } });
  await new Promise((r) => setImmediate(r));
  const access = lines.filter((l) => l.msg === 'access');
  assert.deepEqual(
    access.map((l) => [l.url, l.status, l.cache]),
    [
      ['/page', 200, 'MISS'],
      ['/page', 200, 'HIT'],
      ['/page', 200, 'HIT'],
      ['/api', 200, 'MISS'],
      ['/nothing', 421, '-'],
    ],
  );
  assert.equal(access[0]!.reason, 'uri-miss');
  assert.equal(access[0]!.method, 'GET');
  assert.equal(typeof access[0]!.ms, 'number');
  const s = edge.context.stats.statuses;
  assert.deepEqual([s.HIT, s.MISS, s.NONE], [2, 2, 1]);

  const health = JSON.parse((await get(edge, '/.well-known/geocdn/health')).text) as { cache_statuses: Record<string, number> };
  assert.equal(health.cache_statuses.HIT, 2);
  edge.context.stats.tick(Date.now() + 1000);
  assert.equal(edge.context.stats.rates.hitRatio, 0.5);
});

test("the nameservers' health probes write no access line at the default level (one a second per nameserver drowned the requests)", async () => {
  const before = lines.length;
  await get(edge, '/.well-known/geocdn/health');
  await get(edge, '/page');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    lines.slice(before).filter((l) => l.msg === 'access').map((l) => l.url),
    ['/page'],
  );
});
