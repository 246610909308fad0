import type { ClusterBus } from '../cluster/bus.js';
import { clusterStatus, type SelfVersion } from '../cluster/versions.js';
import type { Logger } from '../core/log.js';
import type { EdgeContext } from '../edge/context.js';
import { registerEdgeMetrics } from '../metrics/edge.js';
import { registerNodeMetrics } from '../metrics/node.js';
import { createNodeRegistry } from '../metrics/registry.js';
import { addMetricsRoute } from './metrics.js';
import { addLivenessRoute } from './pops.js';
import { AdminRouter } from './router.js';
import { AdminServer } from './server.js';
import { addStatusRoute } from './status.js';

/** One edge as the admin status shows it: store sizes, hit ratio, responses per cache status, origins. */
export function edgeStatusJson(ctx: EdgeContext): Record<string, unknown> {
  const { stats } = ctx;
  return {
    pop: ctx.pop ?? null,
    name: ctx.id.name,
    store: ctx.store.stats(),
    hitRatio: stats.rates.hitRatio,
    requests: stats.requests,
    inFlight: stats.inflight,
    rates: stats.rates,
    statuses: stats.statuses,
    origins: ctx.origins.states(),
  };
}

export interface EdgeAdminOptions {
  listen: string;
  token: string;
  edge: EdgeContext;
  /** The config version this edge runs. */
  self: SelfVersion;
  /** The cluster bus the edge is on, and its node name there (none without `cluster.redis`). */
  cluster?: { bus: ClusterBus; node: string };
  logger: Logger;
  now?: () => number;
}

/** `geocdn edge`'s admin API: GET /v1/live, /v1/status and /metrics, with the admin token. */
export async function startEdgeAdmin(o: EdgeAdminOptions): Promise<AdminServer> {
  const now = o.now ?? Date.now;
  const startedAt = now();
  const registry = createNodeRegistry();
  registerEdgeMetrics(registry, () => [o.edge]);
  registerNodeMetrics(registry, () => o.self, () => o.cluster?.bus.status());
  const router = new AdminRouter();
  addLivenessRoute(router, o.self.node, startedAt, now);
  addMetricsRoute(router, registry);
  addStatusRoute(router, o.self.node, now, async () => ({
    role: 'edge',
    version: o.self.version,
    loadedAt: new Date(o.self.loadedAt).toISOString(),
    uptime_s: Math.round((now() - startedAt) / 1000),
    edges: [edgeStatusJson(o.edge)],
    cluster: await clusterStatus(o.cluster?.bus, o.cluster?.node, o.self),
  }));
  const server = await AdminServer.start({ listen: o.listen, token: o.token, router, logger: o.logger });
  o.logger.info({ url: server.url }, 'edge admin API listening');
  return server;
}
