import { createLogger } from '../core/log.js';
import { isAbsolute, relative } from 'node:path';
import { demoConfigPath, portsFrom, startDemo, type Demo, type DemoPorts } from '../demo/run.js';
import { checkTour, printTour } from '../demo/tour.js';
import { type Command, parseOptions } from './command.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the demo CDN on loopback (what `npm start` does)',
  help: `Usage: geocdn demo [--port N] [--check]

Starts the whole demo CDN in this process, on loopback, with nothing to
install and no root (examples/demo.yaml):
  - an origin on 127.0.0.1:9080 (pages, images, an API, a large file)
  - three POPs, each a caching edge: eu-milan 127.0.0.2:8080,
    us-newyork 127.0.0.3:8080, ap-singapore 127.0.0.4:8080, and HTTPS
    with HTTP/2 on :8443 (a self-signed certificate made at start)
  - the GeoDNS nameserver on 127.0.0.1:5353, probing the edges
  - its admin API on 127.0.0.1:8053 (token demo-token-only-for-loopback),
    with the dashboard at http://127.0.0.1:8053/dashboard
Prints a tour of commands to try. Ctrl-C stops everything.

Options:
  -p, --port N   move every port: DNS N, edges N+1, origin N+2, admin N+3,
                 edges' HTTPS N+4
      --check    run the printed tour itself and exit non-zero if any step
                 does not behave as printed

Examples:
  npm start
  dig @127.0.0.1 -p 5353 cdn.example.test +subnet=8.8.8.0/24
  geocdn demo --check --port 15353`,
  async run(argv) {
    const { values } = parseOptions(argv, { port: { type: 'string', short: 'p' }, check: { type: 'boolean' } });
    const ports = portsFrom(values.port === undefined ? undefined : Number(values.port));
    const logger = createLogger('demo', process.env.GEOCDN_LOG_LEVEL ?? 'warn');
    // Ctrl-C, SIGTERM or SIGHUP (its terminal closed) stops the demo even while it starts or checks
    // its tour, so that the files it wrote (moved config, certificate) are removed with it. A second one kills.
    const signalled = new Promise<'signal'>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => resolve('signal'));
    });
    const demo = await startDemo(ports, logger);
    try {
      if (values.check) {
        const outcome = await Promise.race([checkDemo(demo, ports), signalled]);
        if (outcome === 'signal') {
          console.log('demo check: interrupted');
          return 1;
        }
        console.log(outcome ? 'demo check: every step behaved as printed' : 'demo check: FAILED');
        return outcome ? 0 : 1;
      }
      console.log(banner(ports, demo.configPath));
      await signalled;
    } finally {
      await demo.stop();
    }
    console.log('demo stopped');
    return 0;
  },
};

/** Runs the printed tour against the running demo and prints each step; true when every step behaved as printed. */
async function checkDemo(demo: Demo, ports: DemoPorts): Promise<boolean> {
  await allPopsUp(demo, 10_000);
  const { ok, lines } = await checkTour(ports);
  console.log(lines.join('\n'));
  return ok;
}

/** The tour assumes every POP is up: on a loaded machine a first probe may time out, so wait for the probes to agree. */
async function allPopsUp(demo: Demo, timeoutMs: number): Promise<void> {
  const health = demo.nameserver.health;
  for (const end = Date.now() + timeoutMs; Date.now() < end; ) {
    if (health.statuses().every((s) => s.state.kind === 'up')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A ready link: the page takes the token from the fragment (never sent to the server) and keeps it for the tab. */
export function dashboardUrl(p: DemoPorts): string {
  return `http://127.0.0.1:${p.admin}/dashboard#token=demo-token-only-for-loopback`;
}

/** The config as the commands to paste should name it: relative when under the working directory. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** `configPath`: the config the demo runs, a moved copy with --port; the printed geocdn commands name it. */
export function banner(p: DemoPorts, configPath: string = demoConfigPath): string {
  const config = shownPath(configPath);
  return `geocdn demo is running on loopback:
  origin        127.0.0.1:${p.origin}
  POP edges     eu-milan 127.0.0.2:${p.http}, us-newyork 127.0.0.3:${p.http}, ap-singapore 127.0.0.4:${p.http}
                HTTPS and HTTP/2 on port ${p.https} of each (self-signed for cdn.example.test, *.example.test)
  nameserver    127.0.0.1:${p.dns} (UDP and TCP), cdn.example.test routed between the three POPs
  admin API     127.0.0.1:${p.admin} (token demo-token-only-for-loopback)
  dashboard     ${dashboardUrl(p)}

Try:
${printTour({ ...p, config })}
  # the same routing decision, explained
  npx geocdn lookup 8.8.8.8 -c ${config}

Press Ctrl-C to stop.`;
}
