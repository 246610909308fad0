import { unmapIpv4, type ClientAddress } from '../geo/address.js';
import { networkHash } from '../routing/route.js';
import { ALWAYS_AVAILABLE, type CompiledPop, type CompiledService, type GeoRouting, type PopAvailability, type RouteDecision } from '../routing/types.js';
import type { HealthView } from './view.js';

/**
 * Spillover shares clients out per /24 (IPv4) or /48 (IPv6), as weighted
 * routing does: a resolver's clients keep one answer, and the ECS scope
 * says the answer holds for that network.
 */
const SPILL_PREFIX_V4 = 24;
const SPILL_PREFIX_V6 = 48;

/** Why an answer is not the client's first choice. */
export type Cause =
  | { readonly kind: 'none' }
  /** The first choice is down or drained. */
  | { readonly kind: 'health'; readonly pop: number; readonly state: 'down' | 'draining' }
  /** The chosen POP is above capacity and this client's network is in its shed share. */
  | { readonly kind: 'load'; readonly pop: number; readonly shed: number }
  /** Every POP of the client's list is down or drained. */
  | { readonly kind: 'all-down' };

const NONE: Cause = { kind: 'none' };
const ALL_DOWN: Cause = { kind: 'all-down' };

export interface HealthDecision {
  readonly decision: RouteDecision;
  readonly cause: Cause;
  readonly scopePrefix: number;
}

/**
 * The routing decision with health and load applied: down and drained
 * POPs are skipped by `decide` itself; a shedding POP's share of networks
 * goes to the next choice; the cause is named for TTLs and the director.
 * When all is calm this is one `decide` and no allocation but the result.
 */
export function decideWithHealth(routing: GeoRouting, service: CompiledService, client: ClientAddress, view: HealthView): HealthDecision {
  let d = routing.decide(service, client, view);
  if (view.calm) return { decision: d, cause: NONE, scopePrefix: d.scopePrefix };
  if (d.allDown) return { decision: d, cause: ALL_DOWN, scopePrefix: d.scopePrefix };
  let cause = NONE;
  const ideal = routing.decide(service, client, ALWAYS_AVAILABLE);
  if (ideal.pop !== d.pop) {
    const kind = view.stateOf(ideal.pop).kind;
    cause = { kind: 'health', pop: ideal.pop, state: kind === 'draining' ? 'draining' : 'down' };
  }
  let scope = d.scopePrefix;
  if (view.shedOf(d.pop) === 0) return { decision: d, cause, scopePrefix: scope };

  const c = unmapIpv4(client);
  const bits = c.family === 4 ? SPILL_PREFIX_V4 : SPILL_PREFIX_V6;
  const net = networkHash(c.bytes, bits);
  const extra = c === client ? 0 : 96;
  if (scope < bits + extra) scope = bits + extra;
  const skipped = new Set<number>();
  const around: PopAvailability = { isAvailable: (pop) => !skipped.has(pop) && view.isAvailable(pop) };
  for (;;) {
    const shed = view.shedOf(d.pop);
    if (shed === 0 || spillHash(net, d.pop) >= shed) break;
    skipped.add(d.pop);
    const next = routing.decide(service, client, around);
    if (next.allDown) break;
    if (cause.kind === 'none') cause = { kind: 'load', pop: d.pop, shed };
    d = next;
    if (next.scopePrefix > scope) scope = next.scopePrefix;
  }
  return { decision: d, cause, scopePrefix: scope };
}

/** A uniform value in (0, 1) for (network, POP), so each POP sheds its own share of networks. */
export function spillHash(netHash: number, pop: number): number {
  let h = (netHash ^ Math.imul(pop + 0x51ed, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return (h + 0.5) / 4294967296;
}

/** The director's and lookup's words for a cause: ` because eu-milan down`, ` because us-nyc load shed 40%`. */
export function describeCause(pops: readonly CompiledPop[], cause: Cause): string {
  switch (cause.kind) {
    case 'none':
      return '';
    case 'health':
      return ` because ${pops[cause.pop]!.name} ${cause.state}`;
    case 'load':
      return ` because ${pops[cause.pop]!.name} load shed ${Math.round(cause.shed * 100)}%`;
    case 'all-down':
      return ' because every POP is down';
    default: {
      const never: never = cause;
      return never;
    }
  }
}
