import { GeocdnError, GeocdnErrors } from '../core/errors.js';
import { loadConfig } from '../config/load.js';
import { buildDnsSnapshot } from '../dns/snapshot.js';
import { type Command, parseOptions } from './command.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'validate a config and its zone files',
  help: `Usage: geocdn check --config FILE

Loads the config and every zone file it names, and prints each problem as
CODE file:line: what is wrong. Exit status 0 when all is well, 1 otherwise.

Examples:
  geocdn check --config examples/demo.yaml
  geocdn check -c /etc/geocdn/geocdn.yaml && systemctl reload geocdn`,
  async run(argv) {
    const { values } = parseOptions(argv, { config: { type: 'string', short: 'c' } });
    if (!values.config) {
      console.error('GEOCDN_USAGE: --config FILE is required (see geocdn check --help)');
      return 2;
    }
    try {
      const snapshot = await buildDnsSnapshot(loadConfig(values.config));
      const zones = snapshot.zones.zones;
      let nodes = 0;
      for (const z of zones) nodes += z.nodes.size;
      const services = snapshot.routing ? `, ${snapshot.routing.services.length} geo service(s), ${snapshot.routing.pops.length} POP(s)` : '';
      console.log(`ok: ${zones.length} zone(s), ${nodes} name(s)${services}, version ${snapshot.version}`);
      return 0;
    } catch (e) {
      const errors = e instanceof GeocdnErrors ? e.errors : e instanceof GeocdnError ? [e] : undefined;
      if (!errors) throw e;
      for (const err of errors) console.error(err.format());
      console.error(`${errors.length} error(s)`);
      return 1;
    }
  },
};
