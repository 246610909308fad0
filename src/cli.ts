#!/usr/bin/env node
import { GeocdnError, GeocdnErrors } from './core/errors.js';
import { commands } from './cli/index.js';

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'geocdn — a self-hosted, DNS-routed CDN',
    '',
    'Usage: geocdn <command> [options]      geocdn <command> --help',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-V') {
    const { version } = await import('./core/version.js');
    console.log(version);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`GEOCDN_USAGE: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (e: unknown) => {
    if (e instanceof GeocdnErrors) for (const err of e.errors) console.error(err.format());
    else if (e instanceof GeocdnError) console.error(e.format());
    else console.error(e);
    process.exitCode = e instanceof GeocdnError && e.code === 'GEOCDN_USAGE' ? 2 : 1;
  },
);
