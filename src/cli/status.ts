import { adminCall } from '../admin/client.js';
import { type Command, parseOptions } from './command.js';
import { adminTargets } from './drain.js';
import { clusterLines, type NodeStatusBody } from './status-cluster.js';

interface PopRow {
  name: string;
  capacity: number | null;
  state: { kind: string; since: string; reason: string; health?: { kind: string } };
  load: { requestsPerSecond: number; inFlight: number } | null;
  shed: number;
  lastProbe: { ok: boolean; reason: string; ms: number } | null;
}

export const statusCommand: Command = {
  name: 'status',
  summary: "every POP's state (up, down, draining) as each nameserver sees it",
  help: `Usage: geocdn status [--config FILE] [--admin URL]... [--json]

Asks every nameserver's admin API for its view of the POPs (each nameserver
probes the edges on its own, so views can differ) and prints one table row
per POP and nameserver: state, since when and why, load against capacity,
the share shed to other POPs, and the last probe.

Then every node's config version (each node's own, and those published on
the cluster bus by the other nameservers and edges), with a VERSION SKEW line
when nameservers (or edges) run different configs, and the cluster bus as
each node sees it: connected, or Redis DOWN with the purges queued locally
until it returns. An edge's admin API (edge.admin) can be given with --admin.

Options:
  -c, --config FILE   the geocdn config (for the admin URLs and token)
  -a, --admin URL     a node's admin API (repeatable); default from the config
      --json          print the raw answers

Exit status 0 when every node answered, 1 otherwise (skew and a bus that is
down are reported, not failures: DNS keeps answering).

Examples:
  geocdn status -c /etc/geocdn/geocdn.yaml
  GEOCDN_ADMIN_TOKEN=... geocdn status --admin http://127.0.0.1:8053 --json`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      config: { type: 'string', short: 'c' },
      admin: { type: 'string', short: 'a', multiple: true },
      json: { type: 'boolean' },
    });
    const { urls, token } = adminTargets(values.config, values.admin ?? []);
    const [replies, statuses] = await Promise.all([
      Promise.all(urls.map((u) => adminCall(u, 'GET', '/v1/pops', token))),
      Promise.all(urls.map((u) => adminCall(u, 'GET', '/v1/status', token))),
    ]);
    // An edge's admin API has no POPs to show; a node older than /v1/status has no versions.
    const isEdge = (i: number): boolean => {
      const s = statuses[i]!;
      return s.ok && s.body.role === 'edge';
    };
    const failed = replies.map((r, i) => !r.ok && !isEdge(i));
    if (values.json) {
      const one = (i: number) => {
        const r = replies[i]!;
        const s = statuses[i]!;
        return { admin: urls[i], ...(r.ok ? r.body : isEdge(i) ? {} : { error: r.error }), ...(s.ok ? { status: s.body } : {}) };
      };
      console.log(JSON.stringify(urls.map((_, i) => one(i)), null, 2));
      return failed.some(Boolean) ? 1 : 0;
    }
    const rows: string[][] = [['POP', 'NAMESERVER', 'STATE', 'SINCE', 'LOAD', 'SHED', 'LAST PROBE', 'WHY']];
    const errors: string[] = [];
    replies.forEach((r, i) => {
      if (!r.ok) return void (failed[i] && errors.push(`${urls[i]}  ${r.error}`));
      const now = Date.parse(String(r.body.time));
      for (const p of r.body.pops as PopRow[]) rows.push(statusRow(p, hostOf(urls[i]!), now));
    });
    rows.sort((a, b) => (a === rows[0] ? -1 : b === rows[0] ? 1 : a[0]!.localeCompare(b[0]!) || a[1]!.localeCompare(b[1]!)));
    if (rows.length > 1) console.log(table(rows));
    const reported = statuses.flatMap((s, i) => (s.ok ? [{ admin: hostOf(urls[i]!), body: s.body as unknown as NodeStatusBody }] : []));
    if (reported.length > 0) {
      const cluster = clusterLines(reported, Date.now(), ago);
      if (rows.length > 1) console.log('');
      if (cluster.table.length > 1) console.log(table(cluster.table));
      for (const n of cluster.notes) console.log(n);
    }
    for (const e of errors) console.error(e);
    return errors.length === 0 ? 0 : 1;
  },
};

function statusRow(p: PopRow, ns: string, now: number): string[] {
  const state = p.state.kind === 'draining' ? `draining (${p.state.health?.kind ?? '?'})` : p.state.kind;
  // The load of the last good probe: after a failed one it is no longer the edge's (a dead edge reports nothing).
  const report = p.lastProbe?.ok === false ? null : p.load;
  const rps = report ? `${Math.round(report.requestsPerSecond)}` : '-';
  const load = p.capacity !== null ? `${rps}/${p.capacity} rps` : report ? `${rps} rps` : '-';
  const probe = p.lastProbe ? `${p.lastProbe.ok ? 'ok' : 'fail'} ${p.lastProbe.ms} ms` : '-';
  return [p.name, ns, state, ago(now - Date.parse(p.state.since)), load, p.shed > 0 ? `${Math.round(p.shed * 100)}%` : '-', probe, p.state.reason];
}

function hostOf(url: string): string {
  return url.replace(/^https?:\/\//, '');
}

function ago(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n');
}
