import { readFile } from 'node:fs/promises';
import { GeocdnError } from '../core/errors.js';
import { parseIp, type IpAddress } from './address.js';
import type { MmdbFile } from './mmdb.js';
import { toAsnInfo, type AsnInfo } from './record.js';

/** Who announces an address. Only the director and `lookup` ask (never the routing of a query). */
export interface AsnSource {
  lookup(ip: IpAddress): AsnInfo | undefined;
}

/** GeoLite2-ASN or any `.mmdb` with `autonomous_system_number` (or `asn`) records. */
export class MmdbAsnSource implements AsnSource {
  constructor(private readonly files: readonly MmdbFile[]) {}

  lookup(ip: IpAddress): AsnInfo | undefined {
    const file =
      ip.family === 4
        ? (this.files.find((f) => f.ipVersion === 4) ?? this.files.find((f) => f.ipVersion === 6))
        : this.files.find((f) => f.ipVersion === 6);
    return file ? toAsnInfo(file.decodeAt(ip.family, ip.bytes)) : undefined;
  }
}

interface Ranges {
  /** v4: one word per row; v6: the top 64 bits as two words per row (ASN blocks are never split below /64). */
  start: Uint32Array;
  end: Uint32Array;
  asn: Uint32Array;
  words: 1 | 2;
  rows: number;
}

/**
 * The CSV of the ip-location-db `asn` package: `start,end,asn,organisation`
 * with inclusive ranges as text or as numbers, sorted by start.
 */
export class CsvAsnSource implements AsnSource {
  private constructor(
    private readonly v4: Ranges | undefined,
    private readonly v6: Ranges | undefined,
    private readonly orgs: Map<number, string>,
  ) {}

  static async open(paths: { v4?: string; v6?: string }): Promise<CsvAsnSource> {
    const orgs = new Map<number, string>();
    const v4 = paths.v4 ? parseCsv(await readCsv(paths.v4), 1, orgs, paths.v4) : undefined;
    const v6 = paths.v6 ? parseCsv(await readCsv(paths.v6), 2, orgs, paths.v6) : undefined;
    return new CsvAsnSource(v4, v6, orgs);
  }

  lookup(ip: IpAddress): AsnInfo | undefined {
    const r = ip.family === 4 ? this.v4 : this.v6;
    if (!r || r.rows === 0) return undefined;
    const b = ip.bytes;
    const hi = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    const lo = r.words === 2 ? ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0 : 0;
    // Last row whose start <= address.
    let a = 0;
    let z = r.rows - 1;
    let found = -1;
    while (a <= z) {
      const m = (a + z) >> 1;
      if (compare(r.start, m, r.words, hi, lo) <= 0) {
        found = m;
        a = m + 1;
      } else z = m - 1;
    }
    if (found < 0 || compare(r.end, found, r.words, hi, lo) < 0) return undefined;
    const asn = r.asn[found]!;
    return { asn, org: this.orgs.get(asn) };
  }
}

/** Sign of (row's value) - (hi, lo). */
function compare(arr: Uint32Array, row: number, words: 1 | 2, hi: number, lo: number): number {
  const h = arr[row * words]!;
  if (h !== hi) return h < hi ? -1 : 1;
  if (words === 1) return 0;
  const l = arr[row * 2 + 1]!;
  return l === lo ? 0 : l < lo ? -1 : 1;
}

async function readCsv(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new GeocdnError('GEOCDN_GEOIP_READ', `cannot read ASN database: ${(e as Error).message}`, { file: path });
  }
}

function parseCsv(buf: Buffer, words: 1 | 2, orgs: Map<number, string>, path: string): Ranges {
  let lines = 0;
  for (let i = 0; i < buf.length; i++) if (buf[i] === 10) lines++;
  if (buf.length > 0 && buf[buf.length - 1] !== 10) lines++;
  const start = new Uint32Array(lines * words);
  const end = new Uint32Array(lines * words);
  const asn = new Uint32Array(lines);
  const tmp = new Uint32Array(2);
  let rows = 0;
  let p = 0;
  let line = 0;
  const fail = (why: string): never => {
    throw new GeocdnError('GEOCDN_GEOIP_READ', `ASN CSV: ${why}`, { file: path, line });
  };
  while (p < buf.length) {
    line++;
    let eol = buf.indexOf(10, p);
    if (eol < 0) eol = buf.length;
    if (eol === p || (eol === p + 1 && buf[p] === 13)) {
      p = eol + 1;
      continue;
    }
    const c1 = buf.indexOf(44, p);
    const c2 = c1 < 0 ? -1 : buf.indexOf(44, c1 + 1);
    const c3 = c2 < 0 ? -1 : buf.indexOf(44, c2 + 1);
    if (c3 < 0 || c3 > eol) fail('expected start,end,asn,organisation');
    if (!readAddress(buf, p, c1, words, tmp)) fail(`bad range start "${buf.toString('latin1', p, c1)}"`);
    start[rows * words] = tmp[0]!;
    if (words === 2) start[rows * 2 + 1] = tmp[1]!;
    if (!readAddress(buf, c1 + 1, c2, words, tmp)) fail(`bad range end "${buf.toString('latin1', c1 + 1, c2)}"`);
    end[rows * words] = tmp[0]!;
    if (words === 2) end[rows * 2 + 1] = tmp[1]!;
    let n = 0;
    for (let i = c2 + 1; i < c3; i++) n = n * 10 + buf[i]! - 48;
    asn[rows] = n;
    if (rows > 0 && compare(start, rows - 1, words, start[rows * words]!, words === 2 ? start[rows * 2 + 1]! : 0) > 0) {
      fail('rows are not sorted by range start');
    }
    if (!orgs.has(n)) orgs.set(n, readField(buf, c3 + 1, buf[eol - 1] === 13 ? eol - 1 : eol));
    rows++;
    p = eol + 1;
  }
  return { start, end, asn, words, rows };
}

/** A range bound: dotted IPv4, IPv6 text, or a decimal number. Writes the top 32 or 64 bits into `out`. */
function readAddress(buf: Buffer, from: number, to: number, words: 1 | 2, out: Uint32Array): boolean {
  let digits = true;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) {
      digits = false;
      break;
    }
  }
  if (digits && to > from) {
    if (words === 1) {
      let v = 0;
      for (let i = from; i < to; i++) v = v * 10 + buf[i]! - 48;
      out[0] = v;
      return v <= 0xffffffff;
    }
    const v = BigInt(buf.toString('latin1', from, to)) >> 64n;
    out[0] = Number(v >> 32n);
    out[1] = Number(v & 0xffffffffn);
    return true;
  }
  const ip = parseIp(buf.toString('latin1', from, to));
  if (!ip || (ip.family === 4) !== (words === 1)) return false;
  const b = ip.bytes;
  out[0] = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  if (words === 2) out[1] = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
  return true;
}

/** One CSV field, unquoted (RFC 4180: `""` inside quotes is a quote). */
function readField(buf: Buffer, from: number, to: number): string {
  if (buf[from] !== 34) return buf.toString('utf8', from, to);
  const inner = buf.toString('utf8', from + 1, buf[to - 1] === 34 ? to - 1 : to);
  return inner.replaceAll('""', '"');
}
