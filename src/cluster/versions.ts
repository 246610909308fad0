import { createHash } from 'node:crypto';
import type { BusStatus, ClusterBus, NodeRole, NodeVersion } from './bus.js';

/**
 * Fields that differ from node to node of one cluster by design (its name, its
 * state folder, the addresses it binds, its token): left out of the version,
 * so nodes sharing a config with their own names in it do not look skewed.
 */
const NODE_LOCAL: readonly (readonly [string, string])[] = [
  ['cluster', 'node'],
  ['cluster', 'state_dir'],
  ['dns', 'listen'],
  ['admin', 'listen'],
  ['admin', 'token'],
];

/** JSON with object keys sorted, so equal configs hash equally whatever the order they were written in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A zone as the version sees it: its origin, SOA serial and size. */
export interface ZoneMark {
  readonly origin: string;
  readonly serial: number;
  readonly names: number;
}

/**
 * A node's config version: a hash of the loaded config (parsed, defaults
 * filled in, node-local fields left out) and, on nameservers, each zone's
 * origin, SOA serial and size. 12 hex digits.
 */
export function configVersion(config: object, zones: readonly ZoneMark[] = []): string {
  const copy = structuredClone(config) as Record<string, Record<string, unknown> | undefined>;
  for (const [section, field] of NODE_LOCAL) if (copy[section] && typeof copy[section] === 'object') delete copy[section]![field];
  const hash = createHash('sha256').update(canonical(copy));
  for (const z of zones) hash.update(`\n${z.origin}/${z.serial}/${z.names}`);
  return hash.digest('hex').slice(0, 12);
}

/** Version skew per role: more than one version among the nodes of a role. */
export interface VersionSkew {
  readonly nameservers: boolean;
  readonly edges: boolean;
  /** Per role, each version and the nodes that run it (only for roles with skew). */
  readonly detail: Readonly<Partial<Record<NodeRole, Readonly<Record<string, readonly string[]>>>>>;
}

export function versionSkew(versions: Readonly<Record<string, NodeVersion>>): VersionSkew {
  const byRole: Partial<Record<NodeRole, Record<string, string[]>>> = {};
  for (const [node, v] of Object.entries(versions)) {
    if (!v.role) continue;
    const forRole = (byRole[v.role] ??= {});
    (forRole[v.version] ??= []).push(node);
  }
  const skewed = (r: NodeRole): boolean => Object.keys(byRole[r] ?? {}).length > 1;
  const detail: Partial<Record<NodeRole, Record<string, string[]>>> = {};
  for (const r of ['nameserver', 'edge'] as const) if (skewed(r)) detail[r] = byRole[r]!;
  return { nameservers: skewed('nameserver'), edges: skewed('edge'), detail };
}

/** This node as its status reports it. */
export interface SelfVersion {
  readonly node: string;
  readonly role: NodeRole;
  readonly version: string;
  /** Wall-clock ms of the load that produced `version`. */
  readonly loadedAt: number;
}

/** The `cluster` part of a node's admin status: the bus, every node's version as the bus knows them, and skew. */
export interface ClusterStatusJson {
  /** `null` without a bus (a single nameserver, an edge without `cluster.redis`). */
  readonly bus: (BusStatus & { readonly node: string }) | null;
  readonly versions: Readonly<Record<string, NodeVersion>>;
  /** Why `versions` holds only this node (the bus is down or failed to answer). */
  readonly versionsError?: string;
  /** Edges subscribed to the bus now (a stopped edge's version stays on the bus, but it is no longer live); absent when unknown. */
  readonly live?: readonly string[];
  readonly skew: VersionSkew;
}

/** Never throws: a bus that is down is part of the answer, not a failure of it. */
export async function clusterStatus(bus: ClusterBus | undefined, busNode: string | undefined, self: SelfVersion): Promise<ClusterStatusJson> {
  const own: NodeVersion = { version: self.version, at: self.loadedAt, role: self.role };
  let versions: Record<string, NodeVersion> = { [busNode ?? self.node]: own };
  let versionsError: string | undefined;
  let live: string[] | undefined;
  const status = bus?.status();
  if (bus && status) {
    if (!status.connected) versionsError = `${status.kind} bus down`;
    else {
      try {
        [versions, live] = await Promise.all([bus.versions().then((v) => ({ ...v, [busNode ?? self.node]: own })), bus.liveNodes()]);
      } catch (e) {
        versionsError = (e as Error).message;
      }
    }
  }
  const liveSet = live && new Set(live);
  // An edge that stopped keeps its entry on the bus; only live ones count towards skew.
  const current = liveSet ? Object.fromEntries(Object.entries(versions).filter(([n, v]) => v.role !== 'edge' || liveSet.has(n))) : versions;
  return {
    bus: bus && status ? { ...status, node: busNode ?? self.node } : null,
    versions,
    ...(versionsError ? { versionsError } : {}),
    ...(live ? { live } : {}),
    skew: versionSkew(current),
  };
}
