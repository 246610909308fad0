import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GeocdnError, GeocdnErrors } from '../core/errors.js';
import type { LoadedConfig } from '../config/load.js';
import { Name, NameError } from './wire/name.js';
import { ZoneSet } from './zone/lookup.js';
import { parseZoneFile } from './zone/parser.js';
import { buildZone, type Zone } from './zone/zone.js';
import type { DnsSnapshot } from './responder.js';

/**
 * Parses and checks every zone of a config, whole, before anything serves
 * from it (parse → validate → swap). Throws GeocdnErrors listing all problems.
 */
export function buildDnsSnapshot(loaded: LoadedConfig): DnsSnapshot {
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
  return { zones: new ZoneSet(zones), geo: undefined, version: hash.digest('hex').slice(0, 12) };
}
