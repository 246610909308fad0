import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEdgeAdmin } from '../src/admin/edge-admin.js';
import type { AdminServer } from '../src/admin/server.js';
import { issuePurge } from '../src/cluster/acks.js';
import type { Subscription } from '../src/cluster/bus.js';
import { memoryCursor } from '../src/cluster/cursor.js';
import { linkEdge } from '../src/cluster/edge-link.js';
import { createMemoryBus } from '../src/cluster/memory-bus.js';
import { newPurge } from '../src/cluster/purge.js';
import { Nameserver } from '../src/dns/nameserver.js';
import { Rcode, RRType } from '../src/dns/wire/constants.js';
import type { ClusterSetup } from '../src/cluster/create.js';
import { createMemoryStore } from '../src/edge/cache/memory-store.js';
import { exampleZone, geoZone } from './fixtures/test-zone.js';
import { query } from './helpers/dns.js';
import { fixed, get, startEdge, startOrigin, type TestEdge, type TestOrigin } from './helpers/edge-harness.js';
import { writeGeoFixtures } from './helpers/geo-fixtures.js';
import { parseProm, sample, type Sample } from './helpers/prom-text.js';
import { tempDir } from './helpers/tmp.js';
import { discardingLogger } from './helpers/log.js';

const TOKEN = 'metrics-test-token-0123';

async function scrape(url: string, token: string | null = TOKEN): Promise<{ status: number; type: string | null; samples: Sample[] }> {
  const res = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), samples: res.status === 200 ? parseProm(text) : [] };
}

describe('GET /metrics on the nameserver: DNS answers by service, POP and RCODE', () => {
  let ns: Nameserver;
  let port: number;
  let admin: string;
  let dir: string;
  const configText = (ttl: number) => `dns: { listen: ["127.0.0.1:0"], watch: false }
zones:
  - { origin: example.test, file: example.test.zone }
geoip: { city: ${JSON.stringify(writeGeoFixtures().geoip2)}, asn: none }
pops:
  milan: { addresses: [192.0.2.1], location: [45.46, 9.19] }
  nyc: { addresses: [192.0.2.3], location: [40.71, -74.0] }
services:
  cdn.example.test: { ttl: ${ttl}, route: { nets: { "198.51.100.0/24": nyc }, default: [milan, nyc] } }
director: director.example.test
director_service: cdn.example.test
admin: { listen: "127.0.0.1:0", token: ${TOKEN} }
`;
  before(async () => {
    dir = tempDir('geocdn-metrics-');
    writeFileSync(join(dir, 'example.test.zone'), geoZone);
    writeFileSync(join(dir, 'geocdn.yaml'), configText(30));
    ns = await Nameserver.start(join(dir, 'geocdn.yaml'), discardingLogger('test'));
    port = ns.server.bound.udp[0]!.port;
    admin = ns.admin!.url;
  });
  after(() => ns?.stop());

  const ecs = (a: number[]) => ({ edns: { ecs: { family: 1 as const, sourcePrefix: 24, scopePrefix: 0, address: Uint8Array.from(a) } } });

  it('counts real UDP and TCP queries under their labels, and refuses a scrape without the token', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await query(port, 'cdn.example.test', RRType.A, ecs([10, 0, 0]))).rcode, Rcode.NOERROR);
    for (let i = 0; i < 2; i++) await query(port, 'cdn.example.test', RRType.A, ecs([198, 51, 100]));
    await query(port, 'cdn.example.test', RRType.A, { ...ecs([198, 51, 100]), tcp: true });
    await query(port, 'director.example.test', RRType.TXT, ecs([10, 0, 0]));
    await query(port, 'www.example.test', RRType.A); // a CNAME to the service: counted under it
    await query(port, 'mail.example.test', RRType.A);
    for (let i = 0; i < 2; i++) assert.equal((await query(port, 'nope.example.test', RRType.A)).rcode, Rcode.NXDOMAIN);
    assert.equal((await query(port, 'example.org', RRType.A)).rcode, Rcode.REFUSED);

    const denied = await scrape(admin, null);
    assert.equal(denied.status, 401);
    assert.equal((await scrape(admin, 'wrong-token-wrong-token')).status, 401);

    const m = await scrape(admin);
    assert.equal(m.status, 200);
    assert.match(m.type ?? '', /^text\/plain; version=0\.0\.4/);
    const q = (service: string, pop: string, rcode: string) => sample(m.samples, 'geocdn_dns_queries_total', { service, pop, rcode });
    assert.equal(q('cdn.example.test', 'milan', 'NOERROR'), 4);
    assert.equal(q('cdn.example.test', 'nyc', 'NOERROR'), 3);
    assert.equal(q('director.example.test', '', 'NOERROR'), 1);
    assert.equal(q('', '', 'NOERROR'), 1);
    assert.equal(q('', '', 'NXDOMAIN'), 2);
    assert.equal(q('', '', 'REFUSED'), 1);
    // Process default metrics, on this node's own registry.
    assert.ok((sample(m.samples, 'process_cpu_user_seconds_total') ?? 0) > 0);
    assert.ok(m.samples.some((s) => s.name === 'nodejs_heap_size_used_bytes'));
    assert.equal(sample(m.samples, 'geocdn_config_info', { node: ns.version!.node, role: 'nameserver', version: ns.version!.version }), 1);
    assert.equal(sample(m.samples, 'geocdn_pop_state', { pop: 'milan', state: 'up' }), 1);
  });

  it('keeps counting across a reload (counters never go down) and reports the new version', async () => {
    const before = ns.version!.version;
    writeFileSync(join(dir, 'geocdn.yaml'), configText(60));
    assert.equal(await ns.reload(), true);
    assert.notEqual(ns.version!.version, before);
    await query(port, 'cdn.example.test', RRType.A, ecs([10, 0, 0]));
    const m = await scrape(admin);
    assert.equal(sample(m.samples, 'geocdn_dns_queries_total', { service: 'cdn.example.test', pop: 'milan', rcode: 'NOERROR' }), 5);
    assert.equal(sample(m.samples, 'geocdn_dns_queries_total', { service: '', pop: '', rcode: 'NOERROR' }), 1);
    assert.equal(sample(m.samples, 'geocdn_config_info', { node: ns.version!.node, role: 'nameserver', version: ns.version!.version }), 1);

    const status = (await (await fetch(`${admin}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Record<string, any>;
    assert.equal(status.role, 'nameserver');
    assert.equal(status.version, ns.version!.version);
    assert.equal(status.dns.byRcode.NXDOMAIN, 2);
    assert.equal(status.cluster.bus, null);
    assert.deepEqual(Object.values(status.cluster.versions).map((v: any) => v.version), [ns.version!.version]);
  });
});

describe('GET /metrics on an edge: responses by cache status, origin latency, store sizes, purge lag', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let admin: AdminServer;
  let sub: Subscription;
  const bus = createMemoryBus();

  before(async () => {
    origin = await startOrigin();
    origin.route('/page', fixed(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }, 'x'.repeat(1000)));
    origin.route('/api', fixed(200, { 'cache-control': 'no-store' }, 'dynamic'));
    edge = await startEdge({ origin, pop: 'eu-test' });
    const stats = edge.context.stats;
    sub = await linkEdge(bus, { node: 'edge-eu-test', cursor: memoryCursor(), store: edge.context.store, onApplied: (lag) => stats.purgeLag.observe(lag) });
    admin = await startEdgeAdmin({
      listen: '127.0.0.1:0',
      token: TOKEN,
      edge: edge.context,
      self: { node: 'edge-eu-test', role: 'edge', version: 'abc123', loadedAt: Date.now() },
      cluster: { bus, node: 'edge-eu-test' },
      logger: discardingLogger('test'),
    });
  });
  after(async () => {
    await admin?.stop();
    await sub?.stop();
    await edge?.close();
    await origin?.close();
  });

  it('counts real requests by X-Cache-Status, observes origin latency and the store', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(edge, '/page')).headers['x-cache-status']);
    for (let i = 0; i < 2; i++) statuses.push((await get(edge, '/api')).headers['x-cache-status']);
    assert.deepEqual(statuses, ['MISS', 'HIT', 'HIT', 'MISS', 'MISS']);
    assert.equal((await get(edge, '/page', { headers: { host: 'other.example' } })).status, 421);

    assert.equal((await scrape(admin.url, null)).status, 401);
    const m = await scrape(admin.url);
    assert.equal(m.status, 200);
    const req = (s: string) => sample(m.samples, 'geocdn_edge_requests_total', { pop: 'eu-test', cache_status: s });
    assert.equal(req('HIT'), 2);
    assert.equal(req('MISS'), 3);
    assert.equal(req('STALE'), 0);
    assert.equal(req('NONE'), 1);
    assert.equal(sample(m.samples, 'geocdn_edge_origin_latency_seconds_count', { pop: 'eu-test' }), 3);
    assert.equal(sample(m.samples, 'geocdn_edge_origin_latency_seconds_bucket', { pop: 'eu-test', le: '+Inf' }), 3);
    assert.ok((sample(m.samples, 'geocdn_edge_origin_latency_seconds_sum', { pop: 'eu-test' }) ?? 0) > 0);
    assert.equal(sample(m.samples, 'geocdn_edge_store_entries', { pop: 'eu-test' }), 1);
    assert.ok((sample(m.samples, 'geocdn_edge_store_bytes', { pop: 'eu-test' }) ?? 0) >= 1000);
    assert.equal(sample(m.samples, 'geocdn_config_info', { node: 'edge-eu-test', role: 'edge', version: 'abc123' }), 1);
    assert.equal(sample(m.samples, 'geocdn_cluster_bus_connected', { kind: 'memory' }), 1);
    assert.ok(m.samples.some((s) => s.name === 'process_resident_memory_bytes'));
  });

  it('records purge lag when a purge is applied', async () => {
    const before = await scrape(admin.url);
    assert.equal(sample(before.samples, 'geocdn_purge_lag_seconds_count', { pop: 'eu-test' }), 0);
    // Issued 250 ms ago on the issuer's clock: the lag is at least that.
    const report = await issuePurge(bus, newPurge({ kind: 'url', urls: ['http://www.example.test/page'] }, false, Date.now() - 250), { timeoutMs: 2000 });
    assert.deepEqual(report.applied.map((a) => a.node), ['edge-eu-test']);
    const m = await scrape(admin.url);
    assert.equal(sample(m.samples, 'geocdn_purge_lag_seconds_count', { pop: 'eu-test' }), 1);
    assert.ok((sample(m.samples, 'geocdn_purge_lag_seconds_sum', { pop: 'eu-test' }) ?? 0) >= 0.25);
    assert.equal(sample(m.samples, 'geocdn_purge_lag_seconds_bucket', { pop: 'eu-test', le: '0.1' }), 0);
    assert.equal(sample(m.samples, 'geocdn_purge_lag_seconds_bucket', { pop: 'eu-test', le: '0.5' }), 1);
    assert.equal(sample(m.samples, 'geocdn_edge_store_entries', { pop: 'eu-test' }), 0);

    const status = (await (await fetch(`${admin.url}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Record<string, any>;
    assert.equal(status.role, 'edge');
    assert.equal(status.version, 'abc123');
    assert.equal(status.edges[0].store.entries, 0);
    assert.equal(status.edges[0].statuses.HIT, 2);
    assert.deepEqual(status.cluster.bus, { kind: 'memory', connected: true, queued: 0, node: 'edge-eu-test' });
  });
});

describe('GET /metrics on a nameserver that issues purges: each edge\'s ack latency', () => {
  it('observes one ack per edge after POST /v1/purge', async () => {
    const dir = tempDir('geocdn-metrics-purge-');
    writeFileSync(join(dir, 'example.test.zone'), exampleZone);
    writeFileSync(join(dir, 'geocdn.yaml'), `dns: { listen: ["127.0.0.1:0"], watch: false }\nzones:\n  - { origin: example.test, file: example.test.zone }\nadmin: { listen: "127.0.0.1:0", token: ${TOKEN} }\n`);
    const cluster: ClusterSetup = { bus: createMemoryBus(), node: 'ns-p', cursor: memoryCursor(), ackTimeoutMs: 2000 };
    const subs = await Promise.all(['edge-1', 'edge-2'].map((node) => linkEdge(cluster.bus, { node, cursor: memoryCursor(), store: createMemoryStore(1 << 20) })));
    const ns = await Nameserver.start(join(dir, 'geocdn.yaml'), discardingLogger('test'), undefined, undefined, { cluster });
    try {
      const res = await fetch(`${ns.admin!.url}/v1/purge`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{"all":true}' });
      assert.equal(res.status, 200);
      const m = await scrape(ns.admin!.url);
      assert.equal(sample(m.samples, 'geocdn_purge_ack_seconds_count', { edge: 'edge-1' }), 1);
      assert.equal(sample(m.samples, 'geocdn_purge_ack_seconds_count', { edge: 'edge-2' }), 1);
      assert.equal(sample(m.samples, 'geocdn_cluster_purges_queued'), 0);
    } finally {
      await ns.stop();
      for (const s of subs) await s.stop();
    }
  });
});
