// The nameserver behind a real recursive resolver, as clients reach it: Unbound with QNAME
// minimisation, 0x20 case randomisation and EDNS Client Subnet (its subnetcache module),
// queried with dig. Skipped when unbound or dig is not installed.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { geoZone } from './fixtures/test-zone.js';
import { dig, hasDig, NO_DIG, startNameserver, type TestNameserver } from './helpers/dns.js';
import { writeGeoFixtures } from './helpers/geo-fixtures.js';
import { tempDir } from './helpers/tmp.js';

const hasUnbound = spawnSync('unbound', ['-V'], { stdio: 'ignore' }).status === 0;
const skip = !hasUnbound ? 'unbound not installed (Debian package unbound)' : !hasDig() ? NO_DIG : false;

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
      s.on('error', reject);
    });
    const free = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.on('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function unboundConfig(dir: string, port: number, authPort: number): string {
  return `server:
  interface: 127.0.0.1
  port: ${port}
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 0
  do-ip6: no
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  qname-minimisation: yes
  use-caps-for-id: yes
  module-config: "subnetcache iterator"
  send-client-subnet: 127.0.0.1
  client-subnet-always-forward: yes
  # test. is one of Unbound's built-in NXDOMAIN zones (RFC 6761)
  local-zone: "test." nodefault
stub-zone:
  name: "example.test"
  stub-addr: 127.0.0.1@${authPort}
`;
}

const geoConfig = (fx: ReturnType<typeof writeGeoFixtures>): string => `dns:
  listen: ["127.0.0.1:0"]
  watch: false
zones:
  - origin: example.test
    file: example.test.zone
geoip:
  city: ${JSON.stringify(fx.geoip2)}
pops:
  us-nyc: { addresses: [198.51.100.10], location: [40.71, -74.0], country: US }
  eu-fra: { addresses: [203.0.113.20], location: [50.11, 8.68], country: DE }
services:
  cdn.example.test:
    ttl: 20
    route:
      map: { US: us-nyc, DE: eu-fra, "0": eu-fra }
director: director.example.test
`;

describe('through Unbound (a recursive resolver with ECS)', { skip }, () => {
  let ns: TestNameserver;
  let unbound: ChildProcess;
  let port = 0;
  let log = '';

  before(async () => {
    ns = await startNameserver({ 'example.test.zone': geoZone }, geoConfig(writeGeoFixtures()));
    const dir = tempDir('geocdn-unbound-');
    port = await freePort();
    writeFileSync(join(dir, 'unbound.conf'), unboundConfig(dir, port, ns.port));
    unbound = spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    unbound.stdout!.on('data', (d: Buffer) => (log += d));
    unbound.stderr!.on('data', (d: Buffer) => (log += d));
    let last = '';
    for (let i = 0; ; i++) {
      try {
        last = await dig(port, ['mail.example.test']);
        if (/status: NOERROR/.test(last)) break;
      } catch (e) {
        last = String(e); // not listening yet
      }
      if (i === 50 || unbound.exitCode !== null) throw new Error(`unbound did not answer:\n${log}\n${last}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    if (unbound && unbound.exitCode === null) {
      const exited = new Promise((r) => unbound.once('exit', r));
      unbound.kill('SIGTERM');
      await exited;
    }
    await ns?.stop();
  });

  test('each client subnet reaches its own POP through the one resolver cache', async () => {
    const us = await dig(port, ['cdn.example.test', '+subnet=8.8.8.0/24', '+short']);
    assert.equal(us.trim(), '198.51.100.10', log);
    const de = await dig(port, ['cdn.example.test', '+subnet=193.99.144.0/24', '+short']);
    assert.equal(de.trim(), '203.0.113.20', log);
    // Asked again: answered from Unbound's per-subnet cache, still apart.
    assert.equal((await dig(port, ['cdn.example.test', '+subnet=8.8.8.0/24', '+short'])).trim(), '198.51.100.10');
  });

  test('the director shows the client subnet that Unbound forwarded', async () => {
    const txt = await dig(port, ['director.example.test', 'TXT', '+subnet=193.99.144.0/24', '+short']);
    assert.match(txt, /"ip 193\.99\.144\.0\/24 v4 .*country de .*" "pop eu-fra rule country:DE"/);
  });

  test('static names, a CNAME into the zone, NXDOMAIN and NODATA resolve as the zone says', async () => {
    const cname = await dig(port, ['docs.example.test', 'A']);
    assert.match(cname, /status: NOERROR/);
    assert.match(cname, /docs\.example\.test\.\s+\d+\s+IN\s+CNAME\s+www\.example\.test\./);
    const nx = await dig(port, ['nope.example.test', 'A']);
    assert.match(nx, /status: NXDOMAIN/);
    assert.match(nx, /example\.test\.\s+\d+\s+IN\s+SOA/);
    const nodata = await dig(port, ['mail.example.test', 'AAAA']);
    assert.match(nodata, /status: NOERROR/);
    assert.match(nodata, /ANSWER: 0/);
  });

  test('an answer over 512 bytes comes back whole', async () => {
    const big = await dig(port, ['big.example.test', 'TXT']);
    assert.match(big, /status: NOERROR/);
    assert.match(big, /ANSWER: 3/);
  });
});
