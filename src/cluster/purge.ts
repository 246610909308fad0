import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/** What a purge takes out of every edge's cache. */
export type PurgeTarget =
  | { readonly kind: 'url'; readonly urls: readonly string[] }
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'tag'; readonly tags: readonly string[] }
  | { readonly kind: 'all' };

/** One purge as it travels on the bus. `soft` marks entries stale instead of deleting them. */
export interface PurgeCommand {
  readonly id: string;
  readonly target: PurgeTarget;
  readonly soft: boolean;
  /** Wall-clock ms at the issuer; only the issuer compares against it (no cross-node clock skew). */
  readonly issuedAt: number;
}

const targetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('url'), urls: z.array(z.string().min(1)).min(1) }).strict(),
  z.object({ kind: z.literal('prefix'), prefix: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('tag'), tags: z.array(z.string().min(1)).min(1) }).strict(),
  z.object({ kind: z.literal('all') }).strict(),
]);

export const purgeCommandSchema = z
  .object({ id: z.string().min(1), target: targetSchema, soft: z.boolean(), issuedAt: z.number() })
  .strict();

export function newPurge(target: PurgeTarget, soft: boolean, now: number): PurgeCommand {
  return { id: randomUUID(), target, soft, issuedAt: now };
}

/** A purge read back from the wire; `undefined` for anything malformed (a newer node's kind, a bad write). */
export function decodePurge(text: string): PurgeCommand | undefined {
  try {
    const r = purgeCommandSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export function describeTarget(t: PurgeTarget): string {
  switch (t.kind) {
    case 'url':
      return `url ${t.urls.join(' ')}`;
    case 'prefix':
      return `prefix ${t.prefix}`;
    case 'tag':
      return `tag ${t.tags.join(' ')}`;
    case 'all':
      return 'everything';
    default: {
      const never: never = t;
      return never;
    }
  }
}
