import type { PopListConfig, RouteConfig } from '../config/geo-schema.js';
import { formatCidr, parseCidr } from '../geo/address.js';
import { areaLabel, COUNTRIES, CONTINENT_CODES, parseArea } from '../geo/countries.js';
import { PrefixTrie } from '../geo/prefix-trie.js';
import { SPECIAL_NETWORKS } from '../geo/special.js';
import { ChoiceTable, ServicePolicy, type Choice } from './policy.js';
import { RouteTable, withFallback, type Rank } from './route.js';
import type { CompiledPop } from './types.js';

export type ConfigPath = (string | number)[];

/** A problem found while compiling, with where it is in the config. */
export interface GeoIssue {
  path: ConfigPath;
  message: string;
}

/** Builds one service's policy from its `route`; problems go to `issues` (then the result is not to be used). */
export function compilePolicy(
  route: RouteConfig,
  pops: readonly CompiledPop[],
  popIndex: ReadonlyMap<string, number>,
  path: ConfigPath,
  issues: GeoIssue[],
): ServicePolicy {
  const r = route;
  const routes = new RouteTable();
  const choices = new ChoiceTable();
  const list = (value: PopListConfig, at: ConfigPath) => resolvePopList(value, pops, popIndex, at, issues);
  const single = (ranks: Rank[], rule: string) => choices.intern(routes.intern(ranks), ranks.flatMap((k) => k.pops.map(() => rule)));

  // The default: `default`, or the map's "0"/"default" entry (PowerDNS' "0 eu"), or every POP when `nearest` decides.
  const mapEntries = Object.entries(r.map ?? {});
  const defaultKeys = mapEntries.filter(([k]) => isDefaultKey(k));
  if (defaultKeys.length + (r.default !== undefined ? 1 : 0) > 1) {
    const where = defaultKeys.length > 1 ? [...path, 'map', defaultKeys[1]![0]] : [...path, 'default'];
    issues.push({ path: where, message: 'the default is given twice (`default` and the map\'s "0"/"default" entry)' });
  }
  let defaultRanks: Rank[];
  if (r.default !== undefined) defaultRanks = list(r.default, [...path, 'default']);
  else if (defaultKeys.length > 0) defaultRanks = list(defaultKeys[0]![1], [...path, 'map', defaultKeys[0]![0]]);
  else if (r.nearest !== undefined) defaultRanks = pops.map((p) => ({ pops: [p.index], weights: [p.weight] }));
  else {
    issues.push({ path, message: 'a route needs a `default` POP list (or a map entry "0"/"default", or `nearest`)' });
    defaultRanks = [];
  }
  const defaultChoice = single(defaultRanks, 'default');
  const unknownChoice = choices.intern(defaultChoice.route, Array.from(defaultChoice.route.pops, () => 'default:unknown'));

  const byCountry: (Choice | undefined)[] = new Array(COUNTRIES.alpha2.length).fill(undefined);
  const byContinent: (Choice | undefined)[] = new Array(CONTINENT_CODES.length).fill(undefined);
  const bySubdivision = new Map<string, Choice>();
  const firstKey = new Map<string, string>();
  for (const [key, value] of mapEntries) {
    if (isDefaultKey(key)) continue;
    const at = [...path, 'map', key];
    const area = parseArea(key);
    if (typeof area === 'string') {
      issues.push({ path: at, message: area });
      continue;
    }
    const label = areaLabel(area);
    const earlier = firstKey.get(label);
    if (earlier !== undefined) {
      issues.push({ path: at, message: `"${key}" names the same ${area.kind} as "${earlier}"` });
      continue;
    }
    firstKey.set(label, key);
    const choice = single(withFallback(list(value, at), defaultRanks), label);
    if (area.kind === 'country') byCountry[area.index] = choice;
    else if (area.kind === 'continent') byContinent[area.index] = choice;
    else bySubdivision.set(area.code, choice);
  }

  const nets4 = new PrefixTrie<Choice>();
  const nets6 = new PrefixTrie<Choice>();
  const netKeys = new Map<string, string>();
  for (const [key, value] of Object.entries(r.nets ?? {})) {
    const at = [...path, 'nets', key];
    const cidr = parseCidr(key.trim());
    if (typeof cidr === 'string') {
      issues.push({ path: at, message: cidr });
      continue;
    }
    const canonical = formatCidr(cidr.family, cidr.bytes, cidr.prefix);
    const earlier = netKeys.get(canonical);
    if (earlier !== undefined) {
      issues.push({ path: at, message: `network ${canonical} is given twice ("${earlier}" and "${key}")` });
      continue;
    }
    netKeys.set(canonical, key);
    const choice = single(withFallback(list(value, at), defaultRanks), `net:${canonical}`);
    (cidr.family === 4 ? nets4 : nets6).insert(cidr.bytes, cidr.prefix, choice);
  }
  // Addresses that say nothing about place route to the default, unless a `nets` entry of the same network names them.
  for (const [text, kind] of SPECIAL_NETWORKS) {
    const cidr = parseCidr(text) as Exclude<ReturnType<typeof parseCidr>, string>;
    const choice = choices.intern(defaultChoice.route, Array.from(defaultChoice.route.pops, () => `default:${kind}`));
    (cidr.family === 4 ? nets4 : nets6).insert(cidr.bytes, cidr.prefix, choice);
  }

  let nearest: { pops: number[]; tieKm: number } | undefined;
  if (r.nearest !== undefined) {
    const opts = r.nearest;
    const names = opts.pops ?? pops.map((p) => p.name);
    const idx: number[] = [];
    names.forEach((name, i) => {
      const p = popIndex.get(name);
      if (p === undefined) issues.push({ path: [...path, 'nearest', 'pops', i], message: unknownPop(name, popIndex) });
      else idx.push(p);
    });
    nearest = { pops: idx, tieKm: opts.tie_km };
  }

  return new ServicePolicy(
    routes,
    choices,
    nets4.freeze(),
    nets6.freeze(),
    byCountry,
    byContinent,
    bySubdivision,
    nearest,
    defaultRanks,
    defaultChoice,
    unknownChoice,
    pops,
  );
}

function isDefaultKey(key: string): boolean {
  const k = key.trim().toLowerCase();
  return k === 'default' || /^0+$/.test(k);
}

function unknownPop(name: string, popIndex: ReadonlyMap<string, number>): string {
  const known = [...popIndex.keys()];
  return `unknown POP "${name}"${known.length ? ` (POPs: ${known.join(', ')})` : ' (no `pops` are defined)'}`;
}

/** `us` | [us, [eu-a, eu-b], {eu-c: 3, eu-d: 1}] → ranks of POP indexes with weights. */
function resolvePopList(
  value: PopListConfig,
  pops: readonly CompiledPop[],
  popIndex: ReadonlyMap<string, number>,
  at: ConfigPath,
  issues: GeoIssue[],
): Rank[] {
  const seen = new Set<number>();
  const ranks: Rank[] = [];
  value.forEach((item, i) => {
    const itemAt = [...at, i];
    const members: [string, number | undefined, ConfigPath][] =
      typeof item === 'string'
        ? [[item, undefined, itemAt]]
        : Array.isArray(item)
          ? item.map((name, j) => [name, undefined, [...itemAt, j]])
          : Object.entries(item).map(([name, w]) => [name, w, [...itemAt, name]]);
    const rank: Rank = { pops: [], weights: [] };
    for (const [name, weight, where] of members) {
      const p = popIndex.get(name);
      if (p === undefined) {
        issues.push({ path: where, message: unknownPop(name, popIndex) });
        continue;
      }
      if (seen.has(p)) {
        issues.push({ path: where, message: `POP "${name}" is listed twice` });
        continue;
      }
      seen.add(p);
      rank.pops.push(p);
      rank.weights.push(weight ?? pops[p]!.weight);
    }
    if (rank.pops.length > 0) ranks.push(rank);
  });
  return ranks;
}
