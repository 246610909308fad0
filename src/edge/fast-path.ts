import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { type CacheOutcome, type RequestCacheControl, decideLookup } from './cache/decision.js';
import { currentAge } from './cache/freshness.js';
import { fullKey, primaryKey, secondaryKey } from './cache/keys.js';
import type { StoredObject } from './cache/store.js';
import type { EdgeContext } from './context.js';
import { type SimpleRequest, parseSimpleRequest } from './fast-parse.js';
import { storedHead } from './respond.js';
import { type Site, bypassRule, siteLookup } from './sites.js';

/**
 * The raw fast path (`edge.fast_path`, on by default) for plain-HTTP connections.
 *
 * Why it exists: at 1 KiB a bare `node:http` server writing a fixed buffer is no
 * faster than the whole edge; node's parser and its IncomingMessage /
 * ServerResponse objects are the ceiling, well below nginx. So the edge reads
 * each connection's bytes first: a complete, simple GET/HEAD head (fast-parse.ts)
 * whose answer is a fresh HIT held in memory is answered here with the stored,
 * pre-serialized head and body. The first request it does not fully understand
 * or cannot answer as a HIT (a miss, stale, conditional, Range, bodies, bad or
 * incomplete bytes…) hands the connection to node's HTTP server from that
 * request's first byte, and node keeps it from then on: every refusal
 * (400, 431, smuggling) and every other behaviour stays node's. One clock
 * goes along: the time a first request head has, counted from the connection.
 */

export interface FastPathOptions {
  /** Heads larger than this go to node's parser (which answers 431). */
  readonly maxHeaderSize: number;
  /**
   * A new connection whose first request head is not whole this long after it connected gets
   * 408: node's `headersTimeout`, the same value as the server's (the wait goes on across a hand-off).
   */
  readonly headersTimeout: number;
  /** An idle kept-alive connection is closed after this long, as node's `keepAliveTimeout`. */
  readonly keepAliveTimeout: number;
}

type ConnectionListener = (this: Server, socket: Socket) => void;

/** Bodies up to this size are copied behind their head into one buffer. */
const COPY_MAX = 16 * 1024;
/** Bytes of ready-made small responses kept (see `ready`). */
const READY_MAX_BYTES = 8 * 1024 * 1024;

const NO_CLIENT_CC: RequestCacheControl = { noCache: false, maxAge: undefined };

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}

/** The error node's server raises when a head takes too long (the edge's clientError handler answers 408). */
function requestTimeout(): Error {
  return Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
}

/**
 * Puts the fast path in front of `server`'s own connection handling. Idle
 * fast-path connections are closed with the server's (closeIdleConnections,
 * closeAllConnections).
 */
export function installFastPath(server: Server, ctx: EdgeContext, opts: FastPathOptions): void {
  const nodeListeners = server.listeners('connection') as ConnectionListener[];
  server.removeAllListeners('connection');
  const sockets = new Set<Socket>();
  const siteFor = siteLookup(ctx.sites);
  /**
   * The last whole response (head and small body) written for an object to a keep-alive
   * HTTP/1.1 GET: its head changes only with Age and the TTL in Cache-Status, once a second.
   * Bounded in bytes (these copies are outside the memory tier's budget): full, it starts over.
   */
  const ready = new Map<StoredObject, { readonly age: number; readonly ttl: number; readonly bytes: Buffer }>();
  let readyBytes = 0;
  /**
   * Connections handed to node before their first head was whole, each with the way to stop its
   * deadline. node's headersTimeout counts from when its parser got the connection: a client
   * silent here first would be given that wait twice. The deadline ends the head's time where it
   * would have ended had node had the connection from the start.
   */
  const headDeadlines = new Map<Socket, () => void>();

  function keepHeadDeadline(socket: Socket, connectedAt: number): void {
    const stop = (): void => {
      clearTimeout(timer);
      socket.removeListener('close', stop);
      headDeadlines.delete(socket);
    };
    const timer = setTimeout(() => {
      stop();
      if (!socket.destroyed) server.emit('clientError', requestTimeout(), socket);
    }, Math.max(0, opts.headersTimeout - (performance.now() - connectedAt)));
    socket.once('close', stop);
    headDeadlines.set(socket, stop);
  }

  // node has read a whole head on a connection it was handed: its deadline is met.
  server.on('request', (req: IncomingMessage) => {
    if (headDeadlines.size !== 0) headDeadlines.get(req.socket)?.();
  });

  function keepReady(obj: StoredObject, age: number, ttl: number, bytes: Buffer): void {
    const old = ready.get(obj);
    if (old !== undefined) readyBytes -= old.bytes.length;
    if (readyBytes + bytes.length > READY_MAX_BYTES) {
      ready.clear();
      readyBytes = 0;
    }
    ready.set(obj, { age, ttl, bytes });
    readyBytes += bytes.length;
  }

  /** Answers `rq` when it is a fresh in-memory HIT, exactly as the handler's writeStored would; false: node's job. */
  function serve(socket: Socket, rq: SimpleRequest): boolean {
    const startedAt = ctx.accessLog ? performance.now() : 0;
    if (rq.target === ctx.healthPath) return false;
    const site = siteFor(rq.host);
    if (site === undefined || bypassRule(site, rq.method, rq.target, rq.headers['cookie']) !== undefined) return false;
    const primary = primaryKey('http', site.name, rq.target, site.keyRules);
    const index = ctx.store.variants(primary);
    if (index === undefined || isPromise(index)) return false;
    const obj = ctx.store.get(fullKey(primary, secondaryKey(index.vary, rq.headers)));
    if (obj === undefined || isPromise(obj) || obj.body === undefined) return false;
    const now = ctx.now();
    const d = decideLookup(obj.meta.policy, NO_CLIENT_CC, now);
    if (d.kind !== 'hit') return false;
    const body = obj.body;
    let sent = 0;
    const usual = rq.method === 'GET' && rq.keepAlive && rq.minor === 1 && body.length > 0 && body.length <= COPY_MAX && obj.transient !== true;
    const age = usual ? currentAge(obj.meta.policy, now) : 0;
    const last = usual ? ready.get(obj) : undefined;
    if (last !== undefined && last.age === age && last.ttl === d.ttl) {
      // The same second as the last HIT of this object: the very same bytes.
      socket.write(last.bytes);
      sent = body.length;
    } else {
      const outcome: CacheOutcome = { status: 'HIT', ttl: d.ttl };
      const connection = rq.keepAlive ? (rq.minor === 0 ? 'connection: keep-alive\r\n' : '') : 'connection: close\r\n';
      const head = storedHead(obj, outcome, ctx.id, now, connection);
      if (rq.method !== 'GET' || body.length === 0) socket.write(head, 'latin1');
      else if (body.length <= COPY_MAX) {
        // One buffer, one write(2): cheaper than writev of two for small bodies.
        // A kept copy gets its own memory, not a slice that pins a shared pool block.
        const out = usual ? Buffer.allocUnsafeSlow(head.length + body.length) : Buffer.allocUnsafe(head.length + body.length);
        out.write(head, 0, 'latin1');
        body.copy(out, head.length);
        socket.write(out);
        sent = body.length;
        if (usual) keepReady(obj, age, d.ttl, out);
      } else {
        // Head and body in one writev (corks nest: pipelined responses still leave together).
        socket.cork();
        socket.write(head, 'latin1');
        socket.write(body);
        socket.uncork();
        sent = body.length;
      }
    }
    const stats = ctx.stats;
    stats.requests++;
    stats.statuses.HIT++;
    stats.bytes += sent;
    if (startedAt !== 0) {
      ctx.log.info(
        { client: socket.remoteAddress, method: rq.method, host: rq.host, url: rq.target, status: obj.meta.status, cache: 'HIT', ms: Math.round((performance.now() - startedAt) * 10) / 10 },
        'access',
      );
    }
    return true;
  }

  function accept(socket: Socket): void {
    const connectedAt = performance.now();
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(opts.headersTimeout);
    let served = 0;
    let closing = false;

    const onData = (chunk: Buffer): void => {
      if (closing) return;
      let at = 0;
      let corked = false;
      while (at < chunk.length) {
        const rq = parseSimpleRequest(chunk, at, opts.maxHeaderSize);
        // Pipelined requests: their responses leave together in one writev.
        if (!corked && rq !== undefined && rq.end < chunk.length) {
          socket.cork();
          corked = true;
        }
        if (rq === undefined || !serve(socket, rq)) {
          if (corked) socket.uncork();
          // A head not (yet) whole on a connection that has had no answer: node's clock would start again.
          if (rq === undefined && served === 0) keepHeadDeadline(socket, connectedAt);
          return handOff(at === 0 ? chunk : chunk.subarray(at));
        }
        if (served++ === 0) socket.setTimeout(opts.keepAliveTimeout);
        at = rq.end;
        if (!rq.keepAlive) {
          // RFC 9112 §9.6: nothing after a request with `close` is read.
          closing = true;
          if (corked) socket.uncork();
          socket.end();
          return;
        }
      }
      if (corked) socket.uncork();
      // Responses are queued faster than the client takes them: read no more until it catches up.
      if (socket.writableNeedDrain) {
        socket.pause();
        socket.once('drain', onDrain);
      }
    };
    const onDrain = (): void => void socket.resume();
    // allowHalfOpen: a client that ends its side gets ours ended too, as node's socketOnEnd does.
    const onEnd = (): void => void socket.end();
    const onTimeout = (): void => {
      if (served === 0 && !closing) {
        detach();
        server.emit('clientError', requestTimeout(), socket);
      } else socket.destroy();
    };
    const onError = (): void => void socket.destroy();
    const onClose = (): void => void sockets.delete(socket);

    // What the fast path listens to while it owns the connection ('drain' only while paused).
    const listeners = [
      ['data', onData],
      ['end', onEnd],
      ['timeout', onTimeout],
      ['error', onError],
      ['close', onClose],
    ] as const;

    function detach(): void {
      for (const [event, listener] of listeners) socket.removeListener(event, listener);
      socket.removeListener('drain', onDrain);
      socket.setTimeout(0);
      sockets.delete(socket);
    }

    /** node's server takes the connection from the first byte of `rest` on, for good. */
    function handOff(rest: Buffer): void {
      detach();
      socket.pause();
      socket.unshift(rest);
      // Keep node's parser on the stream's 'data' events (no direct consume of the handle), so the
      // bytes given back above are parsed first, then whatever arrives later, in order.
      const handle = (socket as unknown as { _handle?: { _consumed?: boolean } })._handle;
      if (handle) handle._consumed = true;
      for (const l of nodeListeners) l.call(server, socket);
      socket.resume();
    }

    for (const [event, listener] of listeners) socket.on(event, listener);
  }

  server.on('connection', accept);
  const closeAll = server.closeAllConnections.bind(server);
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeAllConnections = (): void => {
    closeAll();
    for (const s of sockets) s.destroy();
  };
  // A fast-path connection is idle whenever nothing it was sent is still waiting to be written.
  server.closeIdleConnections = (): void => {
    closeIdle();
    for (const s of sockets) if (s.writableLength === 0) s.destroy();
  };
}
