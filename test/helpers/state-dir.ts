import { join } from 'node:path';

/**
 * The config with `cluster.state_dir` in `dir` when it names none: a test's
 * nameserver then reads and writes its drains file there, never in the
 * checkout the tests run from (the default `.geocdn` is relative to it).
 */
export function withOwnStateDir(configYaml: string, dir: string): string {
  if (/^cluster:/m.test(configYaml)) return configYaml;
  return `${configYaml.endsWith('\n') ? configYaml : `${configYaml}\n`}cluster: { state_dir: ${JSON.stringify(join(dir, 'state'))} }\n`;
}
