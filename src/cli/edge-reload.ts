import { isDeepStrictEqual } from 'node:util';
import { adminToken } from '../admin/client.js';
import { configVersion } from '../cluster/versions.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { GeocdnError, formatErrors } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** The running edge as a reload changes it. */
export interface ReloadTarget {
  replaceSites(sites: Config['sites']): void;
  /** The config now in force: its version is published and shown by the admin API. */
  applied(config: Config, version: string): void;
}

/**
 * SIGHUP for `geocdn edge`: reads the config file again and, when it is valid, serves its
 * `sites` from now on. The cache, the connections and everything else stay. Changes to
 * the `edge` or `cluster` sections (listen addresses, cache sizes, the disk, TLS, Redis)
 * or to `admin.token` (the edge's admin API checks the one it started with) take a
 * restart: they are named in a warning and the running values are kept, so the
 * version the edge reports is that of what it runs, and `geocdn status` shows it apart
 * from nameservers that loaded the new file. A config that does not load, or no longer
 * names this POP, is refused whole and the edge serves on as before.
 */
export function reloadEdgeConfig(file: string, running: Config, pop: string | undefined, target: ReloadTarget, log: Logger): Config {
  let next: Config;
  try {
    next = loadConfig(file).config;
    const pops = new Set([...Object.keys(next.pops), ...Object.keys(next.edge.pops)]);
    if (pop !== undefined && pops.size > 0 && !pops.has(pop)) throw new GeocdnError('GEOCDN_USAGE', `the POP "${pop}" is no longer in ${file}`);
  } catch (e) {
    const errors = formatErrors(e);
    log.error({ errors }, 'reload refused; still serving the previous configuration');
    return running;
  }
  // Another POP's entry in edge.pops (a POP added elsewhere) is no change for this edge.
  const ownEdge = (c: Config): unknown => ({ ...c.edge, pops: pop === undefined ? undefined : c.edge.pops[pop] });
  // The edge's admin API checks the token it started with (the rest of `admin` is the nameservers').
  const tokenChanged = adminToken(next.admin) !== adminToken(running.admin);
  const atRestart = [
    ...(isDeepStrictEqual(ownEdge(next), ownEdge(running)) ? [] : ['edge']),
    ...(isDeepStrictEqual(next.cluster, running.cluster) ? [] : ['cluster']),
    ...(tokenChanged ? ['admin.token'] : []),
  ];
  if (atRestart.length > 0) log.warn({ sections: atRestart }, `reload: changes to ${atRestart.join(' and ')} apply at the next restart; the running values are kept`);
  const applied: Config = {
    ...next,
    edge: atRestart.includes('edge') ? running.edge : next.edge,
    cluster: atRestart.includes('cluster') ? running.cluster : next.cluster,
    admin: tokenChanged ? { ...next.admin, token: running.admin.token } : next.admin,
  };
  target.replaceSites(applied.sites);
  const version = configVersion(applied);
  target.applied(applied, version);
  log.info({ sites: Object.keys(applied.sites), version }, 'edge config reloaded');
  return applied;
}
