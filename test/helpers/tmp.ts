import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

// Each test file runs in its own process, so this list is that file's.
const made: string[] = [];

// Registered when a test file first imports this module, so on the file's root: it runs
// once every test and suite of the file has ended (and stopped its servers). A hook
// registered from inside a `before` would run as soon as that `before` returned.
after(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

/** A new empty folder `<tmpdir>/<prefix>XXXXXX`, removed with all it holds when this test file ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
