// Test helper: Debian's chromium, headless, driven by playwright-core (which downloads no browser), with a fresh profile per context and loopback-only requests.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** No sandbox (tests run as root in CI), nothing that reaches the network on its own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found: install it with \`apt-get install chromium\` (.ci/run does) to run the browser tests`;
}

/** One headless chromium for the test file; playwright gives it a temporary profile, removed when it closes. */
export async function launchBrowser(t: { teardown(fn: () => unknown): void }): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  t.teardown(() => browser.close());
  return browser;
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors, uncaught exceptions and CSP violations seen so far. */
  errors: string[];
  /** Every URL the page asked for. */
  requests: string[];
  /** Requests refused because they left loopback (an external asset or CDN). */
  blocked: string[];
}

/**
 * A fresh context (empty cookies and localStorage) with its own locale and viewport, and a page on `url`.
 * Only 127.0.0.1 is reachable: anything else is aborted and recorded in `blocked`.
 */
export async function openPage(
  t: { teardown(fn: () => unknown): void },
  browser: Browser,
  url: string,
  options: { locale?: string; viewport?: { width: number; height: number } } = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({
    locale: options.locale ?? 'fr-FR',
    viewport: options.viewport ?? { width: 1280, height: 900 },
    timezoneId: 'Europe/Paris',
  });
  t.teardown(() => context.close());
  const errors: string[] = [];
  const requests: string[] = [];
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const target = new URL(route.request().url());
    if (target.protocol === 'data:' || target.hostname === '127.0.0.1') return route.continue();
    blocked.push(target.href);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url, { waitUntil: 'load' });
  return { context, page, errors, requests, blocked };
}
