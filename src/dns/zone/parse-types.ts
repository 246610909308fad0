import { RRClass, RRType } from '../wire/constants.js';
import { ZoneSyntaxError } from './parse-fields.js';

/**
 * RR type and class mnemonics as a master file may spell them. The wire
 * layer's table holds only what the server needs; a zone file can name more.
 */
export const ZoneType = {
  A: RRType.A, NS: RRType.NS, CNAME: RRType.CNAME, SOA: RRType.SOA, PTR: RRType.PTR, HINFO: RRType.HINFO,
  MX: RRType.MX, TXT: RRType.TXT, AAAA: RRType.AAAA, SRV: RRType.SRV, NAPTR: RRType.NAPTR, DNAME: RRType.DNAME,
  DS: RRType.DS, SSHFP: RRType.SSHFP, DNSKEY: RRType.DNSKEY, TLSA: RRType.TLSA, SPF: RRType.SPF, CAA: RRType.CAA,
} as const;

/** Registered types we only accept in the RFC 3597 generic form. */
const GENERIC_ONLY: Record<string, number> = {
  RP: 17, AFSDB: 18, LOC: 29, KX: 36, CERT: 37, APL: 42, RRSIG: 46, NSEC: 47, DHCID: 49,
  NSEC3: 50, NSEC3PARAM: 51, SMIMEA: 53, HIP: 55, CDS: 59, CDNSKEY: 60, OPENPGPKEY: 61,
  CSYNC: 62, ZONEMD: 63, SVCB: 64, HTTPS: 65, EUI48: 108, EUI64: 109, URI: 256,
};

/** Types that never appear in a zone (RFC 6891 OPT, RFC 8945 TSIG, QTYPEs). */
const META_NAMES: Record<string, number> = { OPT: 41, TKEY: 249, TSIG: 250, IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255 };

const byName = new Map<string, number>([...Object.entries(ZoneType), ...Object.entries(GENERIC_ONLY), ...Object.entries(META_NAMES)]);
const byNumber = new Map<number, string>([...byName].map(([k, v]) => [v, k]));
const withTextForm = new Set<number>(Object.values(ZoneType));

export function zoneTypeToString(type: number): string {
  return byNumber.get(type) ?? `TYPE${type}`;
}

/** RFC 6895 §3.1: type 0 and 128-255 are meta types and QTYPEs, as is OPT (41). */
function isMetaType(type: number): boolean {
  return type === 0 || type === 41 || (type >= 128 && type <= 255);
}

/** The type of a mnemonic or `TYPEnnn` (RFC 3597 §5); throws on unknown and meta types. */
export function parseType(text: string): number {
  const upper = text.toUpperCase();
  let type = byName.get(upper);
  if (type === undefined && upper.startsWith('TYPE')) type = genericNumber(upper.slice(4));
  if (type === undefined) throw new ZoneSyntaxError(`unknown RR type "${text}"`);
  if (isMetaType(type)) throw new ZoneSyntaxError(`${text} is a meta type and cannot appear in a zone`);
  return type;
}

export function hasTextForm(type: number): boolean {
  return withTextForm.has(type);
}

function genericNumber(digits: string): number | undefined {
  if (digits.length === 0 || digits.length > 5 || !/^\d+$/.test(digits)) return undefined;
  const n = Number(digits);
  return n <= 0xffff ? n : undefined;
}

const CLASS_NAMES: Record<string, number> = { IN: RRClass.IN, CH: RRClass.CH, CHAOS: RRClass.CH, HS: RRClass.HS, HESIOD: RRClass.HS, NONE: RRClass.NONE, ANY: RRClass.ANY };

/** The class a token names, or undefined when it is not a class at all. */
export function classOf(text: string): number | undefined {
  const upper = text.toUpperCase();
  const known = CLASS_NAMES[upper];
  if (known !== undefined) return known;
  return upper.startsWith('CLASS') ? genericNumber(upper.slice(5)) : undefined;
}

/** geocdn serves the Internet class only. */
export function checkClass(text: string, cls: number): void {
  if (cls !== RRClass.IN) throw new ZoneSyntaxError(`class ${text} is not supported (only IN)`);
}
