import type { ServerResponse } from 'node:http';

/** The stream of an HTTP/2 response (compatibility API); undefined for HTTP/1.x. */
function http2Stream(res: ServerResponse): { readonly destroyed: boolean } | undefined {
  return (res as unknown as { stream?: { readonly destroyed: boolean } }).stream;
}

/** Is this an HTTP/2 response (compatibility API)? Connection-specific fields are forbidden there. */
export function isHttp2(res: ServerResponse): boolean {
  return http2Stream(res) !== undefined;
}

/** The client has gone (closed the connection, reset its stream): nothing written reaches it any more. */
export function responseGone(res: ServerResponse): boolean {
  // node's HTTP/2 response has no `destroyed`: its stream has.
  return res.destroyed || http2Stream(res)?.destroyed === true;
}
