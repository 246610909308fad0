import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { objectName } from '../src/edge/cache/disk-format.js';
import { type TestEdge, type TestOrigin, fillsSettled, fixed, get, raw, startEdge, startOrigin } from './helpers/edge-harness.js';
import { tempDir } from './helpers/tmp.js';

const work = tempDir('geocdn-disk-http-');
let origin: TestOrigin;
const big = Buffer.from(Array.from({ length: 1_500_000 }, (_, i) => (i * 7) % 256));
/** Above the memory tier's 64 KiB object limit: kept on disk only, small enough to be read in one go. */
const medium = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 13) % 251));

before(async () => {
  origin = await startOrigin();
  origin.route('/small', fixed(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain', 'content-length': '14' }, 'small and warm'));
  origin.route('/medium', fixed(200, { 'cache-control': 'max-age=600', 'content-type': 'application/octet-stream' }, medium));
  origin.route('/big', fixed(200, { 'cache-control': 'max-age=600', 'content-type': 'application/octet-stream' }, big));
});
after(() => origin.close());

let n = 0;
/** An edge with a small memory tier (64 KiB objects) over a disk folder. */
function diskEdge(dir: string): Promise<TestEdge> {
  return startEdge({ origin, edge: { memory_size: '8MiB', max_object_size: '64KiB', disk: { path: dir, size: '64MiB', max_object_size: '16MiB' } } });
}

function objectFile(dir: string, path: string): string {
  const name = objectName(`http://www.example.test${path}`);
  return join(dir, 'objects', name.slice(0, 2), name);
}

describe('edge with a disk tier', () => {
  it('after a restart on the same folder, cached objects are HITs without asking the origin', async () => {
    const dir = join(work, `d${n++}`);
    const before = { small: origin.count('/small'), big: origin.count('/big') };
    const a = await diskEdge(dir);
    assert.equal((await get(a, '/small')).headers['x-cache-status'], 'MISS');
    assert.equal((await get(a, '/big')).headers['x-cache-status'], 'MISS');
    const bigHit = await get(a, '/big');
    assert.equal(bigHit.headers['x-cache-status'], 'HIT', 'above the memory object limit: a disk HIT');
    assert.ok(bigHit.body.equals(big));
    await a.close();

    const b = await diskEdge(dir);
    try {
      const small = await get(b, '/small');
      const large = await get(b, '/big');
      assert.equal(small.headers['x-cache-status'], 'HIT');
      assert.equal(small.text, 'small and warm');
      assert.equal(large.headers['x-cache-status'], 'HIT');
      assert.equal(large.headers['content-length'], String(big.length));
      assert.ok(large.body.equals(big));
      assert.equal(origin.count('/small'), before.small + 1);
      assert.equal(origin.count('/big'), before.big + 1);
      const health = JSON.parse((await get(b, '/.well-known/geocdn/health')).text);
      assert.equal(health.cache.disk.state, 'ok');
      assert.equal(health.cache.disk.entries, 2);
    } finally {
      await b.close();
    }
  });

  it('a corrupt object file is dropped on read and fetched again: the client gets the right body', async () => {
    const dir = join(work, `d${n++}`);
    const a = await diskEdge(dir);
    await get(a, '/small');
    await get(a, '/big');
    await a.close();
    for (const path of ['/small', '/big']) {
      const f = readFileSync(objectFile(dir, path));
      f[f.length - 2] ^= 0x55; // a body byte, same length: only the body hash can tell
      writeFileSync(objectFile(dir, path), f);
    }
    const before = { small: origin.count('/small'), big: origin.count('/big') };
    const b = await diskEdge(dir);
    try {
      const small = await get(b, '/small');
      assert.equal(small.headers['x-cache-status'], 'MISS');
      assert.equal(small.text, 'small and warm');
      const large = await get(b, '/big');
      assert.equal(large.headers['x-cache-status'], 'MISS');
      assert.ok(large.body.equals(big));
      assert.equal(origin.count('/small'), before.small + 1);
      assert.equal(origin.count('/big'), before.big + 1);
      assert.equal((await get(b, '/big')).headers['x-cache-status'], 'HIT');
      const health = JSON.parse((await get(b, '/.well-known/geocdn/health')).text);
      assert.equal(health.cache.disk.corrupt_dropped, 2);
    } finally {
      await b.close();
    }
  });

  it('a purge reaches the disk: a purged object does not come back after a restart', async () => {
    const dir = join(work, `d${n++}`);
    const a = await diskEdge(dir);
    await get(a, '/small');
    assert.equal(await a.context.store.deleteUrl('http://www.example.test/small'), 1);
    await a.close();
    const b = await diskEdge(dir);
    try {
      assert.equal((await get(b, '/small')).headers['x-cache-status'], 'MISS');
    } finally {
      await b.close();
    }
  });

  /**
   * Purges `path` in the middle of a disk-only HIT: right after the lookup found it (before
   * its file is opened), or right after its file was opened (before a byte of it is sent).
   */
  function purgeDuringHit(edge: TestEdge, path: string, when: 'after-lookup' | 'after-open'): { fired(): boolean } {
    const store = edge.context.store;
    const lookup = store.get.bind(store);
    const url = `http://www.example.test${path}`;
    let fired = false;
    store.get = (key) => {
      const got = lookup(key);
      if (fired || !key.startsWith(url)) return got;
      return Promise.resolve(got).then(async (obj) => {
        if (!obj || obj.body !== undefined) return obj;
        fired = true;
        if (when === 'after-lookup') {
          await store.deleteUrl(url);
          return obj;
        }
        const open = obj.openBody;
        assert.ok(open, 'a disk-only object can open its file before the head is sent');
        return Object.assign(Object.create(obj) as typeof obj, {
          openBody: async () => {
            const body = await open.call(obj);
            await store.deleteUrl(url);
            return body;
          },
        });
      });
    };
    return { fired: () => fired };
  }

  it('a purge between the lookup and the open of a disk-only object: the client gets the whole body from the origin, never a cut one', async () => {
    const dir = join(work, `d${n++}`);
    const e = await diskEdge(dir);
    try {
      for (const range of [undefined, 'bytes=100000-1099999']) {
        await get(e, '/big');
        await fillsSettled(e);
        assert.equal((await get(e, '/big')).headers['x-cache-status'], 'HIT', 'a disk HIT before the purge');
        const hook = purgeDuringHit(e, '/big', 'after-lookup');
        const fetched = origin.count('/big');
        const r = await get(e, '/big', { agent: false, headers: range ? { range } : {} }).catch((err: Error) => assert.fail(`response cut: ${err.message}`));
        assert.ok(hook.fired(), 'the purge ran between lookup and open');
        assert.equal(r.headers['x-cache-status'], 'MISS', 'the object left the cache: fetched like any miss');
        if (range) {
          assert.equal(r.status, 206);
          assert.ok(r.body.equals(big.subarray(100_000, 1_100_000)), 'the whole range, right bytes');
        } else {
          assert.equal(r.status, 200);
          assert.ok(r.body.equals(big), 'the whole body, right bytes');
        }
        assert.equal(origin.count('/big'), fetched + 1);
      }
    } finally {
      await e.close();
    }
  });

  it('a purge after the file of a disk-only HIT was opened: the HIT is sent whole from the open file; the next request is a MISS', async () => {
    const dir = join(work, `d${n++}`);
    const e = await diskEdge(dir);
    try {
      await get(e, '/big');
      await fillsSettled(e);
      const hook = purgeDuringHit(e, '/big', 'after-open');
      const r = await get(e, '/big', { agent: false }).catch((err: Error) => assert.fail(`response cut: ${err.message}`));
      assert.ok(hook.fired());
      assert.equal(r.headers['x-cache-status'], 'HIT');
      assert.ok(r.body.equals(big), 'the whole body, right bytes');
      assert.throws(() => readFileSync(objectFile(dir, '/big')), /ENOENT/, 'the purge unlinked the file');
      assert.equal((await get(e, '/big')).headers['x-cache-status'], 'MISS');
    } finally {
      await e.close();
    }
  });

  it('a disk-only object read again soon is answered at once from its file, and a file changed meanwhile is still caught', async () => {
    const dir = join(work, `d${n++}`);
    const e = await diskEdge(dir);
    try {
      assert.equal((await get(e, '/medium')).headers['x-cache-status'], 'MISS');
      await fillsSettled(e);
      const first = await get(e, '/medium');
      assert.equal(first.headers['x-cache-status'], 'HIT');
      assert.ok(first.body.equals(medium));
      // Read a moment ago: the next lookup has the object at once, with its body, as the raw fast path needs.
      const again = e.context.store.get('http://www.example.test/medium');
      assert.ok(again !== undefined && !(again instanceof Promise), 'a recently read disk object is looked up synchronously');
      assert.ok(again.body?.equals(medium));
      const pipelined = await raw(e.port, 'GET /medium HTTP/1.1\r\nHost: www.example.test\r\n\r\n'.repeat(3) + 'GET /medium HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n');
      assert.equal(pipelined.split('x-cache-status: HIT').length - 1, 4);
      assert.equal(pipelined.length > 4 * medium.length, true);

      const before = origin.count('/medium');
      const f = readFileSync(objectFile(dir, '/medium'));
      f[f.length - 2] ^= 0x55; // same length, one body byte: the file is no longer the one checked
      writeFileSync(objectFile(dir, '/medium'), f);
      const after = await get(e, '/medium');
      assert.equal(after.headers['x-cache-status'], 'MISS');
      assert.ok(after.body.equals(medium));
      assert.equal(origin.count('/medium'), before + 1);
    } finally {
      await e.close();
    }
  });

  it('{pop} in the path gives each POP its own folder', async () => {
    const template = join(work, 'pops', '{pop}');
    const e = await startEdge({ origin, pop: 'eu-one', edge: { disk: { path: template, size: '1MiB' } } });
    try {
      await get(e, '/small');
      const health = JSON.parse((await get(e, '/.well-known/geocdn/health')).text);
      assert.equal(health.cache.disk.path, join(work, 'pops', 'eu-one'));
    } finally {
      await e.close();
    }
  });
});

describe('edge.disk config', () => {
  it('reports a bad disk section with file:line; the object limit defaults to an eighth of the size', async () => {
    const { parseConfigText } = await import('../src/config/load.js');
    const text = (disk: string): string => `edge:\n  disk:\n${disk}sites:\n  www.example.test: { origin: "http://127.0.0.1:9" }\n`;
    assert.throws(
      () => parseConfigText(text('    path: /var/cache/geocdn\n    size: lots\n'), '/etc/geocdn.yaml'),
      (e: Error & { errors?: { format(): string }[] }) => /GEOCDN_CONFIG_INVALID \/etc\/geocdn\.yaml:4: edge\.disk\.size/.test(e.errors!.map((x) => x.format()).join('\n')),
    );
    assert.throws(() => parseConfigText(text('    path: /x\n    size: 1MiB\n    max_object_size: 2MiB\n'), '/etc/geocdn.yaml'), /max_object_size|invalid/i);
    const ok = parseConfigText(text('    path: /var/cache/geocdn-{pop}\n    size: 8GiB\n'), '/etc/geocdn.yaml').config.edge.disk!;
    assert.equal(ok.max_object_size, 1 << 30);
    assert.equal(parseConfigText(text('    path: /x\n    size: 8MiB\n'), '/e.yaml').config.edge.disk!.max_object_size, 1 << 20);
  });
});
