import type { ClientAddress } from '../geo/address.js';
import type { Location } from '../geo/locator.js';
import type { ServicePolicy } from './policy.js';

export type { ClientAddress } from '../geo/address.js';

/** Which POPs may be answered. The health issue implements it from probes; routing only asks. */
export interface PopAvailability {
  isAvailable(pop: number): boolean;
}

/** Every POP up: the availability until health checks exist, and for `lookup`. */
export const ALWAYS_AVAILABLE: PopAvailability = { isAvailable: () => true };

/** A POP chosen for one client. Decisions are cached and shared: never mutate one. */
export interface RouteDecision {
  /** Index into `GeoRouting.pops`. */
  readonly pop: number;
  /** What decided: `country:IT`, `continent:EU`, `subdivision:US-CA`, `net:10.0.0.0/8`, `nearest:1234km`, `default`, `default:private`... */
  readonly rule: string;
  /**
   * ECS scope (RFC 7871 §7.2.1): the prefix length of the network that
   * decided, widened over neighbours that route the same way, narrowed by
   * any `nets` entry that could change the answer. May exceed the query's
   * source prefix when the database splits below it.
   */
  readonly scopePrefix: number;
  /** Rank of the chosen POP in the ordered list: 0 = first choice, more = failover. */
  readonly rank: number;
  /** Every POP of the list was unavailable; `pop` is then the first one (as gdnsd does), and a last resort may apply. */
  readonly allDown: boolean;
}

export interface CompiledPop {
  readonly name: string;
  readonly index: number;
  /** 4-byte addresses, in config order. */
  readonly a: readonly Uint8Array[];
  /** 16-byte addresses, in config order. */
  readonly aaaa: readonly Uint8Array[];
  readonly latitude: number;
  readonly longitude: number;
  /** Country index (COUNTRIES), 0 when not given. */
  readonly country: number;
  /** Continent index (CONTINENT_CODES), 0 when not given. */
  readonly continent: number;
  readonly capacity: number | undefined;
  readonly weight: number;
  readonly edge: string | undefined;
}

export interface CompiledService {
  /** Name.key: lowercase, no trailing dot. */
  readonly name: string;
  readonly index: number;
  readonly ttl: number;
  /** True for the director name: it answers A/AAAA like `mirrors` and TXT with the director strings. */
  readonly isDirector: boolean;
  /** For the director, the service whose answers it gives; otherwise the service itself. */
  readonly mirrors: string;
  readonly policy: ServicePolicy;
}

/** What a snapshot of the DNS server holds for geo-routed names. Immutable; a reload builds a new one. */
export interface GeoRouting {
  readonly pops: readonly CompiledPop[];
  /** Geo-routed names, director included (the DNS snapshot checks each lies in a zone). */
  readonly serviceNames: readonly string[];
  readonly services: readonly CompiledService[];
  service(nameKey: string): CompiledService | undefined;
  /** Name.key of the director, if one is configured. */
  readonly director: string | undefined;
  decide(service: CompiledService, client: ClientAddress, availability: PopAvailability): RouteDecision;
  /** The director's first TXT string, PowerDNS/Parrot style: `ip 185.178.92.254 v4 city gavardo country it ita state eu region 09 name unknown as as206701`. */
  describe(client: ClientAddress): string;
  /** The director's two TXT strings: `describe()` and `pop eu-milan rule country:IT`. Each at most 255 bytes. */
  directorTxt(client: ClientAddress, availability: PopAvailability): [string, string];
  /** Everything known about the client's address, for `geocdn lookup`. */
  locate(client: ClientAddress): Location;
  /** Which database files were loaded. */
  readonly sources: { city: readonly string[]; asn: readonly string[] };
}
