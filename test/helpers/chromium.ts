import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Debian's Chromium, driven by playwright-core (which downloads no browser). */
export const CHROMIUM = '/usr/bin/chromium';
/** How Chromium is started on these machines: headless, and no background traffic to a closed network. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function hasPlaywright(): boolean {
  try {
    createRequire(import.meta.url).resolve('playwright-core');
    return true;
  } catch {
    return false;
  }
}

/** Why a browser test cannot run here, or false. */
export const NO_CHROMIUM: string | false = !existsSync(CHROMIUM)
  ? `${CHROMIUM} not installed (Debian package chromium)`
  : !hasPlaywright()
    ? 'playwright-core not installed (npm install)'
    : false;
