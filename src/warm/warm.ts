import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { GeocdnError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';

/** One POP's edge, as `pops.<name>.edge` names it. */
export interface WarmTarget {
  pop: string;
  /** `http://127.0.0.2:8080` */
  edge: string;
}

export interface WarmOptions {
  urls: readonly URL[];
  targets: readonly WarmTarget[];
  /** Requests in flight at once, over all POPs. */
  concurrency: number;
  timeoutMs: number;
  /** Extra request fields (an `Accept-Encoding` to warm that variant). */
  headers?: Readonly<Record<string, string>>;
  progress?: Progress;
}

/** What one POP did with the list. */
export interface PopSummary {
  pop: string;
  edge: string;
  /** Requests answered (any status). */
  fetched: number;
  /** X-Cache-Status of each answer (`NONE` when the edge sent none). */
  statuses: Record<string, number>;
  /** No answer, or an HTTP status of 400 and above. */
  errors: number;
  bytes: number;
  /** The first few errors, `URL: why`. */
  errorSamples: string[];
}

const MAX_SAMPLES = 5;

/**
 * Reads a URL list: one absolute http(s) URL a line; blank lines and lines
 * starting with `#` are skipped. Every bad line is reported with file:line.
 */
export function parseUrlList(text: string, file: string): URL[] {
  const urls: URL[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let url: URL | undefined;
    try {
      url = new URL(line);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new GeocdnError('GEOCDN_USAGE', `not an http(s) URL: "${line.slice(0, 100)}"`, { file, line: i + 1 }, 'one absolute URL a line, e.g. http://cdn.example.test/index.html');
    }
    urls.push(url);
  }
  return urls;
}

/**
 * Fetches every URL through every POP's edge, `concurrency` requests at a
 * time. Jobs are interleaved (URL 1 on each POP, then URL 2…), so every
 * POP moves forward together and a slow one shows early. Bodies are read
 * to the end: the edge stores an object only once it has it whole.
 */
export async function warm(options: WarmOptions): Promise<PopSummary[]> {
  const summaries = options.targets.map((t): PopSummary => ({ pop: t.pop, edge: t.edge, fetched: 0, statuses: {}, errors: 0, bytes: 0, errorSamples: [] }));
  const agents = options.targets.map((t) => {
    const opts = { keepAlive: true, maxSockets: options.concurrency };
    return new URL(t.edge).protocol === 'https:' ? new HttpsAgent(opts) : new HttpAgent(opts);
  });
  const total = options.urls.length * options.targets.length;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const job = next++;
      if (job >= total) return;
      const url = options.urls[Math.floor(job / options.targets.length)]!;
      const t = job % options.targets.length;
      const s = summaries[t]!;
      const r = await fetchThrough(options.targets[t]!.edge, url, agents[t]!, options.timeoutMs, options.headers ?? {});
      if (r.status !== undefined) {
        s.fetched++;
        s.bytes += r.bytes;
        s.statuses[r.cacheStatus] = (s.statuses[r.cacheStatus] ?? 0) + 1;
      }
      const error = r.error ?? (r.status !== undefined && r.status >= 400 ? `HTTP ${r.status}` : undefined);
      if (error !== undefined) {
        s.errors++;
        if (s.errorSamples.length < MAX_SAMPLES) s.errorSamples.push(`${url.href}: ${error}`);
      }
      const errors = summaries.reduce((n, x) => n + x.errors, 0);
      options.progress?.tick(1, errors > 0 ? `${errors} error(s)` : undefined);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, total)) }, worker));
  } finally {
    for (const a of agents) a.destroy();
  }
  return summaries;
}

interface FetchResult {
  status: number | undefined;
  cacheStatus: string;
  bytes: number;
  error: string | undefined;
}

/** GET of `url` from one edge: connect to the edge, ask for the URL's host and path. */
function fetchThrough(edge: string, url: URL, agent: HttpAgent, timeoutMs: number, headers: Readonly<Record<string, string>>): Promise<FetchResult> {
  const base = new URL(edge);
  const request = base.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const fail = (error: string) => resolve({ status: undefined, cacheStatus: 'NONE', bytes: 0, error });
    const req = request(
      {
        protocol: base.protocol,
        hostname: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port || (base.protocol === 'https:' ? 443 : 80),
        method: 'GET',
        path: `${url.pathname}${url.search}`,
        agent,
        // The edge picks the site by Host; with TLS the name it should present is the URL's.
        ...(base.protocol === 'https:' ? { servername: url.hostname } : {}),
        headers: { ...headers, host: url.host, 'user-agent': 'geocdn-warm' },
        timeout: timeoutMs,
      },
      (res: IncomingMessage) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => {
          const xcs = res.headers['x-cache-status'];
          resolve({ status: res.statusCode ?? 0, cacheStatus: (Array.isArray(xcs) ? xcs[0] : xcs)?.toUpperCase() ?? 'NONE', bytes, error: undefined });
        });
        res.on('error', (e) => fail(describe(e)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => fail(describe(e)));
    req.end();
  });
}

function describe(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code !== 'ERR_STREAM_PREMATURE_CLOSE' ? code : String((e as Error).message ?? e).slice(0, 80);
}

/** The summary table: one row per POP, the cache statuses seen, errors. */
export function formatSummary(summaries: readonly PopSummary[], urlCount: number): string {
  const statuses = [...new Set(['HIT', 'MISS', ...summaries.flatMap((s) => Object.keys(s.statuses))])];
  const head = ['POP', 'EDGE', 'FETCHED', ...statuses, 'ERRORS'];
  const rows = summaries.map((s) => [s.pop, s.edge, `${s.fetched}/${urlCount}`, ...statuses.map((k) => String(s.statuses[k] ?? 0)), String(s.errors)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [fmt(head), ...rows.map(fmt)];
  for (const s of summaries) for (const e of s.errorSamples) out.push(`${s.pop}: ${e}`);
  return out.join('\n');
}
