import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { createServer, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import { isIPv6 } from 'node:net';
import { GeocdnError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { type ListenAddress, parseListen } from '../core/listen.js';
import type { Responder } from './responder.js';

export interface DnsServerOptions {
  listen: string[];
  tcpIdleTimeoutMs: number;
  logger: Logger;
}

/** Most simultaneous TCP clients; beyond it new connections are refused (RFC 7766 §6.2.2). */
const MAX_TCP_CONNECTIONS = 1024;

/**
 * UDP and TCP listeners (RFC 1035 §4.2, RFC 7766) around one Responder.
 * The responder is synchronous, so TCP answers leave in the order queries came.
 */
export class DnsServer {
  private readonly udp: UdpSocket[] = [];
  private readonly tcp: TcpServer[] = [];
  private readonly connections = new Set<TcpSocket>();
  readonly bound: { udp: ListenAddress[]; tcp: ListenAddress[] } = { udp: [], tcp: [] };

  constructor(
    private readonly responder: Responder,
    private readonly options: DnsServerOptions,
  ) {}

  async start(): Promise<void> {
    for (const text of this.options.listen) {
      const addr = parseListen(text);
      await this.listenBoth(addr);
    }
  }

  /** Binds UDP and TCP on the same port; with port 0 the UDP port is chosen first and TCP follows it. */
  private async listenBoth(addr: ListenAddress): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const udp = await this.bindUdp(addr);
      const port = udp.address().port;
      try {
        const tcp = await this.bindTcp({ host: addr.host, port });
        this.udp.push(udp);
        this.tcp.push(tcp);
        this.bound.udp.push({ host: addr.host, port });
        this.bound.tcp.push({ host: addr.host, port });
        return;
      } catch (e) {
        udp.close();
        if (addr.port !== 0 || attempt >= 10) throw e;
      }
    }
  }

  private bindUdp(addr: ListenAddress): Promise<UdpSocket> {
    const v6 = isIPv6(addr.host);
    const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6, recvBufferSize: 4 << 20 });
    return new Promise((resolve, reject) => {
      socket.once('error', (e) => reject(listenError('UDP', addr, e)));
      socket.bind(addr.port, addr.host, () => {
        socket.removeAllListeners('error');
        socket.on('error', (e) => this.options.logger.warn({ err: e }, 'UDP socket error'));
        socket.on('message', (msg, rinfo) => this.onUdp(socket, msg, rinfo));
        resolve(socket);
      });
    });
  }

  private onUdp(socket: UdpSocket, msg: Buffer, rinfo: RemoteInfo): void {
    let answer: Buffer | undefined;
    try {
      answer = this.responder.respond(msg, { tcp: false, address: rinfo.address, family: rinfo.family === 'IPv6' ? 6 : 4 });
    } catch (e) {
      this.options.logger.error({ err: e }, 'query failed');
      return;
    }
    this.responder.counters.answered(answer);
    if (answer) socket.send(answer, rinfo.port, rinfo.address);
  }

  private bindTcp(addr: ListenAddress): Promise<TcpServer> {
    const server = createServer({ noDelay: true }, (conn) => this.onTcp(conn));
    server.maxConnections = MAX_TCP_CONNECTIONS;
    return new Promise((resolve, reject) => {
      server.once('error', (e) => reject(listenError('TCP', addr, e)));
      server.listen({ port: addr.port, host: addr.host, ipv6Only: isIPv6(addr.host) }, () => {
        server.removeAllListeners('error');
        server.on('error', (e) => this.options.logger.warn({ err: e }, 'TCP server error'));
        resolve(server);
      });
    });
  }

  /** RFC 7766 §8: two-byte length prefix, several queries per connection, idle timeout. */
  private onTcp(conn: TcpSocket): void {
    this.connections.add(conn);
    conn.setTimeout(this.options.tcpIdleTimeoutMs, () => conn.destroy());
    conn.on('error', () => conn.destroy());
    conn.on('close', () => this.connections.delete(conn));
    const family = conn.remoteFamily === 'IPv6' ? 6 : 4;
    const address = conn.remoteAddress ?? '';
    let pending: Buffer = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        let answer: Buffer | undefined;
        try {
          answer = this.responder.respond(msg, { tcp: true, address, family });
        } catch (e) {
          this.options.logger.error({ err: e }, 'query failed');
        }
        this.responder.counters.answered(answer);
        if (!answer) {
          // Nothing sensible to say (not a query): end the conversation rather than leave it hanging.
          if (out.length) conn.write(Buffer.concat(out));
          conn.end();
          return;
        }
        const framed = Buffer.allocUnsafe(2 + answer.length);
        framed.writeUInt16BE(answer.length, 0);
        answer.copy(framed, 2);
        out.push(framed);
      }
      if (out.length) conn.write(out.length === 1 ? out[0] : Buffer.concat(out));
    });
  }

  async stop(): Promise<void> {
    for (const s of this.udp) s.close();
    for (const c of this.connections) c.destroy();
    await Promise.all(this.tcp.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.udp.length = 0;
    this.tcp.length = 0;
  }
}

function listenError(proto: string, addr: ListenAddress, e: Error): GeocdnError {
  const code = (e as NodeJS.ErrnoException).code;
  const hint = code === 'EACCES' ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE' : code === 'EADDRINUSE' ? 'another server uses this port' : undefined;
  return new GeocdnError('GEOCDN_LISTEN', `cannot listen on ${proto} ${addr.host}:${addr.port}: ${e.message}`, undefined, hint);
}
