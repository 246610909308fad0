import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { gate, get, originAndEdge, until } from './helpers/edge-harness.js';

describe('edge: request collapsing', () => {
  const t = originAndEdge();

  it('1000 concurrent requests for one key cost one origin fetch, and all get the whole body', async () => {
    const release = gate();
    const part1 = Buffer.alloc(64 * 1024, 'a');
    const part2 = Buffer.alloc(64 * 1024, 'b');
    t.origin.route('/popular', async (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=100', 'content-length': String(part1.length + part2.length) });
      res.write(part1);
      await release.promise;
      res.end(part2);
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1000 });
    const n = 1000;
    const replies = Array.from({ length: n }, () => get(t.edge, '/popular', { agent }));
    // every request has reached the edge while the origin is still sending the body
    await until(() => t.edge.context.stats.inflight >= n, `${n} requests in flight`);
    release.open();
    const all = await Promise.all(replies);
    agent.destroy();
    assert.equal(t.origin.count('/popular'), 1);
    for (const r of all) {
      assert.equal(r.status, 200);
      assert.equal(r.body.length, part1.length + part2.length);
    }
    const statuses = new Set(all.map((r) => r.headers['x-cache-status']));
    assert.deepEqual([...statuses], ['MISS']);
    assert.equal(all.filter((r) => /collapsed/.test(String(r.headers['cache-status']))).length, n - 1);
    assert.equal((await get(t.edge, '/popular')).headers['x-cache-status'], 'HIT');
  });

  it('a joiner gets the body as it streams in, not after the fill completes', async () => {
    const release = gate();
    t.origin.route('/slow-body', async (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=100' });
      res.write('first;');
      await release.promise;
      res.end('last');
    });
    const leader = get(t.edge, '/slow-body');
    await until(() => t.origin.count('/slow-body') === 1, 'the fill to start');
    const firstChunk = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ port: t.edge.port, host: '127.0.0.1', path: '/slow-body', headers: { host: 'www.example.test' } }, (res) => {
        res.once('data', (c: Buffer) => {
          resolve(c.toString());
          res.resume();
        });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(firstChunk, 'first;');
    release.open();
    assert.equal((await leader).text, 'first;last');
    assert.equal(t.origin.count('/slow-body'), 1);
  });

  it('when the response is not cacheable, the waiters go to the origin at once', async () => {
    const release = gate();
    let calls = 0;
    t.origin.route('/private', async (_req, res) => {
      calls++;
      res.writeHead(200, { 'cache-control': 'private' });
      // only the first (the fill) waits: the waiters' own requests are answered at once
      if (calls === 1) {
        res.write('leader;');
        await release.promise;
      }
      res.end(`call ${calls}`);
    });
    const replies = Array.from({ length: 5 }, () => get(t.edge, '/private'));
    // the first body is still open: the other four reached the origin on their own
    await until(() => calls >= 5, 'waiters to reach the origin while the first body is open');
    release.open();
    const all = await Promise.all(replies);
    assert.equal(t.origin.count('/private'), 5);
    assert.ok(all.every((r) => r.headers['x-cache-status'] === 'MISS'));
    assert.ok(all.every((r) => r.headers['cache-status']?.includes('detail=private')));
  });

  it('joiners whose Vary values differ from the leader fetch their own variant', async () => {
    const release = gate();
    t.origin.route('/lang', async (req, res) => {
      if (req.headers['accept-language'] === 'en') await release.promise;
      res.writeHead(200, { 'cache-control': 'max-age=100', vary: 'accept-language' });
      res.end(String(req.headers['accept-language']));
    });
    const en = get(t.edge, '/lang', { headers: { 'accept-language': 'en' } });
    await until(() => t.origin.count('/lang') === 1, 'the en fill');
    const de = get(t.edge, '/lang', { headers: { 'accept-language': 'de' } });
    await until(() => t.edge.context.stats.inflight >= 2, 'the de request to join');
    release.open();
    assert.equal((await en).text, 'en');
    assert.equal((await de).text, 'de');
  });

  it('a joiner of another variant is not served the variant the leader revalidated', async () => {
    const release = gate();
    t.origin.route('/variant-reval', async (req, res) => {
      const lang = String(req.headers['accept-language']);
      if (req.headers['if-none-match'] === `"${lang}"`) {
        await release.promise;
        res.writeHead(304, { etag: `"${lang}"`, 'cache-control': 'max-age=0', vary: 'accept-language' });
        return void res.end();
      }
      res.writeHead(200, { 'cache-control': 'max-age=0', etag: `"${lang}"`, vary: 'accept-language' });
      res.end(lang);
    });
    await get(t.edge, '/variant-reval', { headers: { 'accept-language': 'en' } });
    const before = t.origin.count('/variant-reval');
    const en = get(t.edge, '/variant-reval', { headers: { 'accept-language': 'en' } });
    await until(() => t.origin.count('/variant-reval') === before + 1, 'the en revalidation');
    const fr = get(t.edge, '/variant-reval', { headers: { 'accept-language': 'fr' } });
    await until(() => t.edge.context.stats.inflight >= 2, 'fr to join');
    release.open();
    assert.equal((await en).headers['x-cache-status'], 'REVALIDATED');
    assert.equal((await fr).text, 'fr');
  });
});

describe('edge: the client is not kept waiting for the store', () => {
  const t = originAndEdge();

  it('a chunked MISS ends with its last byte while the store still commits; a request meanwhile is a HIT from the fill', async () => {
    t.origin.route('/chunked', (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=100' }); // no Content-Length: chunked to the client too
      res.write('first part, ');
      setTimeout(() => res.end('last part'), 20);
    });
    const store = t.edge.context.store;
    const open = store.open.bind(store);
    const commitGate = gate();
    store.open = (draft, length) => {
      const w = open(draft, length);
      if (!w || !draft.key.includes('/chunked')) return w;
      return { ...w, write: w.write.bind(w), abort: w.abort.bind(w), commit: async () => (await commitGate.promise, w.commit()) };
    };
    try {
      const miss = await get(t.edge, '/chunked'); // resolves on the response's end
      assert.equal(miss.headers['x-cache-status'], 'MISS');
      assert.equal(miss.headers['transfer-encoding'], 'chunked');
      assert.equal(miss.text, 'first part, last part');
      const during = await get(t.edge, '/chunked');
      assert.equal(during.headers['x-cache-status'], 'HIT');
      assert.equal(during.text, 'first part, last part');
      assert.equal(t.origin.count('/chunked'), 1);
    } finally {
      commitGate.open();
      store.open = open;
    }
    await until(() => t.edge.context.collapser.size === 0, 'the fill done');
    const after = await get(t.edge, '/chunked');
    assert.equal(after.headers['x-cache-status'], 'HIT');
    assert.equal(after.text, 'first part, last part');
    assert.equal(t.origin.count('/chunked'), 1);
  });
});

describe('body broadcast', () => {
  it('a sink that detaches while a chunk is delivered does not make the next sink miss it', async () => {
    const { Fill } = await import('../src/edge/cache/collapse.js');
    const body = new Fill<unknown>('k').body;
    const got: string[][] = [[], [], []];
    const sinks = got.map((g) => ({ write: (c: Buffer) => void g.push(c.toString()), end: () => undefined, fail: () => undefined }));
    const leaving = { ...sinks[0]!, write: (c: Buffer) => { got[0]!.push(c.toString()); body.detach(leaving); } };
    body.attach(leaving);
    body.attach(sinks[1]!);
    body.attach(sinks[2]!);
    body.push(Buffer.from('a'));
    body.push(Buffer.from('b'));
    assert.deepEqual(got, [['a'], ['a', 'b'], ['a', 'b']]);
  });
});
