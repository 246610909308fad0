import { bitAt } from '../geo/address.js';
import type { GeoIpDatabase, GeoWalk } from '../geo/geoip.js';
import type { MmdbFile } from '../geo/mmdb.js';
import type { ServicePolicy } from './policy.js';

/** Tree nodes one widening step may visit; a bigger sibling counts as "routes differently". */
const NODE_BUDGET = 256;
const UNKNOWN = 0;
const MIXED = 1;
const OVER_BUDGET = -1;

/**
 * The ECS scope of a GeoIP leaf for one service: its network, widened one
 * bit at a time while the sibling half routes to the same route as well
 * (RFC 7871 §7.2.1 asks for the shortest prefix that is still true).
 * Sibling subtrees are judged by walking them, within a budget, and the
 * verdicts are kept per tree node. One per Routing: it holds scratch space.
 */
export class ScopeMerger {
  private readonly addr = new Uint8Array(16);
  private budget = 0;
  private db!: GeoIpDatabase;
  private file!: MmdbFile;
  private policy!: ServicePolicy;
  private memo!: Uint16Array;
  private family: 4 | 6 = 4;

  merge(db: GeoIpDatabase, file: MmdbFile, policy: ServicePolicy, walk: GeoWalk, family: 4 | 6, bytes: Uint8Array, routeId: number): number {
    this.db = db;
    this.file = file;
    this.policy = policy;
    this.memo = policy.uniformMemo(file);
    this.family = family;
    const addr = this.addr.subarray(0, family === 4 ? 4 : 16);
    const want = routeId + 2;
    let d = walk.depth;
    while (d > 0) {
      const bit = bitAt(bytes, d - 1);
      const sibling = file.child(walk.path[d - 1]!, bit ^ 1);
      // Any address of the sibling half: the client's first d-1 bits, then the other bit.
      addr.fill(0);
      for (let i = 0; i < d - 1; i++) if (bitAt(bytes, i)) addr[i >> 3]! |= 0x80 >> (i & 7);
      if (bit === 0) addr[(d - 1) >> 3]! |= 0x80 >> ((d - 1) & 7);
      this.budget = NODE_BUDGET;
      if (this.uniform(sibling, addr, d) !== want) break;
      d--;
    }
    return d;
  }

  /** routeId + 2 when every address below `value` gets that route, MIXED, or OVER_BUDGET. `addr` holds the path (depth bits). */
  private uniform(value: number, addr: Uint8Array, depth: number): number {
    const file = this.file;
    if (value >= file.nodeCount) return this.policy.choiceFor(this.db.record(file, value, this.family, addr)).route.id + 2;
    const known = this.memo[value]!;
    if (known !== UNKNOWN) return known;
    if (--this.budget < 0 || depth >= addr.length * 8) return OVER_BUDGET;
    const left = this.uniform(file.child(value, 0), addr, depth + 1);
    if (left === OVER_BUDGET) return OVER_BUDGET;
    if (left === MIXED) return (this.memo[value] = MIXED);
    const mask = 0x80 >> (depth & 7);
    addr[depth >> 3]! |= mask;
    const right = this.uniform(file.child(value, 1), addr, depth + 1);
    addr[depth >> 3]! &= ~mask;
    if (right === OVER_BUDGET) return OVER_BUDGET;
    const verdict = right === left ? left : MIXED;
    // Route ids past what two bytes hold are not remembered: correct, only slower.
    if (verdict <= 0xffff) this.memo[value] = verdict;
    return verdict;
  }
}
