import type { GeoConfig, PopConfig } from '../config/geo-schema.js';
import { parseIp } from '../geo/address.js';
import { COUNTRIES, parseArea } from '../geo/countries.js';
import { Name, NameError } from '../dns/wire/name.js';
import { compilePolicy, type GeoIssue } from './compile-policy.js';
import type { CompiledPop, CompiledService } from './types.js';

export type { GeoIssue } from './compile-policy.js';

/** Everything of the geo config resolved to indexes, before any database is opened. */
export interface RoutingPlan {
  pops: CompiledPop[];
  services: CompiledService[];
  director: string | undefined;
}

/**
 * Resolves POP names, area codes, networks and service names. Pure and
 * quick: `geocdn check` and the config schema run it too. The plan is
 * usable only when `issues` is empty.
 */
export function planRouting(config: GeoConfig): { plan: RoutingPlan; issues: GeoIssue[] } {
  const issues: GeoIssue[] = [];
  const pops = Object.entries(config.pops ?? {}).map(([name, pop], index) => compilePop(name, pop, index, issues));
  const popIndex = new Map(pops.map((p) => [p.name, p.index]));

  const services: CompiledService[] = [];
  const byName = new Map<string, CompiledService>();
  for (const [text, svc] of Object.entries(config.services ?? {})) {
    const at = ['services', text];
    const name = nameKey(text, at, issues);
    const policy = compilePolicy(svc.route, pops, popIndex, [...at, 'route'], issues);
    if (name === undefined) continue;
    if (byName.has(name)) {
      issues.push({ path: at, message: `service ${name} is given twice` });
      continue;
    }
    const service: CompiledService = { name, index: services.length, ttl: svc.ttl, isDirector: false, mirrors: name, policy };
    services.push(service);
    byName.set(name, service);
  }
  if (services.length > 0 && pops.length === 0) issues.push({ path: ['pops'], message: 'services need at least one POP' });

  let director: string | undefined;
  if (config.director !== undefined) {
    director = nameKey(config.director, ['director'], issues);
    const mirroredText = config.director_service;
    const mirroredKey = mirroredText === undefined ? services[0]?.name : nameKey(mirroredText, ['director_service'], issues);
    const mirrored = mirroredKey === undefined ? undefined : byName.get(mirroredKey);
    if (!mirrored) {
      issues.push(
        mirroredText === undefined
          ? { path: ['director'], message: 'the director answers like a service: define one under `services`' }
          : { path: ['director_service'], message: `"${mirroredText}" is not a service` },
      );
    } else if (director !== undefined) {
      if (byName.has(director)) issues.push({ path: ['director'], message: `${director} is already a service` });
      else
        services.push({ name: director, index: services.length, ttl: mirrored.ttl, isDirector: true, mirrors: mirrored.name, policy: mirrored.policy });
    }
  } else if (config.director_service !== undefined) {
    issues.push({ path: ['director_service'], message: '`director_service` without a `director`' });
  }
  return { plan: { pops, services, director }, issues };
}

function nameKey(text: string, at: (string | number)[], issues: GeoIssue[]): string | undefined {
  try {
    return Name.fromText(text.endsWith('.') ? text : `${text}.`).key;
  } catch (e) {
    issues.push({ path: at, message: e instanceof NameError ? `bad DNS name: ${e.message}` : String(e) });
    return undefined;
  }
}

function compilePop(name: string, pop: PopConfig, index: number, issues: GeoIssue[]): CompiledPop {
  const at = ['pops', name];
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) issues.push({ path: at, message: 'a POP name is letters, digits, ".", "_" and "-"' });
  const a: Uint8Array[] = [];
  const aaaa: Uint8Array[] = [];
  pop.addresses.forEach((text, i) => {
    const ip = parseIp(text.trim());
    if (!ip) issues.push({ path: [...at, 'addresses', i], message: `"${text}" is not an IPv4 or IPv6 address` });
    else (ip.family === 4 ? a : aaaa).push(ip.bytes);
  });
  let country = 0;
  let continent = 0;
  if (pop.country !== undefined) {
    const area = parseArea(pop.country);
    if (typeof area === 'string' || area.kind !== 'country') {
      issues.push({ path: [...at, 'country'], message: typeof area === 'string' ? area : `"${pop.country}" is not a country` });
    } else {
      country = area.index;
      continent = COUNTRIES.continent[country]!;
    }
  }
  if (pop.continent !== undefined) {
    const area = parseArea(`continent:${pop.continent}`);
    if (typeof area === 'string' || area.kind !== 'continent') {
      issues.push({ path: [...at, 'continent'], message: typeof area === 'string' ? area : `"${pop.continent}" is not a continent` });
    } else continent = area.index;
  }
  return {
    name,
    index,
    a,
    aaaa,
    latitude: pop.location[0],
    longitude: pop.location[1],
    country,
    continent,
    capacity: pop.capacity,
    weight: pop.weight,
    edge: pop.edge,
  };
}
