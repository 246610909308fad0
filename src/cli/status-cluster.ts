import type { NodeRole, NodeVersion } from '../cluster/bus.js';
import { versionSkew } from '../cluster/versions.js';

/** What `geocdn status` reads of a node's GET /v1/status. */
export interface NodeStatusBody {
  node: string;
  role?: NodeRole;
  version?: string;
  loadedAt?: string;
  cluster?: {
    bus: { kind: string; connected: boolean; queued: number; node: string } | null;
    versions: Record<string, NodeVersion>;
    versionsError?: string;
    live?: string[];
  };
}

interface VersionRow {
  node: string;
  role: NodeRole | undefined;
  version: string;
  at: number;
  /** The admin APIs that reported it (the node itself, or its view of the bus). */
  seenBy: Set<string>;
}

/**
 * Every node's config version, merged from what each admin API reported:
 * its own version and the versions it read on the cluster bus. A node's own
 * report wins over the bus (it is the fresher); two nodes that share a name
 * but report different versions are kept apart by their admin address.
 */
export function mergeVersions(replies: readonly { admin: string; body: NodeStatusBody }[]): VersionRow[] {
  const rows = new Map<string, VersionRow>();
  const own = new Set<string>();
  for (const { admin, body } of replies) {
    for (const [node, v] of Object.entries(body.cluster?.versions ?? {})) {
      if (own.has(node)) continue;
      const have = rows.get(node);
      if (!have || v.at > have.at) rows.set(node, { node, role: v.role, version: v.version, at: v.at, seenBy: new Set([...(have?.seenBy ?? []), admin]) });
      else have.seenBy.add(admin);
    }
    if (body.version === undefined) continue;
    const at = Date.parse(body.loadedAt ?? '');
    let key = body.node;
    const have = rows.get(key);
    if (have && own.has(key) && have.version !== body.version) key = `${body.node}@${admin}`;
    rows.set(key, { node: key, role: body.role, version: body.version, at, seenBy: new Set([admin]) });
    own.add(key);
  }
  return [...rows.values()].sort((a, b) => (a.role ?? '').localeCompare(b.role ?? '') * -1 || a.node.localeCompare(b.node));
}

/** The versions table, the skew lines and the cluster bus lines of `geocdn status`. */
export function clusterLines(replies: readonly { admin: string; body: NodeStatusBody }[], now: number, ago: (ms: number) => string): { table: string[][]; notes: string[] } {
  const rows = mergeVersions(replies);
  // Edges that left the bus keep their version entry: shown as gone, left out of the skew.
  const liveLists = replies.flatMap((r) => (r.body.cluster?.live ? [r.body.cluster.live] : []));
  const live = liveLists.length > 0 ? new Set(liveLists.flat()) : undefined;
  const gone = (r: VersionRow): boolean => r.role === 'edge' && live !== undefined && !live.has(r.node) && !replies.some((x) => x.body.node === r.node);
  const table = [['NODE', 'ROLE', 'VERSION', 'LOADED', 'REPORTED BY']];
  for (const r of rows) table.push([r.node, gone(r) ? 'edge (gone)' : (r.role ?? '?'), r.version, ago(now - r.at), [...r.seenBy].join(' ')]);
  const notes: string[] = [];
  const current = rows.filter((r) => !gone(r));
  const skew = versionSkew(Object.fromEntries(current.map((r) => [r.node, { version: r.version, at: r.at, ...(r.role ? { role: r.role } : {}) }])));
  for (const [role, label] of [['nameserver', 'nameservers'], ['edge', 'edges']] as const) {
    const detail = skew.detail[role];
    if (!detail) continue;
    const parts = Object.entries(detail).map(([v, nodes]) => `${v} on ${[...nodes].sort().join(', ')}`);
    notes.push(`VERSION SKEW: ${label} run ${parts.length} config versions: ${parts.join('; ')}`);
  }
  for (const { admin, body } of replies) {
    const bus = body.cluster?.bus;
    if (!bus) continue;
    const where = `cluster bus (${bus.kind}) seen from ${bus.node} (${admin})`;
    if (bus.connected) notes.push(`${where}: connected, ${bus.queued} purge(s) queued`);
    else {
      const what = bus.kind === 'redis' ? 'Redis DOWN' : 'DOWN';
      notes.push(`${where}: ${what}; ${bus.queued} purge(s) queued locally, written when it returns; DNS answers are not affected`);
    }
  }
  return { table, notes };
}
