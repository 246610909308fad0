import type { MmdbFile } from '../geo/mmdb.js';
import type { PrefixTrie } from '../geo/prefix-trie.js';
import type { GeoRecord } from '../geo/record.js';
import { greatCircleKm } from './distance.js';
import { withFallback, type CompiledRoute, type Rank, type RouteTable } from './route.js';
import type { CompiledPop, RouteDecision } from './types.js';

/** Entries kept per cache before it starts over: bounded memory whatever the clients. */
const MAX_CACHE = 1_000_000;

/**
 * A route plus what to call each of its positions (`country:IT`, or for
 * `nearest` the distance to each POP). Interned per policy; holds the
 * RouteDecision objects handed out, so a query allocates none.
 */
export class Choice {
  private few: RouteDecision[] | undefined = undefined;
  private many: Map<number, RouteDecision> | undefined = undefined;

  constructor(
    /** Index in the policy's ChoiceTable. */
    readonly id: number,
    readonly route: CompiledRoute,
    /** Rule per position of route.pops: a string, or for `nearest` the distance in km (-1: the default's tail). */
    private readonly rules: readonly (string | number)[],
  ) {}

  rule(position: number): string {
    const r = this.rules[position < 0 ? 0 : position]!;
    return typeof r === 'string' ? r : r < 0 ? 'default' : `nearest:${r}km`;
  }

  decision(pop: number, rank: number, scopePrefix: number, allDown: boolean): RouteDecision {
    // Most choices hand out a few decisions (nearest ones: one per record): a short list then, a Map past it.
    const few = this.few;
    if (few) {
      for (let i = 0; i < few.length; i++) {
        const d = few[i]!;
        if (d.pop === pop && d.scopePrefix === scopePrefix && d.allDown === allDown) return d;
      }
    }
    const key = ((pop * 129 + scopePrefix) << 1) | (allDown ? 1 : 0);
    let d = this.many?.get(key);
    if (d === undefined) {
      d = Object.freeze({ pop, rule: this.rule(this.route.positionOf(pop)), scopePrefix, rank, allDown });
      if (!few) this.few = [d];
      else if (few.length < 8) few.push(d);
      else (this.many ??= new Map()).set(key, d);
    }
    return d;
  }
}

/** The choices of one policy, interned by route and rules, numbered for packed caches. */
export class ChoiceTable {
  readonly list: Choice[] = [];
  private readonly byKey = new Map<string, Choice>();

  intern(route: CompiledRoute, rules: readonly (string | number)[]): Choice {
    const key = `${route.id}|${rules.join(',')}`;
    let c = this.byKey.get(key);
    if (!c) {
      c = new Choice(this.list.length, route, rules);
      this.list.push(c);
      this.byKey.set(key, c);
    }
    return c;
  }
}

/** A leaf's cached answer packed in one small integer: choice id and scope. */
export function packLeaf(choice: number, scope: number): number {
  return choice * 256 + scope;
}

export interface NearestSettings {
  pops: readonly number[];
  tieKm: number;
}

/** The compiled `route` of one service. Built whole at load; its caches fill as queries come. */
export class ServicePolicy {
  /** Per GeoIP file: leaf key → packLeaf(choice, scope). */
  private readonly leaves = new Map<MmdbFile, Map<number, number>>();
  /** Per GeoIP file, per tree node: 0 not known yet, 1 mixed, else the route id every address below gets, + 2. */
  private readonly uniform = new Map<MmdbFile, Uint16Array>();
  private readonly nearestByRecord = new Map<GeoRecord, Choice>();

  constructor(
    readonly routes: RouteTable,
    readonly choices: ChoiceTable,
    /** `nets` entries, then the special-purpose blocks (default); longest prefix wins. */
    readonly nets4: PrefixTrie<Choice>,
    readonly nets6: PrefixTrie<Choice>,
    readonly byCountry: readonly (Choice | undefined)[],
    readonly byContinent: readonly (Choice | undefined)[],
    readonly bySubdivision: ReadonlyMap<string, Choice>,
    readonly nearest: NearestSettings | undefined,
    readonly defaultRanks: readonly Rank[],
    readonly defaultChoice: Choice,
    /** Not in the database, or a record with nothing usable. */
    readonly unknownChoice: Choice,
    private readonly pops: readonly CompiledPop[],
  ) {}

  choiceFor(record: GeoRecord | undefined): Choice {
    if (!record) return this.unknownChoice;
    if (record.subdivision !== undefined && this.bySubdivision.size > 0) {
      const c = this.bySubdivision.get(record.subdivision);
      if (c) return c;
    }
    const byCountry = this.byCountry[record.country];
    if (byCountry) return byCountry;
    const byContinent = this.byContinent[record.continent];
    if (byContinent) return byContinent;
    if (this.nearest && !Number.isNaN(record.latitude) && !Number.isNaN(record.longitude)) return this.nearestChoice(record);
    return record.country === 0 && Number.isNaN(record.latitude) ? this.unknownChoice : this.defaultChoice;
  }

  private nearestChoice(record: GeoRecord): Choice {
    let c = this.nearestByRecord.get(record);
    if (c) return c;
    const n = this.nearest!;
    const byDistance = n.pops
      .map((pop) => ({ pop, km: greatCircleKm(record.latitude, record.longitude, this.pops[pop]!.latitude, this.pops[pop]!.longitude) }))
      .sort((a, b) => a.km - b.km || a.pop - b.pop);
    const ranks: Rank[] = [];
    let rankStartKm = -Infinity;
    for (const { pop, km } of byDistance) {
      if (ranks.length > 0 && km - rankStartKm <= n.tieKm) {
        ranks[ranks.length - 1]!.pops.push(pop);
        ranks[ranks.length - 1]!.weights.push(this.pops[pop]!.weight);
      } else {
        ranks.push({ pops: [pop], weights: [this.pops[pop]!.weight] });
        rankStartKm = km;
      }
    }
    const route = this.routes.intern(withFallback(ranks, this.defaultRanks));
    const km = new Map(byDistance.map((d) => [d.pop, Math.round(d.km)]));
    const rules = Array.from(route.pops, (pop) => km.get(pop) ?? -1);
    c = this.choices.intern(route, rules);
    if (this.nearestByRecord.size >= MAX_CACHE) this.nearestByRecord.clear();
    this.nearestByRecord.set(record, c);
    return c;
  }

  leafCache(file: MmdbFile): Map<number, number> {
    let m = this.leaves.get(file);
    if (!m) this.leaves.set(file, (m = new Map()));
    else if (m.size >= MAX_CACHE) m.clear();
    return m;
  }

  /** One entry per tree node (2 bytes each), made on first use: a Map of millions of entries is slower and larger. */
  uniformMemo(file: MmdbFile): Uint16Array {
    let m = this.uniform.get(file);
    if (!m) this.uniform.set(file, (m = new Uint16Array(file.nodeCount)));
    return m;
  }
}
