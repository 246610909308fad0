import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { packageRoot } from '../core/package-root.js';

export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
}

const JS = 'text/javascript; charset=utf-8';

/**
 * Every file the dashboard page loads, by the name it is served under
 * (`/dashboard/<name>`): our own three from src/dashboard/public (shipped
 * in the package: tsc compiles only .ts), and the map's libraries and
 * world outline from node_modules, so the page needs no internet.
 * A fixed list: nothing else on disk can be asked for.
 */
const FILES: Readonly<Record<string, { contentType: string; path: () => string }>> = {
  'index.html': { contentType: 'text/html; charset=utf-8', path: () => ownFile('index.html') },
  'dashboard.js': { contentType: JS, path: () => ownFile('dashboard.js') },
  'dashboard.css': { contentType: 'text/css; charset=utf-8', path: () => ownFile('dashboard.css') },
  'd3-array.min.js': { contentType: JS, path: () => join(dirname(createRequire(moduleFile('d3-geo')).resolve('d3-array')), 'd3-array.min.js') },
  'd3-geo.min.js': { contentType: JS, path: () => join(dirname(moduleFile('d3-geo')), 'd3-geo.min.js') },
  'topojson-client.min.js': { contentType: JS, path: () => join(dirname(moduleFile('topojson-client')), 'topojson-client.min.js') },
  'countries-110m.json': { contentType: 'application/json', path: () => moduleFile('world-atlas/countries-110m.json') },
};

function ownFile(name: string): string {
  return join(packageRoot(), 'src', 'dashboard', 'public', name);
}

function moduleFile(specifier: string): string {
  return createRequire(import.meta.url).resolve(specifier);
}

/** The dashboard's files, read on first use and kept (about 250 KiB in all). One per admin server. */
export class DashboardAssets {
  private readonly cache = new Map<string, Asset>();

  static readonly names: readonly string[] = Object.keys(FILES);

  /** The file served as `name`; undefined for any name not in the list. Throws when a listed file is missing on disk. */
  get(name: string): Asset | undefined {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const file = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
    if (!file) return undefined;
    const asset = { body: readFileSync(file.path()), contentType: file.contentType };
    this.cache.set(name, asset);
    return asset;
  }
}
