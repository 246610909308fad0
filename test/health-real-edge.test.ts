import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RRType } from '../src/dns/wire/constants.js';
import type { ClientSubnet } from '../src/dns/wire/edns.js';
import { rdataToText } from '../src/dns/wire/rdata.js';
import { createEdgeServer, type EdgeServer } from '../src/edge/server.js';
import { query } from './helpers/dns.js';
import { startHealthNameserver } from './helpers/health-ns.js';
import { startOrigin } from './helpers/edge-harness.js';
import { writeGeoFixtures } from './helpers/geo-fixtures.js';
import { parseConfigText } from '../src/config/load.js';
import { discardingLogger } from './helpers/log.js';

/** The real geocdn edge, stopped and started under a nameserver probing it (fake clock). */
test('a real edge that stops is out of the answers after fall probes, and back after rise', async () => {
  const origin = await startOrigin();
  const fx = writeGeoFixtures();
  const edgeConfig = (port: number) =>
    parseConfigText(`edge:\n  listen: "127.0.0.1:${port}"\nsites:\n  cdn.example.test: { origin: "${origin.url}" }\n`, '/tmp/edge.yaml').config;
  const log = discardingLogger('test');
  let edge: EdgeServer = createEdgeServer({ config: edgeConfig(0), log });
  const { port: edgePort } = await edge.listen();
  const ns = await startHealthNameserver(`dns: { listen: ["127.0.0.1:0"], watch: false }
zones: [{ origin: example.test, file: example.test.zone }]
geoip: { city: ${JSON.stringify(fx.geoip2)}, asn: none }
pops:
  us-nyc: { addresses: [198.51.100.10], location: [40.71, -74.0], edge: "http://127.0.0.1:${edgePort}" }
  eu-fra: { addresses: [203.0.113.20], location: [50.11, 8.68] }
services:
  cdn.example.test: { ttl: 30, route: { map: { US: [us-nyc, eu-fra] }, default: [eu-fra] } }
health: { interval_ms: 1000, timeout_ms: 500, fall: 2, rise: 2, failover_ttl: 5 }
admin: { listen: false }
`);
  const us: ClientSubnet = { family: 1, sourcePrefix: 24, scopePrefix: 0, address: Uint8Array.from([8, 8, 8]) };
  const answer = async () => {
    const m = await query(ns.port, 'cdn.example.test', RRType.A, { edns: { ecs: us } });
    return `${rdataToText(RRType.A, m.answers[0].data)} ttl ${m.answers[0].ttl}`;
  };
  try {
    assert.equal(await answer(), '198.51.100.10 ttl 30');
    await edge.close();
    await ns.tick(1000);
    assert.equal(await answer(), '198.51.100.10 ttl 30', 'one failed probe is not enough (fall 2)');
    await ns.tick(1000);
    assert.equal(await answer(), '203.0.113.20 ttl 5', 'after fall probes: the next POP, with the failover TTL');
    edge = createEdgeServer({ config: edgeConfig(edgePort), log });
    await edge.listen();
    await ns.tick(1000);
    assert.equal(await answer(), '203.0.113.20 ttl 5', 'one good probe is not enough (rise 2)');
    await ns.tick(1000);
    assert.equal(await answer(), '198.51.100.10 ttl 30');
  } finally {
    await ns.stop();
    await edge.close();
    await origin.close();
  }
});
