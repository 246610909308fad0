import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs to stderr; level from GEOCDN_LOG_LEVEL (tests run with `silent`). */
export function createLogger(name: string, level = process.env.GEOCDN_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { node: name } }, pino.destination(2));
}
