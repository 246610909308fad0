/** The content codings a cache variant can be: what a client's Accept-Encoding is reduced to. */
export type Coding = 'br' | 'gzip' | 'identity';

/**
 * Reduces an Accept-Encoding value to the one coding the edge will serve
 * (RFC 9110 §12.5.3), as Varnish does: `br` when acceptable and not less
 * wanted than gzip, then `gzip` (or `x-gzip`), else `identity`. `*` stands for
 * the codings not listed; `q=0` refuses one. The cache key and the request to
 * the origin use this value, so `gzip, deflate, br` and `br;q=1, gzip` share one variant.
 */
export function normalizeAcceptEncoding(value: string | readonly string[] | undefined): Coding {
  if (value === undefined) return 'identity';
  const text = typeof value === 'string' ? value : value.join(',');
  // What browsers, curl and the usual libraries send, without parsing (this runs on every hit of a varied URL).
  switch (text) {
    case 'gzip, deflate, br, zstd':
    case 'gzip, deflate, br':
    case 'gzip, br':
    case 'br, gzip':
    case 'br':
      return 'br';
    case 'gzip, deflate':
    case 'deflate, gzip':
    case 'gzip':
      return 'gzip';
    case '':
    case 'identity':
      return 'identity';
  }
  let br = -1;
  let gzip = -1;
  let any = -1;
  for (const part of text.split(',')) {
    const semi = part.indexOf(';');
    const name = (semi < 0 ? part : part.slice(0, semi)).trim().toLowerCase();
    let q = 1;
    if (semi >= 0) {
      const m = /(?:^|;)\s*q\s*=\s*([0-9.]+)/i.exec(part.slice(semi));
      if (m) q = Number(m[1]);
      if (!(q >= 0)) q = 0;
    }
    if (name === 'br') br = Math.max(br, q);
    else if (name === 'gzip' || name === 'x-gzip') gzip = Math.max(gzip, q);
    else if (name === '*') any = q;
  }
  if (br < 0) br = Math.max(any, 0);
  if (gzip < 0) gzip = Math.max(any, 0);
  if (br > 0 && br >= gzip) return 'br';
  if (gzip > 0) return 'gzip';
  return 'identity';
}
