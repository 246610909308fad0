import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { PurgeHistory, recordingIssuer } from '../src/admin/purge-history.js';
import { banner, dashboardUrl } from '../src/cli/demo.js';
import { DEFAULT_PORTS, portsFrom, startDemo, type Demo } from '../src/demo/run.js';
import { CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM } from './helpers/chromium.js';
import { discardingLogger } from './helpers/log.js';

async function json(url: string, token: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
  return (await res.json()) as Record<string, unknown>;
}

/** GET through an edge (fetch would not send our Host); resolves with X-Cache-Status. */
function edgeGet(address: string, port: number, path: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, headers: { host: 'cdn.example.test' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers['x-cache-status'] as string | undefined));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The dashboard in a real browser, against the demo: three edges, the nameserver probing them, its admin API. */
describe('dashboard in Chromium', { skip: NO_CHROMIUM }, () => {
  let demo: Demo;
  let browser: Browser;
  let admin: string;
  const problems: string[] = [];

  before(async () => {
    const { chromium } = await import('playwright-core');
    demo = await startDemo(portsFrom(20000 + Math.floor(Math.random() * 12000)), discardingLogger('test'));
    admin = `http://127.0.0.1:${demo.ports.admin}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await demo?.stop().catch(() => undefined);
  });

  async function open(fragment: string): Promise<Page> {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    await page.goto(`${admin}/dashboard${fragment}`);
    return page;
  }

  test('without a token the page asks for one, and then shows the POPs', async () => {
    const page = await open('');
    await page.waitForSelector('#token-form:not([hidden])');
    assert.equal(await page.locator('#main').isHidden(), true);
    await page.fill('#token', demo.adminToken);
    await page.click('#token-form button');
    await page.waitForSelector('#pops tr[data-pop]');
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('shows the three POPs on the map and in the table, answers "which POP", lists purges, and sees a POP go down', async () => {
    const page = await open(`#token=${demo.adminToken}`);
    await page.locator('#pops tr[data-pop][data-state="up"]').nth(2).waitFor();
    assert.deepEqual(await page.locator('#pops tr[data-pop]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-pop'))), ['eu-milan', 'us-newyork', 'ap-singapore']);
    // The map: the world from world-atlas, a marker per POP.
    await page.waitForSelector('#map path.land');
    assert.equal(await page.locator('#map g.pop').count(), 3);
    // The token left the address bar (it is kept in sessionStorage for this tab).
    assert.doesNotMatch(page.url(), /token/);

    await page.fill('#ip', '8.8.8.8');
    await page.click('#route-form button');
    await page.waitForSelector('#route-result dd[data-service="cdn.example.test"][data-pop="us-newyork"]');

    const purge = await json(`${admin}/v1/purge`, demo.adminToken, { method: 'POST', body: '{"tags":["home"]}', headers: { 'content-type': 'application/json' } });
    await page.waitForSelector(`#purges tr[data-purge="${String(purge.id)}"]`);
    assert.match(await page.locator('#purges tbody').innerText(), /tags home/);

    // Traffic through an edge shows in its X-Cache-Status breakdown (MISS then HIT).
    for (const want of ['MISS', 'HIT']) assert.equal(await edgeGet('127.0.0.3', demo.ports.http, '/'), want);
    await page.locator('#pops tr[data-pop="us-newyork"]', { hasText: 'HIT 1' }).waitFor();

    const edge = demo.edges.find((e) => e.context.pop === 'us-newyork');
    assert.ok(edge);
    await edge.close();
    await page.waitForSelector('#pops tr[data-pop="us-newyork"][data-state="down"]', { timeout: 15_000 });
    await page.waitForSelector('#map g.pop.down[data-pop="us-newyork"]');
    assert.equal(await page.locator('#pops tr[data-state="up"]').count(), 2);
    await page.click('#route-form button');
    await page.waitForSelector('#route-result dd[data-service="cdn.example.test"][data-pop="eu-milan"]');
    assert.match(await page.locator('#route-result').innerText(), /because us-newyork down/);
    await page.close();
    assert.deepEqual(problems, []);
  });
});

describe('dashboard routes, without a browser', () => {
  let demo: Demo;
  let admin: string;
  before(async () => {
    demo = await startDemo(portsFrom(20000 + Math.floor(Math.random() * 12000)), discardingLogger('test'));
    admin = `http://127.0.0.1:${demo.ports.admin}`;
  });
  after(() => demo?.stop());

  test('the page and its files are public, from a fixed list; the data needs the token', async () => {
    const page = await fetch(`${admin}/dashboard`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await page.text(), /<title>geocdn dashboard<\/title>/);
    for (const f of ['dashboard.js', 'dashboard.css', 'd3-array.min.js', 'd3-geo.min.js', 'topojson-client.min.js', 'countries-110m.json']) {
      assert.equal((await fetch(`${admin}/dashboard/${f}`)).status, 200, f);
    }
    assert.equal((await fetch(`${admin}/dashboard/..%2Fpackage.json`)).status, 404);
    assert.equal((await fetch(`${admin}/v1/dashboard`)).status, 401);
    assert.equal((await fetch(`${admin}/v1/dashboard/route?ip=8.8.8.8`)).status, 401);
  });

  test('/v1/dashboard: POPs with place, state and load; /route answers which POP and why', async () => {
    const data = await json(`${admin}/v1/dashboard`, demo.adminToken);
    const pops = data.pops as { name: string; location: number[]; country: string; state: { kind: string } }[];
    assert.deepEqual(pops.map((p) => [p.name, p.country]), [['eu-milan', 'IT'], ['us-newyork', 'US'], ['ap-singapore', 'SG']]);
    assert.deepEqual(pops[0]!.location, [45.46, 9.19]);
    assert.deepEqual(data.purges, []);
    const route = await json(`${admin}/v1/dashboard/route?ip=185.178.92.0/24`, demo.adminToken);
    assert.equal(route.country, 'IT');
    assert.deepEqual((route.services as { pop: string; rule: string }[]).map((s) => [s.pop, s.rule]), [['eu-milan', 'continent:EU']]);
    const bad = await fetch(`${admin}/v1/dashboard/route?ip=nope`, { headers: { authorization: `Bearer ${demo.adminToken}` } });
    assert.equal(bad.status, 400);
  });
});

test('the demo prints a ready link to the dashboard, token in the fragment', () => {
  assert.equal(dashboardUrl(DEFAULT_PORTS), 'http://127.0.0.1:8053/dashboard#token=demo-token-only-for-loopback');
  assert.ok(banner(DEFAULT_PORTS).includes(dashboardUrl(DEFAULT_PORTS)));
});

test('the purge history keeps the last N purges, newest first, failures too', async () => {
  const history = new PurgeHistory(3);
  let t = 0;
  let n = 0;
  const issue = recordingIssuer(
    async (target) => {
      t += 5;
      if (target.kind === 'all') throw new Error('bus gone');
      return { id: `p${++n}`, complete: n !== 2, applied: [], missing: n === 2 ? ['edge-b'] : [], queued: false };
    },
    history,
    () => t,
  );
  for (const tag of ['a', 'b', 'c', 'd']) await issue({ kind: 'tag', tags: [tag] }, false);
  await assert.rejects(issue({ kind: 'all' }, true), /bus gone/);
  const list = history.list();
  assert.deepEqual(list.map((p) => [p.id, p.what, p.complete]), [['-', 'everything', false], ['p4', 'tags d', true], ['p3', 'tags c', true]]);
  assert.equal(list[0]!.soft, true);
  assert.equal(list[1]!.ms, 5);
});
