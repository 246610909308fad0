import { open, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskEntry } from './disk-index.js';
import { FIRST_READ, objectName, parseHeader } from './disk-format.js';

/** Files opened at once while scanning: enough to keep the thread pool and the disk busy. */
const SCAN_CONCURRENCY = 64;
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
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++]!;
      const r = await loadEntry(file).catch((e: Error) => ({ bad: (e as NodeJS.ErrnoException).code ?? e.message }));
      if ('entry' in r) found.push(r);
      else {
        dropped++;
        onDropped(file, r.bad);
        await unlink(file).catch(() => undefined);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, files.length) }, worker));
  found.sort((a, b) => a.mtime - b.mtime);
  return { entries: found.map((f) => f.entry), dropped };
}

async function loadEntry(file: string): Promise<{ entry: DiskEntry; mtime: number } | { bad: string }> {
  const name = file.slice(-64);
  if (!NAME.test(name)) return { bad: 'not an object file' };
  const fh = await open(file, 'r');
  try {
    const st = await fh.stat();
    let buf = Buffer.allocUnsafe(Math.min(FIRST_READ, st.size));
    let { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    let r = parseHeader(buf.subarray(0, bytesRead));
    if (!r.ok && r.reason === 'short' && r.need !== undefined && r.need <= st.size && r.need > bytesRead) {
      buf = Buffer.allocUnsafe(r.need);
      ({ bytesRead } = await fh.read(buf, 0, r.need, 0));
      r = parseHeader(buf.subarray(0, bytesRead));
    }
    if (!r.ok) return { bad: `header ${r.reason}` };
    const h = r.header;
    if (st.size !== h.headerCap + h.bodySize) return { bad: `length ${st.size}, header says ${h.headerCap + h.bodySize}` };
    if (objectName(h.draft.key) !== name) return { bad: 'name does not match key' };
    return {
      entry: { meta: { ...h.draft, bodySize: h.bodySize }, file, size: st.size, headerCap: h.headerCap, bodyHash: h.bodyHash, verified: '', hot: false },
      mtime: st.mtimeMs,
    };
  } finally {
    await fh.close();
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
