import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { type PemPair, selfSignedCertificate, writePemPair } from '../src/demo/certificate.js';
import { type TestEdge, type TestOrigin, fixed, startEdge, startOrigin } from './helpers/edge-harness.js';
import { curlHasHttp2, eventually, h2get, h2session, handshake, NO_CURL_HTTP2, testTlsSection, tlsPort } from './helpers/tls.js';
import { tempDir } from './helpers/tmp.js';

const run = promisify(execFile);

describe('HTTPS: SNI, HTTP/2 with HTTP/1.1 by ALPN, certificate reload', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let port: number;
  let site: { cert: string; key: string };
  let other: PemPair;
  const logLines: string[] = [];

  before(async () => {
    origin = await startOrigin();
    const [fallback, www, otherPair] = await Promise.all([
      selfSignedCertificate(['default.example.test']),
      selfSignedCertificate(['www.example.test', '*.cdn.example.test']),
      selfSignedCertificate(['static.other.test']),
    ]);
    other = otherPair;
    site = writePemPair(www, tempDir('geocdn-tls-'));
    const fb = writePemPair(fallback, tempDir('geocdn-tls-'));
    const ot = writePemPair(other, tempDir('geocdn-tls-'));
    const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
    edge = await startEdge({
      origin,
      log,
      edge: {
        tls: {
          listen: '127.0.0.1:0',
          certificates: [
            { cert: fb.cert, key: fb.key },
            { cert: site.cert, key: site.key },
            { cert: ot.cert, key: ot.key },
          ],
        },
      },
    });
    port = tlsPort(edge);
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  test('SNI picks the certificate whose names match, the first one otherwise', async () => {
    assert.equal((await handshake(port, 'www.example.test')).cert.subject.CN, 'www.example.test');
    assert.equal((await handshake(port, 'WWW.Example.Test.')).cert.subject.CN, 'www.example.test', 'case and a trailing dot do not matter');
    assert.equal((await handshake(port, 'img.cdn.example.test')).cert.subject.CN, 'www.example.test', 'wildcard');
    assert.equal((await handshake(port, 'a.b.cdn.example.test')).cert.subject.CN, 'default.example.test', 'a wildcard covers one label only');
    assert.equal((await handshake(port, 'static.other.test')).cert.subject.CN, 'static.other.test');
    assert.equal((await handshake(port, 'unknown.test')).cert.subject.CN, 'default.example.test');
    assert.equal((await handshake(port, undefined)).cert.subject.CN, 'default.example.test', 'no SNI: the default certificate');
  });

  test('ALPN offers h2 and falls back to HTTP/1.1', async () => {
    assert.equal((await handshake(port, 'www.example.test', ['h2', 'http/1.1'])).alpn, 'h2');
    assert.equal((await handshake(port, 'www.example.test', ['http/1.1'])).alpn, 'http/1.1');
  });

  test('HTTP/2: MISS then HIT with X-Cache-Status and Cache-Status, the Host from :authority', async () => {
    origin.route('/h2.txt', fixed(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain', etag: '"h2"' }, 'over h2'));
    const s = await h2session(port);
    try {
      const first = await h2get(s, '/h2.txt');
      assert.equal(first.status, 200);
      assert.equal(first.headers['x-cache-status'], 'MISS');
      assert.match(String(first.headers['cache-status']), /^geocdn; fwd=uri-miss; stored/);
      assert.equal(first.body.toString(), 'over h2');
      const second = await h2get(s, '/h2.txt');
      assert.equal(second.headers['x-cache-status'], 'HIT');
      assert.match(String(second.headers['cache-status']), /^geocdn; hit; ttl=\d+/);
      assert.equal(second.headers['content-length'], '7');
      assert.equal(second.headers['via'], '1.1 geocdn');
      assert.equal(second.headers['connection'], undefined);
      assert.equal(second.body.toString(), 'over h2');
      const head = await h2get(s, '/h2.txt', {}, 'HEAD');
      assert.equal(head.headers['x-cache-status'], 'HIT');
      assert.equal(head.body.length, 0);
      const range = await h2get(s, '/h2.txt', { range: 'bytes=0-3' });
      assert.equal(range.status, 206);
      assert.equal(range.body.toString(), 'over');
      const notMod = await h2get(s, '/h2.txt', { 'if-none-match': '"h2"' });
      assert.equal(notMod.status, 304);
      assert.equal((await h2get(s, '/h2.txt', { ':authority': 'nobody.test' })).status, 421);
    } finally {
      s.close();
    }
    assert.equal(origin.count('/h2.txt'), 1);
    const seen = origin.requests.find((r) => r.url === '/h2.txt')!;
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['host'], 'www.example.test');
    assert.ok(!Object.keys(seen.headers).some((n) => n.startsWith(':')), 'no pseudo-header reaches the origin');
  });

  test('HTTP/2: bypassed and unsafe requests stream through, with their body', async () => {
    origin.route('/api/echo', (req, res, body) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end(`${req.method} ${body.toString()}`);
    });
    const s = await h2session(port);
    try {
      const post = await h2get(s, '/api/echo', { 'content-type': 'text/plain' }, 'POST', 'hello');
      assert.equal(post.status, 200);
      assert.equal(post.headers['x-cache-status'], 'BYPASS');
      assert.equal(post.body.toString(), 'POST hello');
      const get = await h2get(s, '/api/echo');
      assert.equal(get.headers['x-cache-status'], 'MISS');
      assert.match(String(get.headers['cache-status']), /detail=no-store/);
    } finally {
      s.close();
    }
  });

  test('HTTP/1.1 over TLS shares the cache with HTTP/2 and keeps its fast path', async () => {
    origin.route('/shared.txt', fixed(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }, 'shared'));
    const s = await h2session(port);
    assert.equal((await h2get(s, '/shared.txt')).headers['x-cache-status'], 'MISS');
    s.close();
    const reply = await new Promise<{ version: string; status: string | undefined; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/shared.txt', servername: 'www.example.test', headers: { host: 'www.example.test' }, rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ version: res.httpVersion, status: res.headers['x-cache-status'] as string | undefined, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual(reply, { version: '1.1', status: 'HIT', body: 'shared' });
    assert.equal(origin.count('/shared.txt'), 1);
  });

  test('a changed certificate file is loaded; a bad one keeps the certificate in use and logs an error', async () => {
    origin.route('/reload.txt', fixed(200, { 'cache-control': 'max-age=60' }, 'reload'));
    const before = await handshake(port, 'www.example.test');
    const early = await h2session(port);
    const renewed = await selfSignedCertificate(['www.example.test', '*.cdn.example.test'], 'renewed.example.test');
    writeFileSync(site.key, renewed.key);
    writeFileSync(site.cert, renewed.cert);
    await eventually(async () => (await handshake(port, 'www.example.test')).cert.subject.CN === 'renewed.example.test', 'the renewed certificate');
    assert.notEqual((await handshake(port, 'www.example.test')).cert.fingerprint256, before.cert.fingerprint256);
    assert.ok(logLines.some((l) => l.includes('certificates reloaded')));
    // HTTP/2: a connection made before keeps serving on its certificate; a new one gets the renewed one.
    const late = await h2session(port);
    try {
      assert.equal((await h2get(early, '/reload.txt')).status, 200);
      assert.equal((early.socket as TLSSocket).getPeerCertificate().subject.CN, 'www.example.test');
      assert.equal((await h2get(late, '/reload.txt')).status, 200);
      assert.equal((late.socket as TLSSocket).getPeerCertificate().subject.CN, 'renewed.example.test');
    } finally {
      early.close();
      late.close();
    }

    // A certificate whose key is another one's: refused, the renewed one keeps serving.
    writeFileSync(site.cert, other.cert);
    await eventually(() => logLines.some((l) => l.includes('certificate reload failed') && l.includes('GEOCDN_TLS_CERT')), 'the reload error');
    assert.equal((await handshake(port, 'www.example.test')).cert.subject.CN, 'renewed.example.test');
    // Garbage: the same.
    const errors = logLines.filter((l) => l.includes('certificate reload failed')).length;
    writeFileSync(site.cert, 'not a certificate\n');
    await eventually(() => logLines.filter((l) => l.includes('certificate reload failed')).length > errors, 'a second reload error');
    assert.equal((await handshake(port, 'www.example.test')).cert.subject.CN, 'renewed.example.test');
    assert.equal((await handshake(port, 'static.other.test')).cert.subject.CN, 'static.other.test', 'the other certificates keep serving too');
    // Repaired: loaded again.
    writeFileSync(site.cert, renewed.cert);
    const again = await selfSignedCertificate(['www.example.test'], 'again.example.test');
    writeFileSync(site.key, again.key);
    writeFileSync(site.cert, again.cert);
    await eventually(async () => (await handshake(port, 'www.example.test')).cert.subject.CN === 'again.example.test', 'the repaired certificate');
  });

  test('curl --http2 -k: HTTP/2 and the cache statuses', { skip: curlHasHttp2() ? false : NO_CURL_HTTP2 }, async () => {
    origin.route('/curl.txt', fixed(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }, 'curl'));
    const args = ['--http2', '-k', '-sS', '-D', '-', '-o', '/dev/null', '--resolve', `www.example.test:${port}:127.0.0.1`, `https://www.example.test:${port}/curl.txt`];
    const first = (await run('curl', args)).stdout;
    assert.match(first, /^HTTP\/2 200/);
    assert.match(first, /x-cache-status: MISS/i);
    const second = (await run('curl', args)).stdout;
    assert.match(second, /^HTTP\/2 200/);
    assert.match(second, /x-cache-status: HIT/i);
    assert.match(second, /cache-status: geocdn; hit; ttl=\d+/i);
    const h1 = (await run('curl', ['--http1.1', ...args.slice(1)])).stdout;
    assert.match(h1, /^HTTP\/1\.1 200/);
    assert.match(h1, /x-cache-status: HIT/i);
  });
});

describe('HTTPS without HTTP/2', () => {
  test('edge.tls.http2: false offers HTTP/1.1 only', async () => {
    const origin = await startOrigin();
    const edge = await startEdge({ origin, edge: { tls: { ...(await testTlsSection()), http2: false } } });
    try {
      assert.equal((await handshake(tlsPort(edge), 'www.example.test', ['h2', 'http/1.1'])).alpn, 'http/1.1');
    } finally {
      await edge.close();
      await origin.close();
    }
  });

  test('an unreadable or mismatched certificate refuses to start with GEOCDN_TLS_CERT', async () => {
    const a = await selfSignedCertificate(['a.test']);
    const b = await selfSignedCertificate(['b.test']);
    const mixed = writePemPair({ cert: a.cert, key: b.key }, tempDir('geocdn-tls-'));
    await assert.rejects(startEdge({ sites: { 'a.test': { origin: 'http://127.0.0.1:1' } }, edge: { tls: { listen: '127.0.0.1:0', certificates: [{ cert: mixed.cert, key: mixed.key }] } } }), (e: Error & { code?: string }) => e.code === 'GEOCDN_TLS_CERT');
    await assert.rejects(startEdge({ sites: { 'a.test': { origin: 'http://127.0.0.1:1' } }, edge: { tls: { listen: '127.0.0.1:0', certificates: [{ cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' }] } } }), (e: Error & { code?: string }) => e.code === 'GEOCDN_TLS_CERT');
  });
});
