import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { HeaderMap } from './cache/freshness.js';

export interface OriginTimeouts {
  readonly connectMs: number;
  readonly headersMs: number;
  readonly bodyMs: number;
}

export interface OriginRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body?: Readable;
}

export interface OriginResponse {
  readonly status: number;
  readonly headers: HeaderMap;
  readonly body: Readable;
  /** When the request was sent and the head received, ms (RFC 9111 §4.2.3 request_time / response_time). */
  readonly requestTime: number;
  readonly responseTime: number;
}

/** How an origin request failed before a response head arrived. */
export class OriginError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'timeout',
    override readonly cause: Error,
  ) {
    super(`origin ${kind}: ${cause.message}`);
    this.name = 'OriginError';
  }
}

export interface OriginState {
  readonly origin: string;
  readonly state: 'up' | 'down' | 'unknown';
  readonly consecutiveFailures: number;
  readonly lastError: string | undefined;
}

export interface OriginClient {
  request(origin: string, req: OriginRequest): Promise<OriginResponse>;
  states(): OriginState[];
  close(): Promise<void>;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT', 'GEOCDN_ORIGIN_HEAD_DEADLINE']);

/** No response head within connect_ms + headers_ms of asking, the wait for a connection included. */
class HeadDeadlineError extends Error {
  readonly code = 'GEOCDN_ORIGIN_HEAD_DEADLINE';
  constructor(ms: number) {
    super(`no response head within ${ms} ms`);
  }
}

/** One keep-alive undici Pool per origin; the clock is injected for the request/response times. */
export function createOriginClient(
  timeouts: OriginTimeouts,
  connections: number,
  now: () => number = Date.now,
  /** Seconds from request to response head, for each head received (metrics). */
  onHead?: (seconds: number) => void,
): OriginClient {
  const pools = new Map<string, Pool>();
  const health = new Map<string, { failures: number; lastError: string | undefined; seen: boolean }>();

  function poolFor(origin: string): Pool {
    let p = pools.get(origin);
    if (!p) {
      p = new Pool(origin, {
        connections,
        connect: { timeout: timeouts.connectMs },
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
        keepAliveTimeout: 30_000,
      });
      pools.set(origin, p);
    }
    return p;
  }

  function record(origin: string, error: string | undefined): void {
    let h = health.get(origin);
    if (!h) health.set(origin, (h = { failures: 0, lastError: undefined, seen: false }));
    h.seen = true;
    if (error === undefined) h.failures = 0;
    else {
      h.failures++;
      h.lastError = error;
    }
  }

  return {
    async request(origin: string, req: OriginRequest): Promise<OriginResponse> {
      const requestTime = now();
      const started = onHead ? performance.now() : 0;
      // undici's timeouts start once a connection is ours: behind a hung origin the wait for one of the
      // pool's connections grows with the queue. A request without a body gets its head within
      // connect_ms + headers_ms of asking, queue included (one with a body is as long as its upload).
      const deadline = req.body ? undefined : new AbortController();
      const timer = deadline && setTimeout(() => deadline.abort(new HeadDeadlineError(timeouts.connectMs + timeouts.headersMs)), timeouts.connectMs + timeouts.headersMs);
      try {
        const r = await poolFor(origin).request({
          method: req.method as 'GET',
          path: req.path,
          headers: req.headers,
          body: req.body ?? null,
          ...(deadline ? { signal: deadline.signal } : {}),
        });
        record(origin, r.statusCode >= 500 ? `status ${r.statusCode}` : undefined);
        onHead?.((performance.now() - started) / 1000);
        return { status: r.statusCode, headers: r.headers, body: r.body, requestTime, responseTime: now() };
      } catch (e) {
        const err = (deadline?.signal.aborted ? deadline.signal.reason : e) as Error & { code?: string };
        record(origin, err.code ?? err.message);
        throw new OriginError(TIMEOUT_CODES.has(err.code ?? '') ? 'timeout' : 'unreachable', err);
      } finally {
        clearTimeout(timer);
      }
    },
    states(): OriginState[] {
      return [...pools.keys()].map((origin) => {
        const h = health.get(origin);
        return {
          origin,
          state: !h?.seen ? 'unknown' : h.failures > 0 ? 'down' : 'up',
          consecutiveFailures: h?.failures ?? 0,
          lastError: h?.lastError,
        };
      });
    },
    async close(): Promise<void> {
      await Promise.all([...pools.values()].map((p) => p.destroy()));
      pools.clear();
    },
  };
}
