import { Gauge, type Registry } from 'prom-client';
import type { PopControl } from '../admin/pops.js';

/** geocdn_pop_state{pop,state}: 1 for the state this nameserver sees each POP in (up, down, draining). */
export function registerPopMetrics(registry: Registry, pops: Pick<PopControl, 'statuses'>): void {
  new Gauge({
    name: 'geocdn_pop_state',
    help: "1 for each POP's current state as this nameserver's health checks see it",
    labelNames: ['pop', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of pops.statuses()) this.set({ pop: p.name, state: p.state.kind }, 1);
    },
  });
}
