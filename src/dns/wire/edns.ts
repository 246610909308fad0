import { EdnsOption } from './constants.js';

/**
 * EDNS Client Subnet (RFC 7871 §6). `address` holds only the significant
 * bytes (ceil(sourcePrefix / 8)), as on the wire.
 */
export interface ClientSubnet {
  /** 0 only with source prefix 0 and no address: the client asks for no tailoring (RFC 7871 §7.1.2). */
  family: 0 | 1 | 2;
  sourcePrefix: number;
  scopePrefix: number;
  address: Uint8Array;
}

/** The EDNS0 pseudo-RR of a query (RFC 6891 §6.1). */
export interface Edns {
  udpSize: number;
  extendedRcode: number;
  version: number;
  dnssecOk: boolean;
  ecs: ClientSubnet | undefined;
  /** Other options, kept for tools; a server ignores unknown options (RFC 6891 §6.1.2). */
  options: { code: number; data: Uint8Array }[];
}

export class EdnsFormatError extends Error {}

/** Parses the options of an OPT RR's RDATA; throws EdnsFormatError on a malformed option. */
export function parseOptions(buf: Uint8Array, start: number, end: number, edns: Edns): void {
  let p = start;
  while (p < end) {
    if (p + 4 > end) throw new EdnsFormatError('truncated EDNS option header');
    const code = (buf[p] << 8) | buf[p + 1];
    const len = (buf[p + 2] << 8) | buf[p + 3];
    p += 4;
    if (p + len > end) throw new EdnsFormatError('EDNS option runs past OPT RDATA');
    if (code === EdnsOption.ECS) {
      if (edns.ecs) throw new EdnsFormatError('more than one Client Subnet option');
      edns.ecs = parseClientSubnet(buf, p, len);
    } else {
      edns.options.push({ code, data: buf.subarray(p, p + len) });
    }
    p += len;
  }
}

/** RFC 7871 §7.1.2: every inconsistency in a query's ECS option is FORMERR. */
function parseClientSubnet(buf: Uint8Array, p: number, len: number): ClientSubnet {
  if (len < 4) throw new EdnsFormatError('Client Subnet option shorter than 4 bytes');
  const family = (buf[p] << 8) | buf[p + 1];
  const sourcePrefix = buf[p + 2];
  const scopePrefix = buf[p + 3];
  if (family === 0 && (sourcePrefix !== 0 || len !== 4)) throw new EdnsFormatError('Client Subnet family 0 with an address');
  if (family !== 0 && family !== 1 && family !== 2) throw new EdnsFormatError(`Client Subnet family ${family} unknown`);
  const maxBits = family === 2 ? 128 : 32;
  if (sourcePrefix > maxBits) throw new EdnsFormatError('Client Subnet source prefix too long');
  if (scopePrefix !== 0) throw new EdnsFormatError('Client Subnet scope prefix must be 0 in a query');
  const addrLen = (sourcePrefix + 7) >> 3;
  if (len - 4 !== addrLen) throw new EdnsFormatError('Client Subnet address length does not match its prefix');
  const address = Uint8Array.from(buf.subarray(p + 4, p + 4 + addrLen));
  const spare = addrLen * 8 - sourcePrefix;
  if (spare > 0 && (address[addrLen - 1] & ((1 << spare) - 1)) !== 0) {
    throw new EdnsFormatError('Client Subnet address has bits set beyond its source prefix');
  }
  return { family, sourcePrefix, scopePrefix, address };
}

/** The full-length address bytes of an ECS option (zero filled). */
export function clientSubnetAddress(ecs: ClientSubnet): Uint8Array {
  const out = new Uint8Array(ecs.family === 1 ? 4 : 16);
  out.set(ecs.address.subarray(0, out.length));
  return out;
}

/** Encodes an ECS option (code, length, payload) into `out` at `p`; returns the new offset. */
export function writeClientSubnet(out: Uint8Array, p: number, ecs: ClientSubnet, scopePrefix: number): number {
  const addrLen = ecs.address.length;
  out[p] = 0;
  out[p + 1] = EdnsOption.ECS;
  out[p + 2] = 0;
  out[p + 3] = 4 + addrLen;
  out[p + 4] = 0;
  out[p + 5] = ecs.family;
  out[p + 6] = ecs.sourcePrefix;
  out[p + 7] = scopePrefix;
  out.set(ecs.address, p + 8);
  return p + 8 + addrLen;
}

export function clientSubnetOptionLength(ecs: ClientSubnet): number {
  return 8 + ecs.address.length;
}
