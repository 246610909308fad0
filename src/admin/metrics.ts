import type { Registry } from 'prom-client';
import type { AdminRouter } from './router.js';

/** GET /metrics: the node's registry in the Prometheus text format (bearer token required, like every admin route). */
export function addMetricsRoute(router: AdminRouter, registry: Registry): void {
  router.add('GET', '/metrics', async () => ({ status: 200, body: await registry.metrics(), contentType: registry.contentType }));
}
