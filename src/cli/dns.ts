import { createLogger } from '../core/log.js';
import { Nameserver } from '../dns/nameserver.js';
import { type Command, parseOptions } from './command.js';
import { takeReloadSignal } from './reload-signal.js';

export const dnsCommand: Command = {
  name: 'dns',
  summary: 'run the authoritative GeoDNS nameserver',
  help: `Usage: geocdn dns --config FILE [--listen ADDR]...

Runs the authoritative nameserver for the zones and geo services of FILE, on
UDP and TCP. Reloads on SIGHUP and when the config or a zone file changes; a
file that does not check is refused and the running zones keep serving.

Options:
  -c, --config FILE   the geocdn config (YAML)
  -l, --listen ADDR   listen address, overrides dns.listen (repeatable),
                      e.g. 127.0.0.1:5353 or [::1]:5353

Examples:
  geocdn dns --config examples/demo.yaml
  geocdn dns -c /etc/geocdn/geocdn.yaml -l 0.0.0.0:53 -l [::]:53
  kill -HUP "$(pgrep -f 'cli.js dns')"   # reload (the process is node running dist/cli.js)`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      config: { type: 'string', short: 'c' },
      listen: { type: 'string', short: 'l', multiple: true },
    });
    if (!values.config) {
      console.error('GEOCDN_USAGE: --config FILE is required (see geocdn dns --help)');
      return 2;
    }
    const logger = createLogger('dns');
    const reloadSignal = takeReloadSignal(logger, 'the config and zones are');
    const ns = await Nameserver.start(values.config, logger, undefined, values.listen);
    reloadSignal.ready(() => void ns.reload());
    await new Promise<void>((resolve) => {
      const stop = () => void ns.stop().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
