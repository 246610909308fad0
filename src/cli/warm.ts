import { readFileSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import { GeocdnError } from '../core/errors.js';
import { createProgress } from '../core/progress.js';
import { formatSummary, parseUrlList, warm, type WarmTarget } from '../warm/warm.js';
import { type Command, parseOptions } from './command.js';

export const warmCommand: Command = {
  name: 'warm',
  summary: "fetch a list of URLs through every POP's edge, to fill the caches",
  help: `Usage: geocdn warm URL-LIST --config FILE [--pop NAME]... [--concurrency N] [--timeout MS] [-H 'Field: value']...

Reads URL-LIST (a file, or - for stdin: one absolute URL a line, # for
comments) and fetches each URL through the edge of every POP that has one
(pops.<name>.edge in the config), so the first real visitors get a HIT.
The edge is connected to directly and asked for the URL's host and path,
whatever DNS says. Progress goes to stderr (one updating line on a
terminal, a plain line every 2 s otherwise); the summary per POP (fetched,
X-Cache-Status counts, errors) to stdout.

Options:
  -c, --config FILE       the geocdn config (for pops.<name>.edge)
  -p, --pop NAME          only this POP (repeatable)
  -n, --concurrency N     requests in flight at once, over all POPs (default 8)
  -t, --timeout MS        give up on a request idle this long (default 30000)
  -H, --header 'F: v'     send this request field too (repeatable), e.g. to
                          warm the 'Accept-Encoding: gzip' variant

Exit status 0 when every request got a 2xx or 3xx answer, 1 otherwise.

Examples:
  geocdn warm urls.txt -c /etc/geocdn/geocdn.yaml
  geocdn warm urls.txt -c /etc/geocdn/geocdn.yaml --pop eu-milan -n 16
  printf 'http://cdn.example.test/\\nhttp://cdn.example.test/img/logo.svg\\n' | geocdn warm - -c examples/demo.yaml`,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      {
        config: { type: 'string', short: 'c' },
        pop: { type: 'string', short: 'p', multiple: true },
        concurrency: { type: 'string', short: 'n' },
        timeout: { type: 'string', short: 't' },
        header: { type: 'string', short: 'H', multiple: true },
      },
      true,
    );
    if (positionals.length !== 1) throw new GeocdnError('GEOCDN_USAGE', 'give one URL list (a file, or - for stdin)', undefined, 'see geocdn warm --help');
    if (!values.config) throw new GeocdnError('GEOCDN_USAGE', 'give --config FILE: the POP edges come from pops.<name>.edge');
    const concurrency = positiveInt(values.concurrency ?? '8', '--concurrency');
    const timeoutMs = positiveInt(values.timeout ?? '30000', '--timeout');
    const headers = parseHeaders(values.header ?? []);
    const targets = warmTargets(loadConfig(values.config).config.pops ?? {}, values.pop ?? []);

    const file = positionals[0]!;
    let text: string;
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (e) {
      throw new GeocdnError('GEOCDN_USAGE', `cannot read the URL list ${file}: ${(e as Error).message}`);
    }
    const urls = parseUrlList(text, file === '-' ? '<stdin>' : file);
    if (urls.length === 0) throw new GeocdnError('GEOCDN_USAGE', `no URLs in ${file === '-' ? 'stdin' : file}`);

    const progress = createProgress({ label: 'warm', total: urls.length * targets.length, stream: process.stderr });
    const summaries = await warm({ urls, targets, concurrency, timeoutMs, headers, progress });
    progress.done();
    console.log(formatSummary(summaries, urls.length));
    return summaries.every((s) => s.errors === 0) ? 0 : 1;
  },
};

/** Every POP with an edge, or only those asked for (an unknown or edgeless POP asked for is a usage error). */
export function warmTargets(pops: Readonly<Record<string, { edge?: string | undefined }>>, only: readonly string[]): WarmTarget[] {
  for (const name of only) {
    if (!(name in pops)) throw new GeocdnError('GEOCDN_USAGE', `--pop: unknown POP "${name}" (POPs: ${Object.keys(pops).join(', ') || 'none'})`);
    if (!pops[name]!.edge) throw new GeocdnError('GEOCDN_USAGE', `--pop: ${name} has no edge (set pops.${name}.edge)`);
  }
  const targets = Object.entries(pops)
    .filter(([name, p]) => p.edge !== undefined && (only.length === 0 || only.includes(name)))
    .map(([pop, p]) => ({ pop, edge: p.edge!.replace(/\/+$/, '') }));
  if (targets.length === 0) throw new GeocdnError('GEOCDN_USAGE', 'no POP has an edge to warm (set pops.<name>.edge in the config)');
  return targets;
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new GeocdnError('GEOCDN_USAGE', `${what}: expected a positive whole number, got "${text}"`);
  return n;
}

function parseHeaders(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const i = h.indexOf(':');
    const name = i > 0 ? h.slice(0, i).trim().toLowerCase() : '';
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) || name === 'host') throw new GeocdnError('GEOCDN_USAGE', `--header: expected 'Field: value' (not Host), got "${h}"`);
    out[name] = h.slice(i + 1).trim();
  }
  return out;
}
