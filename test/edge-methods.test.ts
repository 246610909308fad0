import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { fixed, originAndEdge, raw } from './helpers/edge-harness.js';

// Methods the edge must not forward (TRACE, CONNECT), and a request body sent after
// `Expect: 100-continue`, which is answered on this hop and not passed on.

const hasCurl = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;

describe('edge: methods and Expect', () => {
  const t = originAndEdge();

  it('TRACE is refused with 405 and Allow, and never reaches the origin', async () => {
    t.origin.route('/trace', fixed(200, { 'content-type': 'text/plain' }, 'echo'));
    const reply = await raw(t.edge.port, 'TRACE /trace HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 405 /);
    assert.match(reply, /\r\nallow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n/i);
    assert.equal(t.origin.count('/trace'), 0);
  });

  it('CONNECT is refused with 405 and the connection closed, never a tunnel', async () => {
    const reply = await raw(t.edge.port, 'CONNECT www.example.test:443 HTTP/1.1\r\nHost: www.example.test:443\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    assert.match(reply, /\r\nconnection: close\r\n/i);
  });

  it('a POST with Expect: 100-continue gets 100 Continue, then the origin gets the body without Expect', async () => {
    t.origin.route('/upload', (req, res, body) => {
      res.writeHead(201, { 'content-type': 'text/plain', 'x-saw-expect': String(req.headers.expect ?? 'none') });
      res.end(`got ${body.length} bytes: ${body.toString()}`);
    });
    const reply = await raw(t.edge.port, [
      'POST /upload HTTP/1.1\r\nHost: www.example.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n',
      'hello',
    ], 50);
    assert.match(reply, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /);
    assert.match(reply, /\r\nx-saw-expect: none\r\n/i);
    assert.match(reply, /\r\ngot 5 bytes: hello\r\n/);
  });

  it('curl uploading with Expect: 100-continue gets the origin\'s answer', { skip: hasCurl ? false : 'curl is not installed (Debian package curl)' }, async () => {
    // Not spawnSync: the edge runs in this process and must go on answering while curl waits.
    const out = await promisify(execFile)('curl', ['-s', '-m', '10', '-H', 'Expect: 100-continue', '-H', 'Host: www.example.test', '--data-binary', 'x'.repeat(2048), '-w', '\n%{http_code}', `${t.edge.url}/upload`]);
    assert.match(out.stdout, /^got 2048 bytes: x+\n201$/);
  });
});
