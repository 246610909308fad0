import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestEdge, type TestOrigin, fillsSettled, gate, get, startEdge, startOrigin, until } from './helpers/edge-harness.js';
import { bufferMemory } from './helpers/process.js';
import { tempDir } from './helpers/tmp.js';

const work = tempDir('geocdn-large-fill-');
const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const HALF = SIZE / 2;
const PIECE = 256 * 1024;

/** Bytes `offset..offset+length` of the test object: every position has its own value pattern. */
function bytesAt(offset: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) {
    const p = offset + i;
    b[i] = (p * 31 + (p >>> 16)) & 0xff;
  }
  return b;
}
const expected = createHash('sha256');
for (let at = 0; at < SIZE; at += PIECE) expected.update(bytesAt(at, PIECE));
const expectedHash = expected.digest('hex');

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

interface Streamed {
  /** Body bytes the origin has written so far. */
  sent: number;
  /** Opened by the test: the origin sends the second half. */
  readonly resume: () => void;
}

/** A route that streams the test object with backpressure (so the origin holds little), stopping at HALF until resumed. */
function streamingRoute(origin: TestOrigin, path: string, opts: { chunked?: boolean; total?: number } = {}): Streamed {
  const total = opts.total ?? SIZE;
  const g = gate();
  const state: Streamed = { sent: 0, resume: g.open };
  origin.route(path, async (_req, res) => {
    const headers: Record<string, string> = { 'cache-control': 'max-age=600', 'content-type': 'application/octet-stream' };
    if (!opts.chunked) headers['content-length'] = String(total);
    res.writeHead(200, headers);
    for (let at = 0; at < total; at += PIECE) {
      if (at === HALF) await g.promise;
      if (res.destroyed) return;
      const piece = bytesAt(at, Math.min(PIECE, total - at));
      state.sent += piece.length;
      if (!res.write(piece)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  });
  return state;
}

/** A client that sends its request and reads nothing until told to. */
function stalledClient(port: number, path: string): { readonly read: () => Promise<{ head: string; body: Buffer }> } {
  const socket = connect(port, '127.0.0.1');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: www.example.test\r\n\r\n`);
  socket.pause();
  return {
    read: () =>
      new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let got = 0;
        let headEnd = -1;
        let length = -1;
        socket.on('data', (c: Buffer) => {
          chunks.push(c);
          got += c.length;
          if (headEnd < 0) {
            const all = Buffer.concat(chunks);
            headEnd = all.indexOf('\r\n\r\n');
            if (headEnd >= 0) length = Number(/content-length: (\d+)/i.exec(all.subarray(0, headEnd).toString('latin1'))?.[1] ?? -1);
          }
          if (headEnd >= 0 && got >= headEnd + 4 + length) {
            const all = Buffer.concat(chunks);
            socket.destroy();
            resolve({ head: all.subarray(0, headEnd).toString('latin1'), body: all.subarray(headEnd + 4) });
          }
        });
        socket.on('error', reject);
        socket.on('close', () => reject(new Error(`connection closed after ${got} bytes`)));
        socket.resume();
      }),
  };
}

let origin: TestOrigin;
let edge: TestEdge;
before(async () => {
  origin = await startOrigin();
  edge = await startEdge({
    origin,
    edge: { memory_size: '16MiB', max_object_size: '1MiB', disk: { path: join(work, 'disk'), size: '512MiB', max_object_size: '128MiB' } },
    sites: { 'www.example.test': { origin: origin.url, max_object_size: '96MiB' } },
  });
});
after(async () => {
  await edge.close();
  await origin.close();
});

describe('a fill larger than memory keeps: clients read the disk file being written', () => {
  it('a client that stops reading and one that joins halfway cost a few MiB of memory, and all get every byte', async () => {
    const streamed = streamingRoute(origin, '/large');
    const baseline = await bufferMemory();
    const stalled = stalledClient(edge.port, '/large');
    await until(() => streamed.sent >= HALF, 'the origin to send half of the object');
    // Half the object has passed through the edge; the stalled client took a few MiB of it into its socket.
    const held = (await bufferMemory()) - baseline;
    assert.ok(held < 16 * MiB, `the edge holds ${(held / MiB).toFixed(1)} MiB of a fill that has passed ${HALF / MiB} MiB`);

    // Joining now: the first half is no longer in memory, so it is read from the file.
    const joiner = get(edge, '/large');
    const ranged = get(edge, '/large', { headers: { range: `bytes=1000-1999,${HALF + 5}-${HALF + 9}` } });
    streamed.resume();
    const [whole, part] = await Promise.all([joiner, ranged]);
    assert.equal(whole.headers['x-cache-status'], 'MISS');
    assert.equal(whole.body.length, SIZE);
    assert.equal(sha(whole.body), expectedHash);
    assert.equal(part.status, 206);
    assert.ok(part.body.includes(bytesAt(1000, 1000)), 'the first range');
    assert.ok(part.body.includes(bytesAt(HALF + 5, 5)), 'the second range');

    const late = await stalled.read();
    assert.match(late.head, /^HTTP\/1\.1 200/);
    assert.equal(late.body.length, SIZE);
    assert.equal(sha(late.body), expectedHash);
    assert.equal(origin.count('/large'), 1, 'one origin fetch for the three clients');

    await fillsSettled(edge);
    const hit = await get(edge, '/large');
    assert.equal(hit.headers['x-cache-status'], 'HIT');
    assert.equal(sha(hit.body), expectedHash);
  });

  it('a body without Content-Length is not read back from its file: when it outgrows the limit, a late joiner still gets all of it', async () => {
    const total = 100 * MiB; // past the site's 96 MiB limit
    const streamed = streamingRoute(origin, '/endless', { chunked: true, total });
    const leader = get(edge, '/endless');
    await until(() => streamed.sent >= HALF, 'the origin to send half of the object');
    const joiner = get(edge, '/endless');
    streamed.resume();
    const [led, joined] = await Promise.all([leader, joiner]);
    assert.equal(led.body.length, total, 'the leader gets the whole body');
    assert.equal(joined.body.length, total, 'the joiner too: it was replayed from memory, not cut where the file stopped');
    await fillsSettled(edge);
    assert.equal((await get(edge, '/endless')).headers['x-cache-status'], 'MISS', 'too large: not stored');
  });
});
