import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';
import { writeGeoFixtures, type GeoFixtures } from './helpers/geo-fixtures.js';

// The compiled CLI beside the compiled tests (build/src/cli.js).
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

let fx: GeoFixtures;
let config: string;
before(() => {
  fx = writeGeoFixtures();
  config = join(fx.dir, 'geocdn.yaml');
  writeFileSync(
    config,
    `geoip:
  city: [city-flat-ipv4.mmdb, city-flat-ipv6.mmdb]
  asn: asn.mmdb
pops:
  eu: { addresses: [203.0.113.1, "2001:db8::1"], location: [45.46, 9.19] }
  us: { addresses: [198.51.100.1, 198.51.100.2], location: [40.71, -74.0] }
services:
  cdn.example.test:
    route: { map: { "840": us, "0": eu } }
  near.example.test:
    ttl: 60
    route: nearest
director: director.example.test
`,
  );
});

function lookup(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'lookup', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('geocdn lookup', () => {
  test('location fields and, for each service, the POP, rule, scope and addresses', () => {
    const r = lookup('8.8.8.8', '--config', config);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^address {3}8\.8\.8\.8 \(IPv4\)$/m);
    assert.match(r.stdout, /^network {3}8\.8\.8\.0\/24 \(flat layout\)$/m);
    assert.match(r.stdout, /^country {3}US USA 840 United States of America$/m);
    assert.match(r.stdout, /^continent NA North America$/m);
    assert.match(r.stdout, /^city {6}Mountain View$/m);
    assert.match(r.stdout, /^asn {7}AS15169 Google LLC$/m);
    assert.match(r.stdout, /^director {2}ip 8\.8\.8\.8 v4 city mountain view country us usa state na region california name google llc as as15169$/m);
    assert.match(r.stdout, /^cdn\.example\.test +pop us {2}rule country:US {2}scope \/16 {2}ttl 30 {2}198\.51\.100\.1 198\.51\.100\.2$/m);
    assert.match(r.stdout, /^near\.example\.test +pop us {2}rule nearest:\d+km {2}scope \/\d+ {2}ttl 60/m);
    assert.match(r.stdout, /^director\.example\.test \(director, as cdn\.example\.test\) +pop us /m);
  });

  test('--service, --down and --json', () => {
    const r = lookup('8.8.8.0/24', '-c', config, '--service', 'cdn.example.test.', '--down', 'us', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.sourcePrefix, 24);
    assert.equal(out.country.alpha3, 'USA');
    assert.equal(out.country.numeric, 840);
    assert.equal(out.services.length, 1);
    assert.deepEqual([out.services[0].pop, out.services[0].rule, out.services[0].rank], ['eu', 'country:US', 1]);
    assert.equal(out.services[0].txt, 'pop eu rule country:US failover 1');
    assert.equal(out.services[0].because, 'us down');
    const text = lookup('8.8.8.0/24', '-c', config, '--service', 'cdn.example.test.', '--down', 'us');
    assert.match(text.stdout, /pop eu .*\(failover, rank 1, because us down\)/);
  });

  test('without --config: the embedded database only', () => {
    const r = lookup('2003::1');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^country {3}DE DEU 276 Germany$/m);
    assert.match(r.stdout, /^asn {7}AS3320 /m);
    assert.doesNotMatch(r.stdout, /pop /);
  });

  test('usage errors exit 2 with GEOCDN_USAGE; bad config exits 1 with its code', () => {
    for (const args of [[], ['not-an-ip'], ['8.8.8.8', '--service', 'x'], ['8.8.8.8', '-c', config, '--service', 'nope.example.test'], ['8.8.8.8', '-c', config, '--down', 'mars']]) {
      const r = lookup(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^GEOCDN_USAGE/m);
    }
    const bad = join(fx.dir, 'bad.yaml');
    writeFileSync(bad, 'pops: {}\nservices:\n  cdn.example.test:\n    route: { default: ghost }\n');
    const r = lookup('8.8.8.8', '-c', bad);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^GEOCDN_CONFIG_INVALID .*bad\.yaml:4: services\.cdn\.example\.test\.route\.default\.0: unknown POP "ghost"/m);
    const help = spawnSync(process.execPath, [CLI, 'lookup', '--help'], { encoding: 'utf8' });
    assert.match(help.stdout, /^Usage: geocdn lookup IP\[\/PREFIX\]/);
    assert.match(help.stdout, /Examples:/);
  });
});
