import type { IncomingMessage } from 'node:http';

/** What a handler sees: the request, the path parameters, the parsed query. */
export interface AdminRequest {
  readonly req: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
}

/** A JSON answer, which the server serializes; or, with `contentType`, a text or binary body sent as is (metrics, dashboard files). */
export type AdminResponse =
  | { status: number; body: unknown; contentType?: undefined; headers?: Readonly<Record<string, string>> }
  | { status: number; body: string | Buffer; contentType: string; headers?: Readonly<Record<string, string>> };

export interface RouteOptions {
  /** Served without the bearer token: only for content that reveals nothing (the dashboard's static files). */
  readonly public?: boolean;
}

export type AdminHandler = (r: AdminRequest) => AdminResponse | Promise<AdminResponse>;

interface Route {
  method: string;
  parts: readonly string[];
  handler: AdminHandler;
  public: boolean;
}

/**
 * A small method + path router: `/v1/pops/:name/drain`. Later endpoints
 * (purge, status, metrics) each add their routes from their own file.
 */
export class AdminRouter {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: AdminHandler, options: RouteOptions = {}): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler, public: options.public ?? false });
    return this;
  }

  /** The handler and parameters for a request; `allowed` lists the methods of a path that exists under another method (405). */
  match(method: string, path: string): { handler: AdminHandler; params: Record<string, string>; public: boolean } | { allowed: string[] } {
    const parts = path.split('/').filter(Boolean);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchParts(route.parts, parts);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { handler: route.handler, params, public: route.public };
      allowed.push(route.method);
    }
    return { allowed };
  }
}

function matchParts(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    let part: string;
    try {
      part = decodeURIComponent(parts[i]!);
    } catch {
      return undefined;
    }
    if (p.startsWith(':')) params[p.slice(1)] = part;
    else if (p !== part) return undefined;
  }
  return params;
}
