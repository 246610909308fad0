import type { PopAvailability } from '../routing/types.js';
import type { PopState } from './state.js';

/** What answers read of health, per query: availability, shed shares, and the state behind them. */
export interface HealthView extends PopAvailability {
  /** Every POP serving and none shedding: one routing decision is the whole answer. */
  readonly calm: boolean;
  /** Share of the POP's new clients sent to their next choice (0 when not overloaded). */
  shedOf(pop: number): number;
  stateOf(pop: number): PopState;
}

/** No health checks: every POP up (lookup without live state, tests of routing alone). */
export const ALL_UP: HealthView = {
  calm: true,
  isAvailable: () => true,
  shedOf: () => 0,
  stateOf: () => ({ kind: 'up', since: 0, reason: 'not monitored' }),
};
