import type { Logger } from '../core/log.js';
import type { Clock } from './clock.js';
import type { Drain } from './drain-file.js';
import { shedShare, type LoadReport } from './load.js';
import { probeEdge, type Prober, type ProbeResult } from './probe.js';
import { initialTrack, isServing, observe, popState, type PopState, type Thresholds, type Track } from './state.js';
import type { HealthView } from './view.js';

/** A POP as the monitor needs it: resolved from the config at load. */
export interface MonitoredPop {
  readonly name: string;
  /** Edge URL to probe; a POP without one is taken as up. */
  readonly edge: string | undefined;
  /** Requests per second the POP is sized for. */
  readonly capacity: number | undefined;
}

export interface MonitorSettings extends Thresholds {
  intervalMs: number;
  timeoutMs: number;
  tcp: boolean;
  path: string;
  spillover: boolean;
  maxSpillover: number;
}

export interface LastProbe {
  at: number;
  ok: boolean;
  reason: string;
  ms: number;
}

/** One POP as `geocdn status` and the admin API show it. */
export interface PopStatus {
  name: string;
  edge: string | null;
  capacity: number | null;
  state: PopState;
  load: LoadReport | null;
  /** Share of new clients sent to their next choice. */
  shed: number;
  lastProbe: LastProbe | null;
}

interface Entry {
  pop: MonitoredPop;
  track: Track;
  load: LoadReport | undefined;
  shed: number;
  lastProbe: LastProbe | undefined;
  timer: unknown;
  running: Promise<void> | undefined;
  /** Whether this entry is still configured (a reload may drop it mid-probe). */
  live: boolean;
}

export interface MonitorOptions {
  clock: Clock;
  prober?: Prober;
  logger?: Logger;
}

/**
 * Probes every POP's edge on a fixed cadence from the moment it is
 * configured, runs the rise/fall machine and the load arithmetic, and
 * answers `isAvailable` from flat arrays (it is read per DNS query).
 * Drains are kept by POP name, so a reload keeps them (KeptDrains writes
 * them down, so a restart does too).
 */
export class HealthMonitor implements HealthView {
  private entries: Entry[] = [];
  private serving = new Uint8Array(0);
  private shedding = new Float64Array(0);
  private readonly drains = new Map<string, { since: number; reason: string }>();
  private settings: MonitorSettings | undefined;
  private readonly clock: Clock;
  private readonly prober: Prober;
  private readonly logger: Logger | undefined;
  private stopped = false;
  /** Every POP serving and none shedding. */
  calm = true;
  /** Bumped on every change of a POP's state or shed share. */
  version = 0;

  constructor(options: MonitorOptions) {
    this.clock = options.clock;
    this.prober = options.prober ?? probeEdge;
    this.logger = options.logger;
  }

  /** Takes a (new) POP list and settings; POPs kept by name and edge keep their state. Probes start at once. */
  configure(pops: readonly MonitoredPop[], settings: MonitorSettings): void {
    const old = new Map(this.entries.map((e) => [`${e.pop.name} ${e.pop.edge ?? ''}`, e]));
    const now = this.clock.now();
    for (const e of this.entries) this.clock.clearTimeout(e.timer);
    this.settings = settings;
    this.entries = pops.map((pop) => {
      const key = `${pop.name} ${pop.edge ?? ''}`;
      const kept = old.get(key);
      if (!kept) return { pop, track: initialTrack(now, pop.edge ? 'not probed yet' : 'no edge to probe'), load: undefined, shed: 0, lastProbe: undefined, timer: undefined, running: undefined, live: true };
      old.delete(key);
      kept.pop = pop;
      return kept;
    });
    for (const e of old.values()) e.live = false;
    const names = new Set(pops.map((p) => p.name));
    for (const name of this.drains.keys()) if (!names.has(name)) this.drains.delete(name);
    this.serving = new Uint8Array(pops.length);
    this.shedding = new Float64Array(pops.length);
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (!settings.spillover || e.pop.capacity === undefined) e.shed = 0;
      this.refresh(i);
      if (e.pop.edge !== undefined && !this.stopped) e.timer = this.clock.setTimeout(() => this.probe(e), 0);
    }
    this.version++;
  }

  isAvailable(pop: number): boolean {
    return this.serving[pop] === 1;
  }

  shedOf(pop: number): number {
    return this.shedding[pop] ?? 0;
  }

  stateOf(pop: number): PopState {
    const e = this.entries[pop];
    return e ? popState(e.track.health, this.drains.get(e.pop.name)) : { kind: 'down', since: 0, reason: 'unknown POP' };
  }

  statuses(): PopStatus[] {
    return this.entries.map((e, i) => ({
      name: e.pop.name,
      edge: e.pop.edge ?? null,
      capacity: e.pop.capacity ?? null,
      state: this.stateOf(i),
      load: e.load ?? null,
      shed: this.shedding[i]!,
      lastProbe: e.lastProbe ?? null,
    }));
  }

  indexOf(name: string): number {
    return this.entries.findIndex((e) => e.pop.name === name);
  }

  /** Sends new clients elsewhere; the edge keeps serving those who still come. Undefined for an unknown POP. */
  drain(name: string, reason = 'drained by admin', since = this.clock.now()): PopState | undefined {
    const i = this.indexOf(name);
    if (i < 0) return undefined;
    if (!this.drains.has(name)) {
      this.drains.set(name, { since, reason });
      this.changed(i, 'drained');
    }
    return this.stateOf(i);
  }

  undrain(name: string): PopState | undefined {
    const i = this.indexOf(name);
    if (i < 0) return undefined;
    if (this.drains.delete(name)) this.changed(i, 'undrained');
    return this.stateOf(i);
  }

  /** The drains in force, in the config's POP order. */
  drained(): Drain[] {
    const out: Drain[] = [];
    for (const e of this.entries) {
      const d = this.drains.get(e.pop.name);
      if (d) out.push({ pop: e.pop.name, since: d.since, reason: d.reason });
    }
    return out;
  }

  /** Resolves when no probe is running (tests step a fake clock, then wait for this). */
  async idle(): Promise<void> {
    for (;;) {
      const running = this.entries.map((e) => e.running).filter((p): p is Promise<void> => p !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const e of this.entries) this.clock.clearTimeout(e.timer);
  }

  private probe(e: Entry): void {
    const s = this.settings!;
    if (!e.live || this.stopped || e.running) return;
    const started = this.clock.now();
    const target = { edge: e.pop.edge!, path: s.path, timeoutMs: s.timeoutMs, tcp: s.tcp };
    e.running = this.prober(target, this.clock)
      .catch((err: unknown): ProbeResult => ({ ok: false, reason: `probe error: ${String(err)}`, load: undefined }))
      .then((result) => {
        e.running = undefined;
        if (!e.live || this.stopped) return;
        this.record(e, result, started);
        e.timer = this.clock.setTimeout(() => this.probe(e), Math.max(0, started + s.intervalMs - this.clock.now()));
      });
  }

  private record(e: Entry, result: ProbeResult, started: number): void {
    const s = this.settings!;
    const now = this.clock.now();
    const i = this.entries.indexOf(e);
    e.lastProbe = { at: now, ok: result.ok, reason: result.reason, ms: now - started };
    const before = e.track.health;
    e.track = observe(e.track, result.ok, result.reason, now, s);
    if (result.ok) e.load = result.load;
    const shed = result.ok && result.load && s.spillover ? shedShare(result.load.requestsPerSecond, e.pop.capacity, e.shed, s.maxSpillover) : 0;
    const shedMoved = Math.abs(shed - e.shed) > 1e-9;
    e.shed = shed;
    if (e.track.health !== before && e.track.health.kind !== before.kind) this.changed(i, `health ${e.track.health.kind}`);
    else if (shedMoved) this.changed(i, 'load');
  }

  private changed(i: number, what: string): void {
    this.refresh(i);
    this.version++;
    const e = this.entries[i]!;
    const state = this.stateOf(i);
    this.logger?.info({ pop: e.pop.name, state: state.kind, reason: state.reason, shed: e.shed }, `POP ${e.pop.name} ${what}`);
  }

  private refresh(i: number): void {
    const e = this.entries[i]!;
    const serving = isServing(this.stateOf(i));
    this.serving[i] = serving ? 1 : 0;
    this.shedding[i] = serving ? e.shed : 0;
    let calm = true;
    for (let j = 0; j < this.serving.length; j++) if (this.serving[j] !== 1 || this.shedding[j]! > 0) calm = false;
    this.calm = calm;
  }
}
