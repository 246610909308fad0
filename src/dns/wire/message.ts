import { RRClass, RRType } from './constants.js';
import { type ClientSubnet, type Edns, parseOptions, writeClientSubnet, clientSubnetOptionLength } from './edns.js';
import { Name } from './name.js';
import { type RData, type ResourceRecord, readName, readRdata, WireFormatError } from './rdata.js';

/**
 * Whole-message codec for clients: tests, `geocdn lookup`, health probes.
 * The server's hot path does not use this (see query.ts and answer building).
 */
export interface Question {
  name: Name;
  type: number;
  class: number;
}

export interface Message {
  id: number;
  flags: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  cd: boolean;
  /** Full rcode, including the EDNS extended bits. */
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  edns: Edns | undefined;
}

export function decodeMessage(buf: Uint8Array): Message {
  if (buf.length < 12) throw new WireFormatError('message shorter than its header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const id = dv.getUint16(0);
  const flags = dv.getUint16(2);
  const counts = [dv.getUint16(4), dv.getUint16(6), dv.getUint16(8), dv.getUint16(10)];
  let p = 12;
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const { name, next } = readName(buf, p);
    if (next + 4 > buf.length) throw new WireFormatError('question truncated');
    questions.push({ name, type: dv.getUint16(next), class: dv.getUint16(next + 2) });
    p = next + 4;
  }
  const sections: ResourceRecord[][] = [[], [], []];
  let edns: Edns | undefined;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]; i++) {
      const { name, next } = readName(buf, p);
      if (next + 10 > buf.length) throw new WireFormatError('record header truncated');
      const type = dv.getUint16(next);
      const cls = dv.getUint16(next + 2);
      const ttl = dv.getUint32(next + 4);
      const rdlen = dv.getUint16(next + 8);
      const start = next + 10;
      if (start + rdlen > buf.length) throw new WireFormatError('RDATA truncated');
      if (type === RRType.OPT && s === 2) {
        edns = {
          udpSize: cls,
          extendedRcode: ttl >>> 24,
          version: (ttl >>> 16) & 0xff,
          dnssecOk: (ttl & 0x8000) !== 0,
          ecs: undefined,
          options: [],
        };
        parseResponseOptions(buf, start, start + rdlen, edns);
      } else {
        sections[s].push({ name, type, class: cls, ttl, data: readRdata(buf, type, start, rdlen) });
      }
      p = start + rdlen;
    }
  }
  return {
    id,
    flags,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: (flags & 0xf) | ((edns?.extendedRcode ?? 0) << 4),
    questions,
    answers: sections[0],
    authority: sections[1],
    additional: sections[2],
    edns,
  };
}

/** A response's ECS option has a non-zero scope, which a query's may not; parse it leniently. */
function parseResponseOptions(buf: Uint8Array, start: number, end: number, edns: Edns): void {
  let p = start;
  while (p + 4 <= end) {
    const code = (buf[p] << 8) | buf[p + 1];
    const len = (buf[p + 2] << 8) | buf[p + 3];
    const data = buf.subarray(p + 4, p + 4 + len);
    if (code === 8 && len >= 4) {
      edns.ecs = {
        family: data[1] === 2 ? 2 : data[1] === 1 ? 1 : 0,
        sourcePrefix: data[2],
        scopePrefix: data[3],
        address: Uint8Array.from(data.subarray(4)),
      };
    } else {
      edns.options.push({ code, data: Uint8Array.from(data) });
    }
    p += 4 + len;
  }
  if (p !== end) parseOptions(buf, p, end, edns); // reports the malformed tail
}

export interface QueryOptions {
  id?: number;
  rd?: boolean;
  qclass?: number;
  opcode?: number;
  /** Adds an OPT record; `true` for defaults. */
  edns?: boolean | { udpSize?: number; version?: number; dnssecOk?: boolean; ecs?: ClientSubnet };
}

/** Encodes a query (uncompressed). Letter case of `name` is kept. */
export function encodeQuery(name: string, type: number, opts: QueryOptions = {}): Buffer {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  const parts: number[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'latin1');
    parts.push(b.length, ...b);
  }
  parts.push(0);
  const edns = opts.edns === true ? {} : opts.edns || undefined;
  const optLen = edns ? 11 + (edns.ecs ? clientSubnetOptionLength(edns.ecs) : 0) : 0;
  const out = Buffer.alloc(12 + parts.length + 4 + optLen);
  out.writeUInt16BE(opts.id ?? Math.floor(Math.random() * 0x10000), 0);
  out.writeUInt16BE(((opts.opcode ?? 0) << 11) | (opts.rd === false ? 0 : 0x0100), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(edns ? 1 : 0, 10);
  out.set(parts, 12);
  let p = 12 + parts.length;
  out.writeUInt16BE(type, p);
  out.writeUInt16BE(opts.qclass ?? RRClass.IN, p + 2);
  p += 4;
  if (edns) {
    out[p] = 0;
    out.writeUInt16BE(RRType.OPT, p + 1);
    out.writeUInt16BE(edns.udpSize ?? 1232, p + 3);
    out.writeUInt32BE((((edns.version ?? 0) & 0xff) << 16) | (edns.dnssecOk ? 0x8000 : 0), p + 5);
    out.writeUInt16BE(optLen - 11, p + 9);
    if (edns.ecs) writeClientSubnet(out, p + 11, edns.ecs, edns.ecs.scopePrefix);
  }
  return out;
}

export type { RData };
