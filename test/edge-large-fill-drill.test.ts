import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, request } from 'node:http';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { issuePurge } from '../src/cluster/acks.js';
import type { Subscription } from '../src/cluster/bus.js';
import { memoryCursor } from '../src/cluster/cursor.js';
import { linkEdge } from '../src/cluster/edge-link.js';
import { createMemoryBus } from '../src/cluster/memory-bus.js';
import { newPurge } from '../src/cluster/purge.js';
import { type TestEdge, type TestOrigin, fillsSettled, gate, startEdge, startOrigin, until } from './helpers/edge-harness.js';
import { h2get, h2reset, h2session, h2stalled, testTlsSection, tlsPort } from './helpers/tls.js';
import { bufferMemory, filesOpenIn } from './helpers/process.js';
import { tempDir } from './helpers/tmp.js';

// A drill of the large-fill path (a fill written to the disk tier, read back by late and slow clients)
// as operators and hostile clients hit it: purges, origins and clients that die, HTTP/2, crowds, restarts.


const MiB = 1024 * 1024;
const PIECE = 256 * 1024;
/** Every object of this file is a prefix of these bytes. */
const BODY = randomBytes(32 * MiB);
const HOST = 'http://www.example.test';

const rejections: unknown[] = [];
process.on('unhandledRejection', (e) => rejections.push(e));
/** The clients a test started: those it left connected are closed after it, so that a failed test holds no file of the next. */
const clients: Client[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  assert.deepEqual(rejections.splice(0).map(String), [], 'no unhandled promise rejection');
});

/** Polls `cond` each event-loop turn for at most `ms`. */
async function eventually(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** `p`, or a rejection once `ms` have passed: a client that hangs fails the test instead of stalling it. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

interface LargeRoute {
  /** Body bytes the origin has written so far (all its responses). */
  sent: number;
  /** Responses begun. */
  requests: number;
  /** Opens the next hold: the origin sends on past it. */
  readonly resume: () => void;
}

/**
 * A route that streams BODY's first `size` bytes with backpressure, stopping at each of `holdAt` until
 * resumed; with `dieAt`, its first response destroys the connection once that many bytes are sent;
 * `chunked`: without Content-Length; `paceMs`: a pause after each piece (an origin slower than loopback).
 */
function largeRoute(origin: TestOrigin, path: string, o: { size: number; holdAt?: number | number[]; dieAt?: number; chunked?: boolean; paceMs?: number }): LargeRoute {
  const holdAt = typeof o.holdAt === 'number' ? [o.holdAt] : (o.holdAt ?? []);
  const holds = holdAt.map(() => gate());
  let opened = 0;
  const state: LargeRoute = { sent: 0, requests: 0, resume: () => holds[opened++]?.open() };
  origin.route(path, async (_req, res) => {
    const first = state.requests++ === 0;
    res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'application/octet-stream', ...(o.chunked ? {} : { 'content-length': String(o.size) }) });
    for (let at = 0; at < o.size; at += PIECE) {
      const hold = holdAt.indexOf(at);
      if (hold >= 0) await holds[hold]!.promise;
      if (first && at === o.dieAt) return void res.socket?.destroy();
      if (res.destroyed) return;
      const piece = BODY.subarray(at, Math.min(at + PIECE, o.size));
      state.sent += piece.length;
      if (!res.write(piece)) await new Promise((r) => res.once('drain', r));
      if (o.paceMs) await sleep(o.paceMs);
    }
    res.end();
  });
  return state;
}

interface Got {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly length: number;
  /** Every byte received is the expected one at its position. */
  readonly intact: boolean;
  /** The response ended as framed (not cut). */
  readonly complete: boolean;
}

interface Client {
  /** Body bytes received so far. */
  received(): number;
  /** A stalled client starts reading. */
  resume(): void;
  /** The client goes away (closes its connection). */
  close(): void;
  readonly done: Promise<Got>;
}

/**
 * An HTTP/1.1 GET on a connection of its own that checks each byte against `expect` as it comes
 * (no body kept: fifty of them read a large object at once). `stall`: it reads nothing until resumed.
 */
function client(edge: { port: number }, path: string, expect: Buffer, opts: { headers?: OutgoingHttpHeaders; stall?: boolean } = {}): Client {
  let res: IncomingMessage | undefined;
  let length = 0;
  let intact = true;
  const req = request({ host: '127.0.0.1', port: edge.port, path, headers: { host: 'www.example.test', ...opts.headers }, agent: false });
  const done = new Promise<Got>((resolve) => {
    const finish = (): void => resolve({ status: res?.statusCode ?? 0, headers: res?.headers ?? {}, length, intact, complete: res?.complete === true });
    req.on('error', () => {
      if (!res) finish();
    });
    req.on('response', (r) => {
      res = r;
      if (opts.stall) r.pause();
      r.on('data', (c: Buffer) => {
        if (!expect.subarray(length, length + c.length).equals(c)) intact = false;
        length += c.length;
      });
      r.on('error', () => undefined); // a cut body: `complete` says so
      r.on('close', finish);
    });
  });
  req.end();
  const c: Client = { received: () => length, resume: () => void res?.resume(), close: () => void req.destroy(), done };
  clients.push(c);
  return c;
}

function assertWhole(got: Got, size: number, what: string): void {
  assert.equal(got.status, 200, `${what}: status`);
  assert.ok(got.complete, `${what}: the response ended after ${got.length} of ${size} bytes`);
  assert.equal(got.length, size, `${what}: length`);
  assert.ok(got.intact, `${what}: the bytes are the object's`);
}

function assertCut(got: Got, size: number, what: string): void {
  assert.ok(!got.complete && got.length < size, `${what}: cut (got ${got.length} of ${size} bytes, complete ${String(got.complete)})`);
  assert.ok(got.intact, `${what}: the bytes it got are the object's`);
}

/** One more request for `path`: it comes whole, with this X-Cache-Status (`why` says why that one). */
async function fetchWhole(to: { port: number }, path: string, expect: Buffer, cacheStatus: string, what: string, why?: string): Promise<Got> {
  const got = await within(client(to, path, expect).done, 10_000, what);
  assert.equal(got.headers['x-cache-status'], cacheStatus, why);
  assertWhole(got, expect.length, what);
  return got;
}

/** The edge's config: nothing above 1 MiB in memory, large objects on disk; HTTP/2 on its TLS port. */
async function edgeConfig(dir: string): Promise<Record<string, unknown>> {
  return { memory_size: '16MiB', max_object_size: '1MiB', disk: { path: dir, size: '512MiB', max_object_size: '128MiB' }, tls: await testTlsSection() };
}

const work = tempDir('geocdn-large-fill-drill-');
let origin: TestOrigin;
let edge: TestEdge;
let dir: string;
const bus = createMemoryBus();
let link: Subscription;

before(async () => {
  origin = await startOrigin();
  dir = join(work, 'disk');
  const sites = { 'www.example.test': { origin: origin.url, max_object_size: '96MiB' }, 'small.example.test': { origin: origin.url, max_object_size: '20MiB' } };
  edge = await startEdge({ origin, edge: await edgeConfig(dir), sites });
  link = await linkEdge(bus, { node: 'edge-a', cursor: memoryCursor(), store: edge.context.store, fence: edge.context.fence, sites: edge.context.sites });
});
after(async () => {
  await link?.stop();
  await edge?.close();
  await origin?.close();
});

/** A purge of `path` by URL, as the admin API issues it, acknowledged by the edge. */
async function purgeUrl(path: string): Promise<void> {
  const report = await issuePurge(bus, newPurge({ kind: 'url', urls: [`${HOST}${path}`] }, false, Date.now()), { timeoutMs: 2_000 });
  assert.equal(report.complete, true, `missing: ${report.missing.join(' ')}`);
}

/** The fill's temp file is gone and nothing of the disk folder is open. */
async function diskLetGo(what: string, ms = 5_000): Promise<void> {
  await eventually(() => filesOpenIn(dir) === 0 && readdirSync(join(dir, 'tmp')).length === 0, what, ms);
}

describe('large fills under fire: purges, failures, clients that leave, HTTP/2, crowds', () => {
  it('a purge in the middle of the fill: a client reading the file and a slow client get every byte; nothing is stored; no file stays open', async () => {
    const path = '/drill/purged';
    const size = 32 * MiB;
    const route = largeRoute(origin, path, { size, holdAt: size / 2 });
    const expect = BODY.subarray(0, size);
    const slow = client(edge, path, expect, { stall: true });
    await until(() => route.sent >= size / 2, 'the origin to send half of the object');
    // Past 4 MiB the fill keeps nothing in memory: this client reads the first half from the file.
    const late = client(edge, path, expect);
    await until(() => late.received() >= 4 * MiB, 'the late client to read from the file');

    await purgeUrl(path);
    route.resume();
    assertWhole(await within(late.done, 10_000, 'the late client'), size, 'the late client');
    await sleep(100); // the origin is done; the slow client still reads nothing
    slow.resume();
    assertWhole(await within(slow.done, 10_000, 'the slow client'), size, 'the slow client');

    await diskLetGo('the purged fill to let go of its file');
    await fetchWhole(edge, path, expect, 'MISS', 'the request after the purge', 'purged mid-fill: not stored');
    assert.equal(route.requests, 2);
    await fillsSettled(edge);
  });

  it('the origin dies mid-body: every client is cut and none hangs, a stalled one does not hold the file; nothing is stored; the edge serves on', async () => {
    const path = '/drill/dies';
    const size = 32 * MiB;
    const route = largeRoute(origin, path, { size, holdAt: 8 * MiB, dieAt: 12 * MiB });
    const expect = BODY.subarray(0, size);
    const leader = client(edge, path, expect);
    const stalled = client(edge, path, expect, { stall: true });
    await until(() => route.sent >= 8 * MiB, 'the origin to send 8 MiB');
    const late = client(edge, path, expect);
    await until(() => late.received() >= 6 * MiB, 'the late client to read from the file');
    route.resume();

    assertCut(await within(leader.done, 5_000, 'the leader'), size, 'the leader');
    assertCut(await within(late.done, 5_000, 'the client reading the file'), size, 'the client reading the file');
    // The fill is over: the client that reads nothing does not keep the file (and its disk space) open.
    await diskLetGo('the failed fill to let go of its file while a stalled client is connected', 3_000);
    stalled.resume();
    assertCut(await within(stalled.done, 5_000, 'the stalled client'), size, 'the stalled client');

    await fillsSettled(edge);
    await fetchWhole(edge, path, expect, 'MISS', 'the request after the failure', 'a cut body is not stored');
    await fillsSettled(edge);
    await fetchWhole(edge, path, expect, 'HIT', 'the HIT');
    assert.equal(route.requests, 2);
    await diskLetGo('every file closed');
  });

  it('a body without Content-Length outgrows the limit: it was never read from the file, so every client, a stalled one too, gets it all', async () => {
    const path = '/drill/endless';
    const size = 28 * MiB; // past the site's 20 MiB
    const route = largeRoute(origin, path, { size, holdAt: 12 * MiB, chunked: true });
    const expect = BODY.subarray(0, size);
    const small = { host: 'small.example.test' };
    const leader = client(edge, path, expect, { headers: small });
    const stalled = client(edge, path, expect, { headers: small, stall: true });
    await until(() => route.sent >= 12 * MiB, 'the origin to send 12 MiB');
    const late = client(edge, path, expect, { headers: small });
    route.resume();

    assertWhole(await within(leader.done, 10_000, 'the leader'), size, 'the leader');
    assertWhole(await within(late.done, 10_000, 'the late client'), size, 'the late client');
    stalled.resume();
    assertWhole(await within(stalled.done, 10_000, 'the stalled client'), size, 'the stalled client');
    await fillsSettled(edge);
    await diskLetGo('no file left open');
    const again = await within(client(edge, path, expect, { headers: small }).done, 10_000, 'the next request');
    assert.equal(again.headers['x-cache-status'], 'MISS', 'too large: not stored');
    assert.ok(again.intact);
  });

  it('a client that closes its connection while it reads the file: it stops being read for, the others get every byte', async () => {
    const path = '/drill/leaves';
    const size = 32 * MiB;
    const route = largeRoute(origin, path, { size, holdAt: size / 2 });
    const expect = BODY.subarray(0, size);
    const leader = client(edge, path, expect);
    await until(() => route.sent >= size / 2, 'the origin to send half of the object');
    const bytesBefore = edge.context.stats.bytes;
    const leaving = client(edge, path, expect);
    const staying = client(edge, path, expect);
    await until(() => leaving.received() >= 4 * MiB, 'the leaving client to read from the file');
    leaving.close();
    const left = await within(leaving.done, 5_000, 'the leaving client');
    assert.ok(!left.complete && left.intact);
    route.resume();

    assertWhole(await within(leader.done, 10_000, 'the leader'), size, 'the leader');
    assertWhole(await within(staying.done, 10_000, 'the staying client'), size, 'the staying client');
    await fillsSettled(edge);
    await diskLetGo('the file to be closed after the fill');
    // What the edge sent after the leaving client joined: the leader's second half, the staying client's
    // whole body and what the leaving one read, and what loopback's socket buffers held when it closed
    // (MiB of it). Reading on for it would have sent the rest of its body too.
    const sent = edge.context.stats.bytes - bytesBefore;
    assert.ok(sent <= size / 2 + size + left.length + 12 * MiB, `the edge sent ${(sent / MiB).toFixed(1)} MiB: it went on reading for the client that left`);
    await fetchWhole(edge, path, expect, 'HIT', 'the HIT');
    assert.equal(route.requests, 1);
  });

  it('HTTP/2: a stream not read for a while, a late joiner and ranges joining after the spill, on one connection, all get the right bytes', async () => {
    const path = '/drill/h2';
    const size = 32 * MiB;
    const half = size / 2;
    const route = largeRoute(origin, path, { size, holdAt: half });
    const s = await h2session(tlsPort(edge));
    try {
      const stalled = await h2stalled(s, path, 1);
      await until(() => route.sent >= half, 'the origin to send half of the object');
      const late = h2get(s, path);
      const inFile = h2get(s, path, { range: 'bytes=1000-1999' });
      const across = h2get(s, path, { range: `bytes=${half - 5000}-${half + 4999}` });
      const tail = h2get(s, path, { range: 'bytes=-3000' });
      // and one that reads 2 MiB from the file, then resets its stream
      assert.ok((await within(h2reset(s, path, 2 * MiB), 5_000, 'the stream reset')) >= 2 * MiB);
      route.resume();

      const whole = await within(late, 10_000, 'the late HTTP/2 joiner');
      assert.equal(whole.status, 200);
      assert.equal(whole.headers['x-cache-status'], 'MISS');
      assert.ok(whole.body.equals(BODY.subarray(0, size)), `the late joiner's body (${whole.body.length} bytes)`);
      for (const [reply, start, end] of [
        [await within(inFile, 10_000, 'a range in the file'), 1000, 1999],
        [await within(across, 10_000, 'a range across the hold'), half - 5000, half + 4999],
        [await within(tail, 10_000, 'a suffix range'), size - 3000, size - 1],
      ] as const) {
        assert.equal(reply.status, 206);
        assert.equal(reply.headers['content-range'], `bytes ${start}-${end}/${size}`);
        assert.ok(reply.body.equals(BODY.subarray(start, end + 1)), `bytes ${start}-${end}`);
      }
      await sleep(200); // the whole body has come from the origin; the first stream still has not read
      const slow = await within(stalled.finish(), 10_000, 'the stalled HTTP/2 stream');
      assert.ok(slow.equals(BODY.subarray(0, size)), `the stalled stream's body (${slow.length} bytes)`);
    } finally {
      s.close();
    }
    assert.equal(route.requests, 1);
    await fillsSettled(edge);
    await diskLetGo('every file closed');
  });

  it('fifty clients joining one large fill late: one origin fetch, every body whole, a few MiB of memory', async () => {
    const path = '/drill/crowd';
    const size = 32 * MiB;
    const quarters = (n: number): number => (size / 4) * n;
    const route = largeRoute(origin, path, { size, holdAt: [quarters(2), quarters(3)] });
    const expect = BODY.subarray(0, size);
    const baseline = await bufferMemory();
    const leader = client(edge, path, expect);
    await until(() => route.sent >= quarters(2), 'the origin to send half of the object');
    const crowd = Array.from({ length: 50 }, () => client(edge, path, expect));
    const everyone = [leader, ...crowd];
    await until(() => crowd.every((c) => c.received() >= 2 * MiB), 'every late client to read from the file');
    route.resume();
    // Measured at rest (the origin holds at three quarters, every client has read all there is): what
    // moves through the edge at a given moment depends on timing, what stays does not.
    await until(() => route.sent >= quarters(3) && everyone.every((c) => c.received() >= quarters(3)), 'every client to read three quarters');
    const held = (await bufferMemory()) - baseline;
    assert.ok(held < 8 * MiB, `the edge holds ${(held / MiB).toFixed(1)} MiB for fifty clients of a fill that has passed ${quarters(3) / MiB} MiB`);
    route.resume();

    const all = await within(Promise.all([leader, ...crowd].map((c) => c.done)), 15_000, 'the fifty-one clients');
    all.forEach((got, i) => assertWhole(got, size, `client ${i}`));
    assert.equal(route.requests, 1, 'one origin fetch');
    await fillsSettled(edge);
    await diskLetGo('every file closed');
  });

  it('a client that joins while the store moves the file into place (a slow rename) gets the whole body', async () => {
    const path = '/drill/committing';
    const size = 24 * MiB;
    const route = largeRoute(origin, path, { size });
    const expect = BODY.subarray(0, size);
    // The disk tier's rename, held: the fill's writer has sealed and closed the file, the object is not in the index yet.
    const fsp = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
    const realRename = fsp.rename;
    const held = gate();
    let renaming = false;
    fsp.rename = async (from, to) => {
      renaming = true;
      await held.promise;
      return realRename(from, to);
    };
    syncBuiltinESMExports();
    try {
      const leader = client(edge, path, expect);
      assertWhole(await within(leader.done, 10_000, 'the leader'), size, 'the leader');
      await until(() => renaming, 'the store to rename the object into place');
      const joiner = client(edge, path, expect);
      const ranged = client(edge, path, BODY.subarray(100, 200), { headers: { range: 'bytes=100-199' } });
      const joined = await within(joiner.done, 10_000, 'the joiner');
      assertWhole(joined, size, 'a client joining while the store commits');
      assert.equal(joined.headers['x-cache-status'], 'HIT', 'every byte is in: it is served as stored');
      const part = await within(ranged.done, 10_000, 'the range');
      assert.equal(part.status, 206);
      assert.ok(part.complete && part.intact && part.length === 100, `the range: ${part.length} bytes, complete ${String(part.complete)}`);
    } finally {
      held.open();
      fsp.rename = realRename;
      syncBuiltinESMExports();
    }
    await fillsSettled(edge);
    await diskLetGo('every file closed');
    await fetchWhole(edge, path, expect, 'HIT', 'the HIT');
    assert.equal(route.requests, 1);
  });

  it('the disk fails mid-fill: the client attached gets every byte, one arriving after the memory copy was let go fetches on its own instead of being cut', async () => {
    const path = '/drill/eio';
    const size = 16 * MiB;
    const route = largeRoute(origin, path, { size, holdAt: 8 * MiB });
    const expect = BODY.subarray(0, size);
    const eioDir = join(tempDir('geocdn-large-fill-drill-eio-'), 'disk');
    const own = await startEdge({ origin, edge: await edgeConfig(eioDir), sites: { 'www.example.test': { origin: origin.url, max_object_size: '96MiB' } } });
    // Every positioned write into this edge's folder fails with EIO once told to (a disk going bad).
    const probe = await open(join(work, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { writev: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const realWritev = proto.writev;
    let failing = false;
    proto.writev = function (this: unknown, ...a: unknown[]) {
      if (failing) return Promise.reject(Object.assign(new Error('EIO: i/o error, writev'), { code: 'EIO' }));
      return realWritev.apply(this, a);
    };
    try {
      const leader = client(own, path, expect);
      await until(() => route.sent >= 8 * MiB, 'the origin to send 8 MiB (past what memory keeps)');
      failing = true;
      route.resume();
      await until(() => route.sent >= 12 * MiB, 'the origin to send on');
      const late = client(own, path, expect);
      assertWhole(await within(leader.done, 10_000, 'the leader'), size, 'the leader');
      const got = await within(late.done, 10_000, 'the late client');
      assertWhole(got, size, 'a client arriving after the disk failed');
      assert.equal(route.requests, 2, 'the late client fetched on its own');
    } finally {
      proto.writev = realWritev;
      await own.close();
    }
  });

  it('the edge closed mid-fill with clients reading the file: no crash, every client cut; an edge started on its disk folder serves MISS, then HIT', async () => {
    const path = '/drill/restart';
    const size = 32 * MiB;
    const route = largeRoute(origin, path, { size, holdAt: size / 2 });
    const expect = BODY.subarray(0, size);
    const killDir = join(tempDir('geocdn-large-fill-drill-kill-'), 'disk');
    const sites = { 'www.example.test': { origin: origin.url, max_object_size: '96MiB' } };
    const first = await startEdge({ origin, edge: await edgeConfig(killDir), sites });
    let second: TestEdge | undefined;
    try {
      const leader = client(first, path, expect);
      await until(() => route.sent >= size / 2, 'the origin to send half of the object');
      const reading = client(first, path, expect);
      const stalled = client(first, path, expect, { stall: true });
      await until(() => reading.received() >= 4 * MiB, 'a late client to read from the file');
      await within(first.close(), 5_000, 'the edge to close');
      route.resume();
      for (const [c, what] of [[leader, 'the leader'], [reading, 'the client reading the file'], [stalled, 'the stalled client']] as const) {
        c.resume();
        assertCut(await within(c.done, 5_000, what), size, what);
      }
      await eventually(() => filesOpenIn(killDir) === 0, 'the closed edge to let go of its files');

      second = await startEdge({ origin, edge: await edgeConfig(killDir), sites });
      assert.deepEqual(readdirSync(join(killDir, 'tmp')), [], 'no temp file left');
      await fetchWhole(second, path, expect, 'MISS', 'the MISS');
      await fillsSettled(second);
      await fetchWhole(second, path, expect, 'HIT', 'the HIT');
      assert.equal(route.requests, 2);
    } finally {
      await second?.close();
    }
    // Both edges closed: none of their files is open. (The process's whole descriptor count is not
    // compared: connections the shared origin keeps alive close on their own time, slower under load.)
    await eventually(() => filesOpenIn(killDir) === 0, 'the edges to let go of their files');
  });
});
