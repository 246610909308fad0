#!/usr/bin/env node
// npm run bench:disk — how long an edge with a disk tier takes to rebuild its index at start.
// Writes N object files (default 100k, 1 KiB bodies, realistic headers) in the disk tier's own
// format into a temp folder, then times createDiskStore(...).ready over them: directory scan,
// one open/stat/read/close per file, header checks, SLRU index built in mtime order.
// Usage: node bench/disk-index.mjs [objects] [--keep DIR]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist/edge/cache/disk-store.js'))) {
  console.error('bench:disk: dist/ not found; run `npm run build` first (npm run bench:disk does).');
  process.exit(2);
}
const { createDiskStore } = await import(join(root, 'dist/edge/cache/disk-store.js'));
const { encodeHeader, objectName, sealHeader } = await import(join(root, 'dist/edge/cache/disk-format.js'));

const count = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'geocdn-bench-disk-'));
const policy = { lifetime: 3600, initialAge: 0, responseTime: Date.now(), staleWhileRevalidate: 60, staleIfError: 600, mustRevalidate: false, noGrace: false, noCache: false };
const body = Buffer.alloc(1024, 'x');
const bodyHash = createHash('sha256').update(body).digest();

let t = performance.now();
for (let i = 0; i < 256; i++) mkdirSync(join(dir, 'objects', i.toString(16).padStart(2, '0')), { recursive: true });
for (let i = 0; i < count; i++) {
  const primaryKey = `http://www.example.test/assets/${i}/app.js?v=${i % 7}`;
  const draft = {
    key: primaryKey,
    primaryKey,
    vary: [],
    status: 200,
    headers: [
      ['content-type', 'application/javascript'],
      ['cache-control', 'public, max-age=3600'],
      ['etag', `"${i.toString(16)}-abc"`],
      ['last-modified', 'Thu, 01 Jan 2026 00:00:00 GMT'],
      ['date', new Date().toUTCString()],
      ['surrogate-key', `asset a${i % 100}`],
    ],
    policy,
    etag: `"${i.toString(16)}-abc"`,
    lastModified: 'Thu, 01 Jan 2026 00:00:00 GMT',
  };
  const header = encodeHeader(draft);
  sealHeader(header, body.length, bodyHash);
  const name = objectName(primaryKey);
  writeFileSync(join(dir, 'objects', name.slice(0, 2), name), Buffer.concat([header, body]));
}
const writeMs = performance.now() - t;

global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
t = performance.now();
const store = createDiskStore({ dir, maxBytes: 16 * 1024 ** 3, maxObjectBytes: 1 << 30 });
const report = await store.ready;
const rebuildMs = performance.now() - t;
global.gc?.();
const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 ** 2;

console.log(`disk tier index rebuild: ${report.entries} objects (${(report.bytes / 1024 ** 2).toFixed(0)} MiB of files) in ${(rebuildMs / 1000).toFixed(2)} s` +
  ` (${Math.round(report.entries / (rebuildMs / 1000))} objects/s; index heap ≈ ${heapMb.toFixed(0)} MiB; files written in ${(writeMs / 1000).toFixed(1)} s; page cache warm)`);
await store.close();
if (process.argv[3] === '--keep') console.log(`kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
if (report.entries !== count) {
  console.error(`bench:disk: expected ${count} objects, the index has ${report.entries}`);
  process.exit(1);
}
