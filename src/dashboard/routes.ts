import type { AdminRouter } from '../admin/router.js';
import { DashboardAssets } from './assets.js';
import { dashboardData, routeFor, type DashboardSource } from './data.js';

/**
 * The page may load only its own files and talk only to this admin API:
 * no inline script, nothing from elsewhere.
 */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * GET /dashboard                  the page (public: it holds no data and asks for the token)
 * GET /dashboard/:file            its scripts, stylesheet and world map (public, a fixed list)
 * GET /v1/dashboard               POPs, load, cache statuses, recent purges (token)
 * GET /v1/dashboard/route?ip=IP   which POP each service would answer IP now, and why (token)
 */
export function addDashboardRoutes(router: AdminRouter, src: DashboardSource): void {
  const assets = new DashboardAssets();
  const serve = (name: string) => {
    const asset = assets.get(name);
    if (!asset) return { status: 404, body: { error: 'GEOCDN_ADMIN_NOT_FOUND', message: `no dashboard file ${name.slice(0, 60)}` } };
    return { status: 200, body: asset.body, contentType: asset.contentType, headers: PAGE_HEADERS };
  };
  router.add('GET', '/dashboard', () => serve('index.html'), { public: true });
  router.add('GET', '/dashboard/:file', (r) => serve(r.params.file!), { public: true });
  router.add('GET', '/v1/dashboard', () => ({ status: 200, body: dashboardData(src) }));
  router.add('GET', '/v1/dashboard/route', (r) => routeFor(src, r.query.get('ip') ?? ''));
}
