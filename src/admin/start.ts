import { hostname } from 'node:os';
import type { AdminSection } from '../config/health-schema.js';
import type { Logger } from '../core/log.js';
import { adminToken, TOKEN_ENV } from './client.js';
import { addLivenessRoute, addPopRoutes, type PopControl } from './pops.js';
import { addPurgeRoute, type PurgeIssuer } from './purge.js';
import { AdminRouter } from './router.js';
import { AdminServer } from './server.js';
import { PurgeHistory, recordingIssuer } from './purge-history.js';
import { addDashboardRoutes } from '../dashboard/routes.js';
import type { HealthView } from '../health/view.js';
import { ALL_UP } from '../health/view.js';
import type { GeoRouting } from '../routing/types.js';
import type { Registry } from 'prom-client';
import { addMetricsRoute } from './metrics.js';
import { addStatusRoute, type StatusSource } from './status.js';

export interface AdminDeps {
  pops: PopControl;
  logger: Logger;
  now?: () => number;
  /** Names this node in answers; default the host name. */
  node?: string;
  env?: NodeJS.ProcessEnv;
  /** POST /v1/purge, when this node is on a cluster bus. */
  purge?: PurgeIssuer;
  /** The routing serving now, for the dashboard's "which POP would IP get". */
  routing?: () => GeoRouting | undefined;
  /** The health the answers read (the same monitor as `pops`). */
  health?: HealthView;
  /** GET /metrics from this registry. */
  metrics?: Registry;
  /** GET /v1/status. */
  status?: StatusSource;
}

/** The nameserver's admin API, or undefined when it is off (`listen: false`, or no token to check). */
export async function startAdminApi(section: AdminSection, deps: AdminDeps): Promise<AdminServer | undefined> {
  if (section.listen === false) return undefined;
  const token = adminToken(section, deps.env);
  if (!token) {
    deps.logger.warn(`admin API off: no token (set ${TOKEN_ENV} or admin.token)`);
    return undefined;
  }
  const now = deps.now ?? Date.now;
  const node = deps.node ?? hostname();
  const router = new AdminRouter();
  addLivenessRoute(router, node, now(), now);
  addPopRoutes(router, deps.pops, node, now);
  const purges = new PurgeHistory();
  if (deps.purge) addPurgeRoute(router, recordingIssuer(deps.purge, purges, now), node);
  addDashboardRoutes(router, { pops: deps.pops, routing: deps.routing ?? (() => undefined), health: deps.health ?? ALL_UP, purges, node, now });
  if (deps.metrics) addMetricsRoute(router, deps.metrics);
  if (deps.status) addStatusRoute(router, node, now, deps.status);
  const server = await AdminServer.start({ listen: section.listen, token, router, logger: deps.logger });
  deps.logger.info({ url: server.url, dashboard: `${server.url}/dashboard` }, 'admin API listening');
  return server;
}
