import { join } from 'node:path';
import { z } from 'zod';
import { readIfPresent, replaceFile } from '../core/state-file.js';

/** One admin drain as it is written down: which POP, since when (ms since the epoch), why. */
export interface Drain {
  readonly pop: string;
  readonly since: number;
  readonly reason: string;
}

/** Where a nameserver keeps its drains between runs. */
export interface DrainStore {
  /** The file, for log lines and answers; undefined when drains live in memory only. */
  readonly path: string | undefined;
  /** The drains written last; none when nothing was written yet. Rejects when the file cannot be read or is not a drains file. */
  load(): Promise<Drain[]>;
  save(drains: readonly Drain[]): Promise<void>;
}

/** `<state_dir>/drains-<node>.json`, beside the purge cursor: one file per node, so nameservers may share a folder. */
export function drainFilePath(stateDir: string, node: string): string {
  return join(stateDir, `drains-${node}.json`);
}

const fileSchema = z
  .object({
    drains: z.array(
      z
        .object({
          pop: z.string().min(1),
          reason: z.string(),
          since: z.iso.datetime(),
        })
        .strict(),
    ),
  })
  .strict();

/** Drains in a small JSON file, synced and replaced atomically (a crash leaves the old file or the new one). */
export function fileDrainStore(path: string): DrainStore {
  return {
    path,
    async load() {
      const text = await readIfPresent(path);
      if (text === undefined) return [];
      const parsed = fileSchema.safeParse(parseJson(text));
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new Error(`not a drains file: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
      }
      return parsed.data.drains.map((d) => ({ pop: d.pop, reason: d.reason, since: Date.parse(d.since) }));
    },
    async save(drains) {
      const body = { drains: drains.map((d) => ({ pop: d.pop, reason: d.reason, since: new Date(d.since).toISOString() })) };
      await replaceFile(path, `${JSON.stringify(body, null, 2)}\n`, { sync: true });
    },
  };
}

/** Drains that end with the process (the demo, tests of the admin API alone). */
export function memoryDrainStore(): DrainStore {
  let kept: Drain[] = [];
  return {
    path: undefined,
    load: async () => kept,
    save: async (drains) => {
      kept = [...drains];
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON: ${(e as Error).message}`);
  }
}
