import type { GeoConfig, GeoipSection } from '../config/geo-schema.js';
import { GeocdnError, GeocdnErrors } from '../core/errors.js';
import { GeoLocator, type GeoSources } from '../geo/locator.js';
import { planRouting } from './plan.js';
import { Routing } from './routing.js';
import type { GeoRouting } from './types.js';

export interface CompileOptions {
  /** The config file, named in errors. */
  file?: string;
  /** Opened databases to reuse (a reload whose `geoip` section did not change keeps them). */
  locator?: GeoLocator;
}

/**
 * Builds the geo routing of a config: plan (names → indexes), then open the
 * databases. Throws GeocdnErrors (GEOCDN_GEO_INVALID with the config path,
 * GEOCDN_GEOIP_READ with the database file) and never returns half a result.
 */
export async function compileGeoRouting(
  config: GeoConfig,
  resolvePath: (p: string) => string,
  options: CompileOptions = {},
): Promise<GeoRouting> {
  const { plan, issues } = planRouting(config);
  if (issues.length > 0) {
    const where = options.file ? { file: options.file } : undefined;
    throw new GeocdnErrors(issues.map((i) => new GeocdnError('GEOCDN_GEO_INVALID', `${i.path.join('.')}: ${i.message}`, where)));
  }
  const locator = options.locator ?? (await openGeoip(config.geoip ?? { city: 'default', asn: 'default' }, resolvePath));
  return new Routing(plan, locator);
}

/** Opens the databases a `geoip` section names. */
export async function openGeoip(section: GeoipSection, resolvePath: (p: string) => string): Promise<GeoLocator> {
  return GeoLocator.open(geoSources(section, resolvePath));
}

export function geoSources(section: GeoipSection, resolvePath: (p: string) => string): GeoSources {
  const paths = (v: string | string[]) => (typeof v === 'string' ? [v] : v).map(resolvePath);
  return {
    city: section.city === 'default' ? 'default' : paths(section.city),
    asn: section.asn === 'default' || section.asn === 'none' ? section.asn : paths(section.asn),
  };
}
