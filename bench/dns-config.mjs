// The bench's setup (dns-peers.sh) as a geocdn config: the zone as written,
// minus the geo name's plain record, and BENCH_GEO_JSON's country map as a
// geo service with one POP per answer, over BENCH_MMDB_GEOIP2.
export function benchConfig({ zoneText, geo, mmdbGeoip2, listen }) {
  const service = geo.name.replace(/\.$/, '');
  const label = service.split('.')[0];
  const pops = new Map(); // address -> POP name
  const popFor = (address) => {
    if (!pops.has(address)) pops.set(address, `p${pops.size + 1}`);
    return pops.get(address);
  };
  const map = Object.entries(geo.answers).map(([country, address]) => `        ${country}: ${popFor(address)}`);
  const fallback = popFor(geo.default);
  const zone = zoneText
    .split('\n')
    .filter((line) => !new RegExp(`^${label}\\s`).test(line))
    .join('\n');
  const yaml = `dns:
  listen: ["${listen}"]
  watch: false
zones:
  - origin: example.test
    file: example.test.zone
geoip:
  city: ${JSON.stringify(mmdbGeoip2)}
  asn: none
pops:
${[...pops].map(([address, name]) => `  ${name}: { addresses: [${address}], location: [0, 0] }`).join('\n')}
services:
  ${service}:
    ttl: ${geo.ttl ?? 30}
    route:
      map:
${map.join('\n')}
      default: ${fallback}
`;
  return { zoneText: zone, yaml };
}
