import { GeocdnError, GeocdnErrors } from '../../core/errors.js';
import { RRType, typeToString } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import type { RData } from '../wire/rdata.js';
import type { ParsedZone, ZoneRecord } from './parser.js';

/** All records of one owner, type and class (RFC 2181 §5). */
export interface RRset {
  readonly name: Name;
  readonly type: number;
  readonly ttl: number;
  readonly data: readonly RData[];
}

/**
 * One owner name of the zone. Nodes exist for every owner and for every
 * empty non-terminal between an owner and the apex (RFC 8020), so a lookup
 * tells "does not exist" from "exists without data" with one Map read.
 */
export interface ZoneNode {
  readonly name: Name;
  readonly rrsets: Map<number, RRset>;
  /** NS at a name below the apex: everything at and below it is delegated. */
  delegation: boolean;
}

export interface Zone {
  readonly origin: Name;
  readonly soa: RRset;
  /** TTL of negative answers: min(SOA TTL, SOA MINIMUM) (RFC 2308 §5). */
  readonly negativeTtl: number;
  readonly nodes: Map<string, ZoneNode>;
  readonly source: string;
}

/** Builds the lookup tree of a parsed zone and applies the checks named-checkzone makes. */
export function buildZone(parsed: ParsedZone, source: string): Zone {
  const errors: GeocdnError[] = [];
  const fail = (msg: string, r?: ZoneRecord) =>
    errors.push(new GeocdnError('GEOCDN_ZONE_SEMANTIC', msg, { file: r?.file ?? source, line: r?.line }));
  const origin = parsed.origin;
  const nodes = new Map<string, ZoneNode>();
  const grouped = new Map<string, Map<number, { records: ZoneRecord[] }>>();

  for (const r of parsed.records) {
    if (!r.name.isSubdomainOf(origin)) {
      fail(`${r.name} is outside the zone ${origin}`, r);
      continue;
    }
    let byType = grouped.get(r.name.key);
    if (!byType) grouped.set(r.name.key, (byType = new Map()));
    let set = byType.get(r.type);
    if (!set) byType.set(r.type, (set = { records: [] }));
    set.records.push(r);
  }

  for (const byType of grouped.values()) {
    for (const [type, { records }] of byType) {
      const first = records[0];
      const data = dedupe(records);
      if (type === RRType.CNAME && data.length > 1) fail(`${first.name} has more than one CNAME record`, records[1]);
      if (type === RRType.SOA && data.length > 1) fail(`${first.name} has more than one SOA record`, records[1]);
      if (type === RRType.SOA && !first.name.equals(origin)) fail(`SOA record at ${first.name}, not at the zone apex ${origin}`, first);
      // RFC 2181 §5.2: one TTL per RRset; like BIND we keep the first and use it for all.
      const rrset: RRset = { name: first.name, type, ttl: first.ttl, data };
      nodeFor(nodes, first.name, origin).rrsets.set(type, rrset);
    }
    const types = [...byType.keys()];
    if (byType.has(RRType.CNAME) && types.length > 1) {
      const other = types.find((t) => t !== RRType.CNAME) ?? 0;
      const r = byType.get(RRType.CNAME)!.records[0];
      fail(`${r.name} has CNAME and other data (${typeToString(other)}) (RFC 1034 §3.6.2)`, r);
    }
  }

  const apex = nodes.get(origin.key);
  const soa = apex?.rrsets.get(RRType.SOA);
  if (!soa) fail(`zone ${origin} has no SOA record at its apex`);
  if (!apex?.rrsets.has(RRType.NS)) fail(`zone ${origin} has no NS records at its apex`);
  if (apex?.rrsets.has(RRType.CNAME)) fail(`zone apex ${origin} has a CNAME record`);
  for (const node of nodes.values()) {
    if (node !== apex && node.rrsets.has(RRType.NS)) node.delegation = true;
  }
  checkBelowDname(parsed.records, nodes, origin, fail);
  if (errors.length > 0) throw new GeocdnErrors(errors);

  const soaData = soa!.data[0];
  const minimum = soaData.kind === 'soa' ? soaData.minimum : soa!.ttl;
  return { origin, soa: soa!, negativeTtl: Math.min(soa!.ttl, minimum), nodes, source };
}

/** Returns the node of `name`, creating it and its empty non-terminal ancestors. */
export function nodeFor(nodes: Map<string, ZoneNode>, name: Name, origin: Name): ZoneNode {
  const existing = nodes.get(name.key);
  if (existing) return existing;
  const node: ZoneNode = { name, rrsets: new Map(), delegation: false };
  nodes.set(name.key, node);
  let ancestor = name;
  while (ancestor.labels.length > origin.labels.length) {
    ancestor = ancestor.parent();
    if (nodes.has(ancestor.key)) break;
    nodes.set(ancestor.key, { name: ancestor, rrsets: new Map(), delegation: false });
  }
  return node;
}

/** RFC 6672 §2.4: no data below a DNAME (Knot refuses such a zone too). */
function checkBelowDname(records: ZoneRecord[], nodes: Map<string, ZoneNode>, origin: Name, fail: (msg: string, r?: ZoneRecord) => void): void {
  const owners = new Set<string>();
  for (const node of nodes.values()) if (node.rrsets.has(RRType.DNAME)) owners.add(node.name.key);
  if (owners.size === 0) return;
  for (const r of records) {
    for (let i = 1; i < r.name.labels.length - origin.labels.length + 1; i++) {
      if (owners.has(r.name.suffixKeys[i])) {
        fail(`${r.name} is below the DNAME at ${r.name.suffixKeys[i]}. (RFC 6672 §2.4)`, r);
        break;
      }
    }
  }
}

function dedupe(records: ZoneRecord[]): RData[] {
  const seen = new Set<string>();
  const out: RData[] = [];
  for (const r of records) {
    const k = fingerprint(r.data);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r.data);
  }
  return out;
}

function fingerprint(d: RData): string {
  switch (d.kind) {
    case 'name': return d.name.key;
    case 'mx': return `${d.preference} ${d.exchange.key}`;
    case 'soa': return `${d.mname.key} ${d.rname.key} ${d.serial}`;
    case 'raw': return Buffer.from(d.bytes).toString('hex');
    default: {
      const never: never = d;
      return String(never);
    }
  }
}
