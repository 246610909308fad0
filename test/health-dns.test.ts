import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Rcode, RRType } from '../src/dns/wire/constants.js';
import type { ClientSubnet } from '../src/dns/wire/edns.js';
import type { Message } from '../src/dns/wire/message.js';
import { rdataToText } from '../src/dns/wire/rdata.js';
import { query } from './helpers/dns.js';
import { writeGeoFixtures } from './helpers/geo-fixtures.js';
import { FakeEdge, startEdges } from './helpers/health-edges.js';
import { startHealthNameserver, type HealthNameserver } from './helpers/health-ns.js';

/**
 * Health, load and failover through the real nameserver: real edges (HTTP
 * servers answering the health path) started and stopped by the tests, real
 * DNS over UDP, and a fake clock stepping the probe schedule.
 */
const TOKEN = 'health-dns-test-token-0123';
const INTERVAL = 1000;
const FALL = 3;
const RISE = 2;

function config(a: FakeEdge, b: FakeEdge, c: FakeEdge): string {
  const fx = writeGeoFixtures();
  return `dns:
  listen: ["127.0.0.1:0"]
  watch: false
zones:
  - origin: example.test
    file: example.test.zone
geoip: { city: ${JSON.stringify(fx.geoip2)}, asn: none }
pops:
  a: { addresses: [192.0.2.1, "2001:db8::1"], location: [45.46, 9.19], edge: "${a.url}", capacity: 100 }
  b: { addresses: [192.0.2.2], location: [50.11, 8.68], edge: "${b.url}" }
  c: { addresses: [192.0.2.3], location: [40.71, -74.0], edge: "${c.url}" }
services:
  cdn.example.test: { ttl: 30, route: { default: [a, b, c] } }
  backup.example.test: { ttl: 30, route: { default: c } }
  origin.example.test: { ttl: 30, route: { default: c } }
  plain.example.test: { ttl: 30, route: { default: c } }
director: director.example.test
director_service: cdn.example.test
health:
  interval_ms: ${INTERVAL}
  timeout_ms: 500
  rise: ${RISE}
  fall: ${FALL}
  failover_ttl: 10
  last_resort:
    backup.example.test: { cname: cdn.backup-cdn.net }
    origin.example.test: { addresses: [198.51.100.80, "2001:db8::80"] }
admin: { listen: "127.0.0.1:0", token: ${TOKEN} }
`;
}

const ecs = (a: number[]): ClientSubnet => ({ family: 1, sourcePrefix: 24, scopePrefix: 0, address: Uint8Array.from(a.slice(0, 3)) });
const rrText = (m: Message) => m.answers.map((r) => `${r.name.key} ${r.ttl} ${rdataToText(r.type, r.data)}`);
const ask = (t: HealthNameserver, name: string, type: number = RRType.A, net = [10, 1, 2]) => query(t.port, name, type, { edns: { ecs: ecs(net) } });
const txt = async (t: HealthNameserver, net = [10, 1, 2]) => rrText(await ask(t, 'director.example.test', RRType.TXT, net))[0]!;

describe('failover over DNS: down, back, drained (real edges, fake clock)', () => {
  let t: HealthNameserver;
  let edges: FakeEdge[];
  before(async () => {
    edges = await startEdges(3);
    t = await startHealthNameserver(config(edges[0]!, edges[1]!, edges[2]!));
  });
  after(async () => {
    await t?.stop();
    await Promise.all(edges.map((e) => e.stop()));
  });

  test('probes ran at load; all up: the first choice with the service TTL', async () => {
    assert.ok(edges.every((e) => e.probes === 1));
    assert.deepEqual(rrText(await ask(t, 'cdn.example.test')), ['cdn.example.test 30 192.0.2.1']);
    assert.match(await txt(t), /"pop a rule default[^ "]*"$/);
  });

  test('a stopped edge stops being answered within interval × fall; the next choice gets the failover TTL', async () => {
    await edges[0]!.stop();
    for (let i = 1; i < FALL; i++) {
      await t.tick(INTERVAL);
      assert.deepEqual(rrText(await ask(t, 'cdn.example.test')), ['cdn.example.test 30 192.0.2.1'], `after ${i} failed probe(s)`);
    }
    await t.tick(INTERVAL);
    const m = await ask(t, 'cdn.example.test');
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.deepEqual(rrText(m), ['cdn.example.test 10 192.0.2.2']);
    assert.match(await txt(t), /"pop b rule \S+ failover 1 because a down"$/);
    // AAAA: b has none, so NODATA with the SOA, not SERVFAIL.
    const v6 = await ask(t, 'cdn.example.test', RRType.AAAA);
    assert.equal(v6.rcode, Rcode.NOERROR);
    assert.equal(v6.answers.length, 0);
    assert.equal(v6.authority[0]?.type, RRType.SOA);
  });

  test('started again, it returns after rise good probes, with the service TTL', async () => {
    await edges[0]!.start();
    await t.tick(INTERVAL);
    assert.deepEqual(rrText(await ask(t, 'cdn.example.test')), ['cdn.example.test 10 192.0.2.2'], 'one good probe of two');
    await t.tick(INTERVAL);
    assert.deepEqual(rrText(await ask(t, 'cdn.example.test')), ['cdn.example.test 30 192.0.2.1']);
    assert.deepEqual(rrText(await ask(t, 'cdn.example.test', RRType.AAAA)), ['cdn.example.test 30 2001:db8::1']);
  });

  test('drained through the admin API: new answers go elsewhere; undrained: back', async () => {
    const admin = t.ns.admin!.url;
    const post = (path: string) => fetch(`${admin}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal((await fetch(`${admin}/v1/pops/a/drain`, { method: 'POST' })).status, 401);
    assert.equal((await post('/v1/pops/a/drain?reason=maintenance')).status, 200);
    assert.deepEqual(rrText(await ask(t, 'cdn.example.test')), ['cdn.example.test 10 192.0.2.2']);
    assert.match(await txt(t), /because a draining"$/);
    assert.equal(await t.ns.reload(), true);
    assert.deepEqual(rrText(await ask(t, 'cdn.example.test')), ['cdn.example.test 10 192.0.2.2'], 'a reload keeps the drain');
    const probes = edges[0]!.probes;
    await t.tick(INTERVAL);
    assert.ok(edges[0]!.probes > probes, 'a drained POP is still probed');
    assert.equal((await post('/v1/pops/a/undrain')).status, 200);
    assert.deepEqual(rrText(await ask(t, 'cdn.example.test')), ['cdn.example.test 30 192.0.2.1']);
  });

  test('every POP of a service down: its last resort, never an empty answer or SERVFAIL', async () => {
    await edges[2]!.stop();
    for (let i = 0; i < FALL; i++) await t.tick(INTERVAL);
    const backup = await ask(t, 'backup.example.test');
    assert.equal(backup.rcode, Rcode.NOERROR);
    assert.deepEqual(
      backup.answers.map((r) => [r.type, r.ttl, rdataToText(r.type, r.data)]),
      [[RRType.CNAME, 10, 'cdn.backup-cdn.net.']],
    );
    assert.deepEqual(rrText(await ask(t, 'backup.example.test', RRType.AAAA)), ['backup.example.test 10 cdn.backup-cdn.net.']);
    assert.deepEqual(rrText(await ask(t, 'origin.example.test')), ['origin.example.test 10 198.51.100.80']);
    assert.deepEqual(rrText(await ask(t, 'origin.example.test', RRType.AAAA)), ['origin.example.test 10 2001:db8::80']);
    assert.deepEqual(rrText(await ask(t, 'plain.example.test')).sort(), ['plain.example.test 10 192.0.2.1', 'plain.example.test 10 192.0.2.2', 'plain.example.test 10 192.0.2.3']);
    assert.deepEqual(rrText(await ask(t, 'cdn.example.test')), ['cdn.example.test 30 192.0.2.1'], 'a service with a live POP is untouched');
    await edges[2]!.start();
    for (let i = 0; i < RISE; i++) await t.tick(INTERVAL);
    assert.deepEqual(rrText(await ask(t, 'backup.example.test')), ['backup.example.test 30 192.0.2.3']);
  });
});

describe('spillover over DNS: a POP above capacity sheds a share of networks', () => {
  let t: HealthNameserver;
  let edges: FakeEdge[];
  before(async () => {
    edges = await startEdges(3);
    edges[0]!.requestsPerSecond = 200; // capacity 100: half too much
    t = await startHealthNameserver(config(edges[0]!, edges[1]!, edges[2]!));
  });
  after(async () => {
    await t?.stop();
    await Promise.all(edges.map((e) => e.stop()));
  });

  test('about half the /24 networks move to the next choice, each network stably, with the failover TTL and a /24 scope', async () => {
    const nets = Array.from({ length: 200 }, (_, i) => [10, 20 + (i >> 8), i & 0xff]);
    const first = await Promise.all(nets.map((n) => ask(t, 'cdn.example.test', RRType.A, n)));
    const moved = first.filter((m) => rrText(m)[0] === 'cdn.example.test 10 192.0.2.2').length;
    const kept = first.filter((m) => rrText(m)[0] === 'cdn.example.test 30 192.0.2.1').length;
    assert.equal(moved + kept, nets.length);
    assert.ok(moved > 70 && moved < 130, `${moved} of 200 moved, expected about 100`);
    for (const m of first) assert.ok((m.edns?.ecs?.scopePrefix ?? 0) >= 24);
    const again = await Promise.all(nets.map((n) => ask(t, 'cdn.example.test', RRType.A, n)));
    assert.deepEqual(again.map(rrText), first.map(rrText));
    const spilled = nets[first.findIndex((m) => rrText(m)[0]!.endsWith('192.0.2.2'))]!;
    assert.match(await txt(t, spilled), /"pop b rule \S+ failover 1 because a load shed 50%"$/);
  });

  test('the load falls below capacity: nobody is shed', async () => {
    edges[0]!.requestsPerSecond = 40;
    await t.tick(INTERVAL);
    const nets = Array.from({ length: 50 }, (_, i) => [10, 30, i]);
    const answers = await Promise.all(nets.map((n) => ask(t, 'cdn.example.test', RRType.A, n)));
    assert.ok(answers.every((m) => rrText(m)[0] === 'cdn.example.test 30 192.0.2.1'));
  });
});
