import { Rcode, RRClass, RRType } from './wire/constants.js';
import { AA, type Query, QR } from './wire/query.js';

/** What the server tells about itself in class CH and in NSID; undefined: not told. */
export interface ServerIdentity {
  /** id.server / hostname.bind (RFC 4892) and the NSID option (RFC 5001). */
  readonly id: string | undefined;
  /** version.server / version.bind. */
  readonly version: string | undefined;
}

const ID_NAMES = new Set(['id.server', 'hostname.bind']);
const VERSION_NAMES = new Set(['version.server', 'version.bind']);

/**
 * The answer to a class CH query, as Knot and BIND give it: a TXT of the server's identity
 * or version at the conventional names (TTL 0), NODATA for other types there, REFUSED for
 * any other name or for what the operator chose not to tell. `qname` is a Name key (lowercase).
 */
export function chaosAnswer(q: Query, qname: string, identity: ServerIdentity): { header: number; answer: Buffer | undefined } {
  const text = ID_NAMES.has(qname) ? identity.id : VERSION_NAMES.has(qname) ? identity.version : undefined;
  const flags = QR | (q.flags & 0x7900); // opcode and RD kept
  if (text === undefined) return { header: flags | Rcode.REFUSED, answer: undefined };
  if (q.qtype !== RRType.TXT && q.qtype !== RRType.ANY) return { header: flags | AA, answer: undefined };
  const chars = Buffer.from(text.slice(0, 255), 'utf8').subarray(0, 255);
  const rr = Buffer.alloc(12 + 1 + chars.length);
  rr.writeUInt16BE(0xc00c, 0); // the question's name
  rr.writeUInt16BE(RRType.TXT, 2);
  rr.writeUInt16BE(RRClass.CH, 4);
  rr.writeUInt32BE(0, 6);
  rr.writeUInt16BE(1 + chars.length, 10);
  rr[12] = chars.length;
  chars.copy(rr, 13);
  return { header: flags | AA, answer: rr };
}
