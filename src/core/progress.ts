import { statSync } from 'node:fs';
import type { Logger } from './log.js';

/** Where progress goes: stderr, or a test's buffer. A TTY gets one line redrawn in place. */
export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  /** `warm`, `loading zones`… */
  label: string;
  /** Units of work expected; unknown when undefined. */
  total?: number;
  stream: ProgressStream;
  now?: () => number;
  /** Redraw a TTY line at most this often (default 100 ms). */
  ttyIntervalMs?: number;
  /** Elsewhere (a log file, CI): one plain line this often (default 2 s). */
  plainIntervalMs?: number;
}

export interface Progress {
  /** `n` more units done; `detail` (short) is shown after the count. */
  tick(n?: number, detail?: string): void;
  readonly count: number;
  /** Ends the line (TTY) or writes the last plain line; later ticks are ignored. */
  done(detail?: string): void;
}

/** `warm 120/300 (40%) 3.2s 37/s eu-milan` — one line, pure, so it is tested without a clock. */
export function formatProgress(label: string, count: number, total: number | undefined, elapsedMs: number, detail?: string): string {
  const secs = elapsedMs / 1000;
  const rate = secs > 0 ? count / secs : 0;
  const parts = [label, total === undefined ? String(count) : `${count}/${total}`];
  if (total !== undefined && total > 0) parts.push(`(${Math.floor((count / total) * 100)}%)`);
  parts.push(`${secs.toFixed(1)}s`);
  if (count > 0 && secs > 0) parts.push(`${rate >= 10 ? Math.round(rate) : rate.toFixed(1)}/s`);
  if (detail) parts.push(detail);
  return parts.join(' ');
}

/**
 * A progress reporter for long work. On a TTY it redraws one line (`\r`,
 * cleared to the end) at most every `ttyIntervalMs`; elsewhere it writes a
 * plain line every `plainIntervalMs`, so logs and CI output stay readable.
 */
export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const tty = options.stream.isTTY === true;
  const interval = tty ? (options.ttyIntervalMs ?? 100) : (options.plainIntervalMs ?? 2000);
  const started = now();
  let last = started;
  let count = 0;
  let finished = false;
  const line = (detail?: string) => formatProgress(options.label, count, options.total, now() - started, detail);
  const draw = (text: string) => {
    const width = options.stream.columns ?? 0;
    options.stream.write(`\r${width > 1 ? text.slice(0, width - 1) : text}\x1b[K`);
  };
  return {
    get count() {
      return count;
    },
    tick(n = 1, detail) {
      if (finished) return;
      count += n;
      const t = now();
      if (t - last < interval) return;
      last = t;
      if (tty) draw(line(detail));
      else options.stream.write(`${line(detail)}\n`);
    },
    done(detail) {
      if (finished) return;
      finished = true;
      if (tty) {
        draw(line(detail));
        options.stream.write('\n');
      } else options.stream.write(`${line(detail)}\n`);
    },
  };
}

/** Loading that is usually instant but can take seconds (a large GeoIP database, a big zone) says so, with size and time. */
export const SLOW_LOAD_MS = 1000;

/**
 * Logs one info line when a load step took longer than `thresholdMs`:
 * elapsed time and the total size of the files it read (those that exist).
 * Cheap when fast: nothing is stat'ed below the threshold.
 */
export function logSlowLoad(logger: Logger, what: string, elapsedMs: number, files: readonly string[], thresholdMs = SLOW_LOAD_MS): boolean {
  if (elapsedMs < thresholdMs) return false;
  let bytes = 0;
  for (const f of new Set(files)) {
    try {
      bytes += statSync(f).size;
    } catch {
      // a file gone since: its size is unknown, the time is still worth saying
    }
  }
  logger.info({ elapsed_ms: Math.round(elapsedMs), bytes, files: files.length }, `${what} took ${(elapsedMs / 1000).toFixed(1)} s (${formatBytes(bytes)} in ${files.length} file(s))`);
  return true;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 * 1024) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 * 1024) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
