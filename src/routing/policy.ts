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
  private readonly decisions = new Map<number, RouteDecision>();

  constructor(
    readonly route: CompiledRoute,
    /** Rule per position of route.pops. */
    readonly rules: readonly string[],
  ) {}

  decision(pop: number, rank: number, scopePrefix: number, allDown: boolean): RouteDecision {
    const key = ((pop * 129 + scopePrefix) << 1) | (allDown ? 1 : 0);
    let d = this.decisions.get(key);
    if (d === undefined) {
      const pos = this.route.positionOf(pop);
      d = Object.freeze({ pop, rule: this.rules[pos < 0 ? 0 : pos]!, scopePrefix, rank, allDown });
      this.decisions.set(key, d);
    }
    return d;
  }
}

/** A GeoIP leaf's answer for one service: its choice and merged scope. */
export interface LeafEntry {
  choice: Choice;
  scope: number;
}

export interface NearestSettings {
  pops: readonly number[];
  tieKm: number;
}

/** The compiled `route` of one service. Built whole at load; its caches fill as queries come. */
export class ServicePolicy {
  /** Per GeoIP file: leaf key → answer, and internal node → uniform route id (-1 mixed). */
  private readonly leaves = new Map<MmdbFile, Map<number, LeafEntry>>();
  private readonly uniform = new Map<MmdbFile, Map<number, number>>();
  private readonly nearestByRecord = new Map<GeoRecord, Choice>();
  private readonly choicesByKey = new Map<string, Choice>();

  constructor(
    readonly routes: RouteTable,
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
    const rules = Array.from(route.pops, (pop) => (km.has(pop) ? `nearest:${km.get(pop)}km` : 'default'));
    c = this.intern(route, rules);
    if (this.nearestByRecord.size >= MAX_CACHE) this.nearestByRecord.clear();
    this.nearestByRecord.set(record, c);
    return c;
  }

  intern(route: CompiledRoute, rules: readonly string[]): Choice {
    const key = `${route.id}|${rules.join(',')}`;
    let c = this.choicesByKey.get(key);
    if (!c) {
      c = new Choice(route, rules);
      this.choicesByKey.set(key, c);
    }
    return c;
  }

  leafCache(file: MmdbFile): Map<number, LeafEntry> {
    let m = this.leaves.get(file);
    if (!m) this.leaves.set(file, (m = new Map()));
    else if (m.size >= MAX_CACHE) m.clear();
    return m;
  }

  uniformCache(file: MmdbFile): Map<number, number> {
    let m = this.uniform.get(file);
    if (!m) this.uniform.set(file, (m = new Map()));
    else if (m.size >= MAX_CACHE) m.clear();
    return m;
  }
}
