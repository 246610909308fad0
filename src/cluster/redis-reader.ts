import type { Redis } from 'ioredis';
import type { SubscribeOptions } from './bus.js';
import { decodePurge } from './purge.js';
import { compareStreamIds } from './stream-id.js';

type StreamEntries = [id: string, fields: string[]][];

/** Purge ids remembered to apply each once: far more than one outage's retries. */
const RECENT_IDS = 4_096;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** XINFO STREAM's flat key/value reply as a record; `undefined` when the stream does not exist yet. */
async function streamInfo(conn: Redis, key: string): Promise<Record<string, unknown> | undefined> {
  try {
    const flat = (await conn.xinfo('STREAM', key)) as unknown[];
    const info: Record<string, unknown> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) info[String(flat[i])] = flat[i + 1];
    return info;
  } catch (e) {
    if (/no such key/i.test((e as Error).message)) return undefined;
    throw e;
  }
}

/**
 * Where reading resumes, and whether purges were lost in between. A node new
 * to the cluster starts at the end (its cache is empty); a returning node
 * resumes after its saved id, unless trimming deleted entries past it.
 */
async function resumePoint(conn: Redis, key: string, saved: string | undefined): Promise<{ from: string; gap: boolean }> {
  const info = await streamInfo(conn, key);
  if (!info) return { from: saved ?? '0-0', gap: false };
  if (saved === undefined) return { from: String(info['last-generated-id'] ?? '0-0'), gap: false };
  // Only trimming loses entries: a stream that never dropped one (entries-added = length), such as
  // a fresh one after Redis restarted empty, has no gap. Otherwise a first retained entry past our
  // position means entries we never read were dropped.
  const trimmed = Number(info['entries-added'] ?? 0) > Number(info['length'] ?? 0);
  const first = info['first-entry'] as [string, string[]] | null | undefined;
  return { from: saved, gap: trimmed && first != null && compareStreamIds(first[0], saved) > 0 };
}

export interface ReaderHandle {
  /** Settles once the reader knows where it resumes (so a newcomer misses nothing published after `subscribe`). */
  readonly started: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Reads the purge stream on its own connection (XREAD blocks it) from the
 * subscriber's saved position, applies each purge, then saves the position.
 * After any error (Redis gone) it waits, and checks for a gap again on resume.
 */
export function startReader(conn: Redis, key: string, o: SubscribeOptions, onError: (e: unknown) => void): ReaderHandle {
  let stopped = false;
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((r) => (markStarted = r));
  // A publisher whose XADD timed out on a hung Redis writes the purge again; the first write may still have run.
  const recent = new Set<string>();
  const loop = (async () => {
    let position = await o.cursor.load();
    let resumed = false;
    while (!stopped) {
      try {
        if (!resumed) {
          const r = await resumePoint(conn, key, position);
          if (r.gap) await o.onGap();
          if (position !== r.from) await o.cursor.save(r.from);
          position = r.from;
          resumed = true;
          markStarted();
        }
        const reply = (await conn.xread('COUNT', 500, 'BLOCK', 1_000, 'STREAMS', key, position!)) as [string, StreamEntries][] | null;
        const entries = reply?.[0]?.[1];
        if (!entries || entries.length === 0) continue;
        try {
          for (const [id, fields] of entries) {
            const purge = decodePurge(fields[1] ?? '');
            if (purge && !recent.has(purge.id)) {
              await o.onPurge(purge);
              recent.add(purge.id);
              if (recent.size > RECENT_IDS) recent.delete(recent.values().next().value!);
            }
            position = id;
          }
        } finally {
          await o.cursor.save(position!);
        }
      } catch (e) {
        if (stopped) break;
        onError(e);
        markStarted();
        resumed = false;
        await sleep(100);
      }
    }
  })();
  return {
    started,
    async stop() {
      stopped = true;
      markStarted();
      conn.disconnect();
      // An onPurge that never settles must not hold the stop forever.
      await Promise.race([loop.catch(() => undefined), new Promise((r) => setTimeout(r, 1_000).unref())]);
    },
  };
}
