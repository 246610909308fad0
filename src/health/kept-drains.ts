import type { Logger } from '../core/log.js';
import type { Drain, DrainStore } from './drain-file.js';
import type { HealthMonitor, PopStatus } from './monitor.js';
import type { PopState } from './state.js';

/** What a drain or undrain did: the POP's state now, and whether a restart will find it. */
export interface DrainAnswer {
  readonly state: PopState;
  /** Written to the drains file; false when drains live in memory only, or the write failed (`error`). */
  readonly persisted: boolean;
  readonly error?: string;
}

/**
 * A nameserver's drains, kept in a file so a restarted nameserver starts
 * with them (as gdnsd's admin_state file): read back before the first
 * answer, written again on every drain and undrain. The monitor holds the
 * drains that apply; a file that cannot be read or written is logged and
 * never stops the nameserver.
 */
export class KeptDrains {
  /** What the file holds, as far as this process knows. */
  private written: readonly Drain[] = [];
  /** Writes one at a time, in the order of the changes: the last one written is the last state. */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly monitor: HealthMonitor,
    private readonly store: DrainStore,
    private readonly logger: Logger | undefined,
  ) {}

  /** Reads the drains back into the monitor, which must have the config's POPs already. */
  async restore(): Promise<void> {
    const path = this.store.path;
    let saved: Drain[];
    try {
      saved = await this.store.load();
    } catch (e) {
      this.logger?.warn({ path, err: e }, `drains file ${path} unreadable (${errorText(e)}); starting with no POP drained`);
      return;
    }
    this.written = saved;
    for (const d of saved) this.monitor.drain(d.pop, d.reason, d.since);
    const back = this.monitor.drained();
    if (back.length > 0) this.logger?.info({ path, pops: back.map((d) => d.pop) }, `drains read back from ${path}: ${back.map((d) => `${d.pop} (${d.reason})`).join(', ')}`);
    await this.sync();
  }

  statuses(): PopStatus[] {
    return this.monitor.statuses();
  }

  /** Undefined for an unknown POP. */
  async drain(name: string, reason?: string): Promise<DrainAnswer | undefined> {
    const state = this.monitor.drain(name, reason);
    return state && this.answer(state, await this.write(this.monitor.drained()));
  }

  async undrain(name: string): Promise<DrainAnswer | undefined> {
    const state = this.monitor.undrain(name);
    return state && this.answer(state, await this.write(this.monitor.drained()));
  }

  /** After the monitor took a config (start, reload): drains of POPs it no longer has leave the file too. */
  async sync(): Promise<void> {
    const now = this.monitor.drained();
    for (const d of this.written) {
      if (this.monitor.indexOf(d.pop) < 0) this.logger?.warn({ pop: d.pop, path: this.store.path }, `drain of POP ${d.pop} dropped: no such POP in the config`);
    }
    if (!sameDrains(now, this.written)) await this.write(now);
  }

  private answer(state: PopState, error: string | undefined): DrainAnswer {
    return error === undefined ? { state, persisted: this.store.path !== undefined } : { state, persisted: false, error };
  }

  /** Resolves to why the write failed, or undefined once written. */
  private write(drains: Drain[]): Promise<string | undefined> {
    const path = this.store.path;
    const done = this.writing
      .then(() => this.store.save(drains))
      .then(
        () => {
          this.written = drains;
          return undefined;
        },
        (e: unknown) => {
          this.logger?.error({ path, err: e }, `drains not written to ${path} (${errorText(e)}): they apply now, but a restart would read back the ones written before`);
          return errorText(e);
        },
      );
    this.writing = done;
    return done;
  }
}

function sameDrains(a: readonly Drain[], b: readonly Drain[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((d) => b.some((x) => x.pop === d.pop && x.since === d.since && x.reason === d.reason));
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
