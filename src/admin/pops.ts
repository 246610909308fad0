import type { PopStatus } from '../health/monitor.js';
import type { PopState } from '../health/state.js';
import type { AdminRouter } from './router.js';

/** What the POP endpoints need of the nameserver's health monitor. */
export interface PopControl {
  statuses(): PopStatus[];
  drain(name: string, reason?: string): PopState | undefined;
  undrain(name: string): PopState | undefined;
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
  const act = (undo: boolean) => (r: { params: Readonly<Record<string, string>>; query: URLSearchParams }) => {
    const name = r.params.name!;
    const reason = r.query.get('reason')?.slice(0, 200) || undefined;
    const state = undo ? control.undrain(name) : control.drain(name, reason ?? 'drained by admin');
    if (!state) {
      const known = control.statuses().map((p) => p.name);
      return { status: 404, body: { error: 'GEOCDN_ADMIN_UNKNOWN_POP', message: `no POP "${name}" (POPs: ${known.join(', ') || 'none'})` } };
    }
    return { status: 200, body: { node, pop: name, state: stateJson(state) } };
  };
  router.add('POST', '/v1/pops/:name/drain', act(false));
  router.add('POST', '/v1/pops/:name/undrain', act(true));
}

/** GET /v1/live: the nameserver process answers. */
export function addLivenessRoute(router: AdminRouter, node: string, startedAt: number, now: () => number): void {
  router.add('GET', '/v1/live', () => ({ status: 200, body: { status: 'ok', node, uptime_s: Math.round((now() - startedAt) / 1000) } }));
}
