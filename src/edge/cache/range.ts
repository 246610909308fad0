import { parseHttpDate } from './freshness.js';

export type RangeAnswer = { readonly kind: 'full' } | { readonly kind: 'partial'; readonly start: number; readonly end: number } | { readonly kind: 'unsatisfiable' };

/**
 * RFC 9110 §14: which part of a stored body of `size` bytes a `Range` asks for.
 * One byte range is answered; several ranges, other units or a failed
 * If-Range get the whole response (allowed: a server may ignore Range).
 */
export function selectRange(range: string, ifRange: string | undefined, size: number, etag: string | undefined, lastModified: string | undefined): RangeAnswer {
  if (ifRange !== undefined && !ifRangeHolds(ifRange.trim(), etag, lastModified)) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(range);
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return { kind: 'full' };
  }
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

/** RFC 9110 §13.1.5: a strong ETag match, or an exact Last-Modified date. */
function ifRangeHolds(v: string, etag: string | undefined, lastModified: string | undefined): boolean {
  if (v.startsWith('"')) return etag !== undefined && !etag.startsWith('W/') && etag === v;
  if (v.startsWith('W/')) return false;
  const d = parseHttpDate(v);
  return lastModified !== undefined && !Number.isNaN(d) && d === parseHttpDate(lastModified);
}
