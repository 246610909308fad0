import { formatIp, parseIpv4, parseIpv6 } from '../../core/ip.js';
import { RRType } from './constants.js';
import { Name } from './name.js';
import type { MessageWriter } from './writer.js';

/**
 * RDATA in memory. Only the types whose RDATA holds names that may be
 * compressed (RFC 3597 §4: NS, CNAME, PTR, MX, SOA) are kept structured;
 * every other type is kept as its wire bytes, encoded once at load. That
 * keeps the writer trivial and makes unknown types (RFC 3597) a non-case.
 */
export type RData =
  | { kind: 'name'; name: Name } // NS, CNAME, PTR
  | { kind: 'mx'; preference: number; exchange: Name }
  | {
      kind: 'soa';
      mname: Name;
      rname: Name;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    }
  | { kind: 'raw'; bytes: Uint8Array };

export interface ResourceRecord {
  name: Name;
  type: number;
  class: number;
  ttl: number;
  data: RData;
}

/** Types whose names in RDATA may be compressed on output (RFC 3597 §4). */
export function compressesRdata(type: number): boolean {
  return type === RRType.NS || type === RRType.CNAME || type === RRType.PTR || type === RRType.MX || type === RRType.SOA;
}

export function writeRdata(w: MessageWriter, type: number, data: RData): void {
  const lenAt = w.pos;
  w.pos += 2;
  const compress = compressesRdata(type);
  switch (data.kind) {
    case 'name':
      w.name(data.name, compress);
      break;
    case 'mx':
      w.u16(data.preference);
      w.name(data.exchange, compress);
      break;
    case 'soa':
      w.name(data.mname, compress);
      w.name(data.rname, compress);
      w.u32(data.serial);
      w.u32(data.refresh);
      w.u32(data.retry);
      w.u32(data.expire);
      w.u32(data.minimum);
      break;
    case 'raw':
      w.bytes(data.bytes);
      break;
    default: {
      const never: never = data;
      throw new Error(`unhandled rdata ${String(never)}`);
    }
  }
  w.buf.writeUInt16BE(w.pos - lenAt - 2, lenAt);
}

// ---------- decoding (responses in tests and tools, never the query hot path) ----------

export class WireFormatError extends Error {}

/**
 * Reads a possibly compressed name at `offset`. Pointers must point strictly
 * backwards, which rules out loops; total length is checked against 255.
 */
export function readName(buf: Uint8Array, offset: number): { name: Name; next: number } {
  const labels: Uint8Array[] = [];
  let pos = offset;
  let next = -1;
  let total = 1;
  let lowest = offset;
  for (;;) {
    if (pos >= buf.length) throw new WireFormatError('name runs past end of message');
    const len = buf[pos];
    if (len === 0) {
      pos += 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) throw new WireFormatError('truncated compression pointer');
      const target = ((len & 0x3f) << 8) | buf[pos + 1];
      if (next < 0) next = pos + 2;
      if (target >= lowest) throw new WireFormatError('compression pointer does not point backwards');
      lowest = target;
      pos = target;
      continue;
    }
    if (kind !== 0) throw new WireFormatError('reserved label type');
    if (pos + 1 + len > buf.length) throw new WireFormatError('label runs past end of message');
    total += len + 1;
    if (total > 255) throw new WireFormatError('name longer than 255 bytes');
    labels.push(buf.subarray(pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: Name.fromLabels(labels), next: next < 0 ? pos : next };
}

/** Decodes RDATA of `type` found at buf[offset, offset+length). */
export function readRdata(buf: Uint8Array, type: number, offset: number, length: number): RData {
  const end = offset + length;
  if (end > buf.length) throw new WireFormatError('RDATA runs past end of message');
  const inside = (next: number): number => {
    if (next > end) throw new WireFormatError('RDATA shorter than its contents');
    return next;
  };
  switch (type) {
    case RRType.NS:
    case RRType.CNAME:
    case RRType.PTR: {
      const { name, next } = readName(buf, offset);
      if (inside(next) !== end) throw new WireFormatError('trailing bytes in RDATA');
      return { kind: 'name', name };
    }
    case RRType.MX: {
      if (length < 3) throw new WireFormatError('MX RDATA too short');
      const preference = (buf[offset] << 8) | buf[offset + 1];
      const { name, next } = readName(buf, offset + 2);
      if (inside(next) !== end) throw new WireFormatError('trailing bytes in RDATA');
      return { kind: 'mx', preference, exchange: name };
    }
    case RRType.SOA: {
      const m = readName(buf, offset);
      const r = readName(buf, inside(m.next));
      const p = inside(r.next);
      if (p + 20 !== end) throw new WireFormatError('SOA RDATA has wrong length');
      const dv = new DataView(buf.buffer, buf.byteOffset + p, 20);
      return {
        kind: 'soa',
        mname: m.name,
        rname: r.name,
        serial: dv.getUint32(0),
        refresh: dv.getUint32(4),
        retry: dv.getUint32(8),
        expire: dv.getUint32(12),
        minimum: dv.getUint32(16),
      };
    }
    default:
      return { kind: 'raw', bytes: Uint8Array.from(buf.subarray(offset, end)) };
  }
}

// ---------- presentation format ----------

/** RDATA in zone-file presentation form, as `dig` prints it. */
export function rdataToText(type: number, data: RData): string {
  switch (data.kind) {
    case 'name':
      return data.name.toString();
    case 'mx':
      return `${data.preference} ${data.exchange.toString()}`;
    case 'soa':
      return `${data.mname} ${data.rname} ${data.serial} ${data.refresh} ${data.retry} ${data.expire} ${data.minimum}`;
    case 'raw':
      return rawToText(type, data.bytes);
    default: {
      const never: never = data;
      throw new Error(`unhandled rdata ${String(never)}`);
    }
  }
}

function rawToText(type: number, b: Uint8Array): string {
  try {
    switch (type) {
      case RRType.A:
        if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
        break;
      case RRType.AAAA:
        if (b.length === 16) return ipv6ToText(b);
        break;
      case RRType.TXT: {
        const parts: string[] = [];
        for (let p = 0; p < b.length; ) {
          const len = b[p];
          if (p + 1 + len > b.length) throw new WireFormatError('bad TXT');
          parts.push(quoteCharString(b.subarray(p + 1, p + 1 + len)));
          p += 1 + len;
        }
        if (parts.length > 0) return parts.join(' ');
        break;
      }
      case RRType.SRV: {
        if (b.length < 7) break;
        const dv = new DataView(b.buffer, b.byteOffset, b.length);
        const { name, next } = readName(b, 6);
        if (next !== b.length) break;
        return `${dv.getUint16(0)} ${dv.getUint16(2)} ${dv.getUint16(4)} ${name}`;
      }
      case RRType.CAA: {
        if (b.length < 2) break;
        const tagLen = b[1];
        if (2 + tagLen > b.length) break;
        const tag = Buffer.from(b.subarray(2, 2 + tagLen)).toString('latin1');
        return `${b[0]} ${tag} ${quoteCharString(b.subarray(2 + tagLen))}`;
      }
    }
  } catch {
    // fall through to the generic form
  }
  return genericRdataText(b);
}

/** RFC 3597 §5: `\# <length> <hex>`. */
export function genericRdataText(b: Uint8Array): string {
  return b.length === 0 ? '\\# 0' : `\\# ${b.length} ${Buffer.from(b).toString('hex')}`;
}

export function quoteCharString(s: Uint8Array): string {
  let out = '"';
  for (const c of s) {
    if (c === 0x22 || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c < 0x20 || c >= 0x7f) out += `\\${c.toString().padStart(3, '0')}`;
    else out += String.fromCharCode(c);
  }
  return `${out}"`;
}

export function ipv6ToText(b: Uint8Array): string {
  return formatIp(6, b);
}

// ---------- building raw RDATA for the common address types ----------

export const ipv4Bytes = parseIpv4;
export const ipv6Bytes = parseIpv6;
