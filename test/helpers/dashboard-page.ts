/**
 * Shared parts of the dashboard's browser tests (test/dashboard*.browser.test.ts): the stack and Chromium from
 * Debian driven by playwright-core, signing in, a watcher that collects everything that went wrong in a page
 * (console errors, uncaught errors, failed, refused or outside requests), and the few DOM shapes the in-page
 * functions use (the root tsconfig has no DOM library: it types Node code).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startStack, type Stack, type StackOptions } from './stack.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');
export const DIST_INDEX = path.join(ROOT, 'dashboard', 'dist', 'index.html');
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Checks that the dashboard is built and the artifacts folder exists, then starts Chromium. */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(DIST_INDEX)) throw new Error(`${DIST_INDEX} is missing: run \`npm run build\` first (npm test does)`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** A running stack (test/helpers/stack.ts) and Chromium: what a dashboard browser test starts from. */
export interface Dashboard {
  stack: Stack;
  browser: Browser;
  /** Makes a token in the running aggregator's own token store; returns its secret. */
  token(input: TokenInput): string;
  /** Closes the browser, then the stack. */
  close(): Promise<void>;
}
export type TokenInput = Parameters<Stack['aggregator']['tokens']['create']>[0];

/** Starts the stack with `options`, then Chromium. */
export async function startDashboard(options: StackOptions): Promise<Dashboard> {
  const stack = await startStack(options);
  try {
    const browser = await launchBrowser();
    return {
      stack,
      browser,
      token: (input) => stack.aggregator.tokens.create(input).token,
      close: async () => {
        await browser.close();
        await stack.close();
      },
    };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

/*
 * Signing in, the one way the browser tests do it: as a person does, in the page's sign-in panel.
 */

/** The panel a locked page (no counts without a token) shows on load. */
export const SIGNIN_NEEDED = '.signin[data-needed="true"]:not([hidden])';

/** Opens `url` on a page that asks for a token, and waits for the sign-in panel it shows. */
export async function gotoLocked(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector(SIGNIN_NEEDED, { timeout: 15_000 });
}

/** On a public page: opens the sign-in panel from the account menu. */
export async function openSignIn(page: Page): Promise<void> {
  await page.click('.account-signin');
  await page.waitForSelector('.signin:not([hidden]) #token-input');
}

/** Pastes `token` into the open sign-in panel (ticking "remember me" when asked) and sends it. */
export async function submitToken(page: Page, token: string, options: { remember?: boolean } = {}): Promise<void> {
  await page.fill('#token-input', token);
  if (options.remember) await page.check('#token-remember');
  await page.click('.signin-form button[type="submit"]');
}

/**
 * Signs in with `token` in the open sign-in panel (`open`: first opens it, on a public page) and waits until the
 * page names the reader's role (`role`: that role).
 */
export async function signIn(page: Page, token: string, options: { open?: boolean; remember?: boolean; role?: string } = {}): Promise<void> {
  if (options.open) await openSignIn(page);
  await submitToken(page, token, options);
  await page.waitForSelector(options.role === undefined ? '.account-role:not([hidden])' : `.account-role[data-role="${options.role}"]`, { timeout: 15_000 });
}

export async function newContext(
  browser: Browser,
  options: { locale: string; width?: number; height?: number; timezoneId?: string; touch?: boolean },
): Promise<BrowserContext> {
  return browser.newContext({
    locale: options.locale,
    ...(options.touch ? { hasTouch: true } : {}),
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    serviceWorkers: 'block',
    acceptDownloads: true,
    ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
  });
}

/** Everything that went wrong in a page: console errors, uncaught errors, failed, refused or outside requests. */
export interface PageProblems {
  console: string[];
  errors: string[];
  requests: string[];
}

export function watch(page: Page, baseUrl: string): PageProblems {
  const problems: PageProblems = { console: [], errors: [], requests: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.console.push(msg.text());
  });
  page.on('pageerror', (err) => problems.errors.push(err.message));
  page.on('requestfailed', (req) => {
    // Closing the page (or signing out) ends the event stream; that abort is not a failure of the page.
    if (req.failure()?.errorText === 'net::ERR_ABORTED' && new URL(req.url()).pathname.endsWith('/api/v1/events')) return;
    problems.requests.push(`${req.url()} failed: ${req.failure()?.errorText ?? '?'}`);
  });
  page.on('request', (req) => {
    if (!req.url().startsWith(baseUrl) && !req.url().startsWith('data:') && !req.url().startsWith('blob:')) {
      problems.requests.push(`outside request: ${req.url()}`);
    }
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.requests.push(`${new URL(res.url()).pathname} answered ${res.status()}`);
  });
  return problems;
}

/** The problems left after dropping the expected ones (each pattern drops every line it matches). */
export function unexpected(problems: PageProblems, expected: { console?: RegExp[]; requests?: RegExp[] } = {}): PageProblems {
  const keep = (lines: string[], patterns: RegExp[] = []) => lines.filter((line) => !patterns.some((p) => p.test(line)));
  return { console: keep(problems.console, expected.console), errors: [...problems.errors], requests: keep(problems.requests, expected.requests) };
}

/*
 * The few DOM shapes the in-page functions use.
 */
export interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  title: string;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
}
export interface PageCanvas extends PageElement {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
export interface PageGlobals {
  document: {
    querySelectorAll(selector: string): Iterable<PageElement>;
    querySelector(selector: string): PageElement | null;
    documentElement: { scrollWidth: number };
  };
  getComputedStyle(element: PageElement): { backgroundColor: string; backgroundImage: string };
  requestAnimationFrame(callback: () => void): number;
  sessionStorage: { getItem(key: string): string | null };
  localStorage: { length: number; key(i: number): string | null; getItem(key: string): string | null };
}

/**
 * A chart is made when its box comes near the screen (dashboard/src/charts.ts): brings each chart matching
 * `selector` into view, one by one, and waits until it is drawn (or has no data to draw).
 */
export async function drawCharts(page: Page, selector: string): Promise<void> {
  for (const chart of await page.locator(selector).all()) {
    await chart.scrollIntoViewIfNeeded();
    await chart.evaluate(
      (box) =>
        new Promise<void>((resolve, reject) => {
          const started = Date.now();
          const check = () => {
            const { dataset } = box as unknown as PageElement;
            if (dataset.drawn === '1' || dataset.buckets === undefined) resolve();
            else if (Date.now() - started > 10_000) reject(new Error('a chart in view was not drawn within 10 s'));
            else (globalThis as unknown as PageGlobals).requestAnimationFrame(check);
          };
          check();
        }),
    );
  }
}

/** The series colour of charts.ts (#0f766e): pixels near it are the drawn line. */
export const LINE_RGB = [15, 118, 110] as const;

/** Per chart card (`article.<kind>`): the buckets and released buckets it holds, and the canvas pixels of the line's colour. */
export async function chartState(page: Page, kind: 'zone' | 'site' = 'zone'): Promise<{ id: string; buckets: number; released: number; linePixels: number }[]> {
  await drawCharts(page, `article.${kind} .chart`);
  return page.evaluate(
    ({ rgb, kind }) => {
      const { document } = globalThis as unknown as PageGlobals;
      return [...document.querySelectorAll(`article.${kind}`)].map((card) => {
        const box = card.querySelector('.chart');
        const canvas = card.querySelector('.chart canvas') as PageCanvas | null;
        let linePixels = 0;
        const ctx = canvas?.getContext('2d');
        if (canvas && ctx && canvas.width > 0 && canvas.height > 0) {
          const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
          for (let i = 0; i < data.length; i += 4) {
            const near = Math.abs(data[i] - rgb[0]) < 40 && Math.abs(data[i + 1] - rgb[1]) < 40 && Math.abs(data[i + 2] - rgb[2]) < 40;
            if (near && data[i + 3] > 200) linePixels++;
          }
        }
        return {
          id: (kind === 'zone' ? card.dataset.zoneId : card.dataset.siteId) ?? '',
          buckets: Number(box?.dataset.buckets ?? 0),
          released: Number(box?.dataset.released ?? 0),
          linePixels,
        };
      });
    },
    { rgb: LINE_RGB, kind },
  );
}

/**
 * Waits until `count` cards (zones and sites) hold at least `minBuckets` buckets, each with released data (or, with
 * `released: 'any'`, at least one of them: a quiet zone may have every minute hidden), then a frame.
 */
export async function waitForCharts(page: Page, count: number, minBuckets = 1, options: { released?: 'all' | 'any' } = {}): Promise<void> {
  await page.waitForFunction(
    ({ n, min, every }) => {
      const { document } = globalThis as unknown as PageGlobals;
      const boxes = [...document.querySelectorAll('article.card .chart')];
      const released = (b: PageElement) => Number(b.dataset.released ?? 0) > 0;
      return (
        boxes.length === n &&
        boxes.every((b) => Number(b.dataset.buckets ?? 0) >= min) &&
        (every ? boxes.every(released) : boxes.some(released))
      );
    },
    { n: count, min: minBuckets, every: (options.released ?? 'all') === 'all' },
    { timeout: 30_000 },
  );
  // The charts draw on the next animation frame after setData.
  await page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals;
    return new Promise<void>((resolve) => g.requestAnimationFrame(() => g.requestAnimationFrame(resolve)));
  });
}

export async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').trim();
}

/** The page is no wider than its screen. */
export async function scrollWidth(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth);
}

/** One accessibility violation axe-core found, in a line a person can act on. */
export interface AxeProblem {
  rule: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * The serious and critical accessibility violations axe-core finds in the page as it is now (WCAG 2.0-2.2 A and
 * AA rules, best practices included), with the first few elements each one hits; `include`: only that part.
 */
export async function seriousAxeProblems(page: Page, include?: string): Promise<AxeProblem[]> {
  const { default: AxeBuilder } = await import('@axe-core/playwright');
  let builder = new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .options({ resultTypes: ['violations'] }); // passes are not collected in detail: much faster on a big page
  if (include !== undefined) builder = builder.include(include);
  const results = await builder.analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ rule: v.id, impact: v.impact ?? '', help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
}
