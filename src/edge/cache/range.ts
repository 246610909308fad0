import { parseHttpDate } from './freshness.js';

/** One `range-spec` of a `Range: bytes=` field, before the representation's length is known (RFC 9110 §14.1.2). */
export type RangeSpec =
  /** `first-last` or `first-` (last undefined) */
  | { readonly first: number; readonly last: number | undefined }
  /** `-suffix`: the last `suffix` bytes */
  | { readonly suffix: number };

/** An inclusive byte range of a representation. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * What to answer a `Range` with once the length is known: the whole
 * representation (Range ignored, which RFC 9110 §14.2 always allows),
 * a 416, or one or more ranges in the order they will be sent.
 */
export type RangeAnswer =
  | { readonly kind: 'full' }
  | { readonly kind: 'unsatisfiable' }
  | { readonly kind: 'partial'; readonly ranges: readonly ByteRange[] };

/**
 * More ranges than this and the field is ignored (whole response), as Apache's
 * MaxRanges and nginx's max_ranges do: hundreds of tiny parts cost more to
 * send than the bytes they save, and are a known amplification attack (CVE-2011-3192).
 */
export const MAX_RANGES = 100;

/** Two ranges closer than this are sent as one part: less than a part's own head (RFC 9110 §14.6). */
const COALESCE_GAP = 80;

const SPEC = /^\s*(\d*)\s*-\s*(\d*)\s*$/;

/**
 * RFC 9110 §14.1.2: the specs of a `bytes` Range field, or undefined when the
 * field is to be ignored (another unit, bad syntax, too many ranges).
 */
export function parseRangeHeader(value: string): RangeSpec[] | undefined {
  const eq = value.indexOf('=');
  if (eq < 0 || value.slice(0, eq).trim().toLowerCase() !== 'bytes') return undefined;
  const specs: RangeSpec[] = [];
  for (const part of value.slice(eq + 1).split(',')) {
    if (part.trim() === '') continue; // RFC 9110 §5.6.1: empty list elements are ignored
    const m = SPEC.exec(part);
    if (!m || (m[1] === '' && m[2] === '')) return undefined;
    if (m[1] === '') specs.push({ suffix: Number(m[2]) });
    else {
      const first = Number(m[1]);
      const last = m[2] === '' ? undefined : Number(m[2]);
      // RFC 9110 §14.1.1: last < first makes the whole field invalid
      if (last !== undefined && last < first) return undefined;
      specs.push({ first, last });
    }
    if (specs.length > MAX_RANGES) return undefined;
  }
  return specs.length > 0 ? specs : undefined;
}

/** The ranges of `specs` against a representation of `size` bytes (RFC 9110 §14.1.2, §14.2). */
export function resolveRanges(specs: readonly RangeSpec[], size: number): RangeAnswer {
  // An empty representation has no byte to send in a 206 (a suffix range of it is satisfiable, §14.1.1):
  // the whole empty 200, as nginx sends.
  if (size === 0) return { kind: 'full' };
  const ranges: ByteRange[] = [];
  for (const s of specs) {
    if ('suffix' in s) {
      if (s.suffix === 0) continue;
      ranges.push({ start: Math.max(0, size - s.suffix), end: size - 1 });
    } else {
      if (s.first >= size) continue; // not satisfiable on its own; others may be
      ranges.push({ start: s.first, end: s.last === undefined ? size - 1 : Math.min(s.last, size - 1) });
    }
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  // Several ranges that ask for as many bytes as the whole (overlapping ones too): send the whole once instead, as nginx does.
  if (ranges.length > 1) {
    let total = 0;
    for (const r of ranges) total += r.end - r.start + 1;
    if (total >= size) return { kind: 'full' };
  }
  return { kind: 'partial', ranges: coalesce(ranges) };
}

/**
 * RFC 9110 §14.6 allows coalescing ranges that overlap or are separated by a
 * gap smaller than a part's overhead, regardless of their order. Ranges that
 * need no coalescing keep the client's order (§15.3.7.2 SHOULD); once any
 * must be merged, the result is sent in ascending order.
 */
function coalesce(ranges: ByteRange[]): ByteRange[] {
  if (ranges.length === 1) return ranges;
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev && r.start <= prev.end + 1 + COALESCE_GAP) out[out.length - 1] = { start: prev.start, end: Math.max(prev.end, r.end) };
    else out.push(r);
  }
  return out.length === ranges.length ? ranges : out;
}

/** Whether a list of ranges can be cut from bytes that arrive in order (a fill in progress). */
export function ascending(ranges: readonly ByteRange[]): boolean {
  for (let i = 1; i < ranges.length; i++) if (ranges[i]!.start <= ranges[i - 1]!.end) return false;
  return true;
}

/**
 * RFC 9110 §13.1.5: If-Range holds for a strong ETag that matches exactly, or
 * for an HTTP-date equal to the stored Last-Modified; a weak ETag never holds.
 */
export function ifRangeHolds(ifRange: string | undefined, etag: string | undefined, lastModified: string | undefined): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('"')) return etag !== undefined && !etag.startsWith('W/') && etag === v;
  if (v.startsWith('W/')) return false;
  const d = parseHttpDate(v);
  return lastModified !== undefined && !Number.isNaN(d) && d === parseHttpDate(lastModified);
}

/**
 * The answer to a request's Range / If-Range for a representation of `size`
 * bytes with these validators; `full` when there is no (usable) Range.
 */
export function selectRanges(range: string | undefined, ifRange: string | undefined, size: number, etag: string | undefined, lastModified: string | undefined): RangeAnswer {
  if (range === undefined) return { kind: 'full' };
  const specs = parseRangeHeader(range);
  if (!specs || !ifRangeHolds(ifRange, etag, lastModified)) return { kind: 'full' };
  return resolveRanges(specs, size);
}

/** `Content-Range: bytes a-b/N` of a 206 (RFC 9110 §14.4); undefined when it is not that. */
export function parseContentRange(value: string | undefined): { readonly start: number; readonly end: number; readonly size: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+)\s*$/i.exec(value);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const size = Number(m[3]);
  return start <= end && end < size ? { start, end, size } : undefined;
}
