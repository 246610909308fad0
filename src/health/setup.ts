import type { Config } from '../config/schema.js';
import type { GeoRouting } from '../routing/types.js';
import type { MonitoredPop, MonitorSettings } from './monitor.js';

/** The monitor's settings from a config: `health`, and the edges' own health path. */
export function monitorSettings(config: Config): MonitorSettings {
  const h = config.health;
  return {
    intervalMs: h.interval_ms,
    timeoutMs: h.timeout_ms,
    rise: h.rise,
    fall: h.fall,
    tcp: h.tcp,
    path: config.edge.health_path,
    spillover: h.spillover,
    maxSpillover: h.max_spillover,
  };
}

/** The POPs to probe, in the routing's index order (answers read the monitor by index). */
export function monitoredPops(routing: GeoRouting | undefined): MonitoredPop[] {
  return (routing?.pops ?? []).map((p) => ({ name: p.name, edge: p.edge, capacity: p.capacity }));
}
