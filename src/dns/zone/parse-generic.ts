import { Name, NameError } from '../wire/name.js';
import type { RData } from '../wire/rdata.js';
import { hexBytes, type FieldReader } from './parse-fields.js';
import { ZoneType } from './parse-types.js';

/**
 * RFC 3597 §5 generic RDATA: `\# <length> <hex>...`, the hex possibly split
 * into several chunks. For types the server keeps structured (NS, CNAME,
 * PTR, MX, SOA) the bytes are decoded, so the record behaves the same as its
 * text form; names there must be uncompressed (RFC 3597 §4).
 */
export function parseGenericRdata(type: number, r: FieldReader): RData {
  const length = r.u16('generic RDATA length');
  const bytes = length === 0 && r.remaining === 0 ? new Uint8Array(0) : hexBytes(r.joinedRest('generic RDATA hex'), `${r.typeName} generic RDATA`);
  if (bytes.length !== length) r.fail(`generic RDATA length ${length} does not match the ${bytes.length} bytes of hex`);
  try {
    return decodeStructured(type, bytes) ?? { kind: 'raw', bytes };
  } catch (e) {
    if (e instanceof GenericDecodeError || e instanceof NameError) r.fail(`generic RDATA is not valid: ${e.message}`);
    throw e;
  }
}

class GenericDecodeError extends Error {}

function decodeStructured(type: number, b: Uint8Array): RData | undefined {
  switch (type) {
    case ZoneType.A:
      expectLength(b, 4);
      return undefined;
    case ZoneType.AAAA:
      expectLength(b, 16);
      return undefined;
    case ZoneType.NS:
    case ZoneType.CNAME:
    case ZoneType.PTR: {
      const { name, next } = readUncompressedName(b, 0);
      expectEnd(b, next);
      return { kind: 'name', name };
    }
    case ZoneType.MX: {
      if (b.length < 3) throw new GenericDecodeError('MX needs at least 3 bytes');
      const { name, next } = readUncompressedName(b, 2);
      expectEnd(b, next);
      return { kind: 'mx', preference: (b[0] << 8) | b[1], exchange: name };
    }
    case ZoneType.SOA:
      return decodeSoa(b);
    case ZoneType.DNAME:
      expectEnd(b, readUncompressedName(b, 0).next);
      return undefined;
    default:
      return undefined;
  }
}

function decodeSoa(b: Uint8Array): RData {
  const m = readUncompressedName(b, 0);
  const rn = readUncompressedName(b, m.next);
  expectEnd(b, rn.next + 20);
  const dv = new DataView(b.buffer, b.byteOffset + rn.next, 20);
  return {
    kind: 'soa',
    mname: m.name,
    rname: rn.name,
    serial: dv.getUint32(0),
    refresh: dv.getUint32(4),
    retry: dv.getUint32(8),
    expire: dv.getUint32(12),
    minimum: dv.getUint32(16),
  };
}

function expectLength(b: Uint8Array, n: number): void {
  if (b.length !== n) throw new GenericDecodeError(`needs exactly ${n} bytes`);
}

function expectEnd(b: Uint8Array, next: number): void {
  if (next !== b.length) throw new GenericDecodeError(next > b.length ? 'too short' : 'trailing bytes');
}

function readUncompressedName(b: Uint8Array, offset: number): { name: Name; next: number } {
  const labels: Uint8Array[] = [];
  let p = offset;
  for (;;) {
    if (p >= b.length) throw new GenericDecodeError('name runs past the end');
    const len = b[p];
    if (len === 0) return { name: Name.fromLabels(labels), next: p + 1 };
    if (len & 0xc0) throw new GenericDecodeError('compressed or extended label in a name');
    if (p + 1 + len > b.length) throw new GenericDecodeError('label runs past the end');
    labels.push(b.subarray(p + 1, p + 1 + len));
    p += 1 + len;
  }
}
