import { bitAt } from '../geo/address.js';
import type { GeoIpDatabase, GeoWalk } from '../geo/geoip.js';
import type { MmdbFile } from '../geo/mmdb.js';
import type { ServicePolicy } from './policy.js';

/** Tree nodes one widening step may visit; a bigger sibling counts as "routes differently". */
const NODE_BUDGET = 256;
const MIXED = -1;
const OVER_BUDGET = -2;

/**
 * The ECS scope of a GeoIP leaf for one service: its network, widened one
 * bit at a time while the sibling half routes to the same route as well
 * (RFC 7871 §7.2.1 asks for the shortest prefix that is still true).
 * Sibling subtrees are judged by walking them, within a budget, and the
 * verdicts are kept per tree node.
 */
export function mergedScope(
  db: GeoIpDatabase,
  file: MmdbFile,
  policy: ServicePolicy,
  walk: GeoWalk,
  family: 4 | 6,
  bytes: Uint8Array,
  routeId: number,
): number {
  const memo = policy.uniformCache(file);
  const addr = new Uint8Array(family === 4 ? 4 : 16);
  let d = walk.depth;
  while (d > 0) {
    const bit = bitAt(bytes, d - 1);
    const sibling = file.child(walk.path[d - 1]!, bit ^ 1);
    // Any address of the sibling half: the client's first d-1 bits, then the other bit.
    addr.fill(0);
    for (let i = 0; i < d - 1; i++) if (bitAt(bytes, i)) addr[i >> 3]! |= 0x80 >> (i & 7);
    if (bit === 0) addr[(d - 1) >> 3]! |= 0x80 >> ((d - 1) & 7);
    const budget = { left: NODE_BUDGET };
    if (uniformRoute(db, file, policy, memo, sibling, family, addr, d, budget) !== routeId) break;
    d--;
  }
  return d;
}

/** The route id every address below `value` gets, MIXED, or OVER_BUDGET. `addr` holds the path to `value` (depth bits). */
function uniformRoute(
  db: GeoIpDatabase,
  file: MmdbFile,
  policy: ServicePolicy,
  memo: Map<number, number>,
  value: number,
  family: 4 | 6,
  addr: Uint8Array,
  depth: number,
  budget: { left: number },
): number {
  if (value >= file.nodeCount) return policy.choiceFor(db.record(file, value, family, addr)).route.id;
  const known = memo.get(value);
  if (known !== undefined) return known;
  if (--budget.left < 0 || depth >= addr.length * 8) return OVER_BUDGET;
  const left = uniformRoute(db, file, policy, memo, file.child(value, 0), family, addr, depth + 1, budget);
  if (left < 0) {
    if (left === MIXED) memo.set(value, MIXED);
    return left;
  }
  const mask = 0x80 >> (depth & 7);
  addr[depth >> 3]! |= mask;
  const right = uniformRoute(db, file, policy, memo, file.child(value, 1), family, addr, depth + 1, budget);
  addr[depth >> 3]! &= ~mask;
  if (right === OVER_BUDGET) return OVER_BUDGET;
  const verdict = right === left ? left : MIXED;
  memo.set(value, verdict);
  return verdict;
}
