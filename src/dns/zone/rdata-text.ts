import { ipv4Bytes, ipv6Bytes, type RData } from '../wire/rdata.js';
import type { Name } from '../wire/name.js';
import type { Token } from './lexer.js';
import { base64Bytes, ByteBuilder, decodeText, FieldReader, hexBytes } from './parse-fields.js';
import { parseGenericRdata } from './parse-generic.js';
import { hasTextForm, ZoneType, zoneTypeToString } from './parse-types.js';

/**
 * RDATA presentation format → RData (RFC 1035 §5.1 and each type's RFC).
 * NS, CNAME, PTR, MX and SOA stay structured; every other type becomes its
 * wire bytes here, once, at load.
 */
export function parseRdata(type: number, tokens: readonly Token[], start: number, origin: Name): RData {
  const typeName = zoneTypeToString(type);
  const first = tokens[start];
  // RFC 3597 §5: `\#` introduces the generic form, for any type.
  if (first && !first.quoted && first.text === '\\#') {
    return parseGenericRdata(type, new FieldReader(tokens, start + 1, typeName, origin));
  }
  if (!hasTextForm(type)) {
    throw new FieldReader(tokens, start, typeName, origin).fail('no text form supported; use the RFC 3597 generic form "\\# <length> <hex>"');
  }
  const r = new FieldReader(tokens, start, typeName, origin);
  const data = parseKnown(type, r);
  r.end();
  return data;
}

function raw(b: ByteBuilder | Uint8Array): RData {
  return { kind: 'raw', bytes: b instanceof ByteBuilder ? b.finish() : b };
}

function parseKnown(type: number, r: FieldReader): RData {
  switch (type) {
    case ZoneType.A:
      return raw(ipv4(r));
    case ZoneType.AAAA:
      return raw(ipv6(r));
    case ZoneType.NS:
    case ZoneType.CNAME:
    case ZoneType.PTR:
      return { kind: 'name', name: r.name('target name') };
    case ZoneType.MX:
      return { kind: 'mx', preference: r.u16('preference'), exchange: r.name('exchange') };
    case ZoneType.SOA:
      return soa(r);
    case ZoneType.TXT:
    case ZoneType.SPF:
      return raw(txt(r));
    case ZoneType.DNAME:
      return raw(new ByteBuilder().name(r.name('target name')));
    default:
      return parseMoreKnown(type, r);
  }
}

function parseMoreKnown(type: number, r: FieldReader): RData {
  switch (type) {
    case ZoneType.SRV:
      return raw(srv(r));
    case ZoneType.CAA:
      return raw(caa(r));
    case ZoneType.HINFO:
      return raw(new ByteBuilder().charString(r.charString('CPU')).charString(r.charString('OS')));
    case ZoneType.NAPTR:
      return raw(naptr(r));
    case ZoneType.SSHFP:
      return raw(new ByteBuilder().u8(r.u8('algorithm')).u8(r.u8('fingerprint type')).bytes(hexBytes(r.joinedRest('fingerprint'), 'SSHFP fingerprint')));
    case ZoneType.TLSA:
      return raw(tlsa(r));
    case ZoneType.DS:
      return raw(ds(r));
    case ZoneType.DNSKEY:
      return raw(dnskey(r));
    default:
      return r.fail('no text form supported; use the RFC 3597 generic form "\\# <length> <hex>"');
  }
}

function ipv4(r: FieldReader): Uint8Array {
  const text = r.word('IPv4 address');
  return ipv4Bytes(text) ?? r.fail(`bad IPv4 address "${text}"`);
}

function ipv6(r: FieldReader): Uint8Array {
  const text = r.word('IPv6 address');
  return ipv6Bytes(text) ?? r.fail(`bad IPv6 address "${text}"`);
}

function soa(r: FieldReader): RData {
  return {
    kind: 'soa',
    mname: r.name('MNAME'),
    rname: r.name('RNAME'),
    serial: r.u32('serial'),
    refresh: r.counter('refresh'),
    retry: r.counter('retry'),
    expire: r.counter('expire'),
    minimum: r.counter('minimum'),
  };
}

/**
 * One or more strings; a string over 255 bytes is cut into 255-byte
 * <character-string>s (RFC 7208 §3.3 reads them back joined), where BIND
 * refuses it.
 */
function txt(r: FieldReader): ByteBuilder {
  const b = new ByteBuilder();
  for (const t of r.rest('text')) {
    const s = decodeText(t.text);
    if (s.length === 0) b.u8(0);
    for (let p = 0; p < s.length; p += 255) b.charString(s.subarray(p, p + 255));
  }
  return b;
}

function srv(r: FieldReader): ByteBuilder {
  return new ByteBuilder().u16(r.u16('priority')).u16(r.u16('weight')).u16(r.u16('port')).name(r.name('target'));
}

const CAA_TAG_RE = /^[A-Za-z0-9]+$/;

/** RFC 8659 §4.1: flags, an alphanumeric tag, and a value that is not length-prefixed. */
function caa(r: FieldReader): ByteBuilder {
  const flags = r.u8('flags');
  const tag = r.word('tag');
  if (!CAA_TAG_RE.test(tag)) r.fail(`tag "${tag}" must be letters and digits only`);
  if (tag.length > 255) r.fail('tag is longer than 255 characters');
  const value = decodeText(r.take('value').text);
  return new ByteBuilder().u8(flags).u8(tag.length).bytes(Buffer.from(tag, 'latin1')).bytes(value);
}

/** RFC 3403 §4: order, preference, flags, services, regexp, replacement. */
function naptr(r: FieldReader): ByteBuilder {
  return new ByteBuilder()
    .u16(r.u16('order'))
    .u16(r.u16('preference'))
    .charString(r.charString('flags'))
    .charString(r.charString('services'))
    .charString(r.charString('regexp'))
    .name(r.name('replacement'));
}

function tlsa(r: FieldReader): ByteBuilder {
  return new ByteBuilder()
    .u8(r.u8('certificate usage'))
    .u8(r.u8('selector'))
    .u8(r.u8('matching type'))
    .bytes(hexBytes(r.joinedRest('certificate association data'), 'TLSA data'));
}

/** Digest lengths BIND checks: SHA-1, SHA-256 (RFC 4509), SHA-384 (RFC 6605). */
const DS_DIGEST_LENGTH: Record<number, number> = { 1: 20, 2: 32, 4: 48 };

function ds(r: FieldReader): ByteBuilder {
  const keyTag = r.u16('key tag');
  const algorithm = r.u8('algorithm');
  const digestType = r.u8('digest type');
  const digest = hexBytes(r.joinedRest('digest'), 'DS digest');
  const want = DS_DIGEST_LENGTH[digestType];
  if (want !== undefined && digest.length !== want) r.fail(`digest type ${digestType} needs ${want} bytes, got ${digest.length}`);
  return new ByteBuilder().u16(keyTag).u8(algorithm).u8(digestType).bytes(digest);
}

function dnskey(r: FieldReader): ByteBuilder {
  return new ByteBuilder()
    .u16(r.u16('flags'))
    .u8(r.u8('protocol'))
    .u8(r.u8('algorithm'))
    .bytes(base64Bytes(r.joinedRest('public key'), 'DNSKEY public key'));
}
