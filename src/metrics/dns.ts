import { Counter, type Registry } from 'prom-client';
import type { QueryCountsView } from '../dns/counters.js';
import { rcodeToString } from '../dns/wire/constants.js';

/**
 * geocdn_dns_queries_total{service,pop,rcode}: answers by geo service and
 * chosen POP (both empty for names that are not geo-routed) and RCODE.
 * The DNS server bumps plain counters; they are folded in here at scrape time.
 */
export function registerDnsMetrics(registry: Registry, counters: () => QueryCountsView): void {
  new Counter({
    name: 'geocdn_dns_queries_total',
    help: 'DNS answers sent, by geo service, chosen POP (empty when not geo-routed; last-resort when every POP was down) and RCODE',
    labelNames: ['service', 'pop', 'rcode'],
    registers: [registry],
    collect() {
      this.reset();
      const c = counters();
      let geo = 0;
      for (const g of c.geo()) {
        this.inc({ service: g.service, pop: g.pop, rcode: 'NOERROR' }, g.n);
        geo += g.n;
      }
      c.rcodes.forEach((n, rcode) => {
        // Geo answers and BADVERS (an extended RCODE) carry 0 in the header: take them out of the plain NOERROR.
        const plain = rcode === 0 ? n - geo - c.badvers : n;
        if (plain > 0 || rcode === 0) this.inc({ service: '', pop: '', rcode: rcodeToString(rcode) }, Math.max(0, plain));
      });
      if (c.badvers > 0) this.inc({ service: '', pop: '', rcode: 'BADVERS' }, c.badvers);
    },
  });
  new Counter({
    name: 'geocdn_dns_dropped_total',
    help: 'Packets not answered (not a DNS query)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counters().dropped);
    },
  });
}
