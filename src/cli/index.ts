import type { Command } from './command.js';

/** Every subcommand, in the order `geocdn --help` lists them. */
export const commands: Command[] = [];
