/** DNS numeric codes (RFC 1035 §3.2, RFC 6895 registries). */
export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  SSHFP: 44,
  RRSIG: 46,
  DNSKEY: 48,
  TLSA: 52,
  SPF: 99,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  CAA: 257,
} as const;

export const RRClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  BADVERS: 16,
} as const;

export const EdnsOption = { NSID: 3, ECS: 8, COOKIE: 10 } as const;

const typeNames = new Map<number, string>(Object.entries(RRType).map(([k, v]) => [v, k]));
const typeByName = new Map<string, number>(Object.entries(RRType).map(([k, v]) => [k, v]));

/** `A`, `AAAA`, or `TYPE65534` for types without a mnemonic (RFC 3597 §5). */
export function typeToString(type: number): string {
  return typeNames.get(type) ?? `TYPE${type}`;
}

/** Accepts mnemonics and the generic `TYPEnnn` form; undefined when neither. */
export function typeFromString(text: string): number | undefined {
  const upper = text.toUpperCase();
  const known = typeByName.get(upper);
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 0xffff ? n : undefined;
}

const rcodeNames = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));
export function rcodeToString(rcode: number): string {
  return rcodeNames.get(rcode) ?? `RCODE${rcode}`;
}

export function classToString(cls: number): string {
  switch (cls) {
    case RRClass.IN: return 'IN';
    case RRClass.CH: return 'CH';
    case RRClass.HS: return 'HS';
    default: return `CLASS${cls}`;
  }
}
