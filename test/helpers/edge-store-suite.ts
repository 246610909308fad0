import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { CachePolicy } from '../../src/edge/cache/freshness.js';
import type { CacheStore, EntryDraft, StoredObject } from '../../src/edge/cache/store.js';

const policy: CachePolicy = { lifetime: 60, initialAge: 0, responseTime: 0, staleWhileRevalidate: 0, staleIfError: 0, mustRevalidate: false, noGrace: false, noCache: false };

export function draft(primaryKey: string, secondary = '', vary: string[] = []): EntryDraft {
  return { key: primaryKey + secondary, primaryKey, vary, status: 200, headers: [['content-type', 'text/plain']], policy, etag: undefined, lastModified: undefined };
}

export async function put(store: CacheStore, d: EntryDraft, body: string): Promise<StoredObject | undefined> {
  const w = store.open(d, undefined);
  assert.ok(w, 'store accepts the object');
  for (const part of body.match(/.{1,3}/gs) ?? []) w.write(Buffer.from(part));
  return w.commit();
}

async function readAll(o: StoredObject, start?: number, end?: number): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of o.stream(start, end)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/**
 * The behaviour every cache tier must have. `make(maxBytes, maxObjectBytes)` builds a fresh, empty store
 * (resolved once it is ready). Memory, disk and tiered (memory + disk) stores all run it.
 */
export function storeConformance(makeStore: (maxBytes: number, maxObjectBytes: number) => CacheStore | Promise<CacheStore>): void {
  const make = (maxBytes: number, maxObjectBytes: number): Promise<CacheStore> => Promise.resolve(makeStore(maxBytes, maxObjectBytes));

  it('an object is invisible until commit, and whole after it', async () => {
    const s = await make(1 << 20, 1 << 20);
    const w = s.open(draft('k1'), 11)!;
    w.write(Buffer.from('hello '));
    assert.equal(await s.get('k1'), undefined);
    w.write(Buffer.from('world'));
    await w.commit();
    const o = (await s.get('k1'))!;
    assert.equal(o.meta.bodySize, 11);
    assert.equal(await readAll(o), 'hello world');
    assert.equal(await readAll(o, 6, 10), 'world');
    assert.equal(await readAll(o, 0, 0), 'h');
  });

  it('an aborted write leaves nothing', async () => {
    const s = await make(1 << 20, 1 << 20);
    const w = s.open(draft('k2'), undefined)!;
    w.write(Buffer.from('partial'));
    w.abort();
    assert.equal(await s.get('k2'), undefined);
    assert.equal(await s.variants('k2'), undefined);
  });

  it('refuses objects above the object limit, by expected size or while writing', async () => {
    const s = await make(1 << 20, 10);
    assert.equal(s.open(draft('big'), 11), undefined);
    const w = s.open(draft('big'), undefined)!;
    w.write(Buffer.alloc(11));
    assert.equal(await w.commit(), undefined);
    assert.equal(await s.get('big'), undefined);
  });

  it('keeps a per-URL variant index; deleteUrl removes every variant', async () => {
    const s = await make(1 << 20, 1 << 20);
    await put(s, draft('u', '\naccept-language:en', ['accept-language']), 'en');
    await put(s, draft('u', '\naccept-language:de', ['accept-language']), 'de');
    const v = (await s.variants('u'))!;
    assert.deepEqual(v.vary, ['accept-language']);
    assert.equal(v.keys.size, 2);
    assert.equal(await s.deleteUrl('u'), 2);
    assert.equal(await s.variants('u'), undefined);
    assert.equal(await s.get('u\naccept-language:en'), undefined);
  });

  it('a new Vary for a URL drops the variants keyed the old way', async () => {
    const s = await make(1 << 20, 1 << 20);
    await put(s, draft('w', '\naccept-language:en', ['accept-language']), 'en');
    await put(s, draft('w', '\naccept-encoding:br', ['accept-encoding']), 'br');
    assert.equal(await s.get('w\naccept-language:en'), undefined);
    assert.deepEqual((await s.variants('w'))!.vary, ['accept-encoding']);
  });

  it('evicts the least recently used objects to stay within its byte budget', async () => {
    // Three objects fit, four do not, whether a tier counts about 2 KiB per entry (memory) or a file header (disk).
    const s = await make(100_000, 40_000);
    const body = 'x'.repeat(30_000);
    await put(s, draft('a'), body);
    await put(s, draft('b'), body);
    await put(s, draft('c'), body);
    await s.get('a'); // a is now the most recently used
    await put(s, draft('d'), body);
    assert.ok(s.stats().bytes <= 100_000);
    assert.ok(await s.get('a'), 'a was used recently and stays');
    assert.equal(await s.get('b'), undefined, 'b was the least recently used');
    assert.ok(await s.get('d'));
  });

  it('update replaces the metadata and keeps the body; delete frees the bytes', async () => {
    const s = await make(1 << 20, 1 << 20);
    const o = (await put(s, draft('m'), 'body'))!;
    const updated = (await s.update({ ...o.meta, status: 203, headers: [['x-new', '1']] }))!;
    assert.equal(updated.meta.status, 203);
    assert.equal(await readAll((await s.get('m'))!), 'body');
    assert.equal(await s.delete('m'), true);
    assert.equal(s.stats().entries, 0);
    assert.equal(s.stats().bytes, 0);
    assert.equal(await s.update({ ...o.meta }), undefined);
  });
}

/** More of the same contract: listings, variants and deletes. */
export function storeConformanceMore(makeStore: (maxBytes: number, maxObjectBytes: number) => CacheStore | Promise<CacheStore>): void {
  const make = (maxBytes: number, maxObjectBytes: number): Promise<CacheStore> => Promise.resolve(makeStore(maxBytes, maxObjectBytes));

  it('metas lists every stored object; delete and update of unknown keys do nothing', async () => {
    const s = await make(1 << 20, 1 << 20);
    await put(s, draft('p1'), 'one');
    await put(s, draft('p2'), 'two');
    assert.deepEqual((await s.metas()).map((m) => m.key).sort(), ['p1', 'p2']);
    assert.equal((await s.metas()).find((m) => m.key === 'p2')!.bodySize, 3);
    assert.equal(await s.delete('nope'), false);
    assert.equal(await s.deleteUrl('nope'), 0);
    assert.equal(await s.update({ ...draft('nope'), bodySize: 0 }), undefined);
  });

  it('a second write of a key replaces the first; an empty body is an object too', async () => {
    const s = await make(1 << 20, 1 << 20);
    await put(s, draft('r'), 'first');
    await put(s, draft('r'), 'second!');
    const o = (await s.get('r'))!;
    assert.equal(await readAll(o), 'second!');
    assert.equal(s.stats().entries, 1);
    const w = s.open(draft('e'), 0)!;
    await w.commit();
    const e = (await s.get('e'))!;
    assert.equal(e.meta.bodySize, 0);
    assert.equal(await readAll(e), '');
  });

  it('stored metadata comes back as it went in', async () => {
    const s = await make(1 << 20, 1 << 20);
    const d = { ...draft('h', '\naccept-encoding:gzip', ['accept-encoding']), status: 404, etag: '"v1"', lastModified: 'Thu, 01 Jan 2026 00:00:00 GMT', headers: [['content-type', 'text/html'], ['x-a', 'ü']] as [string, string][] };
    await put(s, d, 'not found');
    const o = (await s.get('h\naccept-encoding:gzip'))!;
    assert.deepEqual({ ...o.meta }, { ...d, bodySize: 9 });
  });
}
