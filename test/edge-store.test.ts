import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../src/edge/cache/memory-store.js';
import { draft, put, storeConformance, storeConformanceMore } from './helpers/edge-store-suite.js';

describe('edge store conformance: memory tier', () => {
  storeConformance((maxBytes, maxObjectBytes) => createMemoryStore(maxBytes, maxObjectBytes));
  storeConformanceMore((maxBytes, maxObjectBytes) => createMemoryStore(maxBytes, maxObjectBytes));
});

describe('memory tier accounting', () => {
  it('small objects count their metadata too: a 1 MiB tier of 1 KiB objects holds what fits in 1 MiB of memory, not a thousand', async () => {
    const s = createMemoryStore(1 << 20);
    const headers: [string, string][] = [
      ['content-type', 'application/octet-stream'],
      ['cache-control', 'public, max-age=3600'],
      ['date', 'Tue, 24 Nov 2026 03:00:00 GMT'],
      ['last-modified', 'Mon, 23 Nov 2026 00:00:00 GMT'],
      ['etag', '"5f1e-2a0b"'],
    ];
    for (let i = 0; i < 1000; i++) await put(s, { ...draft(`http\nwww.example.test/objects/${i}`), headers }, 'x'.repeat(1024));
    const { entries, bytes } = s.stats();
    assert.ok(bytes <= 1 << 20);
    // Measured: such an entry takes about 2.6 KiB besides its body (heap and buffer); at 512 bytes
    // counted, 680 of them fit and took twice the budget.
    assert.ok(entries <= 1024 * 1024 / (1024 + 2048), `${entries} entries in 1 MiB`);
  });
});
