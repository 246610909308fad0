import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { formatErrors } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { logSlowLoad } from '../core/progress.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { Responder, type DnsSnapshot } from './responder.js';
import type { ServerIdentity } from './chaos.js';
import type { DnsSection } from '../config/dns-schema.js';
import { version as geocdnVersion } from '../core/version.js';
import { DnsServer } from './server.js';
import { buildDnsSnapshot } from './snapshot.js';
import type { AdminServer } from '../admin/server.js';
import { startAdminApi } from '../admin/start.js';
import { clusterPurgeIssuer, createCluster, type ClusterSetup } from '../cluster/create.js';
import { systemClock, type Clock } from '../health/clock.js';
import { drainFilePath, fileDrainStore, type DrainStore } from '../health/drain-file.js';
import { KeptDrains } from '../health/kept-drains.js';
import { HealthMonitor } from '../health/monitor.js';
import type { Prober } from '../health/probe.js';
import { monitoredPops, monitorSettings } from '../health/setup.js';
import type { HealthView } from '../health/view.js';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { SelfVersion } from '../cluster/versions.js';
import { createNodeRegistry } from '../metrics/registry.js';
import { type NameserverView, nameserverStatus, nameserverVersion, observePurge, registerNameserverMetrics } from './telemetry.js';

export type SnapshotBuilder = (loaded: LoadedConfig, health?: HealthView, logger?: Logger) => DnsSnapshot | Promise<DnsSnapshot>;

/** What tests inject into the health checks: a fake clock, a probe of their own. */
export interface NameserverOptions {
  clock?: Clock;
  prober?: Prober;
  /** The cluster bus purges go out on; default: the one `cluster` names (Redis), none without it. */
  cluster?: ClusterSetup;
  /** The registry /metrics serves; the demo passes one that already holds its edges. Default: a new one for this node. */
  metrics?: Registry;
  /** More of GET /v1/status (the demo's edges). */
  status?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Where admin drains are kept across restarts; default `<cluster.state_dir>/drains-<node>.json`. */
  drains?: DrainStore;
}

/**
 * `geocdn dns`: a config file, the snapshot built from it, and the sockets.
 * Reloads (SIGHUP, file changes) build a new snapshot whole and swap it in;
 * a config or zone that does not check leaves the running one serving.
 */
export class Nameserver {
  private watchers: FSWatcher[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;
  /** A bus this nameserver opened itself, closed when it stops. */
  private ownedCluster: ClusterSetup | undefined;
  private cluster: ClusterSetup | undefined;
  /** What metrics and status read, the running config's version among it (published on the bus too). */
  private view: NameserverView | undefined;

  private constructor(
    readonly configPath: string,
    private loaded: LoadedConfig,
    readonly responder: Responder,
    readonly server: DnsServer,
    private readonly logger: Logger,
    private readonly build: SnapshotBuilder,
    readonly health: HealthMonitor,
    private readonly drains: KeptDrains,
    readonly admin: AdminServer | undefined,
  ) {}

  static async start(configPath: string, logger: Logger, build: SnapshotBuilder = buildDnsSnapshot, listen?: string[], options: NameserverOptions = {}): Promise<Nameserver> {
    const loaded = loadConfig(configPath);
    const node = loaded.config.cluster?.node ?? options.cluster?.node ?? hostname();
    const health = new HealthMonitor({ clock: options.clock ?? systemClock, prober: options.prober, logger });
    const drains = new KeptDrains(health, options.drains ?? fileDrainStore(drainFilePath(loaded.config.cluster?.state_dir ?? '.geocdn', node)), logger);
    const started = performance.now();
    const snapshot = await build(loaded, health, logger);
    logSlowLoad(logger, 'loading the config, zones and GeoIP databases', performance.now() - started, snapshotFiles(loaded.path, snapshot));
    // Probes start with the config, not on the first query.
    health.configure(monitoredPops(snapshot.routing), monitorSettings(loaded.config));
    // A POP drained before a restart stays drained from the first answer on.
    await drains.restore();
    const responder = new Responder(snapshot, { maxUdpPayload: loaded.config.dns.max_udp_payload, identity: serverIdentity(loaded.config.dns) });
    const server = new DnsServer(responder, {
      listen: listen ?? loaded.config.dns.listen,
      tcpIdleTimeoutMs: loaded.config.dns.tcp_idle_timeout_ms,
      logger,
    });
    await server.start().catch((e: unknown) => {
      // Nothing will answer: the probes started with the config stop too, or they log on after the error.
      health.stop();
      throw e;
    });
    // DNS answers even when the admin API cannot start (its port taken, say).
    const cluster = options.cluster ?? (loaded.config.cluster?.redis ? createCluster(loaded.config.cluster, (e) => logger.warn({ err: e }, 'cluster bus error (purges queue until it returns)')) : undefined);
    const wallNow = () => (options.clock ?? systemClock).now();
    const running: SelfVersion = { node, role: 'nameserver', version: nameserverVersion(loaded, snapshot), loadedAt: Date.now() };
    const view: NameserverView = { responder, health, bus: cluster?.bus, busNode: cluster?.node, running, startedAt: Date.now(), purgeAcks: new Map() };
    const issue = cluster && clusterPurgeIssuer(cluster);
    const purge = issue ? { purge: async (...a: Parameters<typeof issue>) => observePurge(view, await issue(...a)) } : {};
    const metrics = options.metrics ?? createNodeRegistry();
    registerNameserverMetrics(metrics, view);
    const status = async () => ({ ...(await nameserverStatus(view, Date.now())), ...(await options.status?.()) });
    const admin = await startAdminApi(loaded.config.admin, { pops: drains, health, routing: () => responder.current.routing, logger, now: wallNow, node, metrics, status, ...purge }).catch((e: unknown) => {
      logger.error({ err: e }, 'admin API not started');
      return undefined;
    });
    const ns = new Nameserver(loaded.path, loaded, responder, server, logger, build, health, drains, admin);
    if (!options.cluster) ns.ownedCluster = cluster;
    ns.cluster = cluster;
    ns.view = view;
    ns.publishVersion();
    if (loaded.config.dns.watch) ns.watchFiles();
    logger.info({ listen: server.bound.udp, version: running.version, zones: snapshot.zones.zones.map((z) => z.origin.toString()) }, 'nameserver started');
    return ns;
  }

  /** Builds a new snapshot from the files on disk and swaps it in; false (and the old one kept) on error. */
  async reload(): Promise<boolean> {
    try {
      const loaded = loadConfig(this.configPath);
      const started = performance.now();
      const snapshot = await this.build(loaded, this.health, this.logger);
      logSlowLoad(this.logger, 'reloading the config, zones and GeoIP databases', performance.now() - started, snapshotFiles(loaded.path, snapshot));
      this.health.configure(monitoredPops(snapshot.routing), monitorSettings(loaded.config));
      this.responder.swap(snapshot);
      await this.drains.sync();
      this.loaded = loaded;
      if (this.view) this.view.running = { ...this.view.running, version: nameserverVersion(loaded, snapshot), loadedAt: Date.now() };
      this.publishVersion();
      this.logger.info({ version: this.view?.running.version }, 'reloaded');
      if (this.loaded.config.dns.watch) this.watchFiles();
      return true;
    } catch (e) {
      const errors = formatErrors(e);
      this.logger.error({ errors }, 'reload refused; still serving the previous configuration');
      return false;
    }
  }

  /** The running config's version, and when it was loaded. */
  get version(): SelfVersion | undefined {
    return this.view?.running;
  }

  /** Tells the cluster which config version runs here; a Redis bus that is down keeps it until it returns. */
  private publishVersion(): void {
    const c = this.cluster;
    if (!c || !this.view) return;
    c.bus.publishVersion(c.node, this.view.running.version, 'nameserver').catch((e: unknown) => this.logger.warn({ err: e }, 'config version not published on the cluster bus'));
  }

  /** Watches the folders of the config and zone files (editors replace files by rename). */
  private watchFiles(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    const files = [this.configPath, ...this.responder.current.zones.zones.map((z) => z.source)];
    const byDir = new Map<string, Set<string>>();
    for (const f of files) {
      const set = byDir.get(dirname(f)) ?? new Set<string>();
      set.add(basename(f));
      byDir.set(dirname(f), set);
    }
    for (const [dir, names] of byDir) {
      try {
        const w = watch(dir, (_event, name) => {
          if (name && names.has(name.toString())) this.scheduleReload();
        });
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch (e) {
        this.logger.warn({ dir, err: e }, 'cannot watch for changes; reload with SIGHUP');
      }
    }
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(), 200);
  }

  async stop(): Promise<void> {
    clearTimeout(this.reloadTimer);
    for (const w of this.watchers) w.close();
    this.health.stop();
    await this.admin?.stop();
    await this.server.stop();
    await this.ownedCluster?.bus.close();
  }
}

/** The files a snapshot was read from, for the size in the slow-load line. */
function snapshotFiles(configPath: string, snapshot: DnsSnapshot): string[] {
  const sources = snapshot.routing?.sources;
  return [configPath, ...snapshot.zones.zones.map((z) => z.source), ...(sources?.city ?? []), ...(sources?.asn ?? [])];
}

/** What the nameserver tells of itself (CH TXT, NSID): the configured values, or the host name and geocdn's version. */
function serverIdentity(dns: DnsSection): ServerIdentity {
  return {
    id: dns.identity === false ? undefined : (dns.identity ?? hostname()),
    version: dns.version === false ? undefined : (dns.version ?? `geocdn ${geocdnVersion}`),
  };
}
