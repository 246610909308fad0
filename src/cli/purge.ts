import { adminCall, TOKEN_ENV } from '../admin/client.js';
import { GeocdnError } from '../core/errors.js';
import { type Command, parseOptions } from './command.js';
import { adminTargets } from './drain.js';

interface Receipt {
  node: string;
  latencyMs: number;
}

export const purgeCommand: Command = {
  name: 'purge',
  summary: 'take URLs, a prefix, tagged objects or everything out of every edge',
  help: `Usage: geocdn purge URL... | --tag TAG... | --prefix PREFIX | --all [--soft] [--config FILE] [--admin URL]

Purges on every edge through the cluster bus and waits until each live edge
has applied it, printing each edge's latency and naming any edge that has
not. A URL takes every variant (Vary, GET and HEAD); a tag matches the
origin's Surrogate-Key or Cache-Tag header. --soft marks objects stale
instead of deleting them: the next request revalidates, and
stale-while-revalidate/stale-if-error still apply. Talks to the first admin
API that answers: --admin, else admin.nameservers, else admin.listen.
The token comes from ${TOKEN_ENV}, else admin.token of the config.

Options:
  -c, --config FILE   the geocdn config (for the admin URLs and token)
  -a, --admin URL     an admin API, e.g. http://127.0.0.1:8053 (repeatable: tried in order)
  -t, --tag TAG       purge objects with this tag (repeatable)
  -p, --prefix P      purge every URL starting with P
      --all           purge everything
  -s, --soft          mark stale instead of deleting

Exit status 0 when every live edge applied it, 1 otherwise.

Examples:
  geocdn purge http://www.example.test/index.html -c /etc/geocdn/geocdn.yaml
  geocdn purge --tag product-42 --soft -c /etc/geocdn/geocdn.yaml
  geocdn purge --prefix http://www.example.test/assets/ -c /etc/geocdn/geocdn.yaml
  GEOCDN_ADMIN_TOKEN=... geocdn purge --all --admin http://10.0.0.1:8053`,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      {
        config: { type: 'string', short: 'c' },
        admin: { type: 'string', short: 'a', multiple: true },
        tag: { type: 'string', short: 't', multiple: true },
        prefix: { type: 'string', short: 'p' },
        all: { type: 'boolean' },
        soft: { type: 'boolean', short: 's' },
      },
      true,
    );
    const kinds = [positionals.length > 0, (values.tag ?? []).length > 0, values.prefix !== undefined, values.all === true].filter(Boolean).length;
    if (kinds !== 1) throw new GeocdnError('GEOCDN_USAGE', 'give URLs, or --tag, or --prefix, or --all (one of them)', undefined, 'see geocdn purge --help');
    const body = {
      ...(positionals.length > 0 ? { urls: positionals } : {}),
      ...(values.tag ? { tags: values.tag } : {}),
      ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
      ...(values.all ? { all: true } : {}),
      soft: values.soft === true,
    };
    const { urls, token } = adminTargets(values.config, values.admin ?? []);
    for (const url of urls) {
      const r = await adminCall(url, 'POST', '/v1/purge', token, 30_000, body);
      if (!r.ok) {
        console.error(`${url}  ${r.error}`);
        continue;
      }
      const applied = r.body.applied as Receipt[];
      const missing = r.body.missing as string[];
      for (const a of applied) console.log(`${a.node}  applied in ${a.latencyMs} ms`);
      for (const m of missing) console.error(`${m}  NOT applied (no ack within the timeout)`);
      if (r.body.queued) console.error('cluster bus down: the purge is queued and applies when it returns');
      console.log(`purge ${String(r.body.id)}: ${applied.length} edge(s) applied${missing.length ? `, ${missing.length} missing` : ''}`);
      return r.body.complete === true ? 0 : 1;
    }
    return 1;
  },
};
