import { RRType } from './wire/constants.js';
import { Name } from './wire/name.js';
import type { RData } from './wire/rdata.js';
import type { ClientAddress, GeoAnswerSource } from './responder.js';
import type { RRset } from './zone/zone.js';
import type { CompiledService, GeoRouting, PopAvailability } from '../routing/types.js';

/**
 * Geo-routed names as DNS records: the routing decision becomes the chosen
 * POP's A or AAAA RRset. RRsets are built once per (service, POP, family, TTL)
 * and reused, so a geo answer allocates nothing but the packet.
 */
export function geoAnswerSource(routing: GeoRouting, availability: PopAvailability): GeoAnswerSource<CompiledService> {
  const owners = new Map<CompiledService, Name>();
  const targets = new Map<CompiledService, CompiledService>();
  for (const s of routing.services) {
    owners.set(s, Name.fromText(`${s.name}.`));
    targets.set(s, s.isDirector ? (routing.service(s.mirrors) ?? s) : s);
  }
  const rrsets = new Map<number, RRset>();
  const popCount = routing.pops.length;

  const addressRRset = (service: CompiledService, pop: number, type: number, ttl: number): RRset | undefined => {
    const key = ((service.index * popCount + pop) * 2 + (type === RRType.AAAA ? 1 : 0)) * 0x100000 + ttl;
    let rrset = rrsets.get(key);
    if (rrset === undefined) {
      const p = routing.pops[pop];
      const list = type === RRType.AAAA ? p.aaaa : p.a;
      if (list.length === 0) return undefined;
      rrset = { name: owners.get(service)!, type, ttl, data: list.map((b): RData => ({ kind: 'raw', bytes: b })) };
      rrsets.set(key, rrset);
    }
    return rrset;
  };

  return {
    service: (nameKey) => routing.service(nameKey),
    isDirector: (s) => s.isDirector,
    answer(service, qtype, client: ClientAddress) {
      const target = targets.get(service)!;
      const d = routing.decide(target, client, availability);
      const type = qtype === RRType.AAAA ? RRType.AAAA : RRType.A; // ANY: the A RRset (RFC 8482)
      const ttl = target.ttl;
      return { rrset: addressRRset(service, d.pop, type, ttl), scopePrefix: d.scopePrefix, variant: d.pop * 0x100000 + ttl };
    },
    directorTxt(service, client) {
      const [where, decision] = routing.directorTxt(client, availability);
      const d = routing.decide(targets.get(service)!, client, availability);
      const bytes = Buffer.concat([charString(where), charString(decision)]);
      return { rrset: { name: owners.get(service)!, type: RRType.TXT, ttl: targets.get(service)!.ttl, data: [{ kind: 'raw', bytes }] }, scopePrefix: d.scopePrefix };
    },
  };
}

function charString(text: string): Buffer {
  const b = Buffer.from(text, 'utf8').subarray(0, 255);
  return Buffer.concat([Buffer.from([b.length]), b]);
}
