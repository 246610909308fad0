import type { DrainAnswer } from '../health/kept-drains.js';
import type { PopStatus } from '../health/monitor.js';
import type { PopState } from '../health/state.js';
import type { AdminRouter } from './router.js';

/** What the POP endpoints need of the nameserver's health monitor and the file its drains are kept in. */
export interface PopControl {
  statuses(): PopStatus[];
  drain(name: string, reason?: string): Promise<DrainAnswer | undefined>;
  undrain(name: string): Promise<DrainAnswer | undefined>;
}

/** Wire form of a POP state: times as ISO strings, for people and scripts alike. */
export function stateJson(s: PopState): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: s.kind, since: new Date(s.since).toISOString(), reason: s.reason };
  if (s.kind === 'draining') out.health = stateJson(s.health);
  return out;
}

/**
 * GET  /v1/pops              every POP's state, load and last probe, as this nameserver sees them
 * POST /v1/pops/:name/drain  new answers go elsewhere (`?reason=` is kept with the state)
 * POST /v1/pops/:name/undrain
 * A drain or undrain answers `persisted`: whether a restarted nameserver finds it,
 * with a `warning` when the drains file could not be written.
 */
export function addPopRoutes(router: AdminRouter, control: PopControl, node: string, now: () => number): void {
  router.add('GET', '/v1/pops', () => ({
    status: 200,
    body: {
      node,
      time: new Date(now()).toISOString(),
      pops: control.statuses().map((p) => ({
        ...p,
        state: stateJson(p.state),
        lastProbe: p.lastProbe && { ...p.lastProbe, at: new Date(p.lastProbe.at).toISOString() },
      })),
    },
  }));
  const act = (undo: boolean) => async (r: { params: Readonly<Record<string, string>>; query: URLSearchParams }) => {
    const name = r.params.name!;
    const reason = r.query.get('reason')?.slice(0, 200) || undefined;
    const done = await (undo ? control.undrain(name) : control.drain(name, reason ?? 'drained by admin'));
    if (!done) {
      const known = control.statuses().map((p) => p.name);
      return { status: 404, body: { error: 'GEOCDN_ADMIN_UNKNOWN_POP', message: `no POP "${name}" (POPs: ${known.join(', ') || 'none'})` } };
    }
    const warning = done.error === undefined ? {} : { warning: `not persisted (${done.error}): this nameserver applies it now, but a restart would read back the drains written before` };
    return { status: 200, body: { node, pop: name, state: stateJson(done.state), persisted: done.persisted, ...warning } };
  };
  router.add('POST', '/v1/pops/:name/drain', act(false));
  router.add('POST', '/v1/pops/:name/undrain', act(true));
}

/** GET /v1/live: the nameserver process answers. */
export function addLivenessRoute(router: AdminRouter, node: string, startedAt: number, now: () => number): void {
  router.add('GET', '/v1/live', () => ({ status: 200, body: { status: 'ok', node, uptime_s: Math.round((now() - startedAt) / 1000) } }));
}
