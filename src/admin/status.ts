import type { AdminRouter } from './router.js';

/** The node's status as JSON: what it runs, its cluster bus and versions, its own counters. */
export type StatusSource = () => Promise<Record<string, unknown>> | Record<string, unknown>;

/** GET /v1/status: read by `geocdn status` and the dashboard. */
export function addStatusRoute(router: AdminRouter, node: string, now: () => number, source: StatusSource): void {
  router.add('GET', '/v1/status', async () => ({ status: 200, body: { node, time: new Date(now()).toISOString(), ...(await source()) } }));
}
