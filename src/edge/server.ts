import { type Server, createServer } from 'node:http';
import type { Socket } from 'node:net';
import type { EdgeSection, SitesSection } from '../config/edge-schema.js';
import { GeocdnError } from '../core/errors.js';
import { parseListen } from '../core/listen.js';
import type { Logger } from '../core/log.js';
import { Collapser } from './cache/collapse.js';
import { createMemoryStore } from './cache/memory-store.js';
import type { CacheStore } from './cache/store.js';
import type { EdgeContext } from './context.js';
import type { FillHead } from './fill.js';
import { createRequestHandler } from './handler.js';
import { createOriginClient } from './origin.js';
import { buildSiteTable } from './sites.js';
import { createStats } from './stats.js';

export interface EdgeOptions {
  /** The edge's own sections of the shared config: nothing else of it is read. */
  readonly config: { readonly edge: EdgeSection; readonly sites: SitesSection };
  readonly log: Logger;
  /** POP name (`--pop`): picks `edge.pops.<name>.listen` and names this cache. */
  readonly pop?: string;
  /** Overrides the configured listen address. */
  readonly listen?: string;
  readonly store?: CacheStore;
  readonly now?: () => number;
}

export interface EdgeServer {
  readonly server: Server;
  readonly context: EdgeContext;
  /** Resolves with the bound address once listening. */
  listen(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

/** Status and reason for a request node's parser refused (RFC 9112 §2.2, RFC 6585 §5). */
function clientErrorStatus(code: string | undefined): [number, string] {
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'Request Header Fields Too Large'];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'Request Timeout'];
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return [413, 'Content Too Large'];
  return [400, 'Bad Request'];
}

export function createEdgeServer(opts: EdgeOptions): EdgeServer {
  const { config, log } = opts;
  const edge = config.edge;
  const now = opts.now ?? Date.now;
  const name = edge.name ?? (opts.pop ? `geocdn-${opts.pop}` : 'geocdn');
  const listenText = opts.listen ?? (opts.pop ? edge.pops[opts.pop]?.listen : undefined) ?? edge.listen;
  const address = parseListen(listenText);
  const t = edge.origin_timeouts;
  const stats = createStats(now());
  const context: EdgeContext = {
    sites: buildSiteTable(config.sites, edge),
    store: opts.store ?? createMemoryStore(edge.memory_size, edge.max_object_size),
    origins: createOriginClient({ connectMs: t.connect_ms, headersMs: t.headers_ms, bodyMs: t.body_ms }, edge.origin_connections, now, (s) => stats.originLatency.observe(s)),
    collapser: new Collapser<FillHead>(),
    id: { name, via: `1.1 ${name}` },
    stats,
    log,
    now,
    heuristicMax: edge.heuristic_max_s,
    healthPath: edge.health_path,
    pop: opts.pop,
    accessLog: edge.access_log && log.isLevelEnabled('info'),
  };
  const server = createServer(
    { maxHeaderSize: edge.max_header_size, requestTimeout: 60_000, headersTimeout: 20_000, keepAliveTimeout: 30_000, joinDuplicateHeaders: false },
    createRequestHandler(context),
  );
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const [status, reason] = clientErrorStatus(err.code);
    log.debug({ code: err.code, status }, 'bad request refused');
    // Never forwarded, and the connection is closed: what follows on it cannot be framed safely.
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-length: 0\r\nconnection: close\r\nvia: ${context.id.via}\r\n\r\n`);
  });
  const ticker = setInterval(() => context.stats.tick(now()), 1000);
  ticker.unref();

  return {
    server,
    context,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', (e: Error) => reject(new GeocdnError('GEOCDN_LISTEN', `edge cannot listen on ${listenText}: ${e.message}`)));
        server.listen(address.port, address.host, () => {
          const a = server.address();
          resolve(typeof a === 'object' && a ? { host: a.address, port: a.port } : address);
        });
      }),
    async close(): Promise<void> {
      clearInterval(ticker);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await context.origins.close();
    },
  };
}
