import type { Command } from './command.js';
import { checkCommand } from './check.js';
import { demoCommand } from './demo.js';
import { dnsCommand } from './dns.js';
import { edgeCommand } from './edge.js';

/** Every subcommand, in the order `geocdn --help` lists them. */
export const commands: Command[] = [demoCommand, dnsCommand, checkCommand, edgeCommand];
