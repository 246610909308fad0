import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { type CacheOutcome, cacheStatusValue } from './cache/decision.js';
import { currentAge } from './cache/freshness.js';
import type { OpenedBody, StoredObject } from './cache/store.js';
import { type HeaderList, flatHeaders, headerLines, http2Fields, notModifiedHeaders, statusLine } from './headers.js';
import { ResponseOut, isHttp2, writeWholeBody } from './response-out.js';

/** The parts of node's ServerResponse the fast path sets directly (node 20–24 internals). */
interface RawResponse {
  _header: string | null;
  _last: boolean;
  _hasBody: boolean;
}

/** The cache outcome a response was written with, read back once it finishes (stats, access log). */
export const OUTCOME: unique symbol = Symbol('geocdn.outcome');
export type WithOutcome = ServerResponse & { [OUTCOME]?: CacheOutcome };

function mark(res: ServerResponse, outcome: CacheOutcome): void {
  (res as WithOutcome)[OUTCOME] = outcome;
}

/** Identity of this cache in Via and Cache-Status. */
export interface Identity {
  readonly name: string;
  /** `1.1 <name>` */
  readonly via: string;
}

/**
 * The serialized head of a stored response up to the lines that change per
 * request (X-Cache-Status, Cache-Status, Age, Connection); built once per stored object.
 */
function storedPrefix(obj: StoredObject, id: Identity): string {
  if (typeof obj.derived === 'string') return obj.derived;
  const m = obj.meta;
  // RFC 9110 §8.6: no Content-Length on a 204
  const length = m.status === 204 ? '' : `content-length: ${m.bodySize}\r\n`;
  const prefix = `${statusLine(m.status)}${headerLines(m.headers)}${length}via: ${id.via}\r\n`;
  obj.derived = prefix;
  return prefix;
}

/**
 * The whole serialized head of a stored response: its prefix plus X-Cache-Status,
 * Cache-Status, Age and `connection` (a whole line, or empty). Also used by the raw fast path.
 */
export function storedHead(obj: StoredObject, outcome: CacheOutcome, id: Identity, now: number, connection: string): string {
  return (
    `${storedPrefix(obj, id)}x-cache-status: ${outcome.status}\r\ncache-status: ${cacheStatusValue(id.name, outcome)}\r\nage: ${currentAge(obj.meta.policy, now)}\r\n` +
    `${connection}\r\n`
  );
}

function connectionLine(res: ServerResponse): string {
  if (!res.shouldKeepAlive) {
    (res as unknown as RawResponse)._last = true;
    return 'connection: close\r\n';
  }
  return res.req.httpVersionMinor === 0 ? 'connection: keep-alive\r\n' : '';
}

/**
 * Writes a stored response: one pre-serialized head plus the few per-request lines,
 * and the body buffer, in one write; no header objects are built. A body not in memory
 * is read from `opened` (opened before this head, then released here) or else `obj.stream()`.
 */
export function writeStored(res: ServerResponse, obj: StoredObject, outcome: CacheOutcome, id: Identity, now: number, opened?: OpenedBody): number {
  const raw = res as unknown as RawResponse;
  // node's HTTP/1.1 response before its head is set; HTTP/2's compatibility response has no `_header`.
  if (raw._header !== null) return writeStoredFields(res, obj, outcome, id, now, opened);
  mark(res, outcome);
  raw._header = storedHead(obj, outcome, id, now, connectionLine(res));
  res.statusCode = obj.meta.status;
  return sendStoredBody(res, obj, raw._hasBody, opened);
}

/** The caller counts the bytes of a stored body itself. */
const noCount = (): void => undefined;

/** Ends a response whose head is set with the stored body (none for HEAD, 204, 304); returns the body bytes sent. */
function sendStoredBody(res: ServerResponse, obj: StoredObject, hasBody: boolean, opened: OpenedBody | undefined): number {
  if (!hasBody) {
    opened?.release();
    res.end();
    return 0;
  }
  if (isHttp2(res)) {
    // An HTTP/2 stream takes at once whatever it is handed: see ResponseOut.
    writeWholeBody(new ResponseOut(res, noCount), obj.body ?? (opened ?? obj).stream()).catch(() => res.destroy());
    opened?.release();
    return obj.meta.bodySize;
  }
  if (obj.body) {
    opened?.release();
    res.end(obj.body);
    return obj.body.length;
  }
  // A file opened before the head stays readable whatever happens to the object. One opened only
  // now can be gone or changed, and any can end early: the response then ends short of its
  // Content-Length (never a wrong body), and the file is closed when the client goes away.
  if (opened) opened.sendTo(res);
  else pipeline(obj.stream(), res, () => undefined);
  opened?.release();
  return obj.meta.bodySize;
}

/**
 * The same response through `writeHead` (HTTP/2: header fields, no status line, no
 * connection-specific fields, RFC 9113 §8.2.2).
 */
function writeStoredFields(res: ServerResponse, obj: StoredObject, outcome: CacheOutcome, id: Identity, now: number, opened: OpenedBody | undefined): number {
  const m = obj.meta;
  mark(res, outcome);
  const extra = cacheFields(outcome, id, currentAge(m.policy, now));
  if (m.status !== 204 && m.status !== 304) extra.push('content-length', String(m.bodySize));
  res.writeHead(m.status, fieldsFor(res, m.headers, extra));
  return sendStoredBody(res, obj, res.req.method !== 'HEAD' && m.status !== 204 && m.status !== 304, opened);
}

/** The origin's fields and ours for `writeHead`; on HTTP/2 only those it can carry. */
function fieldsFor(res: ServerResponse, list: HeaderList, extra: readonly string[]): string[] {
  return flatHeaders(isHttp2(res) ? http2Fields(list) : list, extra);
}

/** Fields every response gets from us. */
function cacheFields(outcome: CacheOutcome, id: Identity, age: number | undefined): string[] {
  const out = ['via', id.via, 'x-cache-status', outcome.status, 'cache-status', cacheStatusValue(id.name, outcome)];
  if (age !== undefined) out.push('age', String(age));
  return out;
}

/** The head of a response that streams (from the origin or a fill in progress). */
export function writeStreamingHead(res: ServerResponse, status: number, headers: HeaderList, contentLength: number | undefined, outcome: CacheOutcome, id: Identity, age: number | undefined): void {
  mark(res, outcome);
  const extra = cacheFields(outcome, id, age);
  if (contentLength !== undefined && status !== 204) extra.push('content-length', String(contentLength));
  res.writeHead(status, fieldsFor(res, headers, extra));
}

/** 304 to a client whose own validators match the stored or fetched response. */
export function writeNotModified(res: ServerResponse, headers: HeaderList, outcome: CacheOutcome, id: Identity, age: number | undefined): void {
  mark(res, outcome);
  res.writeHead(304, fieldsFor(res, notModifiedHeaders(headers), cacheFields(outcome, id, age)));
  res.end();
}

/** 412 to a client whose If-Match / If-Unmodified-Since fails on the stored or fetched response (RFC 9110 §13.1.1, §13.1.4). */
export function writePreconditionFailed(res: ServerResponse, outcome: CacheOutcome, id: Identity): void {
  writeError(res, 412, 'Precondition Failed', id, outcome);
}

/** An error of our own (never cached): small text body, cache fields when a cache outcome applies. */
export function writeError(res: ServerResponse, status: number, message: string, id: Identity, outcome?: CacheOutcome, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${message}\n`;
  const fields = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)), 'cache-control', 'no-store'];
  if (outcome) {
    mark(res, outcome);
    fields.push(...cacheFields(outcome, id, undefined));
  }
  else fields.push('via', id.via);
  if (close && !isHttp2(res)) fields.push('connection', 'close');
  res.writeHead(status, fields);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** The methods the edge serves or forwards: TRACE and CONNECT are refused (as nginx does), never forwarded. */
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** `OPTIONS *` asks about the server, not a resource (RFC 9110 §9.3.7): answered here, never forwarded. */
export function writeServerOptions(res: ServerResponse, id: Identity): void {
  res.writeHead(200, ['allow', ALLOWED_METHODS, 'content-length', '0', 'via', id.via]);
  res.end();
}

/** 405 for TRACE (it would echo our forwarding headers back) and CONNECT (never a tunnel), with Allow (RFC 9110 §15.5.6). */
export function writeMethodNotAllowed(res: ServerResponse, id: Identity): void {
  res.setHeader('allow', ALLOWED_METHODS);
  writeError(res, 405, 'Method Not Allowed', id);
}
