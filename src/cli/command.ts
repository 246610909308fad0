import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GeocdnError } from '../core/errors.js';

/** One `geocdn` subcommand. Each lives in its own file under src/cli/ and stays thin. */
export interface Command {
  name: string;
  summary: string;
  /** Full help: usage line, options, examples. */
  help: string;
  /** Returns the process exit status (long-running commands resolve when stopped). */
  run(argv: string[]): Promise<number>;
}

/** node:util parseArgs with errors turned into GEOCDN_USAGE. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new GeocdnError('GEOCDN_USAGE', (e as Error).message, undefined, 'see --help');
  }
}
