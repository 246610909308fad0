/**
 * A small MaxMind DB writer for tests (MaxMind DB File Format Specification
 * 2.0): search tree with 24-, 28- or 32-bit records, a data section with
 * maps, arrays, strings, unsigned ints, doubles and booleans, and the
 * metadata. No maintained npm package writes .mmdb files.
 */
import { parseCidr } from '../../src/geo/address.js';

export interface MmdbNetwork {
  /** `a.b.c.d/len` or `v6::/len`; IPv4 networks go under ::/96 of an IPv6 database. */
  cidr: string;
  data: unknown;
}

export interface MmdbOptions {
  ipVersion: 4 | 6;
  recordSize?: 24 | 28 | 32;
  databaseType?: string;
  networks: MmdbNetwork[];
}

interface TrieNode {
  children: [TrieNode | undefined, TrieNode | undefined];
  data: number;
}

export function writeMmdb(opts: MmdbOptions): Buffer {
  const recordSize = opts.recordSize ?? 28;
  const root: TrieNode = { children: [undefined, undefined], data: -1 };
  const dataIndex = new Map<string, number>();
  const dataItems: unknown[] = [];
  // Less specific first, so more specific networks split them.
  const nets = opts.networks
    .map((n) => {
      const c = parseCidr(n.cidr);
      if (typeof c === 'string') throw new Error(c);
      if (c.family === 6 && opts.ipVersion === 4) throw new Error(`IPv6 network ${n.cidr} in an IPv4 database`);
      const bytes = c.family === 4 && opts.ipVersion === 6 ? Uint8Array.from([...new Array<number>(12).fill(0), ...c.bytes]) : c.bytes;
      return { bytes, prefix: c.family === 4 && opts.ipVersion === 6 ? c.prefix + 96 : c.prefix, data: n.data };
    })
    .sort((a, b) => a.prefix - b.prefix);
  for (const n of nets) {
    const key = JSON.stringify(n.data);
    let di = dataIndex.get(key);
    if (di === undefined) {
      di = dataItems.length;
      dataItems.push(n.data);
      dataIndex.set(key, di);
    }
    let node = root;
    for (let d = 0; d < n.prefix; d++) {
      // A shorter network's data is pushed down into both halves when a longer one splits it.
      if (node.data >= 0) {
        node.children = [{ children: [undefined, undefined], data: node.data }, { children: [undefined, undefined], data: node.data }];
        node.data = -1;
      }
      const bit = (n.bytes[d >> 3]! >> (7 - (d & 7))) & 1;
      node = node.children[bit] ??= { children: [undefined, undefined], data: -1 };
    }
    node.data = di;
    node.children = [undefined, undefined];
  }
  // The root is a node even when one network covers everything.
  if (!hasChildren(root)) {
    root.children = [{ children: [undefined, undefined], data: root.data }, { children: [undefined, undefined], data: root.data }];
    root.data = -1;
  }

  // Number the internal nodes breadth first; the root is always node 0.
  const internal: TrieNode[] = [root];
  const number = new Map<TrieNode, number>([[root, 0]]);
  for (let i = 0; i < internal.length; i++) {
    for (const child of internal[i]!.children) {
      if (child && hasChildren(child)) {
        number.set(child, internal.length);
        internal.push(child);
      }
    }
  }
  const nodeCount = internal.length;

  const data = new Encoder();
  const dataOffsets = dataItems.map((item) => {
    const at = data.length;
    data.value(item);
    return at;
  });
  const recordValue = (child: TrieNode | undefined): number => {
    if (!child) return nodeCount;
    if (hasChildren(child)) return number.get(child)!;
    return child.data >= 0 ? nodeCount + 16 + dataOffsets[child.data]! : nodeCount;
  };

  const nodeBytes = (recordSize * 2) / 8;
  const tree = Buffer.alloc(nodeCount * nodeBytes);
  internal.forEach((node, i) => {
    const l = recordValue(node.children[0]);
    const r = recordValue(node.children[1]);
    const o = i * nodeBytes;
    if (recordSize === 24) {
      tree.writeUIntBE(l, o, 3);
      tree.writeUIntBE(r, o + 3, 3);
    } else if (recordSize === 28) {
      tree.writeUIntBE(l & 0xffffff, o, 3);
      tree[o + 3] = ((l >>> 24) << 4) | (r >>> 24);
      tree.writeUIntBE(r & 0xffffff, o + 4, 3);
    } else {
      tree.writeUInt32BE(l, o);
      tree.writeUInt32BE(r, o + 4);
    }
  });

  const meta = new Encoder();
  meta.value({
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: 1_700_000_000,
    database_type: opts.databaseType ?? 'geocdn-test',
    description: { en: 'geocdn test database' },
    ip_version: opts.ipVersion,
    languages: ['en'],
    node_count: nodeCount,
    record_size: recordSize,
  });
  return Buffer.concat([tree, Buffer.alloc(16), data.bytes(), Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'), meta.bytes()]);
}

function hasChildren(n: TrieNode): boolean {
  return n.children[0] !== undefined || n.children[1] !== undefined;
}

/** The data section's self-describing encoding. */
class Encoder {
  private parts: Buffer[] = [];
  length = 0;

  private push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }

  private control(type: number, size: number): void {
    const head: number[] = [];
    let sizeBits: number;
    const extra: number[] = [];
    if (size < 29) sizeBits = size;
    else if (size < 285) {
      sizeBits = 29;
      extra.push(size - 29);
    } else if (size < 65821) {
      sizeBits = 30;
      const v = size - 285;
      extra.push(v >> 8, v & 0xff);
    } else {
      sizeBits = 31;
      const v = size - 65821;
      extra.push((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
    }
    if (type <= 7) head.push((type << 5) | sizeBits);
    else head.push(sizeBits, type - 7);
    this.push(Buffer.from([...head, ...extra]));
  }

  value(v: unknown): void {
    if (typeof v === 'string') {
      const b = Buffer.from(v, 'utf8');
      this.control(2, b.length);
      this.push(b);
    } else if (typeof v === 'boolean') {
      this.control(14, v ? 1 : 0);
    } else if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) {
      const bytes: number[] = [];
      for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x % 256);
      this.control(v <= 0xffff ? 5 : 6, bytes.length);
      this.push(Buffer.from(bytes));
    } else if (typeof v === 'number') {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(v);
      this.control(3, 8);
      this.push(b);
    } else if (Array.isArray(v)) {
      this.control(11, v.length);
      for (const x of v) this.value(x);
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      this.control(7, entries.length);
      for (const [k, x] of entries) {
        this.value(k);
        this.value(x);
      }
    } else throw new Error(`cannot encode ${String(v)}`);
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}
