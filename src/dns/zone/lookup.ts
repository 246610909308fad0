import { Rcode, RRType } from '../wire/constants.js';
import { Name, NameError } from '../wire/name.js';
import { readName } from '../wire/rdata.js';
import type { RRset, Zone, ZoneNode } from './zone.js';

/**
 * The authoritative answer algorithm of RFC 1034 §4.3.2, with negative
 * answers per RFC 2308, wildcards per RFC 4592 and minimal ANY per RFC 8482.
 * Pure: zone data in, sections out; the wire writer turns it into bytes.
 */
export interface Resolution<S> {
  rcode: number;
  aa: boolean;
  answer: RRset[];
  authority: RRset[];
  additional: RRset[];
  /** Additional records that must fit or the answer is truncated (in-domain referral glue). */
  glueRequired: boolean;
  /** The chain ended at a geo-routed name: the caller appends that name's records. */
  geo: { service: S; name: Name } | undefined;
  /** The zone that answered; undefined with REFUSED. */
  zone: Zone | undefined;
}

/** Finds the zone that is the longest suffix of a name. */
export class ZoneSet {
  private readonly byOrigin = new Map<string, Zone>();

  constructor(zones: Iterable<Zone>) {
    for (const z of zones) this.byOrigin.set(z.origin.key, z);
  }

  find(name: Name): Zone | undefined {
    for (let i = 0; i < name.suffixKeys.length; i++) {
      const z = this.byOrigin.get(name.suffixKeys[i]);
      if (z) return z;
    }
    return undefined;
  }

  get zones(): Zone[] {
    return [...this.byOrigin.values()];
  }
}

/** A chain of CNAMEs longer than this is cut (BIND stops at 16 as well). */
const MAX_CHAIN = 16;

type Step<S> =
  | { kind: 'data'; rrsets: RRset[] }
  | { kind: 'cname'; rrset: RRset; target: Name }
  /** RFC 6672: the DNAME above the name and the CNAME synthesized from it; no target when the new name is too long. */
  | { kind: 'dname'; rrsets: RRset[]; target: Name | undefined }
  | { kind: 'service'; service: S; name: Name }
  | { kind: 'nodata' }
  | { kind: 'nxdomain' }
  | { kind: 'referral'; node: ZoneNode };

export function resolve<S>(
  zones: ZoneSet,
  qname: Name,
  qtype: number,
  services: (nameKey: string) => S | undefined,
): Resolution<S> {
  const res: Resolution<S> = {
    rcode: Rcode.NOERROR, aa: true, answer: [], authority: [], additional: [],
    glueRequired: false, geo: undefined, zone: undefined,
  };
  const zone = zones.find(qname);
  if (!zone) {
    res.rcode = Rcode.REFUSED;
    res.aa = false;
    return res;
  }
  res.zone = zone;
  const seen = new Set<string>();
  let name = qname;
  for (let hop = 0; ; hop++) {
    const step = lookupInZone(zone, name, qtype, services);
    switch (step.kind) {
      case 'data':
        res.answer.push(...step.rrsets);
        addTargetAddresses(zone, step.rrsets, res);
        return res;
      case 'cname':
        res.answer.push(step.rrset);
        seen.add(name.key);
        // Stop where a resolver must continue: out of zone, a loop, or too long a chain.
        if (!step.target.isSubdomainOf(zone.origin) || seen.has(step.target.key) || hop + 1 >= MAX_CHAIN) return res;
        name = step.target;
        continue;
      case 'dname':
        res.answer.push(...step.rrsets);
        seen.add(name.key);
        // RFC 6672 §2.2: a substituted name longer than 255 bytes is YXDOMAIN.
        if (!step.target) {
          res.rcode = Rcode.YXDOMAIN;
          return res;
        }
        if (qtype === RRType.CNAME || !step.target.isSubdomainOf(zone.origin) || seen.has(step.target.key) || hop + 1 >= MAX_CHAIN) return res;
        name = step.target;
        continue;
      case 'service':
        res.geo = { service: step.service, name: step.name };
        return res;
      case 'nodata':
        res.authority.push(negativeSoa(zone));
        return res;
      case 'nxdomain':
        // RFC 6604 §3: the rcode speaks of the last name of the chain.
        res.rcode = Rcode.NXDOMAIN;
        res.authority.push(negativeSoa(zone));
        return res;
      case 'referral':
        // After a CNAME the answer stays authoritative and the referral goes in authority (RFC 1034 §4.3.2 step 3b).
        if (res.answer.length === 0) res.aa = false;
        addReferral(zone, step.node, res);
        return res;
      default: {
        const never: never = step;
        throw new Error(`unhandled step ${String(never)}`);
      }
    }
  }
}

function lookupInZone<S>(zone: Zone, name: Name, qtype: number, services: (k: string) => S | undefined): Step<S> {
  const depth = name.labels.length - zone.origin.labels.length;
  let encloser = zone.nodes.get(zone.origin.key)!;
  let d = 1;
  for (; d <= depth; d++) {
    const dname = encloser.rrsets.get(RRType.DNAME);
    if (dname) return substitute(dname, name, depth - d + 1);
    const node = zone.nodes.get(name.suffixKeys[depth - d]);
    if (!node) break;
    encloser = node;
    // A DS query at the cut is answered by the parent side (RFC 4035 §3.1.4.1).
    if (node.delegation && !(d === depth && qtype === RRType.DS)) return { kind: 'referral', node };
  }
  if (d > depth) return nodeAnswer(encloser, name, qtype, services, false);
  // RFC 4592 §3.3.1: only the wildcard child of the closest encloser can match.
  const wildcard = zone.nodes.get(encloser.name.key === '' ? '*' : `*.${encloser.name.key}`);
  if (wildcard) return nodeAnswer(wildcard, name, qtype, services, true);
  return { kind: 'nxdomain' };
}

function nodeAnswer<S>(
  node: ZoneNode,
  owner: Name,
  qtype: number,
  services: (k: string) => S | undefined,
  synthesized: boolean,
): Step<S> {
  if (!synthesized && (qtype === RRType.A || qtype === RRType.AAAA || qtype === RRType.ANY)) {
    const service = services(node.name.key);
    if (service !== undefined) return { kind: 'service', service, name: owner };
  }
  const rename = (r: RRset): RRset => (synthesized ? { ...r, name: owner } : r);
  const cname = node.rrsets.get(RRType.CNAME);
  // ANY matches the CNAME itself, which is not followed (RFC 1034 §4.3.2 step 3a).
  if (cname && qtype !== RRType.CNAME && qtype !== RRType.ANY) {
    const target = cname.data[0];
    if (target.kind === 'name') return { kind: 'cname', rrset: rename(cname), target: target.name };
  }
  if (qtype === RRType.ANY) {
    // RFC 8482 §4.2: answer with one RRset rather than all of them.
    let first: RRset | undefined;
    for (const r of node.rrsets.values()) if (!first || r.type < first.type) first = r;
    return first ? { kind: 'data', rrsets: [rename(first)] } : { kind: 'nodata' };
  }
  const rrset = node.rrsets.get(qtype);
  return rrset ? { kind: 'data', rrsets: [rename(rrset)] } : { kind: 'nodata' };
}

/** The DNAME and the CNAME it synthesizes for `name`, whose leftmost `keep` labels stay (RFC 6672 §2.2, §3.1). */
function substitute<S>(dname: RRset, name: Name, keep: number): Step<S> {
  const data = dname.data[0];
  if (data.kind !== 'raw') throw new Error('DNAME RDATA is kept as wire bytes');
  const target = readName(data.bytes, 0).name;
  let newName: Name | undefined;
  try {
    newName = Name.fromLabels([...name.labels.slice(0, keep), ...target.labels]);
  } catch (e) {
    if (!(e instanceof NameError)) throw e;
    return { kind: 'dname', rrsets: [dname], target: undefined };
  }
  const cname: RRset = { name, type: RRType.CNAME, ttl: dname.ttl, data: [{ kind: 'name', name: newName }] };
  return { kind: 'dname', rrsets: [dname, cname], target: newName };
}

function negativeSoa(zone: Zone): RRset {
  return { ...zone.soa, ttl: zone.negativeTtl };
}

function addReferral<S>(zone: Zone, cut: ZoneNode, res: Resolution<S>): void {
  const ns = cut.rrsets.get(RRType.NS)!;
  res.authority.push(ns);
  for (const d of ns.data) {
    if (d.kind !== 'name') continue;
    const before = res.additional.length;
    addAddresses(zone, d.name, res.additional);
    // RFC 9471: glue for name servers inside the delegated zone is required.
    if (res.additional.length > before && d.name.isSubdomainOf(cut.name)) res.glueRequired = true;
  }
}

/** Additional-section processing for NS, MX and SRV answers (RFC 1034 §3.6, RFC 2782). */
function addTargetAddresses<S>(zone: Zone, rrsets: RRset[], res: Resolution<S>): void {
  for (const rrset of rrsets) {
    for (const d of rrset.data) {
      let target: Name | undefined;
      if (rrset.type === RRType.NS && d.kind === 'name') target = d.name;
      else if (rrset.type === RRType.MX && d.kind === 'mx') target = d.exchange;
      else if (rrset.type === RRType.SRV && d.kind === 'raw' && d.bytes.length > 6) target = srvTarget(d.bytes);
      if (target && target.isSubdomainOf(zone.origin)) addAddresses(zone, target, res.additional);
    }
  }
}

function srvTarget(bytes: Uint8Array): Name | undefined {
  try {
    return readName(bytes, 6).name;
  } catch {
    return undefined;
  }
}

function addAddresses(zone: Zone, name: Name, out: RRset[]): void {
  const node = zone.nodes.get(name.key);
  if (!node) return;
  for (const type of [RRType.A, RRType.AAAA]) {
    const rrset = node.rrsets.get(type);
    if (rrset && !out.includes(rrset)) out.push(rrset);
  }
}

