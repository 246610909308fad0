import type { PopAvailability } from './types.js';

/** One rank of an ordered list: POPs that share it, with their weights. */
export interface Rank {
  pops: number[];
  weights: number[];
}

/**
 * An ordered list of ranks: the first rank with an available POP answers,
 * and within a rank the weights share clients out. Interned, so two parts
 * of the address space route the same way exactly when their routes are
 * the same object (the ECS scope merge compares ids).
 */
export class CompiledRoute {
  /** POP indexes, rank after rank. */
  readonly pops: Int32Array;
  readonly weights: Float64Array;
  /** rankEnd[r] is the index in `pops` after rank r. */
  readonly rankEnd: Int32Array;
  /** Some rank has more than one POP: the pick hashes the client network. */
  readonly weighted: boolean;

  constructor(
    readonly id: number,
    ranks: readonly Rank[],
  ) {
    this.pops = Int32Array.from(ranks.flatMap((r) => r.pops));
    this.weights = Float64Array.from(ranks.flatMap((r) => r.weights));
    let end = 0;
    this.rankEnd = Int32Array.from(ranks.map((r) => (end += r.pops.length)));
    this.weighted = ranks.some((r) => r.pops.length > 1);
  }

  /** Position of `pop` in the list, -1 when absent. */
  positionOf(pop: number): number {
    return this.pops.indexOf(pop);
  }
}

export class RouteTable {
  private readonly byKey = new Map<string, CompiledRoute>();
  readonly routes: CompiledRoute[] = [];

  intern(ranks: readonly Rank[]): CompiledRoute {
    const key = ranks.map((r) => r.pops.map((p, i) => `${p}*${r.weights[i]}`).join(',')).join('|');
    let route = this.byKey.get(key);
    if (!route) {
      route = new CompiledRoute(this.routes.length, ranks);
      this.routes.push(route);
      this.byKey.set(key, route);
    }
    return route;
  }
}

/** Appends the POPs of `tail` that `ranks` lacks, keeping tail's ranks. */
export function withFallback(ranks: readonly Rank[], tail: readonly Rank[]): Rank[] {
  const seen = new Set(ranks.flatMap((r) => r.pops));
  const out = ranks.map((r) => ({ pops: [...r.pops], weights: [...r.weights] }));
  for (const r of tail) {
    const keep = r.pops.map((p, i) => [p, r.weights[i]!] as const).filter(([p]) => !seen.has(p));
    if (keep.length > 0) out.push({ pops: keep.map(([p]) => p), weights: keep.map(([, w]) => w) });
  }
  return out;
}

/** FNV-1a over the first `bits` bits of the address (whole bytes; the caller masks to a byte boundary). */
export function networkHash(bytes: Uint8Array, bits: number): number {
  let h = 0x811c9dc5;
  const n = bits >> 3;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** A uniform value in (0, 1) for (network, POP): murmur3's finalizer over the pair. */
function unitHash(netHash: number, pop: number): number {
  let h = (netHash ^ Math.imul(pop + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return (h + 0.5) / 4294967296;
}

/** Where a pick landed; one per caller, reused. */
export interface PickResult {
  pop: number;
  rank: number;
  allDown: boolean;
}

/**
 * Walks the ranks; the first with an available POP answers. Within a rank,
 * weighted rendezvous hashing (HRW) on the client network: a network keeps
 * its POP while that POP is up, and only the clients of a POP that goes
 * down move.
 */
export function pick(route: CompiledRoute, availability: PopAvailability, netHash: number, out: PickResult): void {
  const pops = route.pops;
  const ends = route.rankEnd;
  let start = 0;
  for (let r = 0; r < ends.length; r++) {
    const end = ends[r]!;
    let best = -1;
    let bestScore = -1;
    if (end - start === 1) {
      if (availability.isAvailable(pops[start]!)) best = pops[start]!;
    } else {
      for (let i = start; i < end; i++) {
        const pop = pops[i]!;
        if (!availability.isAvailable(pop)) continue;
        const score = -route.weights[i]! / Math.log(unitHash(netHash, pop));
        if (score > bestScore) {
          bestScore = score;
          best = pop;
        }
      }
    }
    if (best >= 0) {
      out.pop = best;
      out.rank = r;
      out.allDown = false;
      return;
    }
    start = end;
  }
  out.pop = pops[0]!;
  out.rank = 0;
  out.allDown = true;
}
