import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

/**
 * A logger for servers a test runs in-process: every line down to debug is built, then
 * dropped. A silent logger skips the code that builds the lines, and a fault there (an
 * access line reading a field that is gone) would only show in a real deployment.
 */
export function discardingLogger(name = 'test'): Logger {
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  return pino({ name, level: 'debug' }, sink);
}

/** A logger whose lines land in `lines`, parsed, for tests that check what a server logged. */
export function capturingLogger(level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}
