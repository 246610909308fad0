import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { objectName } from '../src/edge/cache/disk-format.js';
import { type DiskStore, createDiskStore } from '../src/edge/cache/disk-store.js';
import { createMemoryStore } from '../src/edge/cache/memory-store.js';
import type { CacheStore, StoredObject } from '../src/edge/cache/store.js';
import { createTieredStore } from '../src/edge/cache/tiered-store.js';
import { draft, storeConformance, storeConformanceMore } from './helpers/edge-store-suite.js';
import { until } from './helpers/edge-harness.js';
import { tempDir } from './helpers/tmp.js';

const base = tempDir('geocdn-disk-store-');
const stores: { close(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
});

let n = 0;
function freshDir(): string {
  return join(base, `s${n++}`);
}

async function disk(maxBytes: number, maxObjectBytes: number, dir = freshDir(), readWholeMax?: number): Promise<DiskStore> {
  const s = createDiskStore({ dir, maxBytes, maxObjectBytes, readWholeMax });
  stores.push(s);
  await s.ready;
  return s;
}

async function tiered(maxBytes: number, maxObjectBytes: number, dir = freshDir(), memoryObjectMax = maxObjectBytes): Promise<CacheStore & { close(): Promise<void> }> {
  const s = createTieredStore(createMemoryStore(maxBytes, memoryObjectMax), { dir, maxBytes, maxObjectBytes, readWholeMax: memoryObjectMax });
  stores.push(s);
  await s.disk.ready;
  return s;
}

async function put(store: CacheStore, key: string, body: Buffer | string): Promise<StoredObject | undefined> {
  const w = store.open(draft(key), undefined)!;
  const b = Buffer.from(body);
  for (let i = 0; i < b.length; i += 1000) w.write(b.subarray(i, i + 1000));
  return w.commit();
}

async function readAll(o: Pick<StoredObject, 'stream'>, start?: number, end?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of o.stream(start, end)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function fileOf(dir: string, key: string): string {
  const name = objectName(key);
  return join(dir, 'objects', name.slice(0, 2), name);
}

describe('edge store conformance: disk tier', () => {
  storeConformance((maxBytes, maxObjectBytes) => disk(maxBytes, maxObjectBytes));
  storeConformanceMore((maxBytes, maxObjectBytes) => disk(maxBytes, maxObjectBytes));
});

describe('edge store conformance: memory + disk (tiered)', () => {
  storeConformance((maxBytes, maxObjectBytes) => tiered(maxBytes, maxObjectBytes));
  storeConformanceMore((maxBytes, maxObjectBytes) => tiered(maxBytes, maxObjectBytes));
});

describe('disk tier', () => {
  it('a new store on the same folder finds every object again, metadata and body', async () => {
    const dir = freshDir();
    const a = await disk(1 << 20, 1 << 20, dir);
    await put(a, 'k1', 'one');
    await put(a, 'k2', 'two'.repeat(1000));
    await a.close();
    const b = await disk(1 << 20, 1 << 20, dir);
    assert.equal(b.stats().entries, 2);
    assert.deepEqual((await b.variants('k1'))!.keys, new Set(['k1']));
    assert.equal((await readAll((await b.get('k2'))!)).toString(), 'two'.repeat(1000));
  });

  it('a purge while a body is still being written cancels the write: the object never lands, not even after a restart', async () => {
    const dir = freshDir();
    const a = await disk(1 << 20, 1 << 20, dir);
    const byUrl = a.open(draft('url-a'), undefined)!;
    const byKey = a.open(draft('url-b', '\naccept:x', ['accept']), undefined)!;
    byUrl.write(Buffer.from('old body'));
    byKey.write(Buffer.from('old variant'));
    assert.equal(await a.deleteUrl('url-a'), 1);
    assert.equal(await a.delete('url-b\naccept:x'), true);
    assert.equal(await byUrl.commit(), undefined);
    assert.equal(await byKey.commit(), undefined);
    assert.equal(await a.get('url-a'), undefined);
    assert.equal(await a.get('url-b\naccept:x'), undefined);
    await a.close();
    const b = await disk(1 << 20, 1 << 20, dir);
    assert.equal(b.stats().entries, 0);
  });

  it('a small body read again soon comes from one synchronous read, never from a file changed since it was checked', async () => {
    const dir = freshDir();
    const s = await disk(1 << 20, 1 << 20, dir, 16);
    const body = 'x'.repeat(1000);
    await put(s, 'k', body);
    const first = (await s.get('k'))!;
    assert.equal(first.body, undefined, 'the first read streams from the file');
    assert.equal((await readAll(first)).toString(), body);
    const second = (await s.get('k'))!;
    assert.equal(second.body?.toString(), body, 'read again soon: the whole body at once');

    const file = fileOf(dir, 'k');
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from('!')]));
    const third = await s.get('k');
    assert.equal(third?.body, undefined, 'a changed file is not read synchronously');
    if (third) await assert.rejects(readAll(third));
    assert.equal(await s.get('k'), undefined, 'and the changed file is dropped');
  });

  it('cleans half-written temp files and invalid object files at start', async () => {
    const dir = freshDir();
    const a = await disk(1 << 20, 1 << 20, dir);
    await put(a, 'good', 'fine');
    const w = a.open(draft('half'), undefined)!;
    w.write(Buffer.from('never committed'));
    await a.close(); // a kill -9 would leave this writer's temp file behind
    assert.equal(readdirSync(join(dir, 'tmp')).length, 1);
    const bogus = fileOf(dir, 'bogus');
    writeFileSync(bogus, 'not an object');
    const truncated = fileOf(dir, 'good');
    const b = await disk(1 << 20, 1 << 20, dir);
    const report = await b.ready;
    assert.equal(report.tempRemoved, 1);
    assert.equal(report.dropped, 1);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
    assert.equal((await readAll((await b.get('good'))!)).toString(), 'fine');
    await b.close();
    writeFileSync(truncated, readFileSync(truncated).subarray(0, -1));
    const c = await disk(1 << 20, 1 << 20, dir);
    assert.equal((await c.ready).dropped, 1);
    assert.equal(await c.get('good'), undefined);
  });

  it('a body that no longer matches its hash is dropped on read, never served', async () => {
    const dir = freshDir();
    const a = await disk(1 << 20, 1 << 20, dir, 100);
    await put(a, 'small', 'x'.repeat(50));
    await put(a, 'large', Buffer.alloc(5000, 7));
    await a.close();
    for (const key of ['small', 'large']) {
      const f = readFileSync(fileOf(dir, key));
      f[f.length - 1] ^= 0xff;
      writeFileSync(fileOf(dir, key), f);
    }
    const b = await disk(1 << 20, 1 << 20, dir, 100);
    assert.equal(b.stats().entries, 2, 'same lengths: the headers still look fine');
    assert.equal(await b.get('small'), undefined);
    assert.equal(await b.get('large'), undefined);
    assert.equal(b.stats().entries, 0);
    assert.equal(b.diskStats().corruptDropped, 2);
  });

  it('streams large bodies from the file, whole and by range', async () => {
    const s = await disk(1 << 22, 1 << 22, freshDir(), 1000);
    const body = Buffer.from(Array.from({ length: 600_000 }, (_, i) => i % 251));
    await put(s, 'big', body);
    const o = (await s.get('big'))!;
    assert.equal(o.body, undefined);
    assert.ok((await readAll(o)).equals(body));
    assert.ok((await readAll(o, 299_999, 300_010)).equals(body.subarray(299_999, 300_011)));
  });

  it('openBody: a file opened before a purge is read whole after it; after the purge there is nothing to open; no descriptor outlives its streams', async () => {
    const s = await disk(1 << 22, 1 << 22, freshDir(), 1000);
    const body = Buffer.from(Array.from({ length: 1_500_000 }, (_, i) => i % 253));
    await put(s, 'big', body);
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    const o = (await s.get('big'))!;
    const opened = (await o.openBody!())!;
    assert.ok(opened, 'opened while stored');
    assert.equal(await s.delete('big'), true, 'purged: the file is unlinked');
    const whole = readAll(opened);
    const part = readAll(opened, 1000, 1999);
    const cut = opened.stream();
    opened.release();
    assert.ok((await whole).equals(body), 'the whole body from the unlinked file');
    assert.ok((await part).equals(body.subarray(1000, 2000)));
    await new Promise<void>((resolve) => cut.once('readable', () => resolve()));
    cut.destroy(); // mid-body: the descriptor waits for a read under way, then closes
    await until(() => fds() === before, 'every descriptor closed');
    assert.equal(await o.openBody!(), undefined, 'purged before the open: nothing to open, the caller serves a miss');
    assert.equal(fds(), before);
  });

  it('a body being written is readable before the commit, after it and after a purge, until its last reader lets go; a writer far ahead of the disk asks to wait', async () => {
    const s = await disk(1 << 26, 1 << 25, freshDir());
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    const w = s.open(draft('growing'), undefined)!;
    const file = w.growing!;
    assert.ok(file.retain());
    const piece = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < 9; i++) w.write(piece);
    const behind = w.drained!();
    assert.ok(behind, '9 MiB not yet written: the caller is asked to wait');
    await behind;
    assert.ok(file.available >= 4 << 20, 'waited until the disk caught up');
    w.write(Buffer.from('tail'));
    while (file.available < 9 * (1 << 20) + 4) await file.changed();
    const tail = Buffer.alloc(4);
    assert.equal(await file.read(tail, 9 * (1 << 20)), 4);
    assert.equal(tail.toString(), 'tail', 'read back before the commit');
    assert.ok(await w.commit());
    assert.equal(await s.delete('growing'), true);
    const first = Buffer.alloc(3);
    assert.equal(await file.read(first, 0), 3, 'committed, then purged: still readable through the shared handle');
    assert.deepEqual([...first], [7, 7, 7]);
    file.release();
    await until(() => fds() === before, 'the handle closed with its last reader');
    assert.equal(file.retain(), false, 'closed: no new reader');
  });

  it('a 304 rewrites the metadata in place, or copies the body when it outgrows the header', async () => {
    const dir = freshDir();
    const s = await disk(1 << 20, 1 << 20, dir);
    const o = (await put(s, 'u', 'payload'))!;
    await s.update({ ...o.meta, status: 203 });
    await s.update({ ...o.meta, headers: [['x-long', 'y'.repeat(3000)]] });
    await s.close();
    const again = await disk(1 << 20, 1 << 20, dir);
    const g = (await again.get('u'))!;
    assert.equal(g.meta.headers[0]![1].length, 3000);
    assert.equal((await readAll(g)).toString(), 'payload');
  });

  it('tiered: objects above the memory limit live on disk only and stream from there', async () => {
    const s = await tiered(1 << 22, 1 << 22, freshDir(), 1000);
    await put(s, 'small', 'tiny');
    await put(s, 'big', Buffer.alloc(10_000, 1));
    const small = (await s.get('small'))!;
    assert.ok(small.body, 'from memory');
    const big = (await s.get('big'))!;
    assert.equal(big.body, undefined);
    assert.equal((await readAll(big)).length, 10_000);
  });

  it('tiered: after a restart, disk hits are copied up to memory', async () => {
    const dir = freshDir();
    const a = await tiered(1 << 20, 1 << 20, dir);
    await put(a, 'k', 'warm');
    await a.close();
    const b = await tiered(1 << 20, 1 << 20, dir);
    const first = b.get('k');
    assert.ok(first instanceof Promise, 'first read goes to disk');
    assert.equal((await first)!.body!.toString(), 'warm');
    const second = b.get('k');
    assert.ok(!(second instanceof Promise), 'then memory answers at once');
  });
});
