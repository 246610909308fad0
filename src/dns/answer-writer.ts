import { EdnsOption, RRClass, RRType } from './wire/constants.js';
import type { Edns } from './wire/edns.js';
import { clientSubnetOptionLength, writeClientSubnet } from './wire/edns.js';
import type { Name } from './wire/name.js';
import { AA, CD, QR, RD, TC, type Query } from './wire/query.js';
import { writeRdata } from './wire/rdata.js';
import type { MessageWriter } from './wire/writer.js';
import type { RRset } from './zone/zone.js';

/** The sections of an answer, ready to be written. */
export interface AnswerSections {
  rcode: number;
  aa: boolean;
  answer: readonly RRset[];
  authority: readonly RRset[];
  additional: readonly RRset[];
  glueRequired: boolean;
}

/**
 * Writes header, question (the query's own bytes, so its letter case is kept)
 * and the sections, without the OPT record. Sections are cut at RRset
 * boundaries when they exceed `limit` (RFC 2181 §9): TC is set when answer or
 * authority (or required glue) did not fit; other additional data is simply
 * left out.
 */
export function writeAnswer(w: MessageWriter, q: Query, qname: Name, s: AnswerSections, limit: number): void {
  w.reset();
  const flags = QR | (q.flags & (0x7800 | RD | CD)) | (s.aa ? AA : 0) | (s.rcode & 0xf);
  w.u16(q.id);
  w.u16(flags);
  w.u16(1);
  w.u16(0);
  w.u16(0);
  w.u16(0);
  w.bytes(q.packet.subarray(12, q.questionEnd));
  w.registerName(qname, 12);

  let truncated = false;
  const counts = [0, 0, 0];
  const sections = [s.answer, s.authority, s.additional];
  for (let i = 0; i < 3 && !truncated; i++) {
    for (const rrset of sections[i]) {
      const mark = w.pos;
      writeRRset(w, rrset);
      if (w.pos > limit) {
        w.rollback(mark);
        if (i < 2 || s.glueRequired) truncated = true;
        break;
      }
      counts[i] += rrset.data.length;
    }
  }
  if (truncated) w.buf.writeUInt16BE(flags | TC, 2);
  w.buf.writeUInt16BE(counts[0], 6);
  w.buf.writeUInt16BE(counts[1], 8);
  w.buf.writeUInt16BE(counts[2], 10);
}

function writeRRset(w: MessageWriter, rrset: RRset): void {
  for (const data of rrset.data) {
    w.name(rrset.name, true);
    w.u16(rrset.type);
    w.u16(RRClass.IN);
    w.u32(rrset.ttl);
    writeRdata(w, rrset.type, data);
  }
}

/** Size of the OPT record we add for this query's EDNS (RFC 6891 §6.1.2). */
export function optLength(edns: Edns, nsid?: Buffer): number {
  return 11 + (edns.ecs ? clientSubnetOptionLength(edns.ecs) : 0) + (nsid ? 4 + nsid.length : 0);
}

/**
 * Appends our OPT record to a finished message in `out` at `p` and bumps ARCOUNT.
 * Extended rcode bits go in the OPT TTL (RFC 6891 §6.1.3); DO is echoed (RFC 3225).
 */
export function appendOpt(out: Buffer, p: number, edns: Edns, payload: number, extendedRcode: number, scopePrefix: number, nsid?: Buffer): number {
  out[p] = 0;
  out.writeUInt16BE(RRType.OPT, p + 1);
  out.writeUInt16BE(payload, p + 3);
  out[p + 5] = extendedRcode;
  out[p + 6] = 0; // version 0
  out[p + 7] = edns.dnssecOk ? 0x80 : 0;
  out[p + 8] = 0;
  const rdlen = (edns.ecs ? clientSubnetOptionLength(edns.ecs) : 0) + (nsid ? 4 + nsid.length : 0);
  out.writeUInt16BE(rdlen, p + 9);
  let end = p + 11;
  // Source prefix 0: the answer is not tailored to any client network, so it holds for all (as gdnsd answers).
  if (edns.ecs) end = writeClientSubnet(out, end, edns.ecs, edns.ecs.sourcePrefix === 0 ? 0 : scopePrefix);
  if (nsid) {
    out.writeUInt16BE(EdnsOption.NSID, end);
    out.writeUInt16BE(nsid.length, end + 2);
    end += 4 + nsid.copy(out, end + 4);
  }
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return end;
}
