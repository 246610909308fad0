import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Logger } from '../core/log.js';
import { packageRoot } from '../core/package-root.js';
import { createMemoryBus } from '../cluster/memory-bus.js';
import type { ClusterSetup } from '../cluster/create.js';
import { memoryCursor } from '../cluster/cursor.js';
import { memoryDrainStore } from '../health/drain-file.js';
import { linkEdge } from '../cluster/edge-link.js';
import { Nameserver } from '../dns/nameserver.js';
import { createEdgeServer, type EdgeServer } from '../edge/server.js';
import { selfSignedCertificate, writePemPair } from './certificate.js';
import { type DemoOrigin, startDemoOrigin } from './origin.js';
import { edgeStatusJson } from '../admin/edge-admin.js';
import { configVersion } from '../cluster/versions.js';
import { registerEdgeMetrics } from '../metrics/edge.js';
import { createNodeRegistry } from '../metrics/registry.js';

export const demoConfigPath = join(packageRoot(), 'examples', 'demo.yaml');

/** The demo's ports: DNS, the edges (on 127.0.0.2-4, HTTP and HTTPS), the origin and the admin API. */
export interface DemoPorts {
  dns: number;
  http: number;
  origin: number;
  admin: number;
  https: number;
}

export const DEFAULT_PORTS: DemoPorts = { dns: 5353, http: 8080, origin: 9080, admin: 8053, https: 8443 };

export function portsFrom(base: number | undefined): DemoPorts {
  return base === undefined ? DEFAULT_PORTS : { dns: base, http: base + 1, origin: base + 2, admin: base + 3, https: base + 4 };
}

/** The names the demo's self-signed certificate is for. */
export const DEMO_CERTIFICATE_NAMES = ['cdn.example.test', '*.example.test'];

export interface Demo {
  ports: DemoPorts;
  configPath: string;
  adminToken: string;
  origin: DemoOrigin;
  edges: EdgeServer[];
  nameserver: Nameserver;
  stop(): Promise<void>;
}

/**
 * examples/demo.yaml as written, or a copy in `dir` with its ports moved (and the
 * zone path made absolute) when the demo runs on other ports.
 */
function configFor(ports: DemoPorts, dir: string): string {
  if (ports === DEFAULT_PORTS) return demoConfigPath;
  // One pass: a moved port must not be moved again by a later replacement.
  const moved: Record<string, number> = { '5353': ports.dns, '8080': ports.http, '9080': ports.origin, '8053': ports.admin, '8443': ports.https };
  const text = readFileSync(demoConfigPath, 'utf8')
    .replace(/:(5353|8080|9080|8053|8443)\b/g, (_m, p: string) => `:${moved[p]}`)
    .replace('file: zones/', `file: ${resolve(dirname(demoConfigPath), 'zones')}/`);
  const path = join(dir, 'demo.yaml');
  writeFileSync(path, text);
  return path;
}

/** Starts the origin, an edge per POP, then the nameserver (whose probes find the edges up). */
export async function startDemo(ports: DemoPorts, logger: Logger): Promise<Demo> {
  // The files this run writes (a moved config, the certificate) live in one folder, removed when the demo stops or fails to start.
  const work = mkdtempSync(join(tmpdir(), 'geocdn-demo-'));
  const removeWork = () => rmSync(work, { recursive: true, force: true });
  const edges: EdgeServer[] = [];
  const links: { stop(): Promise<void> }[] = [];
  let started: DemoOrigin | undefined;
  try {
    const configPath = configFor(ports, work);
    const loaded = loadConfig(configPath).config;
    // The certificate files of examples/demo.yaml are made here, self-signed, for this run only.
    const tls = writePemPair(await selfSignedCertificate(DEMO_CERTIFICATE_NAMES), work);
    const config = loaded.edge.tls
      ? { ...loaded, edge: { ...loaded.edge, tls: { ...loaded.edge.tls, watch: false, certificates: [{ cert: tls.cert, key: tls.key }] } } }
      : loaded;
    const origin = await startDemoOrigin(ports.origin);
    started = origin;
    for (const pop of Object.keys(config.edge.pops)) {
      const edge = createEdgeServer({ config, log: logger.child({ node: `edge-${pop}` }), pop });
      await edge.listen();
      edges.push(edge);
    }
    // One process: purges travel on an in-process memory bus from the admin API to every edge.
    const cluster: ClusterSetup = { bus: createMemoryBus({ maxLen: 10_000 }), node: 'demo', cursor: memoryCursor(), ackTimeoutMs: 2_000 };
    const version = configVersion(config);
    for (const [i, pop] of Object.keys(config.edge.pops).entries()) {
      const ctx = edges[i].context;
      links.push(await linkEdge(cluster.bus, { node: `edge-${pop}`, cursor: memoryCursor(), store: ctx.store, sites: ctx.sites, fence: ctx.fence, onApplied: (lag) => ctx.stats.purgeLag.observe(lag) }));
      await cluster.bus.publishVersion(`edge-${pop}`, version, 'edge');
    }
    // The edges share the nameserver's admin API: one /metrics (series labelled by POP) and one status listing them.
    const metrics = createNodeRegistry();
    registerEdgeMetrics(metrics, () => edges.map((e) => e.context));
    const status = () => ({ edges: edges.map((e) => edgeStatusJson(e.context)) });
    // Drains, like purge cursors, end with the demo: a second run starts with every POP up.
    const nameserver = await Nameserver.start(configPath, logger.child({ node: 'dns' }), undefined, undefined, { cluster, metrics, status, drains: memoryDrainStore() });
    return {
      ports,
      configPath,
      adminToken: process.env.GEOCDN_ADMIN_TOKEN ?? config.admin.token ?? '',
      origin,
      edges,
      nameserver,
      stop: async () => {
        try {
          await nameserver.stop();
          await Promise.all(links.map((l) => l.stop()));
          await Promise.all(edges.map((e) => e.close()));
          await origin.close();
        } finally {
          removeWork();
        }
      },
    };
  } catch (e) {
    try {
      await Promise.all(links.map((l) => l.stop()));
      await Promise.all(edges.map((x) => x.close()));
      await started?.close();
    } finally {
      removeWork();
    }
    throw e;
  }
}
