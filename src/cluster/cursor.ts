import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The id of the last purge a subscriber applied. */
export interface CursorStore {
  load(): Promise<string | undefined>;
  save(id: string): Promise<void>;
}

export function memoryCursor(initial?: string): CursorStore {
  let id = initial;
  return {
    load: async () => id,
    save: async (next) => {
      id = next;
    },
  };
}

/** A cursor in a small file, replaced atomically (tmp + rename) so a crash never leaves half an id. */
export function fileCursor(path: string): CursorStore {
  let serial = 0;
  return {
    async load() {
      try {
        const text = (await readFile(path, 'utf8')).trim();
        return text === '' ? undefined : text;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async save(id) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.${serial++}.tmp`;
      await writeFile(tmp, `${id}\n`);
      await rename(tmp, path);
    },
  };
}
