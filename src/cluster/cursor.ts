import { readIfPresent, replaceFile } from '../core/state-file.js';

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

/** A cursor in a small file, replaced atomically so a crash never leaves half an id. */
export function fileCursor(path: string): CursorStore {
  return {
    async load() {
      const text = (await readIfPresent(path))?.trim();
      return text === '' ? undefined : text;
    },
    save: (id) => replaceFile(path, `${id}\n`),
  };
}
