import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { type TestEdge, type TestOrigin, fixed, get, startEdge, startOrigin } from './helpers/edge-harness.js';
import { h2get, h2session, testTlsSection, tlsPort } from './helpers/tls.js';

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

test('an access line names the client: over HTTP/2, and after a request body went on to the origin', async () => {
  origin.route('/form', (req, res, body) => void res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${body.toString()}`));
  const own: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) own.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const tlsEdge = await startEdge({ origin, log: pino({ level: 'info' }, sink), edge: { tls: await testTlsSection() } });
  try {
    assert.equal((await get(tlsEdge, '/form', { method: 'POST', body: 'a=1' })).text, 'POST a=1');
    const s = await h2session(tlsPort(tlsEdge));
    try {
      assert.equal((await h2get(s, '/page')).status, 200);
      assert.equal((await h2get(s, '/form', {}, 'POST', 'b=2')).body.toString(), 'POST b=2');
    } finally {
      s.close();
    }
    await new Promise((r) => setTimeout(r, 50));
    const access = own.filter((l) => l.msg === 'access');
    assert.deepEqual(
      access.map((l) => [l.method, l.url, l.client]),
      [
        ['POST', '/form', '127.0.0.1'],
        ['GET', '/page', '127.0.0.1'],
        ['POST', '/form', '127.0.0.1'],
      ],
    );
  } finally {
    await tlsEdge.close();
  }
});
