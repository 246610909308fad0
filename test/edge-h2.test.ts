import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { type TestEdge, type TestOrigin, startEdge, startOrigin } from './helpers/edge-harness.js';
import { h2get, h2session, testTlsSection, tlsHttp1, tlsPort } from './helpers/tls.js';

describe('HTTP/2: what an origin sends that HTTP/1.1 passes on', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let port: number;

  before(async () => {
    origin = await startOrigin();
    edge = await startEdge({ origin, edge: { tls: await testTlsSection() } });
    port = tlsPort(edge);
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  test('two lines of a field node sends once (Date, X-Content-Type-Options, Content-Type): the first, stored or not', async () => {
    for (const cc of ['max-age=60', 'no-store']) {
      const path = `/twice-${cc}`;
      origin.route(path, (_req, res) => {
        res.setHeader('x-content-type-options', ['nosniff', 'nosniff']);
        res.setHeader('content-type', ['text/plain', 'text/html']);
        res.setHeader('date', [new Date().toUTCString(), 'Thu, 01 Jan 1970 00:00:00 GMT']);
        res.setHeader('cache-control', cc);
        res.end('twice');
      });
      const s = await h2session(port);
      try {
        for (const status of cc === 'no-store' ? ['MISS'] : ['MISS', 'HIT']) {
          const r = await h2get(s, path);
          assert.equal(r.status, 200, `${cc} ${status}`);
          assert.equal(r.headers['x-cache-status'], status);
          assert.equal(r.headers['x-content-type-options'], 'nosniff');
          assert.equal(r.headers['content-type'], 'text/plain');
          assert.notEqual(r.headers['date'], 'Thu, 01 Jan 1970 00:00:00 GMT');
          assert.equal(r.body.toString(), 'twice');
        }
      } finally {
        s.close();
      }
    }
  });

  test('HTTP2-Settings from the origin is connection-specific: dropped, never a failed response', async () => {
    origin.route('/h2-settings', (_req, res) => {
      res.setHeader('http2-settings', 'AAMAAABkAAQAAP__');
      res.setHeader('cache-control', 'max-age=60');
      res.end('settings');
    });
    const s = await h2session(port);
    try {
      const r = await h2get(s, '/h2-settings');
      assert.equal(r.status, 200);
      assert.equal(r.headers['http2-settings'], undefined);
      assert.equal(r.body.toString(), 'settings');
      assert.equal((await h2get(s, '/h2-settings')).headers['x-cache-status'], 'HIT');
    } finally {
      s.close();
    }
  });
});

describe('HTTP/1.1 on the TLS port: the limits of the plain port', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let port: number;

  before(async () => {
    origin = await startOrigin();
    origin.route('/limits', (_req, res) => {
      res.setHeader('cache-control', 'max-age=60');
      res.end('limits');
    });
    const tls = await testTlsSection();
    edge = await startEdge({ origin, edge: { max_header_size: 64 * 1024, client_header_timeout_ms: 1000, tls } });
    port = tlsPort(edge);
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  test('edge.max_header_size bounds the head (node alone stops at 16 KiB)', async () => {
    // the health path: answered by the edge, whose limit is under test, not by the origin's node server
    const under = await tlsHttp1(port, `GET /.well-known/geocdn/health HTTP/1.1\r\nhost: www.example.test\r\nx-big: ${'a'.repeat(20_000)}\r\nconnection: close\r\n\r\n`);
    assert.match(under.text, /^HTTP\/1\.1 200 /);
    const over = await tlsHttp1(port, `GET /.well-known/geocdn/health HTTP/1.1\r\nhost: www.example.test\r\nx-big: ${'a'.repeat(70_000)}\r\nconnection: close\r\n\r\n`);
    assert.match(over.text, /^HTTP\/1\.1 431 /);
  });

  test('no field is dropped: an Authorization after 2000 others keeps the request out of the cache', async () => {
    const many = Array.from({ length: 2100 }, (_, i) => `x-f${i}: v\r\n`).join('');
    const r = await tlsHttp1(port, `GET /limits HTTP/1.1\r\nhost: www.example.test\r\n${many}authorization: Bearer secret\r\nconnection: close\r\n\r\n`);
    // The test origin's own head limit may refuse it (node 24's does): what counts is that the edge passed it on.
    assert.match(r.text, /\r\nx-cache-status: BYPASS\r\n/);
  });

  test('a client silent for edge.client_header_timeout_ms gets 408', async () => {
    const r = await tlsHttp1(port, '');
    assert.match(r.text, /^HTTP\/1\.1 408 /);
    assert.ok(r.ms < 5000, `closed after ${r.ms} ms`);
  });

  /** Connects and sends nothing more than `alpn` asks for; how long until the edge closes the connection. */
  function silentFor(alpn: string[] | undefined): Promise<number> {
    return new Promise((resolve) => {
      const started = Date.now();
      const giveUp = setTimeout(() => s.destroy(), 10_000);
      const s = alpn
        ? tlsConnect({ port, host: '127.0.0.1', servername: 'www.example.test', ALPNProtocols: alpn, rejectUnauthorized: false })
        : netConnect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.resume(); // what the edge sends (its SETTINGS) is read, so that its close is seen
      s.on('close', () => {
        clearTimeout(giveUp);
        resolve(Date.now() - started);
      });
    });
  }

  test('a client that stalls in the TLS handshake, or sends no HTTP/2 preface after it, is closed after client_header_timeout_ms', async () => {
    const [noHandshake, noPreface] = await Promise.all([silentFor(undefined), silentFor(['h2'])]);
    assert.ok(noHandshake >= 900 && noHandshake < 5000, `no handshake: closed after ${noHandshake} ms`);
    assert.ok(noPreface >= 900 && noPreface < 5000, `no preface: closed after ${noPreface} ms`);
  });
});

describe('HTTP/2: requests', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let port: number;

  before(async () => {
    origin = await startOrigin();
    origin.route('/req', (req, res) => {
      res.setHeader('cache-control', 'max-age=60');
      res.end(`fields=${req.rawHeaders.length / 2}`);
    });
    origin.route('/search', (req, res, body) => {
      res.setHeader('cache-control', 'max-age=60');
      res.end(`${req.method} ${body.toString() || '-'}`);
    });
    edge = await startEdge({
      origin,
      sites: { 'www.example.test': { origin: origin.url }, 'other.example.test': { origin: origin.url } },
      edge: { tls: await testTlsSection() },
    });
    port = tlsPort(edge);
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  test('a Host naming another site than :authority is malformed: 400, nothing looked up (RFC 9113 §8.3.1)', async () => {
    const s = await h2session(port);
    try {
      const other = await h2get(s, '/req', { host: 'other.example.test' });
      assert.equal(other.status, 400);
      assert.equal(other.headers['x-cache-status'], undefined);
      assert.equal((await h2get(s, '/req', { ':authority': 'other.example.test', host: 'www.example.test' })).status, 400);
      assert.equal((await h2get(s, '/req', { host: 'WWW.example.test:443' })).status, 200, 'the same authority, written otherwise');
    } finally {
      s.close();
    }
    assert.equal(origin.requests.filter((r) => r.headers.host === 'other.example.test').length, 0);
  });

  test('300 fields within max_header_size are served, as on HTTP/1.1 (node alone resets the stream after 128)', async () => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < 300; i++) fields[`x-f${i}`] = 'v';
    const s = await h2session(port);
    try {
      const r = await h2get(s, '/req?many', fields);
      assert.equal(r.status, 200);
      assert.match(r.body.toString(), /^fields=3\d\d$/);
    } finally {
      s.close();
    }
  });

  test('a GET with a body is passed to the origin with it, as on HTTP/1.1, also without Content-Length (RFC 9113 §8.1)', async () => {
    const s = await h2session(port);
    try {
      for (const body of ['{"q":"a"}', '{"q":"b"}']) {
        const r = await h2get(s, '/search', {}, 'GET', body);
        assert.equal(r.headers['x-cache-status'], 'BYPASS');
        assert.match(String(r.headers['cache-status']), /detail=request-body/);
        assert.equal(r.body.toString(), `GET ${body}`);
      }
      // No bytes after a HEADERS frame that left the stream open: an ordinary GET, cached.
      assert.equal((await h2get(s, '/search', {}, 'GET', '')).headers['x-cache-status'], 'MISS');
      const hit = await h2get(s, '/search');
      assert.equal(hit.headers['x-cache-status'], 'HIT');
      assert.equal(hit.body.toString(), 'GET -');
    } finally {
      s.close();
    }
    assert.equal(origin.count('/search'), 3);
  });

  test('CONNECT gets 405 with Allow and Via, as on HTTP/1.1', async () => {
    const s = await h2session(port);
    try {
      const head = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = s.request({ ':method': 'CONNECT', ':authority': 'www.example.test:443' });
        req.on('response', resolve);
        req.on('error', reject);
        req.end();
      });
      assert.equal(head[':status'], 405);
      assert.equal(head['allow'], 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
      assert.equal(head['via'], '1.1 geocdn');
    } finally {
      s.close();
    }
  });
});
