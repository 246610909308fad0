// The edge as a browser uses it: Chromium loads the demo's pages through a POP over HTTPS with
// HTTP/2 and over cleartext HTTP/1.1, with compression, a sub-resource, a cached second visit and
// a range of a large file. Skipped without Debian's chromium or playwright-core.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { portsFrom, startDemo, type Demo } from '../src/demo/run.js';
import { CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM } from './helpers/chromium.js';
import { discardingLogger } from './helpers/log.js';

/** Run in the page (these tests are compiled without the DOM's types). */
const NEXT_HOP_PROTOCOL = "performance.getEntriesByType('navigation')[0].nextHopProtocol";
/** The demo's us-newyork POP. */
const EDGE_ADDRESS = '127.0.0.3';


describe('the edge in Chromium', { skip: NO_CHROMIUM }, () => {
  let demo: Demo;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    const { chromium } = await import('playwright-core');
    demo = await startDemo(portsFrom(20000 + Math.floor(Math.random() * 12000)), discardingLogger('test'));
    // The name resolves to the POP, as the GeoDNS would answer; the demo's certificate is self-signed.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP cdn.example.test ${EDGE_ADDRESS}`] });
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  const https = (path: string) => `https://cdn.example.test:${demo.ports.https}${path}`;
  const http = (path: string) => `http://cdn.example.test:${demo.ports.http}${path}`;

  test('a page over HTTP/2 arrives compressed, decoded whole by the browser, and is a HIT on the next visit', async () => {
    const first = await page.goto(https('/guide.html'));
    assert.equal(first?.status(), 200);
    const headers = await first!.allHeaders();
    assert.match(headers['content-encoding'] ?? '', /^(br|gzip)$/);
    assert.equal(await page.evaluate(NEXT_HOP_PROTOCOL), 'h2');
    assert.equal(await page.locator('p').count(), 60);
    assert.match(await page.locator('p').last().innerText(), /^Step 60: /);

    // Another visitor (a browser cache of its own): served by the edge, not the origin. (The origin's
    // request count would not show it: a new page also asks for /favicon.ico, whose 404 lives 10 s.)
    const other = await browser.newContext({ ignoreHTTPSErrors: true });
    const second = await (await other.newPage()).goto(https('/guide.html'));
    assert.equal((await second!.allHeaders())['x-cache-status'], 'HIT');
    await other.close();
  });

  test('a page and its image over HTTP/1.1, the image served from the edge', async () => {
    const images: string[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/img/logo.svg')) images.push(`${r.status()} ${r.headers()['x-cache-status']}`);
    });
    const res = await page.goto(http('/'));
    assert.equal(res?.status(), 200);
    assert.equal(await page.evaluate(NEXT_HOP_PROTOCOL), 'http/1.1');
    assert.equal(await page.locator('h1').innerText(), 'Hello from the origin');
    const width = await page.evaluate("document.querySelector('img').complete ? document.querySelector('img').naturalWidth : -1");
    assert.equal(width, 64);
    assert.equal(images.length, 1);
    assert.match(images[0]!, /^200 (MISS|HIT)$/);
  });

  test('fetch with a Range gets 206 and exactly those bytes of the 8 MiB file, over both protocols', async () => {
    for (const url of [https('/'), http('/')]) {
      await page.goto(url);
      const got = await page.evaluate(async () => {
        const r = await fetch('/big.bin', { headers: { range: 'bytes=1000-1099' } });
        const bytes = new Uint8Array(await r.arrayBuffer());
        return { status: r.status, range: r.headers.get('content-range'), length: bytes.length, ok: bytes.every((b, i) => b === (1000 + i) % 251) };
      });
      assert.deepEqual(got, { status: 206, range: 'bytes 1000-1099/8388608', length: 100, ok: true }, url);
    }
  });

  test('a reload (Cache-Control: max-age=0) is answered from the edge, which ignores it by default as nginx does', async () => {
    await page.goto(https('/img/logo.svg'));
    const reloaded = await page.reload();
    assert.equal(reloaded!.status(), 200);
    assert.equal((await reloaded!.allHeaders())['x-cache-status'], 'HIT');
    assert.match((await reloaded!.request().allHeaders())['cache-control'] ?? '', /max-age=0|no-cache/);
    assert.equal(await page.locator('svg circle').count(), 1);
  });
});
