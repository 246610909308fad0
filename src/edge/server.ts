import { type Server, createServer } from 'node:http';
import { type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session, type ServerHttp2Stream, constants as http2Constants, createSecureServer } from 'node:http2';
import { type Server as HttpsServer, createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { EdgeSection, SitesSection } from '../config/edge-schema.js';
import { GeocdnError } from '../core/errors.js';
import { parseListen } from '../core/listen.js';
import type { Logger } from '../core/log.js';
import { Collapser } from './cache/collapse.js';
import { createMemoryStore } from './cache/memory-store.js';
import type { CacheStore } from './cache/store.js';
import { createTieredStore, diskFolder } from './cache/tiered-store.js';
import { compressionRules } from './compress.js';
import type { EdgeContext } from './context.js';
import { installFastPath } from './fast-path.js';
import type { FillHead } from './fill.js';
import { createRequestHandler } from './handler.js';
import { createOriginClient } from './origin.js';
import { PurgeFence } from './purge-fence.js';
import { ALLOWED_METHODS } from './respond.js';
import { buildSiteTable } from './sites.js';
import { createStats } from './stats.js';
import { type TlsCertificates, createTlsCertificates } from './tls.js';

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
  /** Overrides the configured HTTPS listen address (`edge.pops.<name>.tls_listen`, `edge.tls.listen`). */
  readonly tlsListen?: string;
  /** Resolves certificate paths written in the config (relative to the config file); default: as written. */
  readonly resolvePath?: (p: string) => string;
}

export interface EdgeServer {
  readonly server: Server;
  /** The HTTPS server (HTTP/2 and HTTP/1.1 by ALPN) when `edge.tls` is configured. */
  readonly tlsServer: Http2SecureServer | HttpsServer | undefined;
  /** The certificates in use, when `edge.tls` is configured; `reload()` reads the files again. */
  readonly certificates: TlsCertificates | undefined;
  readonly context: EdgeContext;
  /** Serves these sites from now on (a reload); the cache, connections and the edge section stay as they are. */
  replaceSites(sites: SitesSection): void;
  /** Resolves with the bound address once listening (`tls`: the HTTPS one). */
  listen(): Promise<{ host: string; port: number; tls?: { host: string; port: number } }>;
  /**
   * Stops. With `graceMs`, as on SIGTERM: no new connections, idle ones closed, and the
   * responses in flight finish (up to `graceMs`) before the rest is cut; without, at once.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** node's response in progress on a connection (`socket._httpMessage`), as far as a refusal must wait for it. */
type InFlightResponse = {
  readonly req: { readonly complete: boolean };
  readonly writableFinished: boolean;
  readonly _last: boolean;
  once(event: 'finish', listener: () => void): unknown;
};

/** What node's parser says about a request it refused: its code, and the bytes it was reading. */
type ParseError = Error & { code?: string; rawPacket?: Buffer; bytesParsed?: number };

/** The request head the parser was in when it failed: from the end of the last whole head in its buffer. */
function failedHead(err: ParseError): string {
  const raw = err.rawPacket;
  if (!raw) return '';
  const text = raw.toString('latin1', 0, Math.min(raw.length, err.bytesParsed ?? raw.length));
  const previous = text.lastIndexOf('\r\n\r\n');
  return previous < 0 ? text : text.slice(previous + 4);
}

/** Status and reason for a request node's parser refused (RFC 9112 §2.2, RFC 9110 §15.5.15, §15.6.6, RFC 6585 §5). */
function clientErrorStatus(err: ParseError): [number, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      // The limit ran out inside the request line: the URI is what is too long (as nginx answers).
      return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^\n]*$/.test(failedHead(err)) ? [414, 'URI Too Long'] : [431, 'Request Header Fields Too Large'];
    case 'HPE_INVALID_VERSION':
      // A well-formed version of another major (HTTP/2.0, HTTP/3) on this HTTP/1.1 port; anything else is bad syntax.
      return /^[^\r\n]* HTTP\/[2-9](\.\d)?$/.test(failedHead(err)) ? [505, 'HTTP Version Not Supported'] : [400, 'Bad Request'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'Content Too Large'];
    default:
      return [400, 'Bad Request'];
  }
}

export function createEdgeServer(opts: EdgeOptions): EdgeServer {
  const { config, log } = opts;
  const edge = config.edge;
  const now = opts.now ?? Date.now;
  const name = edge.name ?? (opts.pop ? `geocdn-${opts.pop}` : 'geocdn');
  const listenText = opts.listen ?? (opts.pop ? edge.pops[opts.pop]?.listen : undefined) ?? edge.listen;
  parseListen(listenText); // a bad address fails here, before anything listens
  const t = edge.origin_timeouts;
  const stats = createStats(now());
  const memory = (): CacheStore => createMemoryStore(edge.memory_size, edge.max_object_size);
  const tiered =
    !opts.store && edge.disk
      ? createTieredStore(memory(), { dir: diskFolder(edge.disk.path, opts.pop), maxBytes: edge.disk.size, maxObjectBytes: edge.disk.max_object_size, readWholeMax: edge.max_object_size, log })
      : undefined;
  const collapser = new Collapser<FillHead>();
  const context: EdgeContext = {
    sites: buildSiteTable(config.sites, edge),
    store: opts.store ?? tiered ?? memory(),
    origins: createOriginClient({ connectMs: t.connect_ms, headersMs: t.headers_ms, bodyMs: t.body_ms }, edge.origin_connections, now, (s) => stats.originLatency.observe(s)),
    collapser,
    fence: new PurgeFence(collapser),
    id: { name, via: `1.1 ${name}` },
    stats,
    log,
    now,
    heuristicMax: edge.heuristic_max_s,
    healthPath: edge.health_path,
    pop: opts.pop,
    accessLog: edge.access_log && log.isLevelEnabled('info'),
    compression: compressionRules(edge.compression),
  };
  const httpOptions = { maxHeaderSize: edge.max_header_size, requestTimeout: 60_000, headersTimeout: edge.client_header_timeout_ms, keepAliveTimeout: 30_000, joinDuplicateHeaders: false };
  const server = createServer(httpOptions, createRequestHandler(context));
  // node drops the fields after the 2000th without a word (an Authorization there would be lost, and the
  // request answered from cache); max_header_size bounds the head instead, as nginx's buffers do.
  server.maxHeadersCount = 0;
  // nginx's send_timeout: node's socket timeout counts the time with nothing read or written, and
  // with no 'timeout' listener destroys the socket. Between requests keepAliveTimeout rules instead.
  const sendTimeoutMs = Math.max(edge.client_send_timeout_ms, t.connect_ms + t.headers_ms, t.body_ms);
  server.setTimeout(sendTimeoutMs);
  if (edge.fast_path) installFastPath(server, context, { maxHeaderSize: edge.max_header_size, headersTimeout: httpOptions.headersTimeout, keepAliveTimeout: httpOptions.keepAliveTimeout });
  function refuseBadRequest(err: ParseError, socket: Socket): void {
    if (!socket.writable) return void socket.destroy();
    // Bytes after a request that closes the connection (HTTP/1.0, HTTP/2.0, `close`) are not read (RFC 9112 §9.6):
    // that request's answer, maybe still queued, ends the connection; a 400 here would take its place.
    if (err.code === 'HPE_CLOSED_CONNECTION') return void socket.pause();
    const current = (socket as unknown as { _httpMessage?: InFlightResponse | null })._httpMessage;
    if (current && !current.writableFinished && current.req.complete) {
      // The answer to an earlier pipelined request is still on its way (from the origin, from disk):
      // the refusal follows it, never cuts into it or overtakes it. (An incomplete request is the one refused.)
      socket.pause();
      current.once('finish', () => setImmediate(() => refuseBadRequest(err, socket)));
      return;
    }
    // llhttp refuses some requests (a Transfer-Encoding not ending in chunked) only after their head reached the
    // handler, which has then refused them itself and closes the connection: no second response after that one.
    if (current?._last) return void socket.end();
    const [status, reason] = clientErrorStatus(err);
    log.debug({ code: err.code, status }, 'bad request refused');
    // Never forwarded, and the connection is closed: what follows on it cannot be framed safely.
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-length: 0\r\nconnection: close\r\nvia: ${context.id.via}\r\n\r\n`);
  }
  server.on('clientError', refuseBadRequest);
  // node hands CONNECT to this event, not to the request handler; without it the socket is just dropped.
  server.on('connect', (_req: unknown, socket: Socket) => {
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\nallow: ${ALLOWED_METHODS}\r\ncontent-length: 0\r\nconnection: close\r\nvia: ${context.id.via}\r\n\r\n`);
  });

  const tls = edge.tls;
  let tlsServer: Http2SecureServer | HttpsServer | undefined;
  let certificates: TlsCertificates | undefined;
  const tlsListenText = opts.tlsListen ?? (opts.pop ? edge.pops[opts.pop]?.tls_listen : undefined) ?? tls?.listen;
  const tlsSockets = new Set<Socket>();
  const h2Sessions = new Set<ServerHttp2Session>();
  if (tls && tlsListenText) {
    const resolvePath = opts.resolvePath ?? ((p: string) => p);
    certificates = createTlsCertificates(
      tls.certificates.map((c) => ({ cert: resolvePath(c.cert), key: resolvePath(c.key) })),
      { log, watch: tls.watch, onChange: (set) => tlsServer?.setSecureContext({ cert: set.fallback.cert, key: set.fallback.key }) },
    );
    const fallback = certificates.current().fallback;
    // A client that stalls in the TLS handshake is closed as one that stalls before its request head (nginx: client_header_timeout).
    const secure = { cert: fallback.cert, key: fallback.key, SNICallback: certificates.sni, handshakeTimeout: edge.client_header_timeout_ms };
    const handler = createRequestHandler(context, 'https');
    if (tls.http2) {
      // One handler for both: the HTTP/2 compatibility API gives it request/response objects of the same shape.
      // node also resets a stream after 128 fields (ENHANCE_YOUR_CALM); as on HTTP/1.1 only the size bounds them,
      // and no list within it has more than one field per 32 octets (RFC 9113 §6.5.2). A larger list gets its
      // stream reset (ENHANCE_YOUR_CALM) before it reaches the handler.
      // Streams in flight per connection are bounded as nginx bounds them (node has no limit of its own). A client
      // holds its requests past the limit; streams it sends past it before it acknowledged the SETTINGS are
      // refused (REFUSED_STREAM, safe to retry), after that nghttp2 makes it a connection error.
      const settings = { maxHeaderListSize: edge.max_header_size, maxConcurrentStreams: tls.http2_max_concurrent_streams };
      const h2 = createSecureServer({ ...secure, allowHTTP1: true, maxHeaderListPairs: Math.ceil(edge.max_header_size / 32), settings });
      // http/1.1 by ALPN goes to node's HTTP/1 parser with node's defaults (16 KiB heads, 60 s, the fields after
      // the 2000th dropped) unless the server carries the limits of the plain port.
      Object.assign(h2, { ...httpOptions, maxHeadersCount: 0, connectionsCheckingInterval: Math.min(30_000, httpOptions.headersTimeout / 2) });
      h2.on('request', handler as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void);
      // node answers CONNECT itself (405 without Allow) unless someone listens: the handler refuses it as on HTTP/1.1.
      h2.on('connect', handler as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void);
      // An idle session (no stream for this long) is closed, as keepAliveTimeout does for HTTP/1.1.
      h2.setTimeout(120_000);
      // A stream its client stopped reading is cancelled; the session and its other streams go on.
      h2.on('stream', (stream: ServerHttp2Stream) => {
        stream.setTimeout(sendTimeoutMs, () => stream.close(http2Constants.NGHTTP2_CANCEL));
      });
      // A client that breaks the protocol (a header block past nghttp2's limits, a reset flood) loses its connection.
      h2.on('sessionError', (err: Error) => log.debug({ err: err.message }, 'HTTP/2 connection closed for a protocol error'));
      h2.on('session', (session) => {
        h2Sessions.add(session);
        // The client preface (its SETTINGS) is due as a request head is: a session without one is closed.
        const preface = setTimeout(() => session.destroy(), edge.client_header_timeout_ms);
        session.once('remoteSettings', () => clearTimeout(preface));
        session.once('close', () => {
          clearTimeout(preface);
          h2Sessions.delete(session);
        });
      });
      tlsServer = h2;
    } else {
      tlsServer = createHttpsServer({ ...secure, ...httpOptions }, handler);
      tlsServer.setTimeout(sendTimeoutMs);
    }
    tlsServer.on('clientError', refuseBadRequest);
    // With a listener here node leaves the socket open (a handshake that timed out stayed connected): close it.
    tlsServer.on('tlsClientError', (e: Error & { code?: string }, socket: Socket) => {
      log.debug({ code: e.code, err: e.message }, 'TLS handshake failed');
      socket.destroy();
    });
    tlsServer.on('connection', (s: Socket) => {
      tlsSockets.add(s);
      s.once('close', () => tlsSockets.delete(s));
    });
  }
  const ticker = setInterval(() => context.stats.tick(now()), 1000);
  ticker.unref();

  function listenOn(srv: Server | Http2SecureServer | HttpsServer, text: string): Promise<{ host: string; port: number }> {
    const at = parseListen(text);
    return new Promise((resolve, reject) => {
      srv.once('error', (e: Error) => reject(new GeocdnError('GEOCDN_LISTEN', `edge cannot listen on ${text}: ${e.message}`)));
      srv.listen(at.port, at.host, () => {
        const a = srv.address();
        resolve(typeof a === 'object' && a ? { host: a.address, port: a.port } : at);
      });
    });
  }

  return {
    server,
    tlsServer,
    certificates,
    context,
    replaceSites(sites: SitesSection): void {
      context.sites.replaceWith(buildSiteTable(sites, edge));
    },
    async listen() {
      // The disk index is rebuilt before the first request: cached objects are HITs from the start.
      await tiered?.disk.ready;
      const plain = await listenOn(server, listenText);
      if (!tlsServer || !tlsListenText) return plain;
      return { ...plain, tls: await listenOn(tlsServer, tlsListenText) };
    },
    async close(options = {}): Promise<void> {
      clearInterval(ticker);
      certificates?.close();
      const closing = [new Promise<void>((resolve) => server.close(() => resolve()))];
      if (tlsServer?.listening) {
        const srv = tlsServer;
        closing.push(new Promise<void>((resolve) => srv.close(() => resolve())));
      }
      const cutAll = (): void => {
        server.closeAllConnections();
        for (const s of tlsSockets) s.destroy();
      };
      if (options.graceMs && options.graceMs > 0) {
        // A kept-alive connection becomes idle when its response is done: close those as they come.
        // HTTP/2 sessions get GOAWAY: their open streams finish, no new ones start.
        for (const session of h2Sessions) session.close();
        const idle = setInterval(() => {
          server.closeIdleConnections();
          if (tlsServer && 'closeIdleConnections' in tlsServer) tlsServer.closeIdleConnections();
        }, 100);
        const deadline = setTimeout(cutAll, options.graceMs);
        await Promise.all(closing);
        clearInterval(idle);
        clearTimeout(deadline);
      } else {
        cutAll();
        await Promise.all(closing);
      }
      await context.origins.close();
      await tiered?.close();
    },
  };
}
