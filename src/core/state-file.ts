import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

let serial = 0;

/**
 * Replaces a small state file atomically: written under another name in its folder (made if
 * missing), then renamed over it, so a crash leaves the old file or the new one, never half of
 * one. `sync` also flushes it to the disk before the rename.
 */
export async function replaceFile(path: string, text: string, opts: { sync?: boolean } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${serial++}.tmp`;
  try {
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(text);
      if (opts.sync) await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** The file's text; undefined when there is no such file (other errors reject). */
export async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
