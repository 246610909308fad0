import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate, writePemPair } from '../src/demo/certificate.js';
import { type TestEdge, type TestOrigin, fillsSettled, fixed, startEdge, startOrigin, until } from './helpers/edge-harness.js';
import { h2get, h2reset, h2session, tlsPort } from './helpers/tls.js';
import { tempDir } from './helpers/tmp.js';

// HTTP/2 bodies: clients that reset their streams, read slowly or not at all.

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The `edge.tls` section for a new self-signed certificate of www.example.test. */
async function tlsSection(): Promise<Record<string, unknown>> {
  const pems = writePemPair(await selfSignedCertificate(['www.example.test']), tempDir('geocdn-h2-streams-'));
  return { listen: '127.0.0.1:0', watch: false, certificates: [{ cert: pems.cert, key: pems.key }] };
}

/** Files of `dir` this process (the edge runs in it) holds open. */
function filesOpenIn(dir: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) n++;
    } catch {
      // closed while listed
    }
  }
  return n;
}

describe('HTTP/2: a client that resets its stream mid-body', () => {
  const big = randomBytes(8 * 1024 * 1024);
  let origin: TestOrigin;
  let edge: TestEdge;
  let port: number;
  let dir: string;

  before(async () => {
    origin = await startOrigin();
    origin.route('/big', fixed(200, { 'cache-control': 'max-age=600', etag: '"big"' }, big));
    dir = join(tempDir('geocdn-h2-streams-'), 'disk');
    // Nothing above 1 KiB in memory: /big is read from its file.
    edge = await startEdge({ origin, edge: { memory_size: '1MiB', max_object_size: '1KiB', disk: { path: dir, size: '64MiB', max_object_size: '16MiB' }, tls: await tlsSection() } });
    port = tlsPort(edge);
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  it('a disk-only object, whole, one range or several: a reset leaves no file open', async () => {
    const s = await h2session(port);
    try {
      assert.equal((await h2get(s, '/big')).headers['x-cache-status'], 'MISS');
      await fillsSettled(edge);
      await h2reset(s, '/big', 300_000);
      await h2reset(s, '/big', 300_000, { range: 'bytes=1000-7000000' });
      await h2reset(s, '/big', 300_000, { range: 'bytes=0-9,2000000-7000000' });
      await until(() => filesOpenIn(dir) === 0, 'the object file to be closed after the resets');
      const again = await h2get(s, '/big', { range: 'bytes=1000-7000000' });
      assert.equal(again.headers['x-cache-status'], 'HIT');
      assert.equal(sha(again.body), sha(big.subarray(1000, 7_000_001)));
    } finally {
      s.close();
    }
    assert.equal(origin.count('/big'), 1);
  });
});
