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
  // The first syntax error is the one to fix: the parser's later ones are consequences of it
  // (an unquoted `{pop}` in a flow map gave one line per token of the rest of the file).
  const syntax = doc.errors[0];
  if (syntax) {
    const line = lineCounter.linePos(syntax.pos[0]).line;
    throw new GeocdnErrors([new GeocdnError('GEOCDN_CONFIG_INVALID', `YAML: ${syntax.message.split('\n')[0]}`, { file: path, line })]);
  }
  const result = configSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    throw new GeocdnErrors(
      result.error.issues.flatMap((issue) => {
        // An unknown key (a typo, most often) is named and found on its own line, not its map's.
        if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => unknownKeyError(doc, issue.path, key, path, lineCounter));
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

function unknownKeyError(doc: ReturnType<typeof parseDocument>, at: readonly PropertyKey[], key: string, file: string, lc: LineCounter): GeocdnError {
  const parent = (at.length === 0 ? doc.contents : doc.getIn(at as (string | number)[], true)) as { items?: { key?: { value?: unknown; range?: [number, number] } }[] } | null;
  const keyNode = parent?.items?.find((pair) => pair.key?.value === key)?.key;
  const line = keyNode?.range ? lc.linePos(keyNode.range[0]).line : lineOfParent(doc, [...at, key], lc);
  return new GeocdnError('GEOCDN_CONFIG_INVALID', `${[...at, key].join('.')}: unknown key`, { file, line });
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
