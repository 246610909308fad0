import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:http2';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TestEdge, type TestOrigin, fixed, get, startEdge, startOrigin } from './helpers/edge-harness.js';
import { h2get, h2session, h2stalled, testTlsSection, tlsPort } from './helpers/tls.js';

// edge.client_send_timeout_ms (nginx's send_timeout): a client that stops reading does not hold its response for good.

const SEND_TIMEOUT_MS = 200;
/** Longer than the send timeout as set: a response waiting on the origin is given the origin's time (700 ms). */
const ORIGIN_TIMEOUTS = { connect_ms: 100, headers_ms: 600, body_ms: 300 };
const EFFECTIVE_MS = 700;

describe('a client that stops reading its response', () => {
  const big = randomBytes(20 * 1024 * 1024);
  // More than loopback's socket buffers can take (Linux autotunes a receive buffer up to
  // tcp_rmem's 6–32 MiB, plus the 4 MiB send buffer): the rest waits at the edge.
  const huge = Buffer.alloc(64 * 1024 * 1024, 7);
  let origin: TestOrigin;
  let edge: TestEdge;

  before(async () => {
    origin = await startOrigin();
    origin.route('/big', fixed(200, { 'cache-control': 'max-age=600' }, big));
    origin.route('/huge', fixed(200, { 'cache-control': 'max-age=600' }, huge));
    origin.route('/small', fixed(200, { 'cache-control': 'max-age=600' }, 'small'));
    origin.route('/slow', async (_req, res) => {
      await sleep(EFFECTIVE_MS - 200);
      fixed(200, { 'cache-control': 'no-store' }, 'slow but in time')(_req, res, Buffer.alloc(0));
    });
    edge = await startEdge({
      origin,
      edge: {
        max_object_size: '96MiB',
        client_send_timeout_ms: SEND_TIMEOUT_MS,
        origin_timeouts: ORIGIN_TIMEOUTS,
        tls: await testTlsSection(),
      },
    });
    assert.equal((await get(edge, '/big')).headers['x-cache-status'], 'MISS');
    assert.equal((await get(edge, '/huge')).headers['x-cache-status'], 'MISS');
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  it('HTTP/1.1: its connection is closed once nothing has gone out for client_send_timeout_ms', async () => {
    // A conditional request goes to node's HTTP server (not the fast path): a 200 HIT with the whole body.
    const socket = connect(edge.port, '127.0.0.1');
    let received = 0;
    let closed = false;
    socket.on('data', (c: Buffer) => {
      received += c.length;
      if (received === c.length) socket.pause(); // the first piece, then nothing is read for a while
    });
    socket.on('error', () => undefined); // the reset of a connection cut with bytes unsent
    socket.on('close', () => (closed = true));
    socket.write('GET /huge HTTP/1.1\r\nHost: www.example.test\r\nIf-None-Match: "other"\r\n\r\n');
    // node lets a timeout pass once more when the write queue moved since the last check: up to twice the time
    await sleep(EFFECTIVE_MS * 4);
    socket.resume();
    await new Promise<void>((resolve) => (closed ? resolve() : socket.once('close', () => resolve())));
    assert.ok(received > 0, 'the response had started');
    assert.ok(received < huge.length, `cut before its end: ${received} of ${huge.length} bytes`);
  });

  it('HTTP/2: the stream is cancelled; the connection and its other streams go on', async () => {
    const session = await h2session(tlsPort(edge));
    try {
      const stalled = await h2stalled(session, '/big', 1);
      const closed = new Promise<number>((resolve) => stalled.stream.once('close', () => resolve(stalled.stream.rstCode ?? -1)));
      await sleep(EFFECTIVE_MS * 4);
      stalled.stream.resume();
      // Read on, it would end normally (NO_ERROR, 0) within a second; cut, it was cancelled.
      assert.equal(await Promise.race([closed, sleep(5000, 'still open')]), constants.NGHTTP2_CANCEL);
      const small = await h2get(session, '/small');
      assert.equal(small.status, 200);
      assert.equal(small.body.toString(), 'small');
    } finally {
      session.close();
    }
  });

  it('a response waiting on the origin longer than client_send_timeout_ms (within the origin timeouts) is not cut', async () => {
    const r = await get(edge, '/slow', { agent: false });
    assert.equal(r.status, 200);
    assert.equal(r.text, 'slow but in time');
  });
});
