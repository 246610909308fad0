import { readdirSync, readlinkSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Files of `dir` this process (an edge started in it) holds open; an unlinked one reads `<path> (deleted)`. */
export function filesOpenIn(dir: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) n++;
    } catch {
      // closed while listed
    }
  }
  return n;
}

let gc: (() => void) | undefined;

/** Bytes held by Buffers and ArrayBuffers after full collections (array buffers are freed a turn later). */
export async function bufferMemory(): Promise<number> {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().arrayBuffers;
}
