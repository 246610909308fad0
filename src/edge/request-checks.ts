import type { IncomingMessage } from 'node:http';

/** How many Host field lines a request has (node keeps the first of several in `headers`). */
function hostLines(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') n++;
  }
  return n;
}

/** host[:port] compared as RFC 3986 §6.2.3 does for https: case-insensitive, the default port left out. */
function authorityOf(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value.toLowerCase().replace(/:443$/, '') : undefined;
}

/**
 * A request node's HTTP/1.1 parser accepted that the edge must still refuse before
 * anything is looked up or forwarded: status and message; the connection is then
 * closed, since what follows on it cannot be framed with confidence. Undefined: fine.
 */
export function framingRefusal(req: IncomingMessage): readonly [number, string] | undefined {
  const http2 = (req as { stream?: unknown }).stream !== undefined;
  if (!http2) {
    // llhttp reads HTTP/0.9 and HTTP/2.0 request lines; this port speaks HTTP/1.x only (RFC 9110 §15.6.6).
    if (req.httpVersionMajor !== 1) return [505, 'HTTP Version Not Supported'];
    // RFC 9112 §3.2: more than one Host line is a 400, whichever one node kept.
    if (hostLines(req.rawHeaders) > 1) return [400, 'Bad Request: more than one Host'];
  } else if (req.headers.host !== undefined && req.headers[':authority'] !== undefined && authorityOf(req.headers.host) !== authorityOf(req.headers[':authority'])) {
    // RFC 9113 §8.3.1: a Host naming another entity than :authority makes the request malformed (nginx: 400).
    return [400, 'Bad Request: Host differs from :authority'];
  }
  const te = req.headers['transfer-encoding'];
  if (te === undefined) return undefined;
  // RFC 9112 §6.1: a request smuggling attempt; and an HTTP/1.0 message with Transfer-Encoding has faulty framing.
  if (req.headers['content-length'] !== undefined || req.httpVersionMinor === 0) return [400, 'Bad Request'];
  const codings = te.toLowerCase().split(',');
  // RFC 9112 §6.3: unless chunked is the final coding the body's length cannot be known.
  if (codings[codings.length - 1]!.trim() !== 'chunked') return [400, 'Bad Request'];
  // RFC 9112 §6.1: a coding we do not decode (gzip, chunked) cannot be forwarded as the body it frames.
  if (codings.length > 1) return [501, 'Not Implemented: Transfer-Encoding'];
  return undefined;
}

/** A request whose length fields say it carries content (a GET or HEAD with it bypasses the cache). */
export function declaresContent(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** An HTTP/2 request whose HEADERS frame left the stream open: DATA frames may follow. */
function http2StreamOpen(req: IncomingMessage): boolean {
  const stream = (req as { stream?: { readonly endAfterHeaders: boolean } }).stream;
  return stream !== undefined && !stream.endAfterHeaders;
}

/**
 * HTTP/2 frames content without a length field (RFC 9113 §8.1): a request without one may still
 * carry some when its HEADERS frame left the stream open. (Some clients close a GET's stream with
 * an empty DATA frame instead.)
 */
export function mayCarryHttp2Content(req: IncomingMessage): boolean {
  return http2StreamOpen(req) && req.headers['content-length'] === undefined;
}

/** A request framed with a body, even an empty one: the origin is sent one. */
export function framesBody(req: IncomingMessage): boolean {
  return req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined || http2StreamOpen(req);
}

/** Whether such a request has any content: waits for its first bytes (put back) or its end. */
export function hasHttp2Content(req: IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (has: boolean): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onEnd);
      req.off('close', onEnd);
      resolve(has);
    };
    const onData = (chunk: Buffer): void => {
      if (chunk.length === 0) return;
      req.pause();
      req.unshift(chunk);
      settle(true);
    };
    const onEnd = (): void => settle(false);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onEnd);
    req.once('close', onEnd);
  });
}
