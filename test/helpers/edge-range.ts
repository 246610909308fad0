import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { edgeSectionSchema, sitesSectionSchema } from '../../src/config/edge-schema.js';
import { createMemoryStore } from '../../src/edge/cache/memory-store.js';
import type { CacheStore, StoredObject } from '../../src/edge/cache/store.js';
import { createEdgeServer } from '../../src/edge/server.js';
import type { OriginHandler, TestEdge } from './edge-harness.js';
import { discardingLogger } from './log.js';

/** The memory tier seen as a tier that keeps no body in memory: every read goes through `stream(start, end)`. */
export function streamingOnly(inner: CacheStore): CacheStore {
  const strip = (o: StoredObject | undefined): StoredObject | undefined =>
    o && { meta: o.meta, body: undefined, stream: (s?: number, e?: number) => o.stream(s, e), derived: undefined };
  return {
    ...inner,
    get: (key) => strip(inner.get(key) as StoredObject | undefined),
    open: (draft, size) => {
      const w = inner.open(draft, size);
      return w && { write: (c) => w.write(c), abort: () => w.abort(), commit: () => strip(w.commit() as StoredObject | undefined) };
    },
  };
}

/** An edge whose store holds no body in memory (as a disk tier), for these sites. */
export async function startStreamingEdge(sites: Record<string, unknown>, edgeSection: Record<string, unknown> = {}): Promise<TestEdge> {
  const edge = edgeSectionSchema.parse({ listen: '127.0.0.1:0', ...edgeSection });
  const config = { sites: sitesSectionSchema.parse(sites), edge };
  const server = createEdgeServer({ config, log: discardingLogger('edge-test'), store: streamingOnly(createMemoryStore(edge.memory_size, edge.max_object_size)) });
  const { port } = await server.listen();
  return Object.assign(server, { url: `http://127.0.0.1:${port}`, port });
}

/** A changeable representation served by `rangedOrigin`. */
export interface Representation {
  body: Buffer;
  headers: OutgoingHttpHeaders;
}

/**
 * An origin route that honours one `Range: bytes=a-b` / `a-` / `-n` as web
 * servers do (206 with Content-Range, 416 past the end) and answers 200 otherwise.
 */
export function rangedOrigin(rep: Representation): OriginHandler {
  return (req, res) => {
    const { body, headers } = rep;
    const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (!m || (m[1] === '' && m[2] === '')) {
      res.writeHead(200, { ...headers, 'accept-ranges': 'bytes', 'content-length': body.length });
      return void res.end(body);
    }
    let start = m[1] === '' ? Math.max(0, body.length - Number(m[2])) : Number(m[1]);
    let end = m[1] === '' || m[2] === '' ? body.length - 1 : Math.min(Number(m[2]), body.length - 1);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` });
      return void res.end();
    }
    start = Math.max(0, start);
    end = Math.max(start, end);
    res.writeHead(206, { ...headers, 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': end - start + 1 });
    res.end(body.subarray(start, end + 1));
  };
}

/** `n` bytes that differ at every offset modulo 251 and per `seed`, so a misplaced byte shows. */
export function pattern(n: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed + Math.floor(i / 251)) & 0xff;
  return b;
}

export interface Part {
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** RFC 2046 §5.1.1: the parts of a multipart body, split on the boundary from its Content-Type. */
export function parseMultipart(contentType: string | undefined, body: Buffer): Part[] {
  const m = /^multipart\/byteranges;\s*boundary=("?)([^";]+)\1$/i.exec(contentType ?? '');
  if (!m) throw new Error(`not multipart/byteranges: ${contentType}`);
  const delimiter = Buffer.from(`\r\n--${m[2]}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  if (at !== 0) throw new Error('body does not start with the delimiter');
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') {
      if (body.subarray(at + 2).toString() !== '\r\n') throw new Error('bytes after the close delimiter');
      return parts;
    }
    const headEnd = body.indexOf('\r\n\r\n', at);
    const headers: Record<string, string> = {};
    for (const line of body.subarray(at + 2, headEnd).toString('latin1').split('\r\n')) {
      const c = line.indexOf(':');
      headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    const next = body.indexOf(delimiter, headEnd + 4);
    if (next < 0) throw new Error('no close delimiter');
    parts.push({ headers, body: body.subarray(headEnd + 4, next) });
    at = next;
  }
}

/** A GET that also reports whether the body arrived whole (a cut response resolves with complete: false). */
export function getWhole(port: number, path: string, headers: OutgoingHttpHeaders = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host: 'www.example.test', ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (complete: boolean): void => {
        if (done) return;
        done = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete });
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(res.complete));
      res.on('error', () => finish(false));
      res.on('close', () => finish(res.complete));
    });
    req.on('error', reject);
    req.end();
  });
}
