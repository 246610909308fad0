import { Opcode, RRType } from './constants.js';
import { type Edns, EdnsFormatError, parseOptions } from './edns.js';
import { Name } from './name.js';

/**
 * The query hot path: one pass over the packet, no allocation for the name
 * beyond one string (the answer-cache key). The `Name` object is only built
 * when an answer has to be computed.
 */
export interface Query {
  id: number;
  /** Flags word as received (opcode, RD, CD…). */
  flags: number;
  opcode: number;
  qtype: number;
  qclass: number;
  /** Offset just past the question (where the answer section starts). */
  questionEnd: number;
  /** Offset just past the QNAME. */
  qnameEnd: number;
  edns: Edns | undefined;
  /**
   * `qtype|qclass|lowercased qname bytes` for the answer cache, or undefined
   * when the name has bytes outside ASCII (case folding is ASCII-only).
   */
  cacheKey: string | undefined;
  /** The raw packet, for the question bytes (their letter case is kept). */
  packet: Buffer;
}

export type ParseResult =
  | { kind: 'query'; query: Query }
  /** Not worth answering (too short for a header, or a response). */
  | { kind: 'drop' }
  | ParseError;

/** Answer with this rcode and no records; `questionEnd` > 12 when the question can be echoed; `edns` when the OPT could be read. */
export interface ParseError {
  kind: 'error';
  rcode: number;
  id: number;
  flags: number;
  questionEnd: number;
  reason: string;
  edns?: Edns;
}

const HEADER = 12;
export const QR = 0x8000;
export const AA = 0x0400;
export const TC = 0x0200;
export const RD = 0x0100;
export const CD = 0x0010;

export function parseQuery(packet: Buffer): ParseResult {
  const len = packet.length;
  if (len < HEADER) return { kind: 'drop' };
  const id = packet.readUInt16BE(0);
  const flags = packet.readUInt16BE(2);
  if (flags & QR) return { kind: 'drop' }; // never answer a response: no reflection loops
  const opcode = (flags >> 11) & 0xf;
  const qdcount = packet.readUInt16BE(4);
  const ancount = packet.readUInt16BE(6);
  const nscount = packet.readUInt16BE(8);
  const arcount = packet.readUInt16BE(10);
  const fail = (rcode: number, reason: string, questionEnd = HEADER, edns?: Edns): ParseError => ({
    kind: 'error', rcode, id, flags, questionEnd, reason, edns,
  });

  if (qdcount !== 1) {
    // With no question the OPT can still be read; it is answered (RFC 6891 §6.1.1), as Knot does.
    const records = qdcount === 0 ? readRecords(packet, HEADER, ancount + nscount, arcount) : undefined;
    return fail(opcode === Opcode.QUERY ? 1 : 4, `QDCOUNT is ${qdcount}`, HEADER, typeof records === 'object' ? records.edns : undefined);
  }

  // QNAME: labels only; a compression pointer in the first name can point nowhere valid.
  let p = HEADER;
  let total = 1;
  let ascii = true;
  for (;;) {
    if (p >= len) return fail(1, 'question name runs past end of packet');
    const l = packet[p];
    if (l === 0) { p += 1; break; }
    if (l > 63) return fail(1, l >= 0xc0 ? 'compression pointer in question' : 'label longer than 63 bytes');
    total += l + 1;
    if (total > 255) return fail(1, 'question name longer than 255 bytes');
    if (p + 1 + l > len) return fail(1, 'label runs past end of packet');
    for (let i = p + 1; i <= p + l; i++) if (packet[i] >= 0x80) { ascii = false; break; }
    p += 1 + l;
  }
  const qnameEnd = p;
  if (p + 4 > len) return fail(1, 'question truncated');
  const qtype = packet.readUInt16BE(p);
  const qclass = packet.readUInt16BE(p + 2);
  p += 4;
  const questionEnd = p;

  if (opcode !== Opcode.QUERY) {
    // RFC 6891 §6.1.1: the OPT of a query is answered with ours, NOTIMP included.
    const records = readRecords(packet, p, ancount + nscount, arcount);
    return fail(4, `opcode ${opcode} is not supported (only QUERY is)`, questionEnd, typeof records === 'string' ? undefined : records.edns);
  }
  if (ancount !== 0 || nscount !== 0) return fail(1, 'query carries answer or authority records', questionEnd);

  const records = readRecords(packet, p, 0, arcount);
  if (typeof records === 'string') return fail(1, records, questionEnd);
  const edns = records.edns;
  p = records.end;
  if (p !== len) return fail(1, 'trailing bytes after the last record', questionEnd);

  let cacheKey: string | undefined;
  if (ascii) {
    const raw = packet.toString('latin1', HEADER, qnameEnd);
    cacheKey = String.fromCharCode(qtype, qclass) + raw.toLowerCase();
  }
  return {
    kind: 'query',
    query: { id, flags, opcode, qtype, qclass, questionEnd, qnameEnd, edns, cacheKey, packet },
  };
}

/**
 * Walks `skip` records and then `additional` ones from `p`, reading the OPT among the
 * latter; other records (e.g. TSIG) are stepped over. A string says what is malformed.
 */
function readRecords(packet: Buffer, p: number, skip: number, additional: number): { edns: Edns | undefined; end: number } | string {
  const len = packet.length;
  let edns: Edns | undefined;
  for (let i = 0; i < skip + additional; i++) {
    const ownerStart = p;
    for (;;) {
      if (p >= len) return 'record truncated';
      const l = packet[p];
      if (l === 0) { p += 1; break; }
      if (l >= 0xc0) { p += 2; break; }
      if (l > 63) return 'bad label in a record';
      p += 1 + l;
    }
    if (p + 10 > len) return 'record truncated';
    const type = packet.readUInt16BE(p);
    const cls = packet.readUInt16BE(p + 2);
    const ttl = packet.readUInt32BE(p + 4);
    const rdlen = packet.readUInt16BE(p + 8);
    p += 10;
    if (p + rdlen > len) return 'record RDATA truncated';
    if (type === RRType.OPT && i >= skip) {
      if (edns) return 'more than one OPT record';
      if (packet[ownerStart] !== 0) return 'OPT owner is not the root';
      edns = {
        udpSize: cls,
        extendedRcode: ttl >>> 24,
        version: (ttl >>> 16) & 0xff,
        dnssecOk: (ttl & 0x8000) !== 0,
        ecs: undefined,
        options: [],
      };
      try {
        parseOptions(packet, p, p + rdlen, edns);
      } catch (e) {
        if (e instanceof EdnsFormatError) return e.message;
        throw e;
      }
    }
    p += rdlen;
  }
  return { edns, end: p };
}

/** Builds the question's `Name` (lowercased) from the packet. */
export function queryName(q: Query): Name {
  const labels: Uint8Array[] = [];
  let p = HEADER;
  while (p < q.qnameEnd - 1) {
    const l = q.packet[p];
    labels.push(q.packet.subarray(p + 1, p + 1 + l));
    p += 1 + l;
  }
  return Name.fromLabels(labels);
}
