import assert from 'node:assert/strict';
import { type Http2SecureServer, type ServerHttp2Stream, type Settings, connect as h2connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { parseConfigText } from '../src/config/load.js';
import { type TestEdge, type TestOrigin, fixed, gate, startEdge, startOrigin, until } from './helpers/edge-harness.js';
import { H2_ERROR, getRequest, rawH2, rstStream } from './helpers/h2-frames.js';
import { h2get, h2session, testTlsSection, tlsPort } from './helpers/tls.js';

// HTTP/2 resource limits as nginx sets them: concurrent streams per connection, the size of a
// request's header list, and (node's own) a flood of resets.

const HEALTH = '/.well-known/geocdn/health';

/** A node:http2 session and the server's first SETTINGS (listened for before it can arrive). */
function sessionWithSettings(port: number, options: { maxSendHeaderBlockLength?: number } = {}): Promise<{ session: ReturnType<typeof h2connect>; settings: Settings }> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`https://127.0.0.1:${port}`, { servername: 'www.example.test', rejectUnauthorized: false, ...options });
    session.once('remoteSettings', (settings) => resolve({ session, settings }));
    session.once('error', reject);
  });
}

describe('HTTP/2: limits per connection', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let port: number;
  let held = gate();
  /** Streams open at the edge now, and the most at once since `peak` was last reset. */
  let open = 0;
  let peak = 0;

  before(async () => {
    origin = await startOrigin();
    origin.route('/held', async (_req, res) => {
      await held.promise;
      res.setHeader('cache-control', 'no-store');
      res.end('held');
    });
    origin.route('/small', fixed(200, { 'cache-control': 'max-age=600' }, 'small'));
    edge = await startEdge({ origin, edge: { tls: await testTlsSection() } });
    port = tlsPort(edge);
    (edge.tlsServer as Http2SecureServer).on('stream', (stream: ServerHttp2Stream) => {
      peak = Math.max(peak, ++open);
      stream.once('close', () => open--);
    });
  });
  after(async () => {
    held.open();
    await edge?.close();
    await origin?.close();
  });

  it("the edge's SETTINGS announce 128 concurrent streams and a header list of max_header_size", async () => {
    const { session, settings } = await sessionWithSettings(port);
    session.close();
    assert.equal(settings.maxConcurrentStreams, 128);
    assert.equal(settings.maxHeaderListSize, 16 * 1024);
  });

  it('200 streams opened at once on one connection all end, no more than 128 at a time, and the edge serves on', { timeout: 30_000 }, async () => {
    held = gate();
    peak = 0;
    const s = await h2session(port);
    try {
      // node's client holds the streams past the server's limit until one ends; what it sends anyway is refused.
      const outcomes = Array.from({ length: 200 }, (_, i) => h2get(s, `/held?all-${i}`).then((r) => String(r.status), (e: Error) => e.message));
      await until(() => open >= 128, '128 streams open at the edge');
      await new Promise((r) => setTimeout(r, 200)); // time for more to arrive, were they let through
      assert.equal(peak, 128);
      held.open();
      const ends = await Promise.all(outcomes);
      const answered = ends.filter((e) => e === '200').length;
      assert.deepEqual(ends.filter((e) => e !== '200' && !/NGHTTP2_REFUSED_STREAM/.test(e)), []);
      assert.ok(answered >= 128, `${answered} answered`);
      assert.equal((await h2get(s, '/small')).status, 200);
    } finally {
      held.open();
      s.close();
    }
    const again = await h2session(port);
    try {
      assert.equal((await h2get(again, '/small')).status, 200);
    } finally {
      again.close();
    }
  });

  it('streams past 128 in the first flight (the setting not yet acknowledged) are refused with REFUSED_STREAM; the first 128 are answered on the same connection', async () => {
    held = gate();
    const c = await rawH2(port, { ackSettings: false });
    try {
      await c.waitFor(() => c.settings !== undefined, "the edge's SETTINGS");
      assert.equal(c.settings!.get(0x3), 128); // SETTINGS_MAX_CONCURRENT_STREAMS
      const ids = Array.from({ length: 200 }, (_, i) => 1 + 2 * i);
      c.write(Buffer.concat(ids.map((id) => getRequest(id, `/held?raw-${id}`))));
      await c.waitFor(() => c.resets.size >= 72, 'the streams past 128 to be refused');
      assert.deepEqual([...c.resets.keys()].sort((a, b) => a - b), ids.slice(128));
      assert.deepEqual(new Set(c.resets.values()), new Set([H2_ERROR.REFUSED_STREAM]));
      await until(() => open === 128, 'the first 128 streams open at the edge');
      held.open();
      await c.waitFor(() => ids.slice(0, 128).every((id) => c.ended.has(id)), 'the first 128 streams to be answered');
      assert.deepEqual(ids.slice(0, 128).map((id) => c.statuses.get(id)), Array(128).fill(200));
      // Acknowledged now; the connection goes on.
      c.ackSettings();
      c.write(getRequest(401, '/small'));
      await c.waitFor(() => c.ended.has(401), 'a stream opened after the refusals');
      assert.equal(c.statuses.get(401), 200);
      assert.equal(c.goaway, undefined);
      assert.equal(c.closed, false);
    } finally {
      held.open();
      c.close();
    }
  });

  it('a client that goes past 128 after acknowledging the setting loses that connection at most; the edge serves the others', async () => {
    held = gate();
    const other = await h2session(port);
    const c = await rawH2(port);
    try {
      await c.waitFor(() => c.settings !== undefined, "the edge's SETTINGS");
      await new Promise((r) => setTimeout(r, 50)); // the ACK has reached the edge: the limit is in force
      c.write(Buffer.concat(Array.from({ length: 200 }, (_, i) => getRequest(1 + 2 * i, `/held?late-${i}`))));
      // RFC 9113 §5.1.2 asks for stream errors; nghttp2 (node 20-24) makes it a connection error instead.
      await c.waitFor(() => c.closed || c.goaway !== undefined || c.resets.size >= 72, 'the streams past 128 to be refused, or the connection to end');
      assert.equal((await h2get(other, '/small')).status, 200);
    } finally {
      held.open();
      c.close();
      other.close();
    }
  });

  it('a header list over max_header_size: its stream is reset (ENHANCE_YOUR_CALM) before the handler; the connection and the others go on', async () => {
    const s = await h2session(port);
    const other = await h2session(port);
    try {
      assert.equal((await h2get(s, '/small?under', { 'x-big': 'a'.repeat(15_000) })).status, 200);
      await assert.rejects(h2get(s, '/small?over', { 'x-big': 'a'.repeat(20_000) }), /NGHTTP2_ENHANCE_YOUR_CALM/);
      assert.equal((await h2get(s, '/small')).status, 200);
      assert.equal((await h2get(other, '/small')).status, 200);
    } finally {
      s.close();
      other.close();
    }
    assert.equal(origin.count('/small?over'), 0);
  });

  it('a header block in more CONTINUATION frames than nghttp2 takes (1 MiB) ends that connection only', async () => {
    const other = await h2session(port);
    const { session } = await sessionWithSettings(port, { maxSendHeaderBlockLength: 4 << 20 });
    try {
      session.on('error', () => undefined); // the session's end is what is looked at
      const closed = new Promise((r) => session.once('close', r));
      const fields: Record<string, string> = {};
      for (let i = 0; i < 100; i++) fields[`x-f${i}`] = 'b'.repeat(10_000);
      await assert.rejects(h2get(session, '/small?huge', fields));
      await closed;
      assert.equal((await h2get(other, '/small')).status, 200);
    } finally {
      session.destroy();
      other.close();
    }
    assert.equal(origin.count('/small?huge'), 0);
  });

  it('a rapid-reset flood (HEADERS then RST_STREAM, 2000 times) ends in GOAWAY before all are handled; other connections are served', async () => {
    // node's own mitigation of CVE-2023-44487 (nghttp2: a burst of 1000 resets, then 33 a second).
    const c = await rawH2(port);
    try {
      await c.waitFor(() => c.settings !== undefined, "the edge's SETTINGS");
      const frames: Buffer[] = [];
      for (let i = 0; i < 2000; i++) frames.push(getRequest(1 + 2 * i, HEALTH), rstStream(1 + 2 * i, H2_ERROR.CANCEL));
      c.write(Buffer.concat(frames));
      await c.waitFor(() => c.goaway !== undefined || c.closed, 'GOAWAY');
      assert.equal(c.goaway?.code, H2_ERROR.INTERNAL_ERROR);
      assert.ok(c.goaway.lastStreamId < 3999, `last stream ${c.goaway.lastStreamId}`);
    } finally {
      c.close();
    }
    const s = await h2session(port);
    try {
      assert.equal((await h2get(s, HEALTH)).status, 200);
    } finally {
      s.close();
    }
  });
});

describe('edge.tls.http2_max_concurrent_streams', () => {
  let origin: TestOrigin;
  let edge: TestEdge;

  before(async () => {
    origin = await startOrigin();
    edge = await startEdge({ origin, edge: { tls: { ...(await testTlsSection()), http2_max_concurrent_streams: 10 } } });
  });
  after(async () => {
    await edge?.close();
    await origin?.close();
  });

  it('sets the number announced; a number below 1 is refused with file:line', async () => {
    const { session, settings } = await sessionWithSettings(tlsPort(edge));
    session.close();
    assert.equal(settings.maxConcurrentStreams, 10);
    const text = (n: string): string => `edge:\n  tls:\n    certificates: [{ cert: a.pem, key: a.key }]\n    http2_max_concurrent_streams: ${n}\nsites:\n  www.example.test: { origin: "http://127.0.0.1:9" }\n`;
    assert.throws(
      () => parseConfigText(text('0'), '/etc/geocdn.yaml'),
      (e: Error & { errors?: { format(): string }[] }) => /GEOCDN_CONFIG_INVALID \/etc\/geocdn\.yaml:4: edge\.tls\.http2_max_concurrent_streams/.test(e.errors!.map((x) => x.format()).join('\n')),
    );
    assert.equal(parseConfigText(text('256'), '/etc/geocdn.yaml').config.edge.tls!.http2_max_concurrent_streams, 256);
  });
});
