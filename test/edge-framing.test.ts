// Hostile HTTP/1.1 request framing (RFC 9112), with and without the raw fast path: each request is
// refused with the right status, never reaches the origin, and its connection is closed.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { fixed, get, originAndEdge } from './helpers/edge-harness.js';

const host = 'Host: www.example.test\r\n';

/** Sends `bytes` on a new connection; what came back, and whether the edge closed it within 3 s. */
function exchange(port: number, bytes: string): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false });
    }, 3000);
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    s.write(bytes, 'latin1');
  });
}

function statuses(text: string): string[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]!);
}

for (const fastPath of [true, false]) {
  describe(`edge: hostile request framing (fast path ${fastPath ? 'on' : 'off'})`, () => {
    const t = originAndEdge({
      edge: { fast_path: fastPath, max_header_size: 8192 },
      routes: {
        '/': fixed(200, { 'cache-control': 'max-age=300' }, 'root'),
        '/slow': (_req, res) => {
          setTimeout(() => {
            res.writeHead(200, { 'cache-control': 'no-store' });
            res.write('slow-');
            setTimeout(() => res.end('body'), 50);
          }, 200);
        },
        '/echo': (req, res) => {
          res.writeHead(200, { 'cache-control': 'max-age=300' });
          res.end(`authorization=${req.headers.authorization ?? 'none'}`);
        },
      },
    });

    /** The request is refused with `status` and its connection closed; a HIT of / first on the same connection is answered. */
    async function refused(bytes: string, status: string): Promise<void> {
      await get(t.edge, '/');
      const before = t.origin.requests.length;
      const r = await exchange(t.edge.port, `GET / HTTP/1.1\r\n${host}\r\n${bytes}GET / HTTP/1.1\r\n${host}\r\n`);
      assert.deepEqual(statuses(r.text), ['200', status], JSON.stringify(bytes.slice(0, 80)));
      assert.ok(r.closed, `connection closed after ${JSON.stringify(bytes.slice(0, 80))}`);
      assert.equal(t.origin.requests.length, before, 'nothing forwarded');
    }

    it('a version other than HTTP/1.x gets 505 (HTTP/2.0, HTTP/3, HTTP/0.9 on a cleartext HTTP/1.1 port)', async () => {
      for (const v of ['HTTP/2.0', 'HTTP/3.0', 'HTTP/3', 'HTTP/0.9']) await refused(`GET / ${v}\r\n${host}\r\n`, '505');
      await refused(`GET / HTTP/1.10\r\n${host}\r\n`, '400');
    });

    it('bytes after a request that closes the connection are not read: its answer is not replaced by a 400', async () => {
      await get(t.edge, '/');
      for (const first of [`GET / HTTP/1.0\r\n${host}\r\n`, `GET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`, `GET / HTTP/2.0\r\n${host}\r\n`]) {
        const r = await exchange(t.edge.port, `${first}GET / HTTP/1.1\r\n${host}\r\n`);
        assert.equal(statuses(r.text).length, 1, JSON.stringify(first));
        assert.notEqual(statuses(r.text)[0], '400', JSON.stringify(first));
        assert.ok(r.closed);
      }
    });

    it('a request line longer than the head limit gets 414; long fields 431', async () => {
      await refused(`GET /${'a'.repeat(9000)} HTTP/1.1\r\n${host}\r\n`, '414');
      await refused(`GET /?q=${'a'.repeat(9000)} HTTP/1.1\r\n${host}\r\n`, '414');
      await refused(`GET / HTTP/1.1\r\n${host}X-Long: ${'a'.repeat(9000)}\r\n\r\n`, '431');
    });

    it('two Host lines get 400 (RFC 9112 §3.2), the same or different', async () => {
      await refused(`GET / HTTP/1.1\r\n${host}${host}\r\n`, '400');
      await refused(`GET / HTTP/1.1\r\n${host}Host: evil.test\r\n\r\n`, '400');
    });

    it('Transfer-Encoding: another coding before chunked gets 501; not ending in chunked, or in HTTP/1.0, 400', async () => {
      await refused(`POST / HTTP/1.1\r\n${host}Transfer-Encoding: gzip, chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n`, '501');
      await refused(`POST / HTTP/1.1\r\n${host}Transfer-Encoding: gzip\r\n\r\nabcd`, '400');
      await refused(`POST / HTTP/1.0\r\n${host}Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n`, '400');
      await refused(`POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n4\r\nabcd\r\n0\r\n\r\n`, '400');
    });

    it('obs-fold, bare LF, space before the colon, CTLs, bad chunk sizes and Content-Length forms get 400', async () => {
      const post = (fields: string, body: string): string => `POST / HTTP/1.1\r\n${host}${fields}\r\n${body}`;
      const chunked = 'Transfer-Encoding: chunked\r\n';
      const bad = [
        `GET / HTTP/1.1\r\n${host}X-A: a\r\n b\r\n\r\n`,
        `GET / HTTP/1.1\n${host}\n`,
        `GET / HTTP/1.1\r\n${host}X-A: a\nX-B: b\r\n\r\n`,
        `GET / HTTP/1.1\r\n${host}X-A : b\r\n\r\n`,
        `GET / HTTP/1.1\r\n${host}X-A: a\u0000b\r\n\r\n`,
        `GET / HTTP/1.1\r\n${host}X-A: a\u0007b\r\n\r\n`,
        post(chunked, '4g\r\nabcd\r\n0\r\n\r\n'),
        post(chunked, '4;x=\u0001\r\nabcd\r\n0\r\n\r\n'),
        post(chunked, 'fffffffffffffffffff\r\nabcd\r\n0\r\n\r\n'),
        post(chunked, '-4\r\nabcd\r\n0\r\n\r\n'),
        post(chunked, '0x4\r\nabcd\r\n0\r\n\r\n'),
        post('Content-Length: +4\r\n', 'abcd'),
        post('Content-Length: 1 2\r\n', 'abcd'),
        post('Content-Length: 4, 4\r\n', 'abcd'),
        post('Content-Length: 99999999999999999999999\r\n', 'abcd'),
      ];
      for (const b of bad) await refused(b, '400');
    });

    it('absolute-form: userinfo is a 400, another host a 421; our host is served whatever Host says', async () => {
      await get(t.edge, '/');
      const userinfo = await exchange(t.edge.port, `GET http://u:p@www.example.test/ HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
      assert.deepEqual(statuses(userinfo.text), ['400']);
      const other = await exchange(t.edge.port, `GET http://evil.test/ HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
      assert.deepEqual(statuses(other.text), ['421']);
      const ours = await exchange(t.edge.port, `GET http://www.example.test HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n`);
      assert.deepEqual(statuses(ours.text), ['200']);
      assert.match(ours.text, /\r\n\r\nroot$/);
      assert.ok(t.origin.requests.every((q) => q.headers.host === 'www.example.test'));
    });

    it('a fragment in the target is dropped, as nginx does: the same cache entry, and the origin never sees it', async () => {
      await get(t.edge, '/');
      const before = t.origin.requests.length;
      for (const target of ['/#top', '/#', 'http://www.example.test/#frag']) {
        const r = await exchange(t.edge.port, `GET ${target} HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
        assert.deepEqual(statuses(r.text), ['200'], target);
        assert.match(r.text, /\r\nx-cache-status: HIT\r\n/i, target);
        assert.match(r.text, /\r\n\r\nroot$/, target);
      }
      assert.equal(t.origin.requests.length, before);
    });

    it('OPTIONS * is answered by the edge itself with Allow; another method with * is a 400', async () => {
      const before = t.origin.requests.length;
      const r = await exchange(t.edge.port, `OPTIONS * HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
      assert.match(r.text, /^HTTP\/1\.1 200 /);
      assert.match(r.text, /\r\nallow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n/i);
      assert.match(r.text, /\r\ncontent-length: 0\r\n/i);
      const star = await exchange(t.edge.port, `GET * HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
      assert.deepEqual(statuses(star.text), ['400']);
      assert.equal(t.origin.requests.length, before);
    });

    it('no field is dropped from a head with very many fields: an Authorization after 2000 others still bypasses the cache', async () => {
      await get(t.edge, '/echo');
      const many = 'a:1\r\n'.repeat(2100);
      const r = await exchange(t.edge.port, `GET /echo HTTP/1.1\r\n${host}${many}Authorization: Bearer x\r\nConnection: close\r\n\r\n`);
      assert.match(r.text, /^HTTP\/1\.1 200 /);
      assert.doesNotMatch(r.text, /x-cache-status: HIT/);
      assert.match(r.text, /authorization=Bearer x/);
    });

    it('a bad request pipelined behind one still being answered waits for that answer: 200 with its whole body, then 400', async () => {
      const r = await exchange(t.edge.port, `GET /slow HTTP/1.1\r\n${host}\r\nGET / HTTP/1.1\r\n${host}Bad Name: x\r\n\r\n`);
      assert.deepEqual(statuses(r.text), ['200', '400']);
      assert.match(r.text, /\r\n\r\n(5\r\n)?slow-(\r\n4\r\n)?body(\r\n0\r\n\r\n)?HTTP\/1\.1 400 /);
      assert.ok(r.closed);
    });
  });
}
