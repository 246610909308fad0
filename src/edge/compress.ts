import type { Transform } from 'node:stream';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import type { CompressionSection } from '../config/edge-schema.js';
import type { Coding } from './cache/accept-encoding.js';
import { type HeaderMap, headerValue } from './cache/freshness.js';
import type { EntryMeta } from './cache/store.js';
import type { HeaderList } from './headers.js';

/** `edge.compression`, built once at load: the media types as one pattern. */
export interface CompressionRules {
  readonly enabled: boolean;
  readonly types: RegExp;
  readonly minSize: number;
  readonly gzipLevel: number;
  readonly brLevel: number;
}

export function compressionRules(c: CompressionSection): CompressionRules {
  const alternatives = c.types.map((t) => t.toLowerCase().replace(/[.+]/g, (ch) => `\\${ch}`).replace(/\*/g, '[^/]*'));
  return {
    enabled: c.enabled && c.types.length > 0,
    types: new RegExp(`^(?:${alternatives.join('|') || '(?!)'})$`),
    minSize: c.min_size,
    gzipLevel: c.gzip_level,
    brLevel: c.br_level,
  };
}

/**
 * What the edge does with the encoding of a response it is about to store:
 * - `vary`: the stored variants depend on the client's (normalised) Accept-Encoding,
 *   so `Accept-Encoding` joins the cache key and the `Vary` sent to clients;
 * - `encode`: the coding to compress this client's copy with, when the origin sent it
 *   uncompressed (never on top of the origin's own coding).
 */
export interface EncodingPlan {
  readonly vary: boolean;
  readonly encode: 'br' | 'gzip' | undefined;
}

const KEEP: EncodingPlan = { vary: false, encode: undefined };
const VARY_ONLY: EncodingPlan = { vary: true, encode: undefined };

export function encodingPlan(rules: CompressionRules, status: number, headers: HeaderMap, contentLength: number | undefined, client: Coding): EncodingPlan {
  const ce = headerValue(headers, 'content-encoding');
  // Already encoded by the origin: passed through as it is, one variant per client coding.
  if (ce !== undefined && ce.trim().toLowerCase() !== 'identity') return VARY_ONLY;
  if (!rules.enabled || status !== 200) return KEEP;
  if (contentLength !== undefined && contentLength < rules.minSize) return KEEP;
  const type = headerValue(headers, 'content-type');
  if (type === undefined) return KEEP;
  const semi = type.indexOf(';');
  if (!rules.types.test((semi < 0 ? type : type.slice(0, semi)).trim().toLowerCase())) return KEEP;
  // RFC 9110 §7.7: a proxy must not transform a no-transform response.
  if (/(?:^|,)\s*no-transform\s*(?:,|$)/i.test(headerValue(headers, 'cache-control') ?? '')) return KEEP;
  return { vary: true, encode: client === 'identity' ? undefined : client };
}

/** A compressing stream; Brotli in text mode with the size hint when the length is known. */
export function createEncoder(coding: 'br' | 'gzip', rules: CompressionRules, sizeHint: number | undefined): Transform {
  if (coding === 'gzip') return createGzip({ level: rules.gzipLevel });
  const params: Record<number, number> = { [constants.BROTLI_PARAM_QUALITY]: rules.brLevel, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT };
  if (sizeHint !== undefined) params[constants.BROTLI_PARAM_SIZE_HINT] = sizeHint;
  return createBrotliCompress({ params });
}

/**
 * An edge-compressed variant is another representation: its ETag must not
 * strongly match the identity one (RFC 9110 §8.8.1), so it becomes weak, as
 * nginx's gzip does. Weak comparison (If-None-Match) still matches the origin's
 * tag, so revalidation with the origin keeps working; If-Range (strong) never does.
 */
export function weakEtag(etag: string): string {
  return etag.startsWith('W/') ? etag : `W/${etag}`;
}

/** Adds a field name to a Vary list unless it is there. */
function withVary(vary: string | undefined, name: string): string {
  if (!vary || vary.trim() === '') return name;
  if (vary.split(',').some((v) => v.trim().toLowerCase() === name.toLowerCase())) return vary;
  return `${vary}, ${name}`;
}

/** The stored fields of a response the plan applies to: Vary extended; Content-Encoding and a weak ETag when encoded here. */
export function encodedFields(list: HeaderList, plan: EncodingPlan): HeaderList {
  if (!plan.vary) return list;
  const out: (readonly [string, string])[] = [];
  let vary: string | undefined;
  for (const f of list) {
    if (f[0] === 'vary') vary = vary === undefined ? f[1] : `${vary}, ${f[1]}`;
    else if (plan.encode && f[0] === 'etag') out.push(['etag', weakEtag(f[1])]);
    // A digest of the identity body does not describe the encoded one.
    else if (plan.encode && (f[0] === 'content-md5' || f[0] === 'digest' || f[0] === 'repr-digest')) continue;
    else out.push(f);
  }
  out.push(['vary', withVary(vary, 'Accept-Encoding')]);
  if (plan.encode) out.push(['content-encoding', plan.encode]);
  return out;
}

/**
 * A 304 freshens stored fields with the origin's (RFC 9111 §4.3.4); those carry the
 * identity representation's ETag and Vary, so an edge-compressed variant keeps its own.
 */
export function keepEncodedFields(stale: EntryMeta, list: HeaderList): HeaderList {
  if (!stale.vary.includes('accept-encoding')) return list;
  const staleEtag = stale.etag;
  const weakened = staleEtag !== undefined && staleEtag.startsWith('W/');
  let vary: string | undefined;
  const out: (readonly [string, string])[] = [];
  for (const f of list) {
    if (f[0] === 'vary') vary = vary === undefined ? f[1] : `${vary}, ${f[1]}`;
    else if (weakened && f[0] === 'etag') out.push(['etag', weakEtag(f[1])]);
    else out.push(f);
  }
  out.push(['vary', withVary(vary, 'Accept-Encoding')]);
  return out;
}
