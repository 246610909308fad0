import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GeocdnError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { parseListen } from '../core/listen.js';
import { bearerMatches } from './auth.js';
import type { AdminResponse, AdminRouter } from './router.js';

export interface AdminServerOptions {
  /** `host:port`; loopback unless the config says otherwise. */
  listen: string;
  token: string;
  router: AdminRouter;
  logger?: Logger;
}

/** The admin API: JSON over HTTP, every request with the bearer token (401 without it). */
export class AdminServer {
  private readonly server: Server;

  private constructor(
    private readonly options: AdminServerOptions,
    readonly address: { host: string; port: number },
    server: Server,
  ) {
    this.server = server;
  }

  static async start(options: AdminServerOptions): Promise<AdminServer> {
    const addr = parseListen(options.listen);
    const server = createServer((req, res) => void handle(options, req, res));
    server.headersTimeout = 5_000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new GeocdnError('GEOCDN_LISTEN', `cannot listen on admin ${addr.host}:${addr.port}: ${e.message}`, undefined, e.code === 'EADDRINUSE' ? 'another server uses this port; set admin.listen' : undefined)),
      );
      server.listen(addr.port, addr.host, () => resolve());
    });
    const bound = server.address() as AddressInfo;
    return new AdminServer(options, { host: bound.address, port: bound.port }, server);
  }

  /** `http://host:port` of the running server. */
  get url(): string {
    const h = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `http://${h}:${this.address.port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.options.logger?.debug({ url: this.url }, 'admin API stopped');
  }
}

async function handle(options: AdminServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let out: AdminResponse;
  try {
    const url = new URL(req.url ?? '/', 'http://admin');
    const found = options.router.match(req.method ?? 'GET', url.pathname);
    const isPublic = 'handler' in found && found.public;
    if (!isPublic && !bearerMatches(req.headers.authorization, options.token)) {
      // RFC 6750 §3.1: a token that was sent but is not the one is `invalid_token`, and the message says so.
      const sent = /^Bearer[ \t]+\S/i.test(req.headers.authorization ?? '');
      res.setHeader('www-authenticate', sent ? 'Bearer realm="geocdn", error="invalid_token"' : 'Bearer realm="geocdn"');
      const message = sent ? 'the bearer token does not match this node\'s (admin.token or GEOCDN_ADMIN_TOKEN)' : 'a bearer token is required (admin.token or GEOCDN_ADMIN_TOKEN)';
      out = { status: 401, body: { error: 'GEOCDN_ADMIN_UNAUTHORIZED', message } };
    } else if ('handler' in found) out = await found.handler({ req, params: found.params, query: url.searchParams });
    else if (found.allowed.length > 0) {
      res.setHeader('allow', found.allowed.join(', '));
      out = { status: 405, body: { error: 'GEOCDN_ADMIN_METHOD', message: `use ${found.allowed.join(' or ')}` } };
    } else out = { status: 404, body: { error: 'GEOCDN_ADMIN_NOT_FOUND', message: `no endpoint ${url.pathname}` } };
  } catch (e) {
    options.logger?.error({ err: e }, 'admin request failed');
    out = { status: 500, body: { error: 'GEOCDN_ADMIN_INTERNAL', message: String((e as Error).message ?? e) } };
  }
  const body = out.contentType === undefined ? JSON.stringify(out.body) : out.body;
  res.writeHead(out.status, {
    ...out.headers,
    'content-type': out.contentType ?? 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
