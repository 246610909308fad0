import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GeocdnError, GeocdnErrors } from '../core/errors.js';
import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../core/log.js';
import { Name, NameError } from './wire/name.js';
import { ZoneSet } from './zone/lookup.js';
import { parseZoneFile } from './zone/parser.js';
import { buildZone, type Zone } from './zone/zone.js';
import type { DnsSnapshot } from './responder.js';
import { compileGeoRouting } from '../routing/compile.js';
import type { GeoRouting } from '../routing/types.js';
import { compileLastResorts } from '../health/last-resort.js';
import { ALL_UP, type HealthView } from '../health/view.js';
import { RRType } from './wire/constants.js';
import { geoAnswerSource } from './geo-answers.js';
import { nodeFor } from './zone/zone.js';

/**
 * Parses and checks every zone of a config, whole, before anything serves
 * from it (parse → validate → swap). Throws GeocdnErrors listing all problems.
 */
export async function buildDnsSnapshot(loaded: LoadedConfig, health: HealthView = ALL_UP, logger?: Logger): Promise<DnsSnapshot> {
  const errors: GeocdnError[] = [];
  const zones: Zone[] = [];
  const hash = createHash('sha256').update(readFileSync(loaded.path));
  const seen = new Set<string>();
  for (const [i, entry] of loaded.config.zones.entries()) {
    const file = loaded.resolvePath(entry.file);
    let origin: Name;
    try {
      origin = Name.fromText(entry.origin.endsWith('.') ? entry.origin : `${entry.origin}.`);
    } catch (e) {
      const msg = e instanceof NameError ? e.message : String(e);
      errors.push(new GeocdnError('GEOCDN_CONFIG_INVALID', `zones.${i}.origin: ${msg}`, { file: loaded.path }));
      continue;
    }
    if (seen.has(origin.key)) {
      errors.push(new GeocdnError('GEOCDN_CONFIG_INVALID', `zones.${i}: zone ${origin} is listed twice`, { file: loaded.path }));
      continue;
    }
    seen.add(origin.key);
    try {
      const zone = buildZone(parseZoneFile(file, origin), file);
      zones.push(zone);
      const soa = zone.soa.data[0];
      hash.update(`${origin.key}/${soa.kind === 'soa' ? soa.serial : 0}/${zone.nodes.size};`);
    } catch (e) {
      if (e instanceof GeocdnErrors) errors.push(...e.errors);
      else if (e instanceof GeocdnError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length > 0) throw new GeocdnErrors(errors);
  const zoneSet = new ZoneSet(zones);
  const config = loaded.config;
  const hasGeo = Object.keys(config.services ?? {}).length > 0 || config.director !== undefined;
  const routing = hasGeo ? await compileGeoRouting(config, loaded.resolvePath, { file: loaded.path }) : undefined;
  if (routing) placeServices(routing, zoneSet, loaded.path);
  const last = routing ? compileLastResorts(config.health.last_resort, routing) : { byService: [], issues: [] };
  if (last.issues.length > 0) throw new GeocdnErrors(last.issues.map((m) => new GeocdnError('GEOCDN_CONFIG_INVALID', m, { file: loaded.path })));
  return {
    zones: zoneSet,
    geo: routing ? geoAnswerSource(routing, health, { failoverTtl: config.health.failover_ttl, lastResorts: last.byService, logger }) : undefined,
    routing,
    version: hash.digest('hex').slice(0, 12),
  };
}

/**
 * Every geo-routed name must lie in one of our zones and must not also have
 * address or CNAME records there; its node is created so that other types
 * get NODATA rather than NXDOMAIN.
 */
function placeServices(routing: GeoRouting, zones: ZoneSet, file: string): void {
  const errors: GeocdnError[] = [];
  for (const key of routing.serviceNames) {
    const name = Name.fromText(`${key}.`);
    const zone = zones.find(name);
    if (!zone) {
      errors.push(new GeocdnError('GEOCDN_GEO_INVALID', `services: ${name} is outside every zone`, { file }, 'add its zone under zones:, or fix the name'));
      continue;
    }
    const node = zone.nodes.get(name.key);
    for (const type of [RRType.A, RRType.AAAA, RRType.CNAME]) {
      if (node?.rrsets.has(type)) {
        const where = `${zone.source}`;
        errors.push(new GeocdnError('GEOCDN_GEO_INVALID', `services: ${name} is geo-routed but ${where} also has ${type === RRType.CNAME ? 'a CNAME' : 'address records'} for it`, { file }, 'remove them from the zone file'));
      }
    }
    nodeFor(zone.nodes, name, zone.origin);
  }
  if (errors.length > 0) throw new GeocdnErrors(errors);
}
