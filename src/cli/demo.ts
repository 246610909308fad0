import { fileURLToPath } from 'node:url';
import { createLogger } from '../core/log.js';
import { Nameserver } from '../dns/nameserver.js';
import { checkTour, printTour } from '../demo/tour.js';
import { type Command, parseOptions } from './command.js';

const demoConfig = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the demo CDN on loopback (what `npm start` does)',
  help: `Usage: geocdn demo [--port N] [--check]

Starts the demo on loopback, with nothing to install and no root:
the GeoDNS nameserver on 127.0.0.1:5353 with the example zone and a geo
service over three POPs (examples/demo.yaml).
Prints commands to try. Ctrl-C stops it.

Options:
  -p, --port N   DNS port (default 5353)
      --check    run the printed tour itself and exit non-zero if any step
                 does not behave as printed

Examples:
  npm start
  dig @127.0.0.1 -p 5353 cdn.example.test +subnet=8.8.8.0/24
  geocdn demo --check --port 15353`,
  async run(argv) {
    const { values } = parseOptions(argv, { port: { type: 'string', short: 'p' }, check: { type: 'boolean' } });
    const port = Number(values.port ?? 5353);
    const logger = createLogger('demo', process.env.GEOCDN_LOG_LEVEL ?? 'warn');
    const ns = await Nameserver.start(demoConfig, logger, undefined, [`127.0.0.1:${port}`]);
    if (values.check) {
      const { ok, lines } = await checkTour(port);
      console.log(lines.join('\n'));
      await ns.stop();
      console.log(ok ? 'demo check: every step behaved as printed' : 'demo check: FAILED');
      return ok ? 0 : 1;
    }
    console.log(banner(port));
    await new Promise<void>((resolve) => {
      const stop = () => void ns.stop().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    console.log('demo stopped');
    return 0;
  },
};

export function banner(port: number): string {
  return `geocdn demo is running: the nameserver answers for example.test on 127.0.0.1:${port} (UDP and TCP),
with cdn.example.test routed between three POPs: eu-milan 127.0.0.2, us-newyork 127.0.0.3, ap-singapore 127.0.0.4.

Try:
${printTour(port)}
  node dist/cli.js lookup 8.8.8.8 --config examples/demo.yaml   # the same decision, explained

Press Ctrl-C to stop.`;
}
