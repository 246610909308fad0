import { z } from 'zod';
import { clusterSectionSchema } from './cluster-schema.js';
import { dnsSectionSchema, zoneEntrySchema } from './dns-schema.js';
import { edgeSectionSchema, sitesSectionSchema } from './edge-schema.js';
import { checkGeoConfig, geoConfigShape } from './geo-schema.js';
import { healthConfigShape } from './health-schema.js';

/**
 * The one config file every node reads. Each section's schema lives beside
 * the concern that owns it; this file only puts them together.
 */
export const configSchema = z
  .object({
    dns: dnsSectionSchema.default(dnsSectionSchema.parse({})),
    zones: z.array(zoneEntrySchema).default([]),
    edge: edgeSectionSchema.default(edgeSectionSchema.parse({})),
    sites: sitesSectionSchema.default({}),
    ...geoConfigShape,
    ...healthConfigShape,
    cluster: clusterSectionSchema.optional(),
  })
  .strict()
  .superRefine(checkGeoConfig);

export type Config = z.infer<typeof configSchema>;
