import { spawnSync } from 'node:child_process';
import { type ClientHttp2Session, type ClientHttp2Stream, constants, connect as h2connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { type PeerCertificate, connect as tlsConnect } from 'node:tls';
import { selfSignedCertificate, writePemPair } from '../../src/demo/certificate.js';
import type { TestEdge } from './edge-harness.js';
import { tempDir } from './tmp.js';

/** An `edge.tls` section (loopback, any port, no file watch) with a new self-signed certificate for `names`. */
export async function testTlsSection(names: readonly string[] = ['www.example.test']): Promise<{ listen: string; watch: false; certificates: { cert: string; key: string }[] }> {
  const pems = writePemPair(await selfSignedCertificate([...names]), tempDir('geocdn-tls-'));
  return { listen: '127.0.0.1:0', watch: false, certificates: [{ cert: pems.cert, key: pems.key }] };
}

/** The HTTPS port of an edge started with `edge.tls`. */
export function tlsPort(edge: TestEdge): number {
  return (edge.tlsServer!.address() as AddressInfo).port;
}

/** Connects with a server name (SNI) and resolves with the certificate and protocol the edge chose. */
export function handshake(port: number, servername: string | undefined, alpn?: string[]): Promise<{ cert: PeerCertificate; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false, ALPNProtocols: alpn }, () => {
      const cert = s.getPeerCertificate();
      const proto = s.alpnProtocol ?? false;
      s.end();
      resolve({ cert, alpn: proto });
    });
    s.on('error', reject);
  });
}

export interface H2Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One HTTP/2 request on a session. */
export function h2get(session: ClientHttp2Session, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string | Buffer): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': method, ':path': path, ':authority': 'www.example.test', ...headers }, { endStream: body === undefined });
    let status = 0;
    let h: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    req.on('response', (r) => {
      status = Number(r[':status']);
      h = r as Record<string, string | string[] | undefined>;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, headers: h, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

export function h2session(port: number, servername = 'www.example.test'): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = h2connect(`https://127.0.0.1:${port}`, { servername, rejectUnauthorized: false });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Does the installed curl speak HTTP/2 (its `curl -V` features list HTTP2)? */
export function curlHasHttp2(): boolean {
  const r = spawnSync('curl', ['-V'], { encoding: 'utf8' });
  return r.status === 0 && /^Features:.*\bHTTP2\b/m.test(r.stdout);
}

export const NO_CURL_HTTP2 = 'curl with HTTP/2 support is not installed (Debian: apt-get install curl)';

/** Polls `cond` every 25 ms for up to 10 s. */
export async function eventually(cond: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sends `head` on a TLS connection with ALPN `http/1.1` and resolves with all it receives until the edge closes it (or `giveUpMs`). */
export function tlsHttp1(port: number, head: string, giveUpMs = 10_000): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const s = tlsConnect({ port, host: '127.0.0.1', servername: 'www.example.test', ALPNProtocols: ['http/1.1'], rejectUnauthorized: false }, () => s.write(head));
    let text = '';
    const giveUp = setTimeout(() => s.destroy(), giveUpMs);
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.on('close', () => {
      clearTimeout(giveUp);
      resolve({ text, ms: Date.now() - started });
    });
    s.on('error', reject);
  });
}

/**
 * Opens a stream for `path`, reads until at least `bytes` of its body arrived, then resets it
 * (RST_STREAM CANCEL); resolves with the bytes read. The reset is sent from a new macrotask:
 * node 20's HTTP/2 frees a stream reset from inside its own receive callback while it is still
 * reading it (nodejs/node#64113), which corrupts this test process's heap.
 */
export function h2reset(session: ClientHttp2Session, path: string, bytes: number, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'GET', ':path': path, ':authority': 'www.example.test', ...headers });
    let got = 0;
    req.on('error', reject);
    req.on('end', () => reject(new Error(`${path}: the whole body (${got} bytes) came before the reset`)));
    req.on('data', (c: Buffer) => {
      got += c.length;
      if (got < bytes || req.isPaused()) return;
      req.pause();
      setImmediate(() => {
        req.close(constants.NGHTTP2_CANCEL);
        resolve(got);
      });
    });
  });
}

/** A stream that stopped reading its body; `finish` reads the rest and resolves with the whole body. */
export interface StalledStream {
  readonly stream: ClientHttp2Stream;
  readonly headers: Record<string, string | string[] | undefined>;
  finish(): Promise<Buffer>;
}

/** A stream for `path` that stops reading once `bytes` of its body have arrived (0: at its head). */
export function h2stalled(session: ClientHttp2Session, path: string, bytes = 0, headers: Record<string, string> = {}): Promise<StalledStream> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'GET', ':path': path, ':authority': 'www.example.test', ...headers });
    const chunks: Buffer[] = [];
    let got = 0;
    let head: Record<string, string | string[] | undefined> = {};
    const ended = new Promise<Buffer>((done, fail) => {
      req.on('end', () => done(Buffer.concat(chunks)));
      req.on('error', fail);
    });
    ended.catch(reject);
    const stalled = (): void => {
      req.pause();
      resolve({ stream: req, headers: head, finish: () => (req.resume(), ended) });
    };
    req.on('response', (h) => {
      head = h as Record<string, string | string[] | undefined>;
      if (bytes === 0) stalled();
    });
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (bytes > 0 && got >= bytes && got - c.length < bytes) stalled();
    });
  });
}
