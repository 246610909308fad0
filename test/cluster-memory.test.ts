import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileCursor } from '../src/cluster/cursor.js';
import { createMemoryBus } from '../src/cluster/memory-bus.js';
import { compareStreamIds } from '../src/cluster/stream-id.js';
import { busConformance } from './helpers/cluster-bus-suite.js';
import { tempDir } from './helpers/tmp.js';

describe('memory cluster bus', () => {
  busConformance(async (maxLen) => {
    const bus = createMemoryBus({ maxLen });
    return { connect: () => bus, teardown: () => bus.close() };
  });
});

describe('purge cursor file', () => {
  it('survives a restart and leaves no temp files behind', async () => {
    const dir = tempDir('geocdn-cursor-');
    const path = join(dir, 'sub', 'cursor');
    assert.equal(await fileCursor(path).load(), undefined);
    const c = fileCursor(path);
    await Promise.all([c.save('1-0'), c.save('2-0'), c.save('3-0')]);
    await c.save('17-3');
    assert.equal(await fileCursor(path).load(), '17-3');
    assert.equal(readFileSync(path, 'utf8'), '17-3\n');
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['cursor']);
  });
});

describe('stream ids', () => {
  it('compare as numbers, not strings', () => {
    assert.equal(compareStreamIds('9-0', '10-0'), -1);
    assert.equal(compareStreamIds('10-2', '10-10'), -1);
    assert.equal(compareStreamIds('10-2', '10-2'), 0);
    assert.equal(compareStreamIds('1700000000001-0', '1700000000000-5'), 1);
  });
});
