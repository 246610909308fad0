import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { PurgeReport } from '../cluster/acks.js';
import type { PurgeTarget } from '../cluster/purge.js';
import { isPurgeUrl } from '../edge/purge-target.js';
import type { AdminRouter } from './router.js';

/** Issues a purge on the cluster bus and waits for the edges' acks. */
export type PurgeIssuer = (target: PurgeTarget, soft: boolean) => Promise<PurgeReport>;

const MAX_BODY = 256 * 1024;
const NOT_A_URL = 'is not an absolute http:// or https:// URL';

/** Exactly one of urls, tags, prefix, all; plus soft. The same words as `geocdn purge`. */
const purgeBodySchema = z
  .object({
    urls: z.array(z.string().refine(isPurgeUrl, { error: (i) => `${JSON.stringify(i.input)} ${NOT_A_URL}` })).min(1).optional(),
    tags: z.array(z.string().min(1)).min(1).optional(),
    prefix: z.string().refine(isPurgeUrl, { error: (i) => `${JSON.stringify(i.input)} ${NOT_A_URL}` }).optional(),
    all: z.literal(true).optional(),
    soft: z.boolean().default(false),
  })
  .strict()
  .refine((b) => [b.urls, b.tags, b.prefix, b.all].filter((x) => x !== undefined).length === 1, 'give exactly one of urls, tags, prefix, all');

export function purgeTargetOf(b: z.infer<typeof purgeBodySchema>): PurgeTarget {
  if (b.urls) return { kind: 'url', urls: b.urls };
  if (b.tags) return { kind: 'tag', tags: b.tags };
  if (b.prefix) return { kind: 'prefix', prefix: b.prefix };
  return { kind: 'all' };
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * POST /v1/purge  {"urls":[…]} | {"tags":[…]} | {"prefix":"…"} | {"all":true}, optional "soft": true.
 * Answers once every live edge applied it (200) or the ack timeout passed (202, naming the missing edges).
 */
export function addPurgeRoute(router: AdminRouter, issue: PurgeIssuer, node: string): void {
  router.add('POST', '/v1/purge', async ({ req }) => {
    const text = await readBody(req);
    if (text === undefined) return { status: 413, body: { error: 'GEOCDN_ADMIN_BODY', message: `body over ${MAX_BODY} bytes` } };
    let json: unknown;
    try {
      json = JSON.parse(text || '{}');
    } catch {
      return { status: 400, body: { error: 'GEOCDN_ADMIN_BODY', message: 'body is not JSON' } };
    }
    const parsed = purgeBodySchema.safeParse(json);
    if (!parsed.success) return { status: 400, body: { error: 'GEOCDN_ADMIN_BODY', message: parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') } };
    const report = await issue(purgeTargetOf(parsed.data), parsed.data.soft);
    return { status: report.complete ? 200 : 202, body: { node, ...report } };
  });
}
