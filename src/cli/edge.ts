import { hostname } from 'node:os';
import { adminToken, TOKEN_ENV } from '../admin/client.js';
import { startEdgeAdmin } from '../admin/edge-admin.js';
import type { AdminServer } from '../admin/server.js';
import { attachEdgeToCluster } from '../cluster/attach-edge.js';
import { configVersion } from '../cluster/versions.js';
import { loadConfig } from '../config/load.js';
import type { AdminSection } from '../config/health-schema.js';
import { createLogger, type Logger } from '../core/log.js';
import { GeocdnError } from '../core/errors.js';
import { createEdgeServer } from '../edge/server.js';
import { type Command, parseOptions } from './command.js';
import { reloadEdgeConfig } from './edge-reload.js';
import { takeReloadSignal } from './reload-signal.js';

export const edgeCommand: Command = {
  name: 'edge',
  summary: 'run the caching reverse proxy of one POP',
  help: `Usage: geocdn edge --config FILE [--pop NAME] [--listen ADDR] [--admin ADDR]

Runs the caching HTTP/1.1 reverse proxy for the sites of FILE. It answers only
the configured sites (by Host; other hosts get 421) and never proxies elsewhere.
The listen address is, first found: --listen, edge.pops.NAME.listen, edge.listen.
With edge.tls it also serves HTTPS (SNI, HTTP/2 and HTTP/1.1 by ALPN) on
edge.pops.NAME.tls_listen or edge.tls.listen; certificates reload when their
files change. SIGHUP reads the sites of FILE again (the cache stays; changes to
the edge section take a restart); SIGTERM stops after the responses in flight.

Options:
  -c, --config FILE   the geocdn config (YAML)
  -p, --pop NAME      this POP's name: picks edge.pops.NAME and names the cache
                      in Via / Cache-Status (geocdn-NAME)
  -l, --listen ADDR   listen address, e.g. 127.0.0.1:8080 or [::1]:8080
  -a, --admin ADDR    admin API address (GET /v1/live, /v1/status, /metrics with
                      the admin token); default edge.pops.NAME.admin, edge.admin
                      (off unless set)

Health: GET /.well-known/geocdn/health on any Host (edge.health_path).

Examples:
  geocdn edge --config examples/demo.yaml --pop eu-milan
  geocdn edge -c geocdn.yaml -l 0.0.0.0:80
  geocdn edge -c geocdn.yaml --pop eu-milan --admin 127.0.0.1:9101
  curl -sI -H 'Host: www.example.test' http://127.0.0.1:8080/`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      config: { type: 'string', short: 'c' },
      pop: { type: 'string', short: 'p' },
      listen: { type: 'string', short: 'l' },
      admin: { type: 'string', short: 'a' },
    });
    if (!values.config) {
      console.error('GEOCDN_USAGE: --config FILE is required (see geocdn edge --help)');
      return 2;
    }
    const { config, resolvePath } = loadConfig(values.config);
    const pops = new Set([...Object.keys(config.pops), ...Object.keys(config.edge.pops)]);
    // A misspelt --pop would listen on edge.listen under a wrong name, probed by nobody.
    if (values.pop !== undefined && pops.size > 0 && !pops.has(values.pop)) {
      throw new GeocdnError('GEOCDN_USAGE', `--pop "${values.pop}" is not a POP of ${values.config} (POPs: ${[...pops].join(', ')})`);
    }
    const log = createLogger(values.pop ? `edge-${values.pop}` : 'edge');
    // Before the first await: the edge listens (and serves) before it is on the cluster bus.
    const reloadSignal = takeReloadSignal(log, 'the config is');
    const edge = createEdgeServer({ config, log, pop: values.pop, listen: values.listen, resolvePath });
    const addr = await edge.listen();
    const loadedAt = Date.now();
    const version = configVersion(config);
    const stats = edge.context.stats;
    const cluster = await attachEdgeToCluster(config.cluster, edge.context.store, values.pop, log, { version, sites: edge.context.sites, fence: edge.context.fence, onApplied: (lag) => stats.purgeLag.observe(lag) });
    log.info({ address: `${addr.host}:${addr.port}`, tls: addr.tls ? `${addr.tls.host}:${addr.tls.port}` : undefined, sites: Object.keys(config.sites), version }, 'edge listening');
    /** What the admin API and the cluster bus say this edge runs; a reload updates it. */
    const self = { node: cluster?.node ?? config.cluster?.node ?? (values.pop ? `edge-${values.pop}` : `edge-${hostname()}`), role: 'edge' as const, version, loadedAt };
    const admin = await startAdmin(values.admin ?? (values.pop ? config.edge.pops[values.pop]?.admin : undefined) ?? config.edge.admin, config.admin, log, async (listen, token) =>
      startEdgeAdmin({ listen, token, edge: edge.context, self, ...(cluster ? { cluster } : {}), logger: log }),
    );
    // SIGHUP: the sites are read again; the cache stays.
    let running = config;
    const configFile = values.config;
    reloadSignal.ready(() => {
      running = reloadEdgeConfig(configFile, running, values.pop, {
        replaceSites: (sites) => edge.replaceSites(sites),
        applied: (_applied, newVersion) => {
          if (newVersion === self.version) return;
          self.version = newVersion;
          self.loadedAt = Date.now();
          cluster?.bus.publishVersion(self.node, newVersion, 'edge').catch((e: unknown) => log.warn({ err: e }, 'config version not published on the cluster bus'));
        },
      }, log);
    });
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        log.info({ graceMs: STOP_GRACE_MS }, 'stopping: no new connections; responses in flight finish');
        // A second signal stops at once.
        const now = (): void => void edge.close().then(() => resolve());
        process.once('SIGINT', now);
        process.once('SIGTERM', now);
        void Promise.all([admin?.stop(), edge.close({ graceMs: STOP_GRACE_MS }), cluster?.stop()]).then(() => resolve());
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};

/** How long a stopping edge lets responses in flight finish (systemd's default stop timeout is 90 s). */
const STOP_GRACE_MS = 30_000;

/** The edge's admin API when an address is set and a token exists (the admin section's rules); the edge serves without it either way. */
async function startAdmin(
  listen: string | false,
  section: AdminSection,
  log: Logger,
  start: (listen: string, token: string) => Promise<AdminServer>,
): Promise<AdminServer | undefined> {
  if (listen === false) return undefined;
  const token = adminToken(section);
  if (!token) {
    log.warn(`edge admin API off: no token (set ${TOKEN_ENV} or admin.token)`);
    return undefined;
  }
  return start(listen, token).catch((e: unknown) => {
    log.error({ err: e }, 'edge admin API not started');
    return undefined;
  });
}
