import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A registry of one node (never prom-client's global one: the demo and the
 * tests run several nodes in one process), with the process's default
 * metrics (CPU, memory, event loop lag, GC) under their usual names.
 */
export function createNodeRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
