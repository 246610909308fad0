import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * The demo's origin: pages and images with different Cache-Control, an API
 * that must bypass the cache, a large file for ranges, and cache tags.
 * Counts its requests so the tour can show that a HIT never reached it.
 */
export interface DemoOrigin {
  server: Server;
  port: number;
  requests(): number;
  close(): Promise<void>;
}

const BIG_SIZE = 8 * 1024 * 1024;

const pages: Record<string, { type: string; headers: Record<string, string>; body: () => Buffer }> = {
  '/': {
    type: 'text/html; charset=utf-8',
    headers: { 'cache-control': 'public, max-age=60', 'surrogate-key': 'home pages' },
    body: () => Buffer.from('<!doctype html><title>geocdn demo</title><h1>Hello from the origin</h1><img src="/img/logo.svg">\n'),
  },
  '/guide.html': {
    type: 'text/html; charset=utf-8',
    headers: { 'cache-control': 'public, max-age=300', 'surrogate-key': 'guide pages' },
    body: () =>
      Buffer.from(
        `<!doctype html><title>geocdn guide</title>\n${Array.from({ length: 60 }, (_, i) => `<p>Step ${i + 1}: text like this compresses well, so the edge sends it as br or gzip.</p>`).join('\n')}\n`,
      ),
  },
  '/img/logo.svg': {
    type: 'image/svg+xml',
    headers: { 'cache-control': 'public, max-age=3600', 'cache-tag': 'images,logo' },
    body: () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle cx="32" cy="32" r="30" fill="#2a7"/></svg>\n'),
  },
  '/news': {
    type: 'text/html; charset=utf-8',
    headers: { 'cache-control': 'public, max-age=5, stale-while-revalidate=30, stale-if-error=600', 'surrogate-key': 'news pages' },
    body: () => Buffer.from(`<!doctype html><p>news at ${new Date().toISOString()}</p>\n`),
  },
  '/api/time': {
    type: 'application/json',
    headers: { 'cache-control': 'private, no-store' },
    body: () => Buffer.from(JSON.stringify({ now: new Date().toISOString() }) + '\n'),
  },
};

/** A deterministic large body: byte i is i mod 251, so any range can be checked. */
function bigSlice(start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  for (let i = 0; i < out.length; i++) out[i] = (start + i) % 251;
  return out;
}

export function startDemoOrigin(port = 0, host = '127.0.0.1'): Promise<DemoOrigin> {
  let count = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    count++;
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/big.bin') {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': BIG_SIZE,
        'cache-control': 'public, max-age=86400, immutable',
        'last-modified': 'Mon, 23 Nov 2026 00:00:00 GMT',
        'cache-tag': 'downloads',
      });
      if (req.method === 'HEAD') return res.end();
      for (let at = 0; at < BIG_SIZE; at += 1 << 20) res.write(bigSlice(at, Math.min(BIG_SIZE, at + (1 << 20))));
      return res.end();
    }
    const page = pages[path];
    if (!page) {
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=10' });
      return res.end('not found\n');
    }
    const body = page.body();
    res.writeHead(200, { 'content-type': page.type, 'content-length': body.length, ...page.headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({
        server,
        port: typeof addr === 'object' && addr ? addr.port : port,
        requests: () => count,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
