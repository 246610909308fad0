import type { Command } from './command.js';
import { checkCommand } from './check.js';
import { demoCommand } from './demo.js';
import { dnsCommand } from './dns.js';
import { drainCommand } from './drain.js';
import { edgeCommand } from './edge.js';
import { lookupCommand } from './lookup.js';
import { purgeCommand } from './purge.js';
import { statusCommand } from './status.js';
import { warmCommand } from './warm.js';

/** Every subcommand, in the order `geocdn --help` lists them. */
export const commands: Command[] = [demoCommand, dnsCommand, checkCommand, edgeCommand, lookupCommand, statusCommand, drainCommand, purgeCommand, warmCommand];
