// The bench's setup as a geocdn config. The zone is served as written;
// the geo name is served from the zone's plain record until geo routing
// is configured here (see bench/README.md).
export function benchConfig({ zoneText, listen }) {
  const yaml = `dns:
  listen: ["${listen}"]
  watch: false
zones:
  - origin: example.test
    file: example.test.zone
`;
  return { zoneText, yaml, geo: false };
}
