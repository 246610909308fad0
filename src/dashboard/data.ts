import type { PurgeHistory } from '../admin/purge-history.js';
import type { PopControl } from '../admin/pops.js';
import { stateJson } from '../admin/pops.js';
import { clientFromText, formatIp } from '../geo/address.js';
import { COUNTRIES, CONTINENT_CODES } from '../geo/countries.js';
import { decideWithHealth, describeCause } from '../health/decide.js';
import type { HealthView } from '../health/view.js';
import { describeLocation } from '../routing/director.js';
import type { GeoRouting } from '../routing/types.js';

/** What the dashboard reads: the nameserver's live state, never a copy. */
export interface DashboardSource {
  pops: PopControl;
  /** The routing of the snapshot serving now (a reload swaps it). */
  routing(): GeoRouting | undefined;
  /** The same monitor as `pops`, as answers read it (indexes follow `routing().pops`). */
  health: HealthView;
  purges: PurgeHistory;
  node: string;
  now(): number;
}

/** GET /v1/dashboard: every POP with where it is, its state, its edge's load and cache statuses; the recent purges. */
export function dashboardData(src: DashboardSource): Record<string, unknown> {
  const routing = src.routing();
  const byName = new Map((routing?.pops ?? []).map((p) => [p.name, p]));
  return {
    node: src.node,
    time: new Date(src.now()).toISOString(),
    services: (routing?.services ?? []).filter((s) => !s.isDirector).map((s) => s.name),
    pops: src.pops.statuses().map((s) => {
      const pop = byName.get(s.name);
      const load = s.load;
      return {
        name: s.name,
        location: pop ? [pop.latitude, pop.longitude] : null,
        country: pop && pop.country ? COUNTRIES.alpha2[pop.country] : null,
        edge: s.edge,
        capacity: s.capacity,
        state: stateJson(s.state),
        shed: s.shed,
        last_probe: s.lastProbe && { ok: s.lastProbe.ok, reason: s.lastProbe.reason, ms: s.lastProbe.ms, at: new Date(s.lastProbe.at).toISOString() },
        // The edge's load as of its last good probe (kept while the POP is down, marked by last_probe).
        requests_per_second: load?.requestsPerSecond ?? null,
        in_flight: load?.inFlight ?? null,
        hit_ratio: load?.hitRatio ?? null,
        cache_statuses: load?.cacheStatuses ?? null,
      };
    }),
    purges: src.purges.list(),
  };
}

/**
 * GET /v1/dashboard/route?ip=IP[/PREFIX]: where the address is and which
 * POP each service would answer it right now, health applied, and why —
 * the director's TXT as JSON.
 */
export function routeFor(src: DashboardSource, ipText: string): { status: number; body: Record<string, unknown> } {
  const client = clientFromText(ipText.trim());
  if (!client) return { status: 400, body: { error: 'GEOCDN_ADMIN_BAD_IP', message: `"${ipText.slice(0, 60)}" is not an IP address or IP/PREFIX` } };
  const routing = src.routing();
  if (!routing) return { status: 404, body: { error: 'GEOCDN_ADMIN_NO_ROUTING', message: 'this nameserver has no geo-routed services' } };
  const loc = routing.locate(client);
  const r = loc.record;
  const services = routing.services
    .filter((s) => !s.isDirector)
    .map((svc) => {
      const h = decideWithHealth(routing, svc, client, src.health);
      const pop = routing.pops[h.decision.pop]!;
      return {
        service: svc.name,
        pop: pop.name,
        rule: h.decision.rule,
        rank: h.decision.rank,
        all_down: h.decision.allDown,
        because: describeCause(routing.pops, h.cause).replace(/^ because /, ''),
        scope: h.scopePrefix,
        addresses: [...pop.a.map((b) => formatIp(4, b)), ...pop.aaaa.map((b) => formatIp(6, b))],
      };
    });
  return {
    status: 200,
    body: {
      address: formatIp(client.family, client.bytes),
      source_prefix: client.sourcePrefix,
      network: loc.network,
      special: loc.special ?? null,
      country: r && r.country ? COUNTRIES.alpha2[r.country] : null,
      country_name: r && r.country ? COUNTRIES.name[r.country] : null,
      continent: r && r.continent ? CONTINENT_CODES[r.continent] : null,
      city: r?.city ?? null,
      location: r && !Number.isNaN(r.latitude) ? [r.latitude, r.longitude] : null,
      asn: loc.asn ?? null,
      director: describeLocation(client, loc),
      services,
    },
  };
}
