import { loadConfig } from '../config/load.js';
import { GeocdnError } from '../core/errors.js';
import { clientFromText, formatIp, type ClientAddress } from '../geo/address.js';
import { COUNTRIES, CONTINENT_CODES, CONTINENT_NAMES } from '../geo/countries.js';
import { GeoLocator, type Location } from '../geo/locator.js';
import { compileGeoRouting } from '../routing/compile.js';
import { describeDecision, describeLocation } from '../routing/director.js';
import { ALWAYS_AVAILABLE, type GeoRouting, type PopAvailability } from '../routing/types.js';
import { parseOptions, type Command } from './command.js';

export const lookupCommand: Command = {
  name: 'lookup',
  summary: 'where an address is, and which POP each service would answer it (and why)',
  help: `Usage: geocdn lookup IP[/PREFIX] [--config FILE] [--service NAME] [--down POP,...] [--json]

Shows what the GeoIP database says of an address (country, continent, region,
city, coordinates, AS) and, with a config, the POP every geo-routed service
would answer, the rule that chose it and the ECS scope of the answer. An
IP/PREFIX is looked up as an EDNS Client Subnet of that length would be.

Options:
  -c, --config FILE    the geocdn config; without it only the embedded database is read
  -s, --service NAME   only this service (or the director name)
      --down POP,...   treat these POPs as down, to see the failover
      --json           print JSON

Examples:
  geocdn lookup 185.178.92.254
  geocdn lookup 8.8.8.0/24 --config examples/geo.yaml
  geocdn lookup 2003::1 -c examples/geo.yaml --service cdn.example.test --down eu-milan`,

  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      {
        config: { type: 'string', short: 'c' },
        service: { type: 'string', short: 's' },
        down: { type: 'string' },
        json: { type: 'boolean' },
      },
      true,
    );
    if (positionals.length !== 1) throw new GeocdnError('GEOCDN_USAGE', 'give one IP address (or IP/PREFIX)', undefined, 'see geocdn lookup --help');
    const client = clientFromText(positionals[0]!);
    if (!client) throw new GeocdnError('GEOCDN_USAGE', `"${positionals[0]}" is not an IP address or IP/PREFIX`);
    if (!values.config && (values.service || values.down)) {
      throw new GeocdnError('GEOCDN_USAGE', '--service and --down need --config (the services are in the config)');
    }
    let routing: GeoRouting | undefined;
    let location: Location;
    if (values.config) {
      const loaded = loadConfig(values.config);
      routing = await compileGeoRouting(loaded.config, loaded.resolvePath, { file: loaded.path });
      location = routing.locate(client);
    } else {
      location = (await GeoLocator.open({ city: 'default', asn: 'default' })).locate(client);
    }
    const rows = routing ? decisions(routing, client, values.service, values.down) : [];
    const director = describeLocation(client, location);
    console.log(values.json ? JSON.stringify(toJson(client, location, rows, director), null, 2) : toText(client, location, rows, director, !!routing));
    return 0;
  },
};

interface Row {
  service: string;
  pop: string;
  rule: string;
  scope: number;
  ttl: number;
  rank: number;
  allDown: boolean;
  /** Why this is not the first choice: the health of the POP that would have answered. */
  because: string;
  addresses: string[];
  txt: string;
}

function decisions(routing: GeoRouting, client: ClientAddress, only: string | undefined, down: string | undefined): Row[] {
  const downSet = new Set<number>();
  for (const name of (down ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const pop = routing.pops.find((p) => p.name === name);
    if (!pop) throw new GeocdnError('GEOCDN_USAGE', `--down: unknown POP "${name}" (POPs: ${routing.pops.map((p) => p.name).join(', ')})`);
    downSet.add(pop.index);
  }
  const availability: PopAvailability = { isAvailable: (pop) => !downSet.has(pop) };
  let services = routing.services;
  if (only !== undefined) {
    const key = only.toLowerCase().replace(/\.$/, '');
    const svc = routing.service(key);
    if (!svc) throw new GeocdnError('GEOCDN_USAGE', `--service: "${only}" is not a service (services: ${routing.serviceNames.join(', ') || 'none'})`);
    services = [svc];
  }
  return services.map((svc) => {
    const d = routing.decide(svc, client, availability);
    const pop = routing.pops[d.pop]!;
    const ideal = routing.decide(svc, client, ALWAYS_AVAILABLE);
    const because = d.allDown ? 'every POP down' : ideal.pop !== d.pop ? `${routing.pops[ideal.pop]!.name} down` : '';
    return {
      service: svc.isDirector ? `${svc.name} (director, as ${svc.mirrors})` : svc.name,
      pop: pop.name,
      rule: d.rule,
      because,
      scope: d.scopePrefix,
      ttl: svc.ttl,
      rank: d.rank,
      allDown: d.allDown,
      addresses: [...pop.a.map((b) => formatIp(4, b)), ...pop.aaaa.map((b) => formatIp(6, b))],
      txt: describeDecision(routing.pops, d),
    };
  });
}

function toText(client: ClientAddress, loc: Location, rows: Row[], director: string, withConfig: boolean): string {
  const r = loc.record;
  const lines: [string, string][] = [
    ['address', `${formatIp(client.family, client.bytes)}${client.sourcePrefix < (client.family === 4 ? 32 : 128) ? `/${client.sourcePrefix}` : ''} (IPv${client.family})`],
    ['network', `${loc.network}${r ? ` (${r.layout === 'geoip2' ? 'GeoIP2' : 'flat'} layout)` : loc.special ? ` (${loc.special} address)` : ' (not in the database)'}`],
  ];
  if (r) {
    if (r.country) lines.push(['country', `${COUNTRIES.alpha2[r.country]} ${COUNTRIES.alpha3[r.country]} ${COUNTRIES.numeric[r.country]! >= 0 ? String(COUNTRIES.numeric[r.country]).padStart(3, '0') : '-'} ${COUNTRIES.name[r.country]}`]);
    if (r.continent) lines.push(['continent', `${CONTINENT_CODES[r.continent]} ${CONTINENT_NAMES[r.continent]}`]);
    if (r.subdivision || r.region) lines.push(['region', [r.subdivision, r.region].filter(Boolean).join(' ')]);
    if (r.city) lines.push(['city', r.city]);
    if (!Number.isNaN(r.latitude)) lines.push(['location', `${r.latitude.toFixed(4)}, ${r.longitude.toFixed(4)}`]);
  }
  lines.push(['asn', loc.asn ? `AS${loc.asn.asn}${loc.asn.org ? ` ${loc.asn.org}` : ''}` : 'unknown']);
  lines.push(['director', director]);
  const out = lines.map(([k, v]) => `${k.padEnd(10)}${v}`);
  if (rows.length > 0) {
    out.push('');
    const width = Math.max(...rows.map((x) => x.service.length));
    for (const x of rows) {
      const note = x.allDown ? '  (every POP down: first one answered)' : x.because ? `  (failover, rank ${x.rank}, because ${x.because})` : '';
      out.push(`${x.service.padEnd(width)}  pop ${x.pop}  rule ${x.rule}  scope /${x.scope}  ttl ${x.ttl}  ${x.addresses.join(' ')}${note}`);
    }
  } else if (withConfig) out.push('', 'no geo-routed services in this config');
  return out.join('\n');
}

function toJson(client: ClientAddress, loc: Location, rows: Row[], director: string): unknown {
  const r = loc.record;
  return {
    address: formatIp(client.family, client.bytes),
    sourcePrefix: client.sourcePrefix,
    network: loc.network,
    special: loc.special ?? null,
    layout: r?.layout ?? null,
    country: r && r.country ? { alpha2: COUNTRIES.alpha2[r.country], alpha3: COUNTRIES.alpha3[r.country], numeric: COUNTRIES.numeric[r.country], name: COUNTRIES.name[r.country] } : null,
    continent: r && r.continent ? CONTINENT_CODES[r.continent] : null,
    subdivision: r?.subdivision ?? null,
    region: r?.region ?? null,
    city: r?.city ?? null,
    latitude: r && !Number.isNaN(r.latitude) ? r.latitude : null,
    longitude: r && !Number.isNaN(r.longitude) ? r.longitude : null,
    asn: loc.asn ?? null,
    director,
    services: rows,
  };
}
