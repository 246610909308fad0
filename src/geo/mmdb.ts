import { readFile } from 'node:fs/promises';
import { Reader } from 'maxmind';
import { GeocdnError } from '../core/errors.js';
import { formatIp } from './address.js';

/**
 * One MaxMind DB file. The `maxmind` reader opens and checks it and decodes
 * records (once each, on a cold path); the search tree is walked here
 * directly on the file's bytes, so a query never formats or parses an
 * address string (MaxMind DB spec, "Binary Search Tree Section").
 */
export class MmdbFile {
  readonly path: string;
  readonly ipVersion: 4 | 6;
  readonly nodeCount: number;
  readonly databaseType: string;
  readonly buildEpoch: Date;
  /** Record value where the IPv4 space starts, and its depth in this tree (0 or up to 96). */
  readonly v4Root: number;
  readonly v4RootDepth: number;
  private readonly buf: Buffer;
  private readonly recordSize: number;
  private readonly nodeBytes: number;
  private readonly reader: Reader<Record<string, unknown>>;

  private constructor(path: string, buf: Buffer) {
    this.path = path;
    this.buf = buf;
    this.reader = new Reader(buf);
    const m = this.reader.metadata;
    if (m.recordSize !== 24 && m.recordSize !== 28 && m.recordSize !== 32) throw new Error(`unsupported record size ${m.recordSize}`);
    if (m.ipVersion !== 4 && m.ipVersion !== 6) throw new Error(`unsupported ip_version ${m.ipVersion}`);
    if (m.searchTreeSize > buf.length) throw new Error('file shorter than its search tree');
    this.ipVersion = m.ipVersion;
    this.nodeCount = m.nodeCount;
    this.recordSize = m.recordSize;
    this.nodeBytes = m.nodeByteSize;
    this.databaseType = m.databaseType;
    this.buildEpoch = m.buildEpoch;
    // IPv4 lives in ::/96 of an IPv6 tree (MaxMind DB spec, "IPv4 addresses in an IPv6 tree").
    let node = 0;
    let depth = 0;
    if (this.ipVersion === 6) {
      while (depth < 96 && node < this.nodeCount) {
        node = this.child(node, 0);
        depth++;
      }
    }
    this.v4Root = node;
    this.v4RootDepth = depth;
  }

  static async open(path: string): Promise<MmdbFile> {
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (e) {
      throw new GeocdnError('GEOCDN_GEOIP_READ', `cannot read GeoIP database: ${(e as Error).message}`, { file: path });
    }
    try {
      return new MmdbFile(path, buf);
    } catch (e) {
      throw new GeocdnError('GEOCDN_GEOIP_READ', `not a MaxMind DB (.mmdb) file: ${(e as Error).message}`, { file: path });
    }
  }

  /** The left (bit 0) or right (bit 1) record of a node. */
  child(node: number, bit: number): number {
    const b = this.buf;
    const off = node * this.nodeBytes;
    switch (this.recordSize) {
      case 24: {
        const o = off + bit * 3;
        return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
      }
      case 28:
        return bit === 0
          ? ((b[off + 3]! & 0xf0) << 20) | (b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!
          : ((b[off + 3]! & 0x0f) << 24) | (b[off + 4]! << 16) | (b[off + 5]! << 8) | b[off + 6]!;
      default:
        return b.readUInt32BE(off + bit * 4);
    }
  }

  /** True when a record value points at data (as opposed to a node or "no data"). */
  isData(value: number): boolean {
    return value > this.nodeCount;
  }

  /**
   * Walks the tree for `bytes` of `family`. Writes the node reached at each
   * depth into `path` (path[d] = node at depth d, family-relative) and
   * returns the record value of the leaf; the leaf's prefix length is
   * `out.depth` after the call.
   */
  walk(family: 4 | 6, bytes: Uint8Array, path: Int32Array, out: { depth: number }): number {
    const bits = family === 4 ? 32 : 128;
    let value = family === 4 ? this.v4Root : 0;
    let depth = 0;
    const nodeCount = this.nodeCount;
    while (depth < bits && value < nodeCount) {
      path[depth] = value;
      value = this.child(value, (bytes[depth >> 3]! >> (7 - (depth & 7))) & 1);
      depth++;
    }
    out.depth = depth;
    return value;
  }

  /** Decodes the record the tree holds for an address (cold path: once per record, then cached by value). */
  decodeAt(family: 4 | 6, bytes: Uint8Array): Record<string, unknown> | null {
    // The maxmind reader finds IPv4 text under ::/96 of an IPv6 tree itself; IPv6 in an IPv4 tree means nothing.
    if (family === 6 && this.ipVersion === 4) return null;
    return this.reader.get(formatIp(family, bytes));
  }
}
