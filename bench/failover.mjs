#!/usr/bin/env node
// npm run bench:failover — time from killing an edge to the first DNS answer
// that avoids it, with the config's health interval and fall; the goal is
// ≤ interval × fall + 1 s. Two ways to die: the edge's port closes (probes
// are refused at once) and the edge hangs (probes wait for their timeout).
// Defaults: the config's defaults (health.interval_ms, fall, timeout_ms).
// Options: --interval-ms N --fall N --timeout-ms N --trials N
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const { Nameserver } = await dist('dns/nameserver.js');
const { createLogger } = await dist('core/log.js');
const { encodeQuery, decodeMessage } = await dist('dns/wire/message.js');

const { healthSectionSchema } = await dist('config/health-schema.js');
const defaults = healthSectionSchema.parse({});
const { values } = parseArgs({
  options: {
    'interval-ms': { type: 'string', default: String(defaults.interval_ms) },
    fall: { type: 'string', default: String(defaults.fall) },
    'timeout-ms': { type: 'string', default: String(defaults.timeout_ms) },
    trials: { type: 'string', default: '3' },
  },
});
const interval = Number(values['interval-ms']);
const fall = Number(values.fall);
const timeout = Number(values['timeout-ms']);
const trials = Number(values.trials);
const HEALTH = '/.well-known/geocdn/health';

/** An edge that answers its health path; `hang` makes it accept and never answer. */
async function startEdge(port = 0) {
  const edge = { hang: false, server: undefined, port };
  const server = createServer((req, res) => {
    if (edge.hang) return;
    const body = JSON.stringify({ status: 'ok', in_flight: 0, requests_per_second: 10, bytes_per_second: 1000, origins: [] });
    res.writeHead(req.url === HEALTH ? 200 : 404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  edge.server = server;
  edge.port = server.address().port;
  return edge;
}
async function killEdge(edge) {
  edge.server.closeAllConnections();
  await new Promise((r) => edge.server.close(r));
}

const dir = mkdtempSync(join(tmpdir(), 'geocdn-bench-failover-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, 'bench.zone'),
  `$ORIGIN bench.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 900 1209600 300\n  IN NS ns1\nns1 IN A 127.0.0.1\n`,
);
const edgeA = await startEdge();
const edgeB = await startEdge();
writeFileSync(
  join(dir, 'geocdn.yaml'),
  `dns: { listen: ["127.0.0.1:0"], watch: false }
zones: [{ origin: bench.test, file: bench.zone }]
pops:
  a: { addresses: [192.0.2.1], location: [45.46, 9.19], edge: "http://127.0.0.1:${edgeA.port}" }
  b: { addresses: [192.0.2.2], location: [50.11, 8.68], edge: "http://127.0.0.1:${edgeB.port}" }
services:
  cdn.bench.test: { ttl: 30, route: { default: [a, b] } }
health: { interval_ms: ${interval}, timeout_ms: ${timeout}, fall: ${fall}, rise: 1 }
admin: { listen: false }
`,
);
const ns = await Nameserver.start(join(dir, 'geocdn.yaml'), createLogger('bench', 'silent'), undefined, ['127.0.0.1:0']);
const port = ns.server.bound.udp[0].port;
const socket = createSocket('udp4');
const packet = encodeQuery('cdn.bench.test', 1);

function answer() {
  return new Promise((resolveAnswer) => {
    const timer = setTimeout(() => done(undefined), 500);
    const done = (v) => {
      clearTimeout(timer);
      socket.off('message', on);
      resolveAnswer(v);
    };
    const on = (msg) => {
      const m = decodeMessage(msg);
      const a = m.answers.find((r) => r.type === 1);
      done(a ? [...a.data.bytes].join('.') : 'none');
    };
    socket.on('message', on);
    socket.send(packet, port, '127.0.0.1');
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(ip, limitMs) {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    if ((await answer()) === ip) return performance.now() - t0;
    await sleep(5);
  }
  return Infinity;
}

if ((await waitFor('192.0.2.1', 5000)) === Infinity) throw new Error('POP a never answered at start');
const goal = interval * fall + 1000;
const rows = [];
let edge = edgeA;
for (const mode of ['refused', 'hung']) {
  for (let i = 0; i < trials; i++) {
    // Kill at a random phase of the probe cycle.
    await sleep(Math.random() * interval);
    const t0 = performance.now();
    if (mode === 'refused') await killEdge(edge);
    else edge.hang = true;
    const avoided = await waitFor('192.0.2.2', goal * 3);
    const ms = avoided === Infinity ? Infinity : performance.now() - t0;
    rows.push({ mode, trial: i + 1, ms });
    console.log(`${mode.padEnd(8)} trial ${i + 1}: ${ms === Infinity ? 'never' : `${(ms / 1000).toFixed(3)} s`}`);
    if (mode === 'refused') edge = await startEdge(edge.port);
    else {
      await killEdge(edge);
      edge = await startEdge(edge.port);
    }
    if ((await waitFor('192.0.2.1', interval * 4 + timeout)) === Infinity) throw new Error('POP a did not come back');
  }
}
socket.close();
await ns.stop();
await killEdge(edge);
await killEdge(edgeB);

const worst = Math.max(...rows.map((r) => r.ms));
console.log(
  `\nfailover: interval ${interval} ms × fall ${fall} (timeout ${timeout} ms): worst ${(worst / 1000).toFixed(3)} s, ` +
    `mean ${(rows.reduce((s, r) => s + r.ms, 0) / rows.length / 1000).toFixed(3)} s; goal ≤ ${(goal / 1000).toFixed(3)} s: ${worst <= goal ? 'met' : 'MISSED'}`,
);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(
  join(root, 'bench/results/failover.tsv'),
  ['mode\ttrial\tms\tinterval_ms\tfall\ttimeout_ms', ...rows.map((r) => `${r.mode}\t${r.trial}\t${Math.round(r.ms)}\t${interval}\t${fall}\t${timeout}`)].join('\n') + '\n',
);
process.exit(worst <= goal ? 0 : 1);
