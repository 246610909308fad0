import { fileURLToPath } from 'node:url';
import { createLogger } from '../core/log.js';
import { Nameserver } from '../dns/nameserver.js';
import { type Command, parseOptions } from './command.js';

const demoConfig = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the demo CDN on loopback (what `npm start` does)',
  help: `Usage: geocdn demo [--port N]

Starts the demo on loopback, with nothing to install and no root:
the GeoDNS nameserver on 127.0.0.1:5353 with the example zone and a geo
service over three POPs (examples/demo.yaml).
Prints commands to try. Ctrl-C stops it.

Options:
  -p, --port N   DNS port (default 5353)

Example:
  npm start
  dig @127.0.0.1 -p 5353 www.example.test`,
  async run(argv) {
    const { values } = parseOptions(argv, { port: { type: 'string', short: 'p' } });
    const port = Number(values.port ?? 5353);
    const logger = createLogger('demo', process.env.GEOCDN_LOG_LEVEL ?? 'warn');
    const ns = await Nameserver.start(demoConfig, logger, undefined, [`127.0.0.1:${port}`]);
    console.log(tour(port));
    await new Promise<void>((resolve) => {
      const stop = () => void ns.stop().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    console.log('demo stopped');
    return 0;
  },
};

export function tour(port: number): string {
  const dig = `dig @127.0.0.1 -p ${port}`;
  return `geocdn demo is running: the nameserver answers for example.test on 127.0.0.1:${port} (UDP and TCP),
with cdn.example.test routed between three POPs: eu-milan 127.0.0.2, us-newyork 127.0.0.3, ap-singapore 127.0.0.4.

Try:
  ${dig} cdn.example.test +subnet=8.8.8.0/24          # a US client: us-newyork, with the ECS scope
  ${dig} cdn.example.test +subnet=185.178.92.0/24     # an Italian client: eu-milan
  ${dig} cdn.example.test +subnet=139.130.4.0/24      # Australia: the nearest POP, ap-singapore
  ${dig} www.example.test +subnet=8.8.8.0/24          # a CNAME into the geo service
  ${dig} director.example.test TXT +subnet=8.8.8.0/24 # how the CDN sees a client, and why this POP
  ${dig} example.test SOA                            # the zone apex, authoritative (aa)
  ${dig} nope.example.test                           # NXDOMAIN, with the SOA for negative caching
  ${dig} anything.wild.example.test                  # a wildcard answer
  ${dig} www.sub.example.test                        # a referral to a delegated subzone, with glue
  ${dig} long.example.test TXT +tcp                  # a long TXT record, over TCP
  ${dig} example.com                                 # REFUSED: never an open resolver
  node dist/cli.js lookup 8.8.8.8 --config examples/demo.yaml   # the same decision, explained

Press Ctrl-C to stop.`;
}
