import { RRType } from './wire/constants.js';
import { Name } from './wire/name.js';
import type { RData } from './wire/rdata.js';
import type { ClientAddress, GeoAnswerSource } from './responder.js';
import type { RRset } from './zone/zone.js';
import { decideWithHealth, describeCause, type HealthDecision } from '../health/decide.js';
import type { LastResort } from '../health/last-resort.js';
import { ALL_UP, type HealthView } from '../health/view.js';
import { describeDecision, fitTxt } from '../routing/director.js';
import type { CompiledService, GeoRouting } from '../routing/types.js';
import type { Logger } from '../core/log.js';
import { formatCidr, type ClientAddress as Client } from '../geo/address.js';

export interface GeoAnswerOptions {
  /** TTL of answers given while a nearer POP is down, drained or shedding, and of last resorts. */
  failoverTtl: number;
  /** Per service index: where clients go when every POP of their list is down. */
  lastResorts: readonly LastResort[];
  /** At debug level, one line per decision (GEOCDN_LOG_LEVEL=debug); the level is read when the snapshot is built. */
  logger?: Logger;
}

/** What an answer is, for the responder's cache of finished messages: one number per distinct RRset. */
const VARIANT_POP = 0;
const VARIANT_LAST_RESORT = 1;
const variant = (kind: number, pop: number, ttl: number) => (kind * 65536 + pop) * 2 ** 31 + ttl;

/**
 * Geo-routed names as DNS records: the routing decision, with health and
 * load applied, becomes the chosen POP's A or AAAA RRset; the TTL is the
 * service's while all is well and `failoverTtl` when health or load moved
 * the client; when every POP is down, the last resort. RRsets are built
 * once per (service, POP, family, TTL) and reused.
 */
export function geoAnswerSource(routing: GeoRouting, health: HealthView = ALL_UP, options?: GeoAnswerOptions): GeoAnswerSource<CompiledService> {
  const owners = new Map<CompiledService, Name>();
  const targets = new Map<CompiledService, CompiledService>();
  for (const s of routing.services) {
    owners.set(s, Name.fromText(`${s.name}.`));
    targets.set(s, s.isDirector ? (routing.service(s.mirrors) ?? s) : s);
  }
  const failoverTtl = options?.failoverTtl ?? 10;
  const allPops: LastResort = { kind: 'all-pops', a: routing.pops.flatMap((p) => p.a), aaaa: routing.pops.flatMap((p) => p.aaaa) };
  const lastResortOf = (s: CompiledService): LastResort => options?.lastResorts[s.index] ?? allPops;
  const rrsets = new Map<number, RRset | null>();
  const popCount = routing.pops.length;

  const cached = (key: number, make: () => RRset | undefined): RRset | undefined => {
    let rrset = rrsets.get(key);
    if (rrset === undefined) rrsets.set(key, (rrset = make() ?? null));
    return rrset ?? undefined;
  };
  const addresses = (service: CompiledService, type: number, ttl: number, list: readonly Uint8Array[]): RRset | undefined =>
    list.length === 0 ? undefined : { name: owners.get(service)!, type, ttl, data: list.map((b): RData => ({ kind: 'raw', bytes: b })) };

  const popRRset = (service: CompiledService, pop: number, type: number, ttl: number): RRset | undefined => {
    const key = ((service.index * (popCount + 1) + pop) * 2 + (type === RRType.AAAA ? 1 : 0)) * 2 ** 31 + ttl;
    return cached(key, () => addresses(service, type, ttl, type === RRType.AAAA ? routing.pops[pop]!.aaaa : routing.pops[pop]!.a));
  };
  const lastResortRRset = (service: CompiledService, last: LastResort, type: number, ttl: number): RRset | undefined => {
    const key = ((service.index * (popCount + 1) + popCount) * 2 + (type === RRType.AAAA ? 1 : 0)) * 2 ** 31 + ttl;
    return cached(key, () => {
      if (last.kind === 'cname') return { name: owners.get(service)!, type: RRType.CNAME, ttl, data: [{ kind: 'name', name: last.target }] };
      return addresses(service, type, ttl, type === RRType.AAAA ? last.aaaa : last.a);
    });
  };
  const ttlOf = (target: CompiledService, h: HealthDecision) => (h.cause.kind === 'none' ? target.ttl : Math.min(failoverTtl, target.ttl));
  // Checked once per snapshot, so the per-query cost with debug off is one test of a constant.
  const debug = options?.logger?.isLevelEnabled('debug') ? options.logger : undefined;
  const logDecision = (service: CompiledService, qtype: number, client: Client, h: HealthDecision, ttl: number) =>
    debug?.debug(
      {
        service: service.name,
        qtype,
        client: formatCidr(client.family, client.bytes, client.sourcePrefix),
        pop: h.decision.allDown ? null : routing.pops[h.decision.pop]!.name,
        rule: h.decision.rule,
        rank: h.decision.rank,
        reason: (describeDecision(routing.pops, h.decision) + describeCause(routing.pops, h.cause)).trim(),
        ttl,
        scope: h.scopePrefix,
      },
      'dns decision',
    );

  return {
    service: (nameKey) => routing.service(nameKey),
    isDirector: (s) => s.isDirector,
    answer(service, qtype, client: ClientAddress) {
      const target = targets.get(service)!;
      const h = decideWithHealth(routing, target, client, health);
      const type = qtype === RRType.AAAA ? RRType.AAAA : RRType.A; // ANY: the A RRset (RFC 8482)
      const ttl = ttlOf(target, h);
      if (debug) logDecision(service, qtype, client, h, ttl);
      if (h.decision.allDown) {
        return { rrset: lastResortRRset(service, lastResortOf(target), type, ttl), scopePrefix: h.scopePrefix, variant: variant(VARIANT_LAST_RESORT, 0, ttl) };
      }
      const pop = h.decision.pop;
      return { rrset: popRRset(service, pop, type, ttl), scopePrefix: h.scopePrefix, variant: variant(VARIANT_POP, pop, ttl) };
    },
    directorTxt(service, client) {
      const target = targets.get(service)!;
      const h = decideWithHealth(routing, target, client, health);
      if (debug) logDecision(service, RRType.TXT, client, h, ttlOf(target, h));
      const why = fitTxt(describeDecision(routing.pops, h.decision) + describeCause(routing.pops, h.cause));
      const bytes = Buffer.concat([charString(routing.describe(client)), charString(why)]);
      const rrset: RRset = { name: owners.get(service)!, type: RRType.TXT, ttl: ttlOf(target, h), data: [{ kind: 'raw', bytes }] };
      // The TXT names the client's own address: it holds for exactly the subnet asked about.
      return { rrset, scopePrefix: client.sourcePrefix };
    },
    label(service, v) {
      if (v < 0) return { service: service.name, pop: '' };
      const hi = Math.floor(v / 2 ** 31);
      const kind = Math.floor(hi / 65536);
      return { service: service.name, pop: kind === VARIANT_LAST_RESORT ? 'last-resort' : (routing.pops[hi % 65536]?.name ?? '?') };
    },
  };
}

function charString(text: string): Buffer {
  const b = Buffer.from(text, 'utf8').subarray(0, 255);
  return Buffer.concat([Buffer.from([b.length]), b]);
}
