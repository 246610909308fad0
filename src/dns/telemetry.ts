import type { Registry } from 'prom-client';
import type { PurgeReport } from '../cluster/acks.js';
import { createHistogram, type PlainHistogram } from '../core/histogram.js';
import { registerPlainHistogram } from '../metrics/histogram.js';
import type { ClusterBus } from '../cluster/bus.js';
import { clusterStatus, configVersion, type SelfVersion } from '../cluster/versions.js';
import type { LoadedConfig } from '../config/load.js';
import { rcodeToString } from './wire/constants.js';
import type { HealthMonitor } from '../health/monitor.js';
import { registerDnsMetrics } from '../metrics/dns.js';
import { registerNodeMetrics } from '../metrics/node.js';
import { registerPopMetrics } from '../metrics/pops.js';
import type { DnsSnapshot, Responder } from './responder.js';

/** The nameserver's config version: the config without its node-local fields, and each zone's serial and size. */
export function nameserverVersion(loaded: LoadedConfig, snapshot: DnsSnapshot): string {
  return configVersion(
    loaded.config,
    snapshot.zones.zones.map((z) => {
      const soa = z.soa.data[0];
      return { origin: z.origin.toString(), serial: soa?.kind === 'soa' ? soa.serial : 0, names: z.nodes.size };
    }),
  );
}

/** What the nameserver's metrics and status read: its responder, health view, bus and running version. */
export interface NameserverView {
  readonly responder: Responder;
  readonly health: HealthMonitor;
  readonly bus: ClusterBus | undefined;
  readonly busNode: string | undefined;
  /** The running config's version; a reload replaces it. */
  running: SelfVersion;
  readonly startedAt: number;
  /** Per edge node: seconds from issuing a purge here to that edge's ack (one clock: no skew between nodes). */
  readonly purgeAcks: Map<string, PlainHistogram>;
}

/** Records each edge's ack latency of a purge this nameserver issued. */
export function observePurge(v: NameserverView, report: PurgeReport): PurgeReport {
  for (const a of report.applied) {
    let h = v.purgeAcks.get(a.node);
    if (!h) v.purgeAcks.set(a.node, (h = createHistogram()));
    h.observe(a.latencyMs / 1000);
  }
  return report;
}

export function registerNameserverMetrics(registry: Registry, v: NameserverView): void {
  registerDnsMetrics(registry, () => v.responder.counters);
  registerPopMetrics(registry, v.health);
  registerNodeMetrics(registry, () => v.running, () => v.bus?.status());
  registerPlainHistogram(registry, 'geocdn_purge_ack_seconds', 'Seconds from issuing a purge on this node to each edge acknowledging it applied it', () =>
    [...v.purgeAcks].map(([edge, histogram]) => ({ labels: { edge }, histogram })),
  );
}

/** The nameserver's part of GET /v1/status. */
export async function nameserverStatus(v: NameserverView, now: number): Promise<Record<string, unknown>> {
  const self = v.running;
  const c = v.responder.counters;
  const byRcode: Record<string, number> = {};
  c.rcodes.forEach((n, rcode) => {
    const plain = rcode === 0 ? n - c.badvers : n;
    if (plain > 0) byRcode[rcodeToString(rcode)] = plain;
  });
  if (c.badvers > 0) byRcode.BADVERS = c.badvers;
  return {
    role: self.role,
    version: self.version,
    loadedAt: new Date(self.loadedAt).toISOString(),
    uptime_s: Math.round((now - v.startedAt) / 1000),
    zones: v.responder.current.zones.zones.map((z) => {
      const soa = z.soa.data[0];
      return { origin: z.origin.toString(), serial: soa?.kind === 'soa' ? soa.serial : null };
    }),
    dns: { answers: c.rcodes.reduce((a, b) => a + b, 0), byRcode, geo: c.geo() },
    cluster: await clusterStatus(v.bus, v.busNode, self),
  };
}
