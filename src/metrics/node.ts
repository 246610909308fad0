import { Gauge, type Registry } from 'prom-client';
import type { BusStatus } from '../cluster/bus.js';
import type { SelfVersion } from '../cluster/versions.js';

/** The node's own gauges: which config it runs, and its cluster bus (connected, purges queued while it is down). */
export function registerNodeMetrics(registry: Registry, self: () => SelfVersion, bus: () => BusStatus | undefined): void {
  new Gauge({
    name: 'geocdn_config_info',
    help: 'Always 1; the labels say which config version this node runs',
    labelNames: ['node', 'role', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      const s = self();
      this.set({ node: s.node, role: s.role, version: s.version }, 1);
    },
  });
  new Gauge({
    name: 'geocdn_config_loaded_at_seconds',
    help: 'When the running config was loaded (seconds since the epoch)',
    registers: [registry],
    collect() {
      this.set(self().loadedAt / 1000);
    },
  });
  new Gauge({
    name: 'geocdn_cluster_bus_connected',
    help: '1 while the cluster bus backend (Redis) is reachable; absent without a bus',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      const b = bus();
      if (b) this.set({ kind: b.kind }, b.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'geocdn_cluster_purges_queued',
    help: 'Purges accepted while the bus backend was down, waiting in this process to be written',
    registers: [registry],
    collect() {
      this.set(bus()?.queued ?? 0);
    },
  });
}
