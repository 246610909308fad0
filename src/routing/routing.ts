import { bitAt, unmapIpv4, type ClientAddress } from '../geo/address.js';
import { GeoWalk } from '../geo/geoip.js';
import type { GeoLocator, Location } from '../geo/locator.js';
import { describeDecision, describeLocation } from './director.js';
import type { RoutingPlan } from './plan.js';
import { packLeaf, type Choice } from './policy.js';
import { networkHash, pick, type PickResult } from './route.js';
import { ScopeMerger } from './scope.js';
import type { CompiledPop, CompiledService, GeoRouting, PopAvailability, RouteDecision } from './types.js';

/**
 * Weighted ranks share clients out per /24 (IPv4) or /48 (IPv6): the pick
 * hashes that network, so the answer's scope is at least that long.
 */
const WEIGHT_PREFIX_V4 = 24;
const WEIGHT_PREFIX_V6 = 48;

/**
 * The geo routing of one snapshot. `decide` runs per query: two trie walks
 * over bytes (nets, then the GeoIP tree), one Map read for the leaf's
 * cached answer, the availability walk, and a cached decision object.
 */
export class Routing implements GeoRouting {
  readonly pops: readonly CompiledPop[];
  readonly services: readonly CompiledService[];
  readonly serviceNames: readonly string[];
  readonly director: string | undefined;
  private readonly byName: ReadonlyMap<string, CompiledService>;
  private readonly walk = new GeoWalk();
  private readonly trieOut = { scope: 0, prefix: 0 };
  private readonly picked: PickResult = { pop: 0, rank: 0, allDown: false };
  private readonly merger = new ScopeMerger();
  /** Out-values of `leaf()`. */
  private leafChoice: Choice | undefined = undefined;
  private leafScope = 0;

  constructor(
    plan: RoutingPlan,
    private readonly geo: GeoLocator,
  ) {
    this.pops = plan.pops;
    this.services = plan.services;
    this.serviceNames = plan.services.map((s) => s.name);
    this.director = plan.director;
    this.byName = new Map(plan.services.map((s) => [s.name, s]));
  }

  get sources(): { city: readonly string[]; asn: readonly string[] } {
    return this.geo.sources;
  }

  service(nameKey: string): CompiledService | undefined {
    return this.byName.get(nameKey);
  }

  decide(service: CompiledService, client: ClientAddress, availability: PopAvailability): RouteDecision {
    const policy = service.policy;
    let c = client;
    let extra = 0;
    if (c.family === 6 && c.bytes[10] === 0xff && c.bytes[11] === 0xff) {
      c = unmapIpv4(c);
      if (c !== client) extra = 96;
    }
    const family = c.family;
    const bytes = c.bytes;
    const net = (family === 4 ? policy.nets4 : policy.nets6).lookup(bytes, family === 4 ? 32 : 128, this.trieOut);
    let scope = this.trieOut.scope;
    let choice: Choice;
    if (net !== undefined) choice = net;
    else {
      this.leaf(service, family, bytes);
      choice = this.leafChoice!;
      if (this.leafScope > scope) scope = this.leafScope;
    }
    const route = choice.route;
    let hash = 0;
    if (route.weighted) {
      const w = family === 4 ? WEIGHT_PREFIX_V4 : WEIGHT_PREFIX_V6;
      if (scope < w) scope = w;
      hash = networkHash(bytes, w);
    }
    const p = this.picked;
    pick(route, availability, hash, p);
    return choice.decision(p.pop, p.rank, scope + extra, p.allDown);
  }

  /** The cached answer of the GeoIP leaf holding `bytes`, computed on first use; sets leafChoice and leafScope. */
  private leaf(service: CompiledService, family: 4 | 6, bytes: Uint8Array): void {
    const policy = service.policy;
    const db = this.geo.db;
    const w = this.walk;
    db.walk(family, bytes, w);
    const file = w.file;
    if (!file) {
      this.leafChoice = policy.unknownChoice;
      this.leafScope = 0;
      return;
    }
    const cache = policy.leafCache(file);
    // A leaf is one record slot of the tree (parent node, side); the family is part of the key
    // because IPv4 prefixes count from the IPv4 root of an IPv6 tree.
    const slot = w.depth === 0 ? -1 : w.path[w.depth - 1]! * 2 + bitAt(bytes, w.depth - 1);
    const key = slot * 2 + (family === 6 ? 1 : 0);
    let packed = cache.get(key);
    if (packed === undefined) {
      const choice = policy.choiceFor(db.record(file, w.value, family, bytes));
      packed = packLeaf(choice.id, this.merger.merge(db, file, policy, w, family, bytes, choice.route.id));
      cache.set(key, packed);
    }
    this.leafChoice = policy.choices.list[packed >> 8]!;
    this.leafScope = packed & 0xff;
  }

  locate(client: ClientAddress): Location {
    return this.geo.locate(unmapIpv4(client));
  }

  describe(client: ClientAddress): string {
    return describeLocation(client, this.locate(client));
  }

  directorTxt(client: ClientAddress, availability: PopAvailability): [string, string] {
    const svc = this.director === undefined ? undefined : this.byName.get(this.director);
    const decided = svc ? describeDecision(this.pops, this.decide(svc, client, availability)) : 'pop none rule no-director';
    return [this.describe(client), decided];
  }
}
