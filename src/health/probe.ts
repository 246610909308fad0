import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Clock } from './clock.js';
import { parseLoadReport, type LoadReport } from './load.js';

/** The body of a health answer beyond this is not read. */
const MAX_BODY = 64 * 1024;

export interface ProbeResult {
  ok: boolean;
  /** `http 200`, `connect ECONNREFUSED`, `timeout after 1000 ms`... */
  reason: string;
  load: LoadReport | undefined;
}

export interface ProbeTarget {
  /** Edge base URL, `http://127.0.0.2:8080`. */
  edge: string;
  /** Health path on the edge. */
  path: string;
  timeoutMs: number;
  /** Also a plain TCP connect to the edge's port. */
  tcp: boolean;
}

/** How a probe is made; tests may pass their own. */
export type Prober = (target: ProbeTarget, clock: Clock) => Promise<ProbeResult>;

/**
 * GET of the edge's health path: a 2xx answers "up", with the load it
 * reports; anything else, or no answer within the timeout, "down".
 */
export const probeEdge: Prober = async (target, clock) => {
  const ac = new AbortController();
  const timer = clock.setTimeout(() => ac.abort(), target.timeoutMs);
  try {
    if (target.tcp) {
      const tcp = await tcpConnect(target.edge, ac.signal);
      if (tcp) return { ok: false, reason: tcp, load: undefined };
    }
    return await httpProbe(target, ac.signal);
  } catch (e) {
    if (ac.signal.aborted) return { ok: false, reason: `timeout after ${target.timeoutMs} ms`, load: undefined };
    return { ok: false, reason: errorReason(e), load: undefined };
  } finally {
    clock.clearTimeout(timer);
  }
};

function httpProbe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  const url = new URL(target.path, target.edge);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, signal, headers: { 'user-agent': 'geocdn-health', accept: 'application/json' } });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) return resolve({ ok: false, reason: `http ${status}`, load: undefined });
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return resolve({ ok: true, reason: `http ${status}`, load: undefined });
        }
        const said = (body as { status?: unknown } | null)?.status;
        if (typeof said === 'string' && said !== 'ok') return resolve({ ok: false, reason: `edge says ${said.slice(0, 40)}`, load: undefined });
        resolve({ ok: true, reason: `http ${status}`, load: parseLoadReport(body) });
      });
    });
    req.end();
  });
}

/** Undefined when the connect succeeds, else why not. */
function tcpConnect(edge: string, signal: AbortSignal): Promise<string | undefined> {
  const url = new URL(edge);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (e) => (signal.aborted ? reject(e) : resolve(`tcp ${errorReason(e)}`)));
  });
}

function errorReason(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? `connect ${code}` : String((e as Error).message ?? e).slice(0, 80);
}
