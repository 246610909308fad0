import { adminCall, adminToken, adminUrls, TOKEN_ENV } from '../admin/client.js';
import { loadConfig } from '../config/load.js';
import { GeocdnError } from '../core/errors.js';
import { type Command, parseOptions } from './command.js';

export const drainCommand: Command = {
  name: 'drain',
  summary: 'send new clients away from a POP (or back, with --undo) on every nameserver',
  help: `Usage: geocdn drain POP [--undo] [--reason TEXT] [--config FILE] [--admin URL]...

Drains a POP on every nameserver: new DNS answers go to the next choice,
while the POP's edge keeps serving the clients that still arrive. --undo
puts it back. Talks to the admin API of each nameserver: those given with
--admin, else admin.nameservers of the config, else its admin.listen.
The token comes from ${TOKEN_ENV}, else admin.token of the config.

Options:
  -c, --config FILE   the geocdn config (for the admin URLs and token)
  -a, --admin URL     a nameserver's admin API, e.g. http://127.0.0.1:8053 (repeatable)
  -u, --undo          undrain
  -r, --reason TEXT   kept with the state, shown by geocdn status

Each nameserver keeps its drains in a file in its cluster.state_dir, so a
restarted nameserver still has them; one that cannot write that file applies
the change anyway and says so (a warning on stderr).

Exit status 0 when every nameserver took it, 1 otherwise.

Examples:
  geocdn drain eu-milan -c /etc/geocdn/geocdn.yaml --reason "kernel upgrade"
  geocdn drain eu-milan --undo -c /etc/geocdn/geocdn.yaml
  GEOCDN_ADMIN_TOKEN=... geocdn drain us-nyc --admin http://10.0.0.1:8053 --admin http://10.0.0.2:8053`,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      {
        config: { type: 'string', short: 'c' },
        admin: { type: 'string', short: 'a', multiple: true },
        undo: { type: 'boolean', short: 'u' },
        reason: { type: 'string', short: 'r' },
      },
      true,
    );
    if (positionals.length !== 1) throw new GeocdnError('GEOCDN_USAGE', 'give one POP name', undefined, 'see geocdn drain --help');
    const { urls, token } = adminTargets(values.config, values.admin ?? []);
    const pop = positionals[0]!;
    const path = `/v1/pops/${encodeURIComponent(pop)}/${values.undo ? 'undrain' : 'drain'}${values.reason ? `?reason=${encodeURIComponent(values.reason)}` : ''}`;
    const replies = await Promise.all(urls.map((u) => adminCall(u, 'POST', path, token)));
    let failed = 0;
    replies.forEach((r, i) => {
      if (!r.ok) {
        failed++;
        console.error(`${urls[i]}  ${r.error}`);
        return;
      }
      const state = r.body.state as { kind: string; reason: string };
      console.log(`${urls[i]}  ${pop} ${state.kind} (${state.reason})`);
      if (typeof r.body.warning === 'string') console.error(`${urls[i]}  warning: ${r.body.warning}`);
    });
    return failed === 0 ? 0 : 1;
  },
};

/** The admin URLs and token from the options, the config and the environment; usage errors when either is missing. */
export function adminTargets(configPath: string | undefined, given: string[]): { urls: string[]; token: string } {
  const section = configPath ? loadConfig(configPath).config.admin : undefined;
  const urls = adminUrls(section, given);
  if (urls.length === 0) throw new GeocdnError('GEOCDN_USAGE', 'no nameserver to talk to: give --admin URL or --config FILE');
  const token = adminToken(section);
  if (!token) throw new GeocdnError('GEOCDN_USAGE', `no admin token: set ${TOKEN_ENV} or admin.token in the config`);
  return { urls, token };
}
