import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig, parseConfigText } from '../src/config/load.js';
import { GeocdnErrors } from '../src/core/errors.js';
import { buildDnsSnapshot } from '../src/dns/snapshot.js';
import { writeGeoFixtures } from './helpers/geo-fixtures.js';
import { healthZone } from './helpers/health-ns.js';
import { tempDir } from './helpers/tmp.js';

const messages = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof GeocdnErrors) return e.errors.map((x) => x.format());
    throw e;
  }
  return [];
};

describe('the health and admin sections', () => {
  test('defaults', () => {
    const { config } = parseConfigText('{}', '/x/geocdn.yaml');
    assert.deepEqual(config.health, { interval_ms: 2000, timeout_ms: 800, rise: 2, fall: 3, tcp: false, failover_ttl: 10, spillover: true, max_spillover: 0.9, last_resort: {} });
    assert.deepEqual(config.admin, { listen: '127.0.0.1:8053', nameservers: [] });
  });

  test('a timeout not below the interval, a short token, a bad last resort: refused with file:line', () => {
    const check = (text: string) => messages(() => parseConfigText(text, '/x/geocdn.yaml')).join('\n');
    assert.match(check('health:\n  interval_ms: 500\n  timeout_ms: 500\n'), /^GEOCDN_CONFIG_INVALID \/x\/geocdn\.yaml:3: health\.timeout_ms: timeout_ms must be below interval_ms$/);
    assert.match(check('admin:\n  token: short\n'), /^GEOCDN_CONFIG_INVALID \/x\/geocdn\.yaml:2: admin\.token: an admin token has at least 16 characters$/);
    assert.match(check('health:\n  last_resort:\n    cdn.example.test: { cname: x, addresses: [] }\n'), /geocdn\.yaml:3: health\.last_resort\.cdn\.example\.test: /);
  });

  test('a last resort for a name that is not a service is a config error at build (geocdn check)', async () => {
    const dir = tempDir('geocdn-health-config-');
    writeFileSync(join(dir, 'example.test.zone'), healthZone);
    const fx = writeGeoFixtures();
    writeFileSync(
      join(dir, 'geocdn.yaml'),
      `zones: [{ origin: example.test, file: example.test.zone }]
geoip: { city: ${JSON.stringify(fx.geoip2)}, asn: none }
pops: { a: { addresses: [192.0.2.1], location: [0, 0] } }
services: { cdn.example.test: { route: { default: a } } }
health: { last_resort: { nope.example.test: { cname: backup.example.net }, cdn.example.test: { addresses: [not-an-ip] } } }
`,
    );
    await assert.rejects(buildDnsSnapshot(loadConfig(join(dir, 'geocdn.yaml'))), (e: unknown) => {
      const errs = (e as GeocdnErrors).errors.map((x) => x.format());
      assert.equal(errs.length, 2, errs.join('\n'));
      assert.match(errs[0]!, /GEOCDN_CONFIG_INVALID .*geocdn\.yaml: health\.last_resort\.nope\.example\.test: "nope\.example\.test" is not a service \(services: cdn\.example\.test\)/);
      assert.match(errs[1]!, /health\.last_resort\.cdn\.example\.test\.addresses\.0: "not-an-ip" is not an IPv4 or IPv6 address/);
      return true;
    });
  });
});
