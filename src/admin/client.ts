import type { AdminSection } from '../config/health-schema.js';

/** The env variable that holds the admin token (it wins over `admin.token`). */
export const TOKEN_ENV = 'GEOCDN_ADMIN_TOKEN';

export function adminToken(section: AdminSection | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env[TOKEN_ENV];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : section?.token;
}

/** The admin URLs to talk to: given ones, else `admin.nameservers`, else this node's `admin.listen`. */
export function adminUrls(section: AdminSection | undefined, given: readonly string[]): string[] {
  if (given.length > 0) return given.map(stripSlash);
  if (section && section.nameservers.length > 0) return section.nameservers.map(stripSlash);
  if (section && section.listen !== false) {
    const listen = section.listen;
    const host = /^\d+$/.test(listen) || listen.startsWith(':') ? `127.0.0.1${listen.startsWith(':') ? '' : ':'}${listen}` : listen;
    return [`http://${host.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:')}`];
  }
  return [];
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export type AdminReply = { ok: true; status: number; body: Record<string, unknown> } | { ok: false; status: number; error: string };

/** One admin API call; never throws (a nameserver that does not answer is one row of the output). */
export async function adminCall(baseUrl: string, method: string, path: string, token: string, timeoutMs = 5_000, payload?: unknown): Promise<AdminReply> {
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { ok: false, status: res.status, error: `not JSON: ${text.slice(0, 80)}` };
    }
    if (!res.ok) return { ok: false, status: res.status, error: `${String(body.error ?? res.status)}: ${String(body.message ?? '')}` };
    return { ok: true, status: res.status, body };
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, status: 0, error: `GEOCDN_ADMIN_UNREACHABLE: ${cause?.code ?? cause?.message ?? (e as Error).message}` };
  }
}
