/**
 * A deliberately narrow HTTP/1.1 request-head reader for the raw fast path
 * (see fast-path.ts). It accepts only what it fully understands: a complete
 * `GET` or `HEAD` head in origin-form, HTTP/1.1 or HTTP/1.0, CRLF line ends,
 * token field names, visible-ASCII field values, one Host, no body framing
 * fields. Anything else, including a head not yet complete, is `undefined`:
 * the request goes to node's parser (llhttp) from its first byte, which then
 * refuses or serves it exactly as without the fast path. It never refuses
 * anything itself.
 */

export interface SimpleRequest {
  readonly method: 'GET' | 'HEAD';
  /** origin-form: starts with `/`, bytes 0x21–0x7E only. */
  readonly target: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minor: 0 | 1;
  readonly host: string;
  /** RFC 9112 §9.3: HTTP/1.1 unless `close`; HTTP/1.0 only with `keep-alive`. */
  readonly keepAlive: boolean;
  /** Every field, lower-case names (no duplicates: a repeated name is handed off). */
  readonly headers: Readonly<Record<string, string>>;
  /** Offset just past the head's empty line. */
  readonly end: number;
}

/**
 * Fields whose presence makes the request more than a plain cache lookup:
 * body framing (RFC 9112 §6; smuggling refusals stay node's), conditionals and
 * ranges, client cache directives, credentials, loops, protocol switches.
 */
const HAND_OFF = new Set([
  'content-length',
  'transfer-encoding',
  'expect',
  'upgrade',
  'http2-settings',
  'authorization',
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
  'cache-control',
  'pragma',
  'via',
]);

/** RFC 9110 §5.6.2 tchar. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** node's Buffer#latin1Slice (what toString('latin1') ends in, without its argument checks). */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as Latin1Buffer).latin1Slice(start, end);
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

/** The request head starting at `start`, or `undefined` when it is incomplete, larger than `maxHead`, or anything but simple. */
export function parseSimpleRequest(buf: Buffer, start: number, maxHead: number): SimpleRequest | undefined {
  const headEnd = buf.indexOf(CRLFCRLF, start);
  if (headEnd < 0 || headEnd + 4 - start > maxHead) return undefined;
  let p = start;
  let method: 'GET' | 'HEAD';
  if (buf[p] === 0x47 && buf[p + 1] === 0x45 && buf[p + 2] === 0x54 && buf[p + 3] === SP) {
    method = 'GET';
    p += 4;
  } else if (buf[p] === 0x48 && buf[p + 1] === 0x45 && buf[p + 2] === 0x41 && buf[p + 3] === 0x44 && buf[p + 4] === SP) {
    method = 'HEAD';
    p += 5;
  } else return undefined;
  if (buf[p] !== 0x2f /* '/' */) return undefined;
  const targetStart = p;
  while (p < headEnd) {
    const c = buf[p]!;
    if (c === SP) break;
    if (c < 0x21 || c > 0x7e || c === 0x23 /* '#': node's path drops the fragment */) return undefined;
    p++;
  }
  const target = latin1(buf, targetStart, p);
  // " HTTP/1.x\r\n"
  if (
    buf[p] !== SP || buf[p + 1] !== 0x48 || buf[p + 2] !== 0x54 || buf[p + 3] !== 0x54 || buf[p + 4] !== 0x50 ||
    buf[p + 5] !== 0x2f || buf[p + 6] !== 0x31 || buf[p + 7] !== 0x2e || buf[p + 9] !== CR || buf[p + 10] !== LF
  ) return undefined;
  const minorByte = buf[p + 8];
  if (minorByte !== 0x31 && minorByte !== 0x30) return undefined;
  const minor = minorByte === 0x31 ? 1 : 0;
  p += 11;
  // A plain object (fast properties); names the prototype already has (`constructor`,
  // `__proto__`…) read as defined below and are handed off like duplicates.
  const headers: Record<string, string> = {};
  let host: string | undefined;
  let close = false;
  let keepAliveToken = false;
  const last = headEnd + 2;
  while (p < last) {
    const nameStart = p;
    while (TCHAR[buf[p]!] === 1) p++;
    if (p === nameStart || buf[p] !== 0x3a /* ':' */) return undefined;
    const name = latin1(buf, nameStart, p).toLowerCase();
    p++;
    while (buf[p] === SP || buf[p] === HTAB) p++;
    const valueStart = p;
    for (;;) {
      const c = buf[p]!;
      if ((c >= SP && c <= 0x7e) || c === HTAB) p++;
      else break;
    }
    if (buf[p] !== CR || buf[p + 1] !== LF) return undefined;
    let valueEnd = p;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    p += 2;
    if (HAND_OFF.has(name) || headers[name] !== undefined) return undefined;
    const value = latin1(buf, valueStart, valueEnd);
    headers[name] = value;
    if (name === 'host') host = value;
    else if (name === 'connection') {
      for (const token of value.split(',')) {
        const t = token.trim().toLowerCase();
        if (t === 'close') close = true;
        else if (t === 'keep-alive') keepAliveToken = true;
        else return undefined;
      }
    }
  }
  if (host === undefined || host === '') return undefined;
  return { method, target, minor, host, keepAlive: !close && (minor === 1 || keepAliveToken), headers, end: headEnd + 4 };
}
