import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The folder of geocdn's own package.json. Compiled code runs from dist/
 * (installed) and from build/src/ (tests), at different depths, so files
 * that ship beside the code (examples, dashboard assets) are found from
 * here rather than by a fixed number of `../`.
 */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'geocdn') return (cached = dir);
      } catch {
        // not ours, or unreadable: keep looking upward
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('geocdn: cannot find the package root (package.json named geocdn)');
    dir = up;
  }
}
