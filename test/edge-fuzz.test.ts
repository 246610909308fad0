import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { fixed, get, originAndEdge } from './helpers/edge-harness.js';

// Mutated HTTP/1.1 requests, through the fast path and node's parser alike: whatever
// arrives, the edge answers with a well-formed status line or closes the connection,
// never crashes, never forwards a request it refused, and serves the next client.

/** xorshift32: the same cases on every run, so a failure can be replayed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const SEEDS = [
  'GET /obj HTTP/1.1\r\nHost: www.example.test\r\n\r\n',
  'HEAD /obj HTTP/1.1\r\nHost: www.example.test\r\nAccept-Encoding: gzip\r\n\r\n',
  'GET /obj?x=1 HTTP/1.1\r\nHost: www.example.test\r\nRange: bytes=0-9\r\nIf-None-Match: "a"\r\n\r\n',
  'POST /obj HTTP/1.1\r\nHost: www.example.test\r\nContent-Length: 5\r\n\r\nhello',
  'GET /obj HTTP/1.1\r\nHost: www.example.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'GET /obj HTTP/1.1\r\nHost: www.example.test\r\n\r\nGET /obj HTTP/1.1\r\nHost: www.example.test\r\n\r\n',
];
const TOKENS = ['\r\n', '\n', '\r', ' ', '\t', ':', '\0', '\x7f', '\xff', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/9.9', 'Content-Length: 3', 'Transfer-Encoding: chunked', 'Host: ', '%00', '/../', '*', 'ÿ'];

function mutate(rand: () => number): string {
  let s = SEEDS[Math.floor(rand() * SEEDS.length)]!;
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (s.length + 1));
    const kind = rand();
    if (kind < 0.3) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 8)); // delete a few bytes
    else if (kind < 0.6) s = s.slice(0, at) + TOKENS[Math.floor(rand() * TOKENS.length)] + s.slice(at); // insert a token
    else if (kind < 0.8) s = s.slice(0, at) + String.fromCharCode(Math.floor(rand() * 256)) + s.slice(at + 1); // replace a byte
    else s = s.slice(0, at) + s.slice(at, at + 40).repeat(2 + Math.floor(rand() * 3)) + s.slice(at + 40); // repeat a piece
  }
  return s;
}

/** Sends `bytes` and collects the reply until the server closes, or until `ms` of quiet. */
function exchange(port: number, bytes: string, ms = 150): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    let timer = setTimeout(() => s.destroy(), ms);
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => s.destroy(), ms);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', () => undefined);
    s.write(Buffer.from(bytes, 'latin1'));
  });
}

describe('edge: mutated requests', () => {
  const t = originAndEdge();

  it('400 mutated requests get well-formed replies or a closed connection, and the edge goes on serving', async (ctx) => {
    t.origin.route('/obj', fixed(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain', etag: '"a"' }, 'object body'));
    assert.equal((await get(t.edge, '/obj')).status, 200);
    const rand = prng(0x9e3779b9);
    const statuses = new Map<string, number>();
    for (let batch = 0; batch < 20; batch++) {
      const cases = Array.from({ length: 20 }, () => mutate(rand));
      const replies = await Promise.all(cases.map((c) => exchange(t.edge.port, c)));
      for (const [i, reply] of replies.entries()) {
        if (reply === '') continue; // closed without a word: allowed for bytes that are not HTTP
        for (const line of reply.split(/\r\n(?=HTTP\/1\.1 )/)) {
          const m = /^HTTP\/1\.[01] (\d{3}) /.exec(line);
          assert.ok(m, `case ${JSON.stringify(cases[i])} got a reply that does not start with a status line: ${JSON.stringify(reply.slice(0, 80))}`);
          statuses.set(m[1]!, (statuses.get(m[1]!) ?? 0) + 1);
        }
      }
      const ok = await get(t.edge, '/obj');
      assert.equal(ok.status, 200);
      assert.equal(ok.text, 'object body');
    }
    ctx.diagnostic(`statuses of the mutated requests: ${JSON.stringify([...statuses].sort())}`);
    // The mutations reach both sides: some requests are still served, many are refused.
    assert.ok((statuses.get('200') ?? 0) + (statuses.get('206') ?? 0) + (statuses.get('304') ?? 0) > 10, `statuses: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get('400') ?? 0) > 10, `statuses: ${JSON.stringify([...statuses])}`);
    // Nothing refused reached the origin with a method it never saw from a client.
    for (const r of t.origin.requests) assert.match(r.method, /^(GET|HEAD|POST)$/);
  });
});
