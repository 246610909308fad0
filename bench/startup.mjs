#!/usr/bin/env node
// npm run bench:startup — how long the nameserver's big loads take: a 100k-record
// zone parsed and checked, and the embedded GeoIP databases opened (city, then city + ASN).
// Uses the compiled dist/ (npm run build). Prints a small table; also writes bench/results/startup.tsv.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Name } from '../dist/dns/wire/name.js';
import { parseZoneText } from '../dist/dns/zone/parser.js';
import { GeoLocator } from '../dist/geo/locator.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rows = [];
function measure(what, fn) {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  return Promise.resolve(fn()).then((r) => {
    const ms = performance.now() - t0;
    const mib = (process.memoryUsage().rss - rss0) / 1048576;
    rows.push([what, ms.toFixed(0), mib.toFixed(0)]);
    console.log(`${what.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  +${mib.toFixed(0)} MiB RSS`);
    return r;
  });
}

const lines = ['$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 60\n NS ns1\nns1 A 192.0.2.1\n'];
for (let i = 0; i < 100_000; i++) lines.push(`host${i} 300 IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`);
const text = lines.join('');
await measure('zone: 100k A records parsed', () => parseZoneText(text, 'bench.zone', Name.fromText('bench.test.')));
await measure('GeoIP: embedded city DB opened', () => GeoLocator.open({ city: 'default', asn: 'none' }));
await measure('GeoIP: embedded city DB + ASN CSV opened', () => GeoLocator.open({ city: 'default', asn: 'default' }));

mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/startup.tsv'), `what\tms\trss_mib\n${rows.map((r) => r.join('\t')).join('\n')}\n`);
