import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const HEALTH_PATH = '/.well-known/geocdn/health';

/**
 * A stand-in edge: answers the health path with the edge's JSON and a load
 * the test sets. It can be stopped and started again on the same address.
 */
export class FakeEdge {
  requestsPerSecond = 0;
  status = 'ok';
  httpStatus = 200;
  /** Never answer (for timeouts). */
  hang = false;
  probes = 0;
  private server: Server | undefined;
  private port = 0;

  constructor(readonly host = '127.0.0.1') {}

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.probes++;
      if (this.hang) return;
      if (req.url !== HEALTH_PATH) {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.stringify({ status: this.status, pop: null, in_flight: 1, requests_per_second: this.requestsPerSecond, bytes_per_second: this.requestsPerSecond * 1000, requests_total: 0, origins: [{ origin: 'http://127.0.0.1:9', state: 'up', consecutive_failures: 0, last_error: null }] });
      res.writeHead(this.httpStatus, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export async function startEdges(n: number): Promise<FakeEdge[]> {
  return Promise.all(Array.from({ length: n }, () => new FakeEdge().start()));
}
