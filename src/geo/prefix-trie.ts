import { bitAt } from './address.js';

/**
 * A binary trie of IP networks → values, built once and then read-only.
 * Longest prefix wins. Besides the value, a lookup tells how long a prefix
 * of the address decides the outcome (`scope`): every address sharing that
 * many bits with it gets the same answer (RFC 7871 §7.2.1 scope).
 */
export class PrefixTrie<T> {
  private left: number[] = [-1];
  private right: number[] = [-1];
  private entry: number[] = [-1];
  private readonly values: T[] = [];
  private frozen: { left: Int32Array; right: Int32Array; entry: Int32Array } | undefined;

  /** Adds a network; returns the value already stored at exactly that network, if any (the new one is then not stored). */
  insert(bytes: Uint8Array, prefix: number, value: T): T | undefined {
    if (this.frozen) throw new Error('PrefixTrie is frozen');
    let node = 0;
    for (let d = 0; d < prefix; d++) {
      const side = bitAt(bytes, d) ? this.right : this.left;
      let next = side[node]!;
      if (next < 0) {
        next = this.left.length;
        this.left.push(-1);
        this.right.push(-1);
        this.entry.push(-1);
        side[node] = next;
      }
      node = next;
    }
    const existing = this.entry[node]!;
    if (existing >= 0) return this.values[existing];
    this.entry[node] = this.values.length;
    this.values.push(value);
    return undefined;
  }

  /** Ends the building phase: the per-query arrays become typed arrays. */
  freeze(): this {
    this.frozen = { left: Int32Array.from(this.left), right: Int32Array.from(this.right), entry: Int32Array.from(this.entry) };
    this.left = [];
    this.right = [];
    this.entry = [];
    return this;
  }

  get size(): number {
    return this.values.length;
  }

  /**
   * The value of the longest network holding `bytes` (undefined when none)
   * and, in `out`, the deciding prefix length (`scope`) and the matched
   * network's length (`prefix`, -1 when none).
   */
  lookup(bytes: Uint8Array, maxBits: number, out: { scope: number; prefix: number }): T | undefined {
    const t = this.frozen!;
    let node = 0;
    let depth = 0;
    let best = t.entry[0]!;
    let bestDepth = best >= 0 ? 0 : -1;
    while (depth < maxBits) {
      const next = ((bytes[depth >> 3]! >> (7 - (depth & 7))) & 1) === 1 ? t.right[node]! : t.left[node]!;
      if (next < 0) break;
      node = next;
      depth++;
      const e = t.entry[node]!;
      if (e >= 0) {
        best = e;
        bestDepth = depth;
      }
    }
    // Below `node` on the address's side there is nothing more: one more bit settles it, none if `node` has no children.
    out.scope = depth === maxBits || (t.left[node]! < 0 && t.right[node]! < 0) ? depth : depth + 1;
    out.prefix = bestDepth;
    return best >= 0 ? this.values[best] : undefined;
  }
}
