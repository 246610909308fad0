import { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse, Agent, createServer, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { edgeSectionSchema, sitesSectionSchema } from '../../src/config/edge-schema.js';
import { after, before } from 'node:test';
import type { Logger } from '../../src/core/log.js';
import { type EdgeServer, createEdgeServer } from '../../src/edge/server.js';
import { discardingLogger } from './log.js';

export type OriginHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export interface TestOrigin {
  readonly url: string;
  readonly port: number;
  /** Requests seen per path (path + query). */
  count(path: string): number;
  readonly requests: { method: string; url: string; headers: IncomingHttpHeaders }[];
  route(path: string, h: OriginHandler): void;
  close(): Promise<void>;
}

/** A real origin on a free loopback port; routes are set per test. Its Date follows `clock` when given. */
export async function startOrigin(clock?: TestClock): Promise<TestOrigin> {
  const routes = new Map<string, OriginHandler>();
  const counts = new Map<string, number>();
  const requests: TestOrigin['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      counts.set(url, (counts.get(url) ?? 0) + 1);
      requests.push({ method: req.method ?? '', url, headers: req.headers });
      if (clock) res.setHeader('date', new Date(clock.now()).toUTCString());
      const h = routes.get(url) ?? routes.get(url.split('?')[0]!);
      if (!h) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('no route');
        return;
      }
      Promise.resolve(h(req, res, Buffer.concat(chunks))).catch((e: unknown) => res.destroy(e as Error));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    count: (p) => counts.get(p) ?? 0,
    requests,
    route: (p, h) => void routes.set(p, h),
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A route that answers with fixed headers and body. */
export function fixed(status: number, headers: OutgoingHttpHeaders, body: string | Buffer = ''): OriginHandler {
  return (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

export interface TestClock {
  now(): number;
  advance(seconds: number): void;
}

export function testClock(): TestClock {
  let t = Date.now();
  return { now: () => t, advance: (s) => void (t += s * 1000) };
}

export interface TestEdge extends EdgeServer {
  readonly url: string;
  readonly port: number;
}

/**
 * Waits until no origin fetch of `edge` is under way. A client has the whole body before the
 * store has committed it: tests that reach into the store (or its files) wait for this first.
 */
export function fillsSettled(edge: EdgeServer): Promise<void> {
  return until(() => edge.context.collapser.size === 0, 'the origin fetches under way to end');
}

/** An edge on a free port in front of `origin` for the host `www.example.test` (unless sites are given). */
export async function startEdge(opts: { origin?: TestOrigin; sites?: Record<string, unknown>; edge?: Record<string, unknown>; clock?: TestClock; pop?: string; log?: Logger }): Promise<TestEdge> {
  const sites = opts.sites ?? { 'www.example.test': { origin: opts.origin!.url } };
  const config = { sites: sitesSectionSchema.parse(sites), edge: edgeSectionSchema.parse({ listen: '127.0.0.1:0', ...opts.edge }) };
  const edge = createEdgeServer({ config, log: opts.log ?? discardingLogger('edge-test'), now: opts.clock?.now, pop: opts.pop });
  const { port } = await edge.listen();
  return Object.assign(edge, { url: `http://127.0.0.1:${port}`, port });
}

/**
 * A test origin and an edge in front of it (for `www.example.test`) shared by the tests
 * of the enclosing describe(): started before them, closed after. Read `t.origin` and
 * `t.edge` inside the tests. `edge` is edge config; `routes` are set before the edge starts.
 */
export function originAndEdge(opts: { edge?: Record<string, unknown>; routes?: Record<string, OriginHandler> } = {}): { readonly origin: TestOrigin; readonly edge: TestEdge } {
  const t = {} as { origin: TestOrigin; edge: TestEdge };
  before(async () => {
    t.origin = await startOrigin();
    for (const [path, handler] of Object.entries(opts.routes ?? {})) t.origin.route(path, handler);
    t.edge = await startEdge({ origin: t.origin, edge: opts.edge });
  });
  after(async () => {
    await t.edge?.close();
    await t.origin?.close();
  });
  return t;
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

const sharedAgent = new Agent({ keepAlive: true, maxSockets: 2000 });

/** One request to the edge; `host` defaults to the test site. */
export function get(edge: { port: number }, path: string, opts: { method?: string; headers?: OutgoingHttpHeaders; body?: string; agent?: Agent | false } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: edge.port,
        path,
        method: opts.method ?? 'GET',
        headers: { host: 'www.example.test', ...opts.headers },
        agent: opts.agent ?? sharedAgent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString() });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Sends raw bytes on a new connection; resolves with everything read until the server closes (or 5 s).
 * Given several parts, sends them one by one, `gapMs` apart (a head split across packets).
 */
export function raw(port: number, bytes: string | readonly string[], gapMs = 0): Promise<string> {
  const parts = typeof bytes === 'string' ? [bytes] : bytes;
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(out);
    }, 5000);
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      if (out) resolve(out);
      else reject(e);
    });
    let i = 0;
    const next = (): void => {
      if (i >= parts.length) return;
      s.write(parts[i++]!);
      if (i < parts.length) setTimeout(next, gapMs);
    };
    next();
  });
}

/** Resolves when `cond` holds, polling each event-loop turn (bounded: 10 s). */
export async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A promise with its resolver, for origins that answer when the test says so. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}
