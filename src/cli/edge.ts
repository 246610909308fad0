import { attachEdgeToCluster } from '../cluster/attach-edge.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../core/log.js';
import { createEdgeServer } from '../edge/server.js';
import { type Command, parseOptions } from './command.js';

export const edgeCommand: Command = {
  name: 'edge',
  summary: 'run the caching reverse proxy of one POP',
  help: `Usage: geocdn edge --config FILE [--pop NAME] [--listen ADDR]

Runs the caching HTTP/1.1 reverse proxy for the sites of FILE. It answers only
the configured sites (by Host; other hosts get 421) and never proxies elsewhere.
The listen address is, first found: --listen, edge.pops.NAME.listen, edge.listen.
With edge.tls it also serves HTTPS (SNI, HTTP/2 and HTTP/1.1 by ALPN) on
edge.pops.NAME.tls_listen or edge.tls.listen; certificates reload when their
files change.

Options:
  -c, --config FILE   the geocdn config (YAML)
  -p, --pop NAME      this POP's name: picks edge.pops.NAME and names the cache
                      in Via / Cache-Status (geocdn-NAME)
  -l, --listen ADDR   listen address, e.g. 127.0.0.1:8080 or [::1]:8080

Health: GET /.well-known/geocdn/health on any Host (edge.health_path).

Examples:
  geocdn edge --config examples/demo.yaml --pop eu-milan
  geocdn edge -c geocdn.yaml -l 0.0.0.0:80
  curl -sI -H 'Host: www.example.test' http://127.0.0.1:8080/`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      config: { type: 'string', short: 'c' },
      pop: { type: 'string', short: 'p' },
      listen: { type: 'string', short: 'l' },
    });
    if (!values.config) {
      console.error('GEOCDN_USAGE: --config FILE is required (see geocdn edge --help)');
      return 2;
    }
    const { config, resolvePath } = loadConfig(values.config);
    const log = createLogger(values.pop ? `edge-${values.pop}` : 'edge');
    const edge = createEdgeServer({ config, log, pop: values.pop, listen: values.listen, resolvePath });
    const addr = await edge.listen();
    const cluster = await attachEdgeToCluster(config.cluster, edge.context.store, values.pop, log);
    log.info({ address: `${addr.host}:${addr.port}`, tls: addr.tls ? `${addr.tls.host}:${addr.tls.port}` : undefined, sites: Object.keys(config.sites) }, 'edge listening');
    await new Promise<void>((resolve) => {
      const stop = (): void => void Promise.all([edge.close(), cluster?.stop()]).then(() => resolve());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
