/** What the probes say of a POP's edge. */
export type Health =
  | { readonly kind: 'up'; readonly since: number; readonly reason: string }
  | { readonly kind: 'down'; readonly since: number; readonly reason: string };

/** A POP's state as answers see it: draining (admin) wins over what the probes say. */
export type PopState =
  | Health
  | { readonly kind: 'draining'; readonly since: number; readonly reason: string; readonly health: Health };

export type PopStateKind = PopState['kind'];

export interface Thresholds {
  /** Consecutive good probes that bring a down POP up. */
  rise: number;
  /** Consecutive failed probes that take an up POP down. */
  fall: number;
}

/** Rise/fall bookkeeping of one POP; replaced whole by `observe`. */
export interface Track {
  readonly health: Health;
  /** Consecutive results that disagree with `health`. */
  readonly streak: number;
  /** No probe has answered yet: the first result decides at once. */
  readonly fresh: boolean;
}

export function initialTrack(now: number, reason = 'not probed yet'): Track {
  return { health: { kind: 'up', since: now, reason }, streak: 0, fresh: true };
}

/**
 * One probe result through the rise/fall machine (gdnsd's up/down
 * thresholds). At start nothing is known, so the first result is taken
 * as it is rather than waiting `fall` probes to find a dead edge.
 */
export function observe(track: Track, ok: boolean, reason: string, now: number, t: Thresholds): Track {
  const h = track.health;
  if (track.fresh) {
    const health: Health = ok ? { kind: 'up', since: h.since, reason } : { kind: 'down', since: now, reason };
    return { health, streak: 0, fresh: false };
  }
  if ((h.kind === 'up') === ok) return track.streak === 0 ? track : { health: h, streak: 0, fresh: false };
  const streak = track.streak + 1;
  if (streak < (ok ? t.rise : t.fall)) return { health: h, streak, fresh: false };
  const why = `${reason} (${streak} ${ok ? 'good' : 'failed'} probe${streak > 1 ? 's' : ''} in a row)`;
  return { health: ok ? { kind: 'up', since: now, reason: why } : { kind: 'down', since: now, reason: why }, streak: 0, fresh: false };
}

/** The state answers use: a drain (when, why) over the probes' health. */
export function popState(health: Health, drain: { since: number; reason: string } | undefined): PopState {
  return drain ? { kind: 'draining', since: drain.since, reason: drain.reason, health } : health;
}

/** Whether new clients may be sent to a POP in this state. */
export function isServing(state: PopState): boolean {
  switch (state.kind) {
    case 'up':
      return true;
    case 'down':
    case 'draining':
      return false;
    default: {
      const never: never = state;
      return never;
    }
  }
}
