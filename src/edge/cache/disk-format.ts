import { createHash } from 'node:crypto';
import type { EntryDraft, EntryMeta } from './store.js';

/**
 * One object is one file: a header, then the body.
 *
 *   0   8  magic "GCDNOB01"
 *   8   4  header capacity (u32 LE): where the body starts
 *  12   4  metadata length (u32 LE)
 *  16   8  body size (u64 LE)
 *  24  32  SHA-256 of the body
 *  56  16  first 16 bytes of SHA-256 over bytes 0..56 and the metadata
 *  72   …  the metadata: EntryDraft as JSON, then zero padding up to the capacity
 *
 * The fields at 16..72 are zero until the writer has the whole body: a file
 * whose header hash does not match is never served (a write that stopped
 * half-way, a torn in-place update). The padding lets a 304 rewrite the
 * metadata in place without copying the body.
 */
export const MAGIC = Buffer.from('GCDNOB01', 'latin1');
export const FIXED_BYTES = 72;
/** Enough for the header of nearly every object: a scan reads this much first. */
export const FIRST_READ = 4096;
const SEAL_START = 16;

export interface ParsedHeader {
  readonly headerCap: number;
  readonly bodySize: number;
  readonly bodyHash: Buffer;
  readonly meta: EntryMeta;
  /** The metadata as its JSON text, as the index keeps it (much smaller than the parsed object). */
  readonly json: string;
}

export type HeaderResult = { readonly ok: true; readonly header: ParsedHeader } | { readonly ok: false; readonly reason: 'short' | 'magic' | 'hash' | 'json'; readonly need?: number };

/** File name of a key: its SHA-256, so any key maps to a safe, fixed-length name. */
export function objectName(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The metadata as stored: EntryDraft as JSON (the body size has its own field). */
export function metaJson(meta: EntryDraft | EntryMeta): string {
  const { bodySize: _size, ...draft } = meta as EntryMeta;
  return JSON.stringify(draft);
}

/** The metadata back from its JSON; JSON drops undefined fields: the optional validators are put back as the memory tier has them. */
export function metaFromJson(json: string, bodySize: number): EntryMeta {
  const d = JSON.parse(json) as EntryDraft;
  return { ...d, etag: d.etag ?? undefined, lastModified: d.lastModified ?? undefined, bodySize };
}

/** Room for the metadata to grow by a quarter (new Date, ETag after a 304) before a rewrite is needed. */
function capacityFor(metaLen: number): number {
  return Math.ceil((FIXED_BYTES + metaLen + 64 + (metaLen >> 2)) / 64) * 64;
}

/**
 * The header region for `meta`, unsealed (body size and hashes zero), or undefined
 * when `capacity` is given and the metadata no longer fits in it.
 */
export function encodeHeader(meta: EntryDraft | EntryMeta, capacity?: number): Buffer | undefined {
  const json = Buffer.from(metaJson(meta));
  const cap = capacity ?? capacityFor(json.length);
  if (FIXED_BYTES + json.length > cap) return undefined;
  const buf = Buffer.alloc(cap);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(cap, 8);
  buf.writeUInt32LE(json.length, 12);
  json.copy(buf, FIXED_BYTES);
  return buf;
}

/** Fills in body size and hashes; returns the bytes at SEAL_START..FIXED_BYTES to write last. */
export function sealHeader(header: Buffer, bodySize: number, bodyHash: Buffer): { readonly offset: number; readonly bytes: Buffer } {
  header.writeBigUInt64LE(BigInt(bodySize), 16);
  bodyHash.copy(header, 24);
  const metaLen = header.readUInt32LE(12);
  header.fill(0, 56, FIXED_BYTES);
  headerHash(header, metaLen).copy(header, 56);
  return { offset: SEAL_START, bytes: header.subarray(SEAL_START, FIXED_BYTES) };
}

function headerHash(header: Buffer, metaLen: number): Buffer {
  return createHash('sha256').update(header.subarray(0, 56)).update(header.subarray(FIXED_BYTES, FIXED_BYTES + metaLen)).digest().subarray(0, 16);
}

/** Reads and checks a header from the first bytes of a file; `need` says how many bytes a short read lacked. */
export function parseHeader(buf: Buffer): HeaderResult {
  if (buf.length < FIXED_BYTES) return { ok: false, reason: 'short', need: FIXED_BYTES };
  if (!buf.subarray(0, 8).equals(MAGIC)) return { ok: false, reason: 'magic' };
  const headerCap = buf.readUInt32LE(8);
  const metaLen = buf.readUInt32LE(12);
  if (FIXED_BYTES + metaLen > headerCap) return { ok: false, reason: 'magic' };
  if (buf.length < FIXED_BYTES + metaLen) return { ok: false, reason: 'short', need: FIXED_BYTES + metaLen };
  if (!headerHash(buf, metaLen).equals(buf.subarray(56, FIXED_BYTES))) return { ok: false, reason: 'hash' };
  const bodySize = Number(buf.readBigUInt64LE(16));
  const json = buf.toString('utf8', FIXED_BYTES, FIXED_BYTES + metaLen);
  let draft: EntryMeta;
  try {
    draft = metaFromJson(json, bodySize);
  } catch {
    return { ok: false, reason: 'json' };
  }
  if (typeof draft?.key !== 'string' || typeof draft.primaryKey !== 'string' || !Array.isArray(draft.vary)) return { ok: false, reason: 'json' };
  return { ok: true, header: { headerCap, bodySize, bodyHash: Buffer.from(buf.subarray(24, 56)), meta: draft, json } };
}
