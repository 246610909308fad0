import type { HealthSection } from '../config/health-schema.js';
import { Name, NameError } from '../dns/wire/name.js';
import { parseIp } from '../geo/address.js';
import type { GeoRouting } from '../routing/types.js';

/** Where a service's clients go when every POP of their list is down. */
export type LastResort =
  /** Another CDN: a CNAME to its name. */
  | { readonly kind: 'cname'; readonly target: Name }
  /** The origin's (or any fixed) addresses. */
  | { readonly kind: 'addresses'; readonly a: readonly Uint8Array[]; readonly aaaa: readonly Uint8Array[] }
  /** Nothing configured: every POP's addresses, so some client gets through. */
  | { readonly kind: 'all-pops'; readonly a: readonly Uint8Array[]; readonly aaaa: readonly Uint8Array[] };

/**
 * Resolves `health.last_resort` against the services, by service index
 * (the director follows the service it mirrors). Problems come back as
 * `path: message` strings for the caller to raise as config errors.
 */
export function compileLastResorts(section: HealthSection['last_resort'], routing: GeoRouting): { byService: LastResort[]; issues: string[] } {
  const issues: string[] = [];
  const allPops: LastResort = { kind: 'all-pops', a: routing.pops.flatMap((p) => p.a), aaaa: routing.pops.flatMap((p) => p.aaaa) };
  const configured = new Map<string, LastResort>();
  for (const [text, entry] of Object.entries(section)) {
    const at = `health.last_resort.${text}`;
    const key = text.toLowerCase().replace(/\.$/, '');
    const service = routing.service(key);
    if (!service || service.isDirector) {
      issues.push(`${at}: "${text}" is not a service (services: ${routing.services.filter((s) => !s.isDirector).map((s) => s.name).join(', ') || 'none'})`);
      continue;
    }
    if ('cname' in entry) {
      try {
        configured.set(key, { kind: 'cname', target: Name.fromText(entry.cname.endsWith('.') ? entry.cname : `${entry.cname}.`) });
      } catch (e) {
        issues.push(`${at}.cname: ${e instanceof NameError ? e.message : String(e)}`);
      }
      continue;
    }
    const a: Uint8Array[] = [];
    const aaaa: Uint8Array[] = [];
    entry.addresses.forEach((t, i) => {
      const ip = parseIp(t.trim());
      if (!ip) issues.push(`${at}.addresses.${i}: "${t}" is not an IPv4 or IPv6 address`);
      else (ip.family === 4 ? a : aaaa).push(ip.bytes);
    });
    configured.set(key, { kind: 'addresses', a, aaaa });
  }
  const byService = routing.services.map((s) => configured.get(s.isDirector ? s.mirrors : s.name) ?? allPops);
  return { byService, issues };
}
