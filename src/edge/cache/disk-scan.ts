import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type DiskEntry, varyOf } from './disk-index.js';
import { FIRST_READ, objectName, parseHeader } from './disk-format.js';

/** Files read per turn of the event loop: the scan runs before the edge listens, but timers still tick. */
const BATCH = 512;
const SHARD = /^[0-9a-f]{2}$/;
const NAME = /^[0-9a-f]{64}$/;

export interface ScanResult {
  /** Valid objects, oldest (by file mtime) first: the order they go back into the index. */
  readonly entries: DiskEntry[];
  /** Files that were not whole, valid objects, and were deleted. */
  readonly dropped: number;
}

/**
 * Rebuilds the index from the object files: each file's header is read and
 * checked (magic, header hash, file length = header + body size, name = hash of
 * the key). Bodies are not read here: each is checked against its hash on its
 * first read. A file that fails is deleted.
 */
export async function scanObjects(objectsDir: string, onDropped: (file: string, reason: string) => void): Promise<ScanResult> {
  const files: string[] = [];
  for (const shard of await readdirOrEmpty(objectsDir)) {
    if (!SHARD.test(shard)) continue;
    for (const name of await readdirOrEmpty(join(objectsDir, shard))) files.push(join(objectsDir, shard, name));
  }
  const found: { entry: DiskEntry; mtime: number }[] = [];
  let dropped = 0;
  // Synchronous reads, in batches: for many small headers the thread pool's round trips cost
  // more than the reads (measured: 100k files in 19 s through fs/promises, see bench/disk-index.mjs).
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    let r: { entry: DiskEntry; mtime: number } | { bad: string };
    try {
      r = loadEntry(file);
    } catch (e) {
      r = { bad: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
    }
    if ('entry' in r) found.push(r);
    else {
      dropped++;
      onDropped(file, r.bad);
      await unlink(file).catch(() => undefined);
    }
    if (i % BATCH === BATCH - 1) await new Promise((r) => setImmediate(r));
  }
  found.sort((a, b) => a.mtime - b.mtime);
  return { entries: found.map((f) => f.entry), dropped };
}

const scratch = Buffer.allocUnsafe(FIRST_READ);

function loadEntry(file: string): { entry: DiskEntry; mtime: number } | { bad: string } {
  const name = file.slice(-64);
  if (!NAME.test(name)) return { bad: 'not an object file' };
  const fd = openSync(file, 'r');
  try {
    const st = fstatSync(fd);
    let buf = scratch;
    let bytesRead = readSync(fd, buf, 0, Math.min(FIRST_READ, st.size), 0);
    let r = parseHeader(buf.subarray(0, bytesRead));
    if (!r.ok && r.reason === 'short' && r.need !== undefined && r.need <= st.size && r.need > bytesRead) {
      buf = Buffer.allocUnsafe(r.need);
      bytesRead = readSync(fd, buf, 0, r.need, 0);
      r = parseHeader(buf.subarray(0, bytesRead));
    }
    if (!r.ok) return { bad: `header ${r.reason}` };
    const h = r.header;
    if (st.size !== h.headerCap + h.bodySize) return { bad: `length ${st.size}, header says ${h.headerCap + h.bodySize}` };
    if (objectName(h.meta.key) !== name) return { bad: 'name does not match key' };
    return {
      entry: {
        key: h.meta.key,
        primaryKey: h.meta.primaryKey === h.meta.key ? h.meta.key : h.meta.primaryKey,
        vary: varyOf(h.meta.vary),
        bodySize: h.bodySize,
        metaJson: h.json,
        file,
        size: st.size,
        headerCap: h.headerCap,
        bodyHash: h.bodyHash.toString('latin1'),
        verified: '',
        hot: false,
      },
      mtime: st.mtimeMs,
    };
  } finally {
    closeSync(fd);
  }
}

/** Removes every file in the temp folder: writes that never reached their rename. */
export async function clearTemp(tmpDir: string): Promise<number> {
  let n = 0;
  for (const name of await readdirOrEmpty(tmpDir)) {
    await rm(join(tmpDir, name), { force: true, recursive: true }).then(() => n++, () => undefined);
  }
  return n;
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
