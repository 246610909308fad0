import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument, LineCounter } from 'yaml';
import { GeocdnError, GeocdnErrors } from '../core/errors.js';
import { type Config, configSchema } from './schema.js';

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the config file. */
  path: string;
  /** Resolves a path written in the config relative to the config file's folder. */
  resolvePath(p: string): string;
}

/** Reads and validates a YAML config; throws GeocdnErrors listing every problem with file:line. */
export function loadConfig(file: string): LoadedConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new GeocdnErrors([
      new GeocdnError('GEOCDN_CONFIG_READ', `cannot read config: ${(e as Error).message}`, { file: path }),
    ]);
  }
  return parseConfigText(text, path);
}

export function parseConfigText(text: string, path: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new GeocdnErrors(
      doc.errors.map((err) => {
        const line = err.linePos?.[0]?.line;
        return new GeocdnError('GEOCDN_CONFIG_INVALID', `YAML: ${err.message.split('\n')[0]}`, { file: path, line });
      }),
    );
  }
  const result = configSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    throw new GeocdnErrors(
      result.error.issues.map((issue) => {
        const node = doc.getIn(issue.path as (string | number)[], true) as { range?: [number, number] } | undefined;
        const line = node?.range ? lineCounter.linePos(node.range[0]).line : lineOfParent(doc, issue.path, lineCounter);
        const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
        return new GeocdnError('GEOCDN_CONFIG_INVALID', `${where}${issue.message}`, { file: path, line });
      }),
    );
  }
  const base = dirname(path);
  return {
    config: result.data,
    path,
    resolvePath: (p: string) => (isAbsolute(p) ? p : resolve(base, p)),
  };
}

function lineOfParent(
  doc: ReturnType<typeof parseDocument>,
  path: readonly PropertyKey[],
  lc: LineCounter,
): number | undefined {
  for (let n = path.length - 1; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as { range?: [number, number] } | undefined;
    if (node?.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}
