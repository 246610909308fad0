// Origins that break HTTP/1.1 framing or send odd heads, written byte by byte on a raw socket.
import assert from 'node:assert/strict';
import { type Server, type Socket, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type TestEdge, get, startEdge } from './helpers/edge-harness.js';
import { getWhole } from './helpers/edge-range.js';

/** What the raw origin writes for each path; `then` runs after the write (close, reset…). */
const replies: Record<string, { bytes: string; then?: (s: Socket) => void }> = {
  '/204-with-body': { bytes: 'HTTP/1.1 204 No Content\r\nCache-Control: max-age=300\r\nContent-Length: 5\r\n\r\nhello' },
  '/204-no-store': { bytes: 'HTTP/1.1 204 No Content\r\nCache-Control: no-store\r\nContent-Length: 5\r\n\r\nhello' },
  '/short': { bytes: 'HTTP/1.1 200 OK\r\nCache-Control: max-age=300\r\nContent-Length: 10\r\n\r\nabc', then: (s) => setTimeout(() => s.end(), 30) },
  '/reset': { bytes: `HTTP/1.1 200 OK\r\nCache-Control: max-age=300\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`, then: (s) => setTimeout(() => s.resetAndDestroy(), 30) },
  '/no-date': { bytes: 'HTTP/1.1 200 OK\r\nCache-Control: max-age=300\r\nContent-Length: 2\r\n\r\nok' },
  '/two-cache-controls': { bytes: 'HTTP/1.1 200 OK\r\nCache-Control: max-age=300\r\nCache-Control: no-store\r\nContent-Length: 2\r\n\r\nok' },
  '/ctl-in-field': { bytes: 'HTTP/1.1 200 OK\r\nCache-Control: max-age=300\r\nX-Bad: a\u0001b\r\nContent-Length: 2\r\n\r\nok' },
  '/early-hints': { bytes: 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nCache-Control: max-age=300\r\nContent-Length: 2\r\n\r\nok' },
};

describe('edge: a misbehaving origin', () => {
  let origin: Server;
  let edge: TestEdge;
  const seen = new Map<string, number>();
  before(async () => {
    origin = createServer((s) => {
      s.on('error', () => undefined);
      s.on('data', (d: Buffer) => {
        const path = d.toString('latin1').split(' ')[1] ?? '';
        seen.set(path, (seen.get(path) ?? 0) + 1);
        const r = replies[path] ?? { bytes: 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n' };
        s.write(r.bytes, 'latin1');
        r.then?.(s);
      });
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const port = (origin.address() as { port: number }).port;
    edge = await startEdge({ sites: { 'www.example.test': { origin: `http://127.0.0.1:${port}` } } });
  });
  after(async () => {
    await edge.close();
    await new Promise((r) => origin.close(r));
  });

  it('a 204 with a Content-Length and bytes after it: an empty 204 without Content-Length, stored', async () => {
    for (const expect of ['MISS', 'HIT']) {
      const r = await getWhole(edge.port, '/204-with-body');
      assert.equal(r.status, 204);
      assert.ok(r.complete);
      assert.equal(r.headers['content-length'], undefined, `${expect}: RFC 9110 §8.6`);
      assert.equal(r.headers['x-cache-status'], expect);
    }
    const passed = await getWhole(edge.port, '/204-no-store');
    assert.equal(passed.status, 204);
    assert.equal(passed.headers['content-length'], undefined);
  });

  it('a body shorter than its Content-Length, or reset mid-body: the client\'s response is cut, and nothing is stored', async () => {
    for (const path of ['/short', '/reset']) {
      for (let i = 0; i < 2; i++) {
        const r = await getWhole(edge.port, path);
        assert.equal(r.complete, false, path);
        assert.equal(r.headers['x-cache-status'], 'MISS', path);
      }
      assert.equal(seen.get(path), 2, `${path} is fetched again`);
    }
  });

  it('no Date from the origin: the edge adds one; repeated Cache-Control fields count as one list', async () => {
    const miss = await get(edge, '/no-date');
    const hit = await get(edge, '/no-date');
    assert.equal(hit.headers['x-cache-status'], 'HIT');
    for (const r of [miss, hit]) assert.ok(!Number.isNaN(Date.parse(r.headers.date ?? '')));
    assert.equal(miss.headers.date, hit.headers.date);
    await get(edge, '/two-cache-controls');
    const again = await get(edge, '/two-cache-controls');
    assert.equal(again.headers['x-cache-status'], 'MISS', 'no-store in the second field counts');
  });

  it('an invalid field value is a 502 and not stored; a 103 before the 200 is skipped', async () => {
    assert.equal((await get(edge, '/ctl-in-field')).status, 502);
    assert.equal((await get(edge, '/ctl-in-field')).status, 502);
    const hinted = await get(edge, '/early-hints');
    assert.equal(hinted.status, 200);
    assert.equal(hinted.text, 'ok');
    assert.equal((await get(edge, '/early-hints')).headers['x-cache-status'], 'HIT');
  });
});
