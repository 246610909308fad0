import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { installFastPath } from '../src/edge/fast-path.js';
import { parseSimpleRequest } from '../src/edge/fast-parse.js';
import { type TestClock, type TestEdge, type TestOrigin, fixed, get, originAndEdge, raw, startEdge, startOrigin, testClock } from './helpers/edge-harness.js';

const host = 'Host: www.example.test\r\n';

/** Every `HTTP/1.1 NNN` status line and X-Cache-Status in a raw reply, in order. */
function statuses(reply: string): string[] {
  return [...reply.matchAll(/HTTP\/1\.1 (\d{3}) [^\r]*\r\n((?:[^\r]+\r\n)*)\r\n/g)].map((m) => `${m[1]} ${/x-cache-status: (\w+)/i.exec(m[2]!)?.[1] ?? '-'}`);
}

describe('edge fast path: the same answers as node:http alone', () => {
  let origin: TestOrigin;
  let clock: TestClock;
  let fast: TestEdge;
  let plain: TestEdge;

  before(async () => {
    clock = testClock();
    origin = await startOrigin(clock);
    origin.route('/', fixed(200, { 'cache-control': 'max-age=100', etag: '"r1"', 'content-type': 'text/plain' }, 'root'));
    origin.route('/big', fixed(200, { 'cache-control': 'max-age=100' }, Buffer.alloc(200_000, 'b')));
    origin.route('/v', (req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=100', vary: 'Accept-Language' });
      res.end(`lang=${req.headers['accept-language'] ?? 'none'}`);
    });
    fast = await startEdge({ origin, clock, edge: { max_header_size: 4096 } });
    plain = await startEdge({ origin, clock, edge: { max_header_size: 4096, fast_path: false } });
    for (const e of [fast, plain]) {
      for (const p of ['/', '/big']) await get(e, p);
      await get(e, '/v', { headers: { 'accept-language': 'de' } });
    }
  });
  after(async () => {
    await fast.close();
    await plain.close();
    await origin.close();
  });

  const cases: [string, string][] = [
    ['GET HIT, then close', `GET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`],
    ['HEAD HIT', `HEAD / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`],
    ['HTTP/1.0 without keep-alive', `GET / HTTP/1.0\r\n${host}\r\n`],
    ['HTTP/1.0 keep-alive, then close', `GET / HTTP/1.0\r\n${host}Connection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n${host}\r\n`],
    ['large body', `GET /big HTTP/1.1\r\n${host}Connection: close\r\n\r\n`],
    ['Vary variant', `GET /v HTTP/1.1\r\n${host}Accept-Language: de\r\nConnection: close\r\n\r\n`],
    ['conditional', `GET / HTTP/1.1\r\n${host}If-None-Match: "r1"\r\nConnection: close\r\n\r\n`],
    ['range', `GET / HTTP/1.1\r\n${host}Range: bytes=0-1\r\nConnection: close\r\n\r\n`],
  ];
  cases.push(['keep-alive GETs, the same second', `GET / HTTP/1.1\r\n${host}\r\nGET / HTTP/1.1\r\n${host}\r\nGET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`]);
  for (const [name, bytes] of cases) {
    it(`${name}: byte-identical reply`, async () => {
      assert.equal(await raw(fast.port, bytes), await raw(plain.port, bytes));
    });
  }

  it('Age and TTL follow the clock: a response built for one second is not reused in the next', async () => {
    const bytes = `GET / HTTP/1.1\r\n${host}\r\nGET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`;
    const first = await raw(fast.port, bytes);
    clock.advance(3);
    const later = await raw(fast.port, bytes);
    assert.equal(later, await raw(plain.port, bytes));
    assert.notEqual(first, later);
    assert.match(later, /\r\nage: 3\r\n/);
  });

  it('refusals stay node\'s, also after a HIT on the same connection: smuggling, obs-fold, bad bytes, 431', async () => {
    const hit = `GET / HTTP/1.1\r\n${host}\r\n`;
    const bad = [
      `GET / HTTP/1.1\r\n${host}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `GET / HTTP/1.1\r\n${host}Content-Length: 0\r\nContent-Length: 5\r\n\r\nabcde`,
      `GET / HTTP/1.1\r\n${host}X-Folded: a\r\n b\r\n\r\n`,
      `GET / HTTP/1.1\r\n${host}Bad Header: x\r\n\r\n`,
      `GET / HTTP/1.1\r\n${host}X-Nul: a\u0000b\r\n\r\n`,
      `GET / HTTP/1.1\n${host}\r\n`,
      `GET /\u00ff HTTP/1.1\r\n${host}\r\n`,
      `GET / HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(8000)}\r\n\r\n`,
      `GARBAGE\r\n\r\n`,
      `GET / HTTP/1.1\r\n\r\n`,
    ];
    for (const b of bad) {
      const f = await raw(fast.port, hit + b);
      assert.equal(f, await raw(plain.port, hit + b), JSON.stringify(b));
      assert.match(statuses(f).join(','), /^200 HIT,4\d\d -$/, JSON.stringify(b));
    }
  });
});

describe('edge fast path: handing a connection to node', () => {
  let origin: TestOrigin;
  let edge: TestEdge;

  before(async () => {
    origin = await startOrigin();
    origin.route('/', fixed(200, { 'cache-control': 'max-age=100' }, 'root'));
    origin.route('/a', fixed(200, { 'cache-control': 'max-age=100' }, 'a'));
    edge = await startEdge({ origin });
    await get(edge, '/');
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  it('pipelined HITs and MISSes on one connection are answered in order', async () => {
    const before = edge.context.stats.statuses.HIT;
    const r = await raw(
      edge.port,
      `GET / HTTP/1.1\r\n${host}\r\nGET / HTTP/1.1\r\n${host}\r\nGET /nothing HTTP/1.1\r\n${host}\r\nGET / HTTP/1.1\r\n${host}\r\nGET /a HTTP/1.1\r\n${host}\r\nGET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
    );
    assert.deepEqual(statuses(r), ['200 HIT', '200 HIT', '404 MISS', '200 HIT', '200 MISS', '200 HIT']);
    assert.equal(edge.context.stats.statuses.HIT - before, 4);
    const bodies = r.split('HTTP/1.1 ').slice(1).map((part) => part.slice(part.indexOf('\r\n\r\n') + 4));
    assert.deepEqual(bodies, ['root', 'root', '8\r\nno route\r\n0\r\n\r\n', 'root', '1\r\na\r\n0\r\n\r\n', 'root']);
  });

  it('a request split byte by byte is answered, also after a HIT on the same connection', async () => {
    const req = `GET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`;
    const alone = await raw(edge.port, [...req], 1);
    assert.deepEqual(statuses(alone), ['200 HIT']);
    const afterHit = await raw(edge.port, [`GET / HTTP/1.1\r\n${host}\r\n`, ...req], 1);
    assert.deepEqual(statuses(afterHit), ['200 HIT', '200 HIT']);
    assert.match(afterHit, /\r\n\r\nroot$/);
  });

  it('a head split across packets after several HITs keeps the pipeline order', async () => {
    const r = await raw(edge.port, [`GET / HTTP/1.1\r\n${host}\r\nGET /a HTTP/1.1\r\nHo`, `st: www.example.test\r\n\r\nGET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`], 20);
    assert.deepEqual(statuses(r), ['200 HIT', '200 HIT', '200 HIT']);
  });

  it('a purged URL is fetched again on the next request', async () => {
    origin.route('/p', fixed(200, { 'cache-control': 'max-age=100' }, 'p'));
    await get(edge, '/p');
    assert.equal((await get(edge, '/p')).headers['x-cache-status'], 'HIT');
    edge.context.store.deleteUrl('http://www.example.test/p');
    assert.equal((await get(edge, '/p')).headers['x-cache-status'], 'MISS');
  });
});

describe('edge fast path: timeouts', () => {
  let origin: TestOrigin;
  let edge: TestEdge;

  before(async () => {
    origin = await startOrigin();
    origin.route('/', fixed(200, { 'cache-control': 'max-age=100' }, 'root'));
    edge = await startEdge({ origin, edge: { fast_path: false } });
    installFastPath(edge.server, edge.context, { maxHeaderSize: 4096, headersTimeout: 300, keepAliveTimeout: 300 });
    await get(edge, '/', { agent: false });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  it('a connection that never sends a request gets 408 and is closed', async () => {
    const started = Date.now();
    const r = await raw(edge.port, '');
    assert.match(r, /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - started < 3000);
  });

  it('an idle kept-alive connection is closed after the keep-alive timeout', async () => {
    const started = Date.now();
    const r = await raw(edge.port, `GET / HTTP/1.1\r\n${host}\r\n`);
    assert.deepEqual(statuses(r), ['200 HIT']);
    assert.ok(Date.now() - started < 3000);
  });
});

describe('edge fast path: the header timeout counts from the connection, across the hand-off to node', () => {
  const t = originAndEdge({ edge: { client_header_timeout_ms: 2000 }, routes: { '/': fixed(200, { 'cache-control': 'max-age=100' }, 'root') } });
  before(() => get(t.edge, '/', { agent: false }));

  /** `raw()` and how long the connection lasted. */
  async function timed(parts: string[], gapMs: number): Promise<{ reply: string; ms: number }> {
    const started = Date.now();
    const reply = await raw(t.edge.port, parts, gapMs);
    return { reply, ms: Date.now() - started };
  }

  it('silent, then part of a head: 408 when client_header_timeout_ms since the connection runs out, not that long after the hand-off', async () => {
    const [silent, late, completed] = await Promise.all([
      // never a byte: the fast path's own wait
      timed([''], 0),
      // 1.5 s of silence, then a head node must finish reading: the 0.5 s left, not another 2 s
      timed(['', 'GET / HTTP/1.1\r\n'], 1500),
      // a head completed in time is answered, and its connection then idles as kept-alive
      timed(['GET / HTTP/1.1\r\n', host + '\r\n'], 1500),
    ]);
    for (const [what, r] of [['silent', silent], ['silent, then part of a head', late]] as const) {
      assert.match(r.reply, /^HTTP\/1\.1 408 /, `${what}: ${r.ms} ms, ${JSON.stringify(r.reply)}`);
      assert.ok(r.ms >= 1900 && r.ms < 3200, `${what}: 408 after ${r.ms} ms, want about 2000`);
    }
    assert.deepEqual(statuses(completed.reply), ['200 HIT'], 'no 408 after the head came in time');
  });
});

describe('fast-path request reader', () => {
  const max = 16 * 1024;
  const parse = (s: string) => parseSimpleRequest(Buffer.from(s, 'latin1'), 0, max);

  it('reads simple GET and HEAD heads', () => {
    const r = parse(`GET /x?y=1 HTTP/1.1\r\nHost: a.test\r\nAccept-Language: De \r\n\r\nrest`);
    assert.ok(r);
    assert.equal(r.method, 'GET');
    assert.equal(r.target, '/x?y=1');
    assert.equal(r.host, 'a.test');
    assert.equal(r.headers['accept-language'], 'De');
    assert.equal(r.keepAlive, true);
    assert.equal(r.end, Buffer.byteLength('GET /x?y=1 HTTP/1.1\r\nHost: a.test\r\nAccept-Language: De \r\n\r\n'));
    assert.equal(parse(`HEAD / HTTP/1.0\r\nHost: a\r\n\r\n`)?.keepAlive, false);
    assert.equal(parse(`HEAD / HTTP/1.0\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n`)?.keepAlive, true);
    assert.equal(parse(`GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`)?.keepAlive, false);
  });

  it('leaves everything else to node', () => {
    for (const s of [
      `GET / HTTP/1.1\r\nHost: a\r\n`,
      `POST / HTTP/1.1\r\nHost: a\r\n\r\n`,
      `GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n`,
      `GET / HTTP/2.0\r\nHost: a\r\n\r\n`,
      `GET / HTTP/1.1\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: a\r\nX : a\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: a\r\nX: \u00e9\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: a\r\n__proto__: x\r\n\r\n`,
      ` GET / HTTP/1.1\r\nHost: a\r\n\r\n`,
      `\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n`,
    ]) assert.equal(parse(s), undefined, JSON.stringify(s));
    assert.equal(parseSimpleRequest(Buffer.from(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(100)}\r\n\r\n`), 0, 64), undefined);
  });
});
