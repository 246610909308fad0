#!/usr/bin/env node
// Started by ../shared/tools/dns-peers.sh (--extra-cmd): turns the bench's
// setup (BENCH_ZONE_FILE, BENCH_GEO_JSON, BENCH_MMDB_*) into a geocdn config
// and runs `geocdn dns` in this very process, so the script counts its CPU.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchConfig } from './dns-config.mjs';

const env = process.env;
for (const k of ['BENCH_ZONE_FILE', 'BENCH_GEO_JSON', 'BENCH_HOST', 'BENCH_PORT']) {
  if (!env[k]) {
    console.error(`serve-dns: ${k} is not set; run through npm run bench:dns`);
    process.exit(2);
  }
}
const dir = mkdtempSync(join(tmpdir(), 'geocdn-bench-'));
// The peers script stops this server with SIGTERM; the CLI's handler exits, and the folder goes with it.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const { zoneText, yaml } = benchConfig({
  zoneText: readFileSync(env.BENCH_ZONE_FILE, 'utf8'),
  geo: JSON.parse(readFileSync(env.BENCH_GEO_JSON, 'utf8')),
  mmdbGeoip2: env.BENCH_MMDB_GEOIP2,
  listen: `${env.BENCH_HOST}:${env.BENCH_PORT}`,
});
writeFileSync(join(dir, 'example.test.zone'), zoneText);
writeFileSync(join(dir, 'geocdn.yaml'), yaml);
process.env.GEOCDN_LOG_LEVEL ??= 'warn';
process.argv = [process.argv[0], 'geocdn', 'dns', '--config', join(dir, 'geocdn.yaml')];
await import('../dist/cli.js');
