/**
 * The dashboard in a real browser against a running stack (broker, aggregator, simulated sensors, in process):
 * Chromium from Debian, driven by playwright-core. It checks that every zone's chart is drawn with data, that the
 * page makes no failed or outside requests and logs no console errors, that zone names are shown as text, that
 * the language switch changes the texts (and is remembered), that the live stream connects, and that the range
 * choice reloads the charts. Screenshots go to test/artifacts/ (git-ignored) for a person to look at.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyRadioCounts, topics, type CountsMessage } from '@passant/shared';
import { startStack } from './helpers/stack.ts';
import { requireTool } from './helpers/tools.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');
const DIST_INDEX = path.join(ROOT, 'dashboard', 'dist', 'index.html');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** The series colour of charts.ts (#0f766e): pixels near it are the drawn line. */
const LINE_RGB = [15, 118, 110] as const;

const hasChromium = requireTool('chromium', 'chromium');

interface ZoneInfo {
  id: string;
  name: string;
}

/** Everything that went wrong in a page: console errors, uncaught errors, failed, refused or outside requests. */
interface PageProblems {
  console: string[];
  errors: string[];
  requests: string[];
}

function watch(page: Page, baseUrl: string): PageProblems {
  const problems: PageProblems = { console: [], errors: [], requests: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.console.push(msg.text());
  });
  page.on('pageerror', (err) => problems.errors.push(err.message));
  page.on('requestfailed', (req) => {
    // Closing the page ends the event stream; that abort is not a failure of the page.
    if (req.failure()?.errorText === 'net::ERR_ABORTED' && req.url().endsWith('/api/v1/events')) return;
    problems.requests.push(`${req.url()} failed: ${req.failure()?.errorText ?? '?'}`);
  });
  page.on('request', (req) => {
    if (!req.url().startsWith(baseUrl) && !req.url().startsWith('data:')) problems.requests.push(`outside request: ${req.url()}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.requests.push(`${res.url()} answered ${res.status()}`);
  });
  return problems;
}

/*
 * The few DOM shapes the in-page functions below use. The root tsconfig has no DOM library (it types Node
 * code), so these stand in for it rather than adding DOM globals to every file.
 */
interface PageElement {
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): PageElement | null;
}
interface PageCanvas extends PageElement {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
interface PageGlobals {
  document: { querySelectorAll(selector: string): Iterable<PageElement> };
  requestAnimationFrame(callback: () => void): number;
}

/** Per chart: the buckets and released buckets it holds, and how many canvas pixels have the line's colour. */
async function chartState(page: Page): Promise<{ zoneId: string; buckets: number; released: number; linePixels: number }[]> {
  return page.evaluate((rgb) => {
    const { document } = globalThis as unknown as PageGlobals;
    return [...document.querySelectorAll('article.zone')].map((card) => {
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
        zoneId: card.dataset.zoneId ?? '',
        buckets: Number(box?.dataset.buckets ?? 0),
        released: Number(box?.dataset.released ?? 0),
        linePixels,
      };
    });
  }, LINE_RGB);
}

async function waitForCharts(page: Page, zoneCount: number, minBuckets = 1): Promise<void> {
  await page.waitForFunction(
    ({ n, min }) => {
      const { document } = globalThis as unknown as PageGlobals;
      const boxes = [...document.querySelectorAll('article.zone .chart')];
      return boxes.length === n && boxes.every((b) => Number(b.dataset.buckets ?? 0) >= min && Number(b.dataset.released ?? 0) > 0);
    },
    { n: zoneCount, min: minBuckets },
    { timeout: 30_000 },
  );
  // The charts draw on the next animation frame after setData.
  await page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals;
    return new Promise<void>((resolve) => g.requestAnimationFrame(() => g.requestAnimationFrame(resolve)));
  });
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').trim();
}

describe.skipIf(!hasChromium)('dashboard in Chromium (Debian package "chromium")', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let stackClosed = false;
  let browser: Browser;
  let zones: ZoneInfo[];

  beforeAll(async () => {
    if (!fs.existsSync(DIST_INDEX)) throw new Error(`${DIST_INDEX} is missing: run \`npm run build\` first (npm test does)`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack({
      k: 2, // low, so even a quiet hour of the simulated day draws a line
      backfillHours: 3,
      zones: [
        { id: 'winkelstraat', name: 'Winkelstraat', sensors: ['s-001', 's-002'] },
        // A name with markup: it must show as these characters, never become an element.
        { id: 'markt', name: 'Markt <img src=x onerror="document.title=1"> & "co"', sensors: ['s-003'] },
      ],
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const res = await fetch(`${stack.baseUrl}/api/v1/zones`);
    zones = (await res.json()) as ZoneInfo[];
  });

  afterAll(async () => {
    await browser?.close();
    if (!stackClosed) await stack?.close();
  });

  async function newContext(options: { locale: string; width?: number; height?: number }): Promise<BrowserContext> {
    return browser.newContext({
      locale: options.locale,
      viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
      serviceWorkers: 'block',
    });
  }

  it('draws every zone with data, in English, with no console errors and no failed or outside requests', async () => {
    expect(zones.length).toBeGreaterThan(0);
    const context = await newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      const problems = watch(page, stack.baseUrl);
      await page.goto(`${stack.baseUrl}/?lang=en`);
      await waitForCharts(page, zones.length);

      const charts = await chartState(page);
      expect(charts.map((c) => c.zoneId)).toEqual(zones.map((z) => z.id));
      for (const chart of charts) {
        expect(chart.buckets, chart.zoneId).toBe(120); // 2 hours of minutes
        expect(chart.released, chart.zoneId).toBeGreaterThan(0);
        expect(chart.linePixels, `${chart.zoneId}: line pixels on the canvas`).toBeGreaterThan(50);
      }
      // Zone names are text, whatever characters they hold.
      expect(zones.some((z) => z.name.includes('<img'))).toBe(true);
      expect(await page.locator('article.zone h2').allTextContents()).toEqual(zones.map((z) => z.name));
      expect(await page.locator('article.zone h2 img').count()).toBe(0);

      expect(await page.getAttribute('html', 'lang')).toBe('en');
      expect(await text(page, 'h1')).toBe('Passant');
      expect(await text(page, '.motto')).toBe('counting is allowed, tracking is not');
      expect(await text(page, 'footer')).toMatch(/fewer than k devices are hidden/);
      await page.waitForSelector('.status[data-state="live"]', { timeout: 15_000 }); // the event stream is open

      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-en.png'), fullPage: true });
      expect(problems).toEqual({ console: [], errors: [], requests: [] });
    } finally {
      await context.close();
    }
  });

  it('switches to Dutch, keeps drawing, and remembers the choice', async () => {
    const context = await newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      const problems = watch(page, stack.baseUrl);
      await page.goto(`${stack.baseUrl}/`);
      await waitForCharts(page, zones.length);
      expect(await text(page, '.motto')).toBe('counting is allowed, tracking is not'); // from navigator.language

      await page.click('button[data-lang="nl"]');
      expect(await page.getAttribute('html', 'lang')).toBe('nl');
      expect(await text(page, '.motto')).toBe('tellen mag, volgen niet');
      expect(await text(page, 'label[for="range-2h"]')).toBe('Laatste 2 uur');
      expect(await text(page, 'footer')).toMatch(/minder dan k apparaten worden verborgen/);
      expect(await page.getAttribute('button[data-lang="nl"]', 'aria-pressed')).toBe('true');
      await waitForCharts(page, zones.length);
      for (const chart of await chartState(page)) expect(chart.linePixels, chart.zoneId).toBeGreaterThan(50);
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-nl.png'), fullPage: true });

      // Without ?lang= the stored choice wins over the browser's English.
      await page.goto(`${stack.baseUrl}/`);
      await waitForCharts(page, zones.length);
      expect(await text(page, '.motto')).toBe('tellen mag, volgen niet');
      expect(problems).toEqual({ console: [], errors: [], requests: [] });
    } finally {
      await context.close();
    }
  });

  it('picks Dutch from a Dutch browser and reloads hourly data for the last 7 days, on a phone-sized screen', async () => {
    const context = await newContext({ locale: 'nl-NL', width: 390, height: 844 });
    try {
      const page = await context.newPage();
      const problems = watch(page, stack.baseUrl);
      await page.goto(`${stack.baseUrl}/`);
      await waitForCharts(page, zones.length);
      expect(await page.getAttribute('html', 'lang')).toBe('nl');

      await page.click('label[for="range-7d"]');
      await waitForCharts(page, zones.length, 168); // 7 days of hours
      for (const chart of await chartState(page)) {
        expect(chart.buckets, chart.zoneId).toBe(168);
        expect(chart.linePixels, chart.zoneId).toBeGreaterThan(0); // a few hours of history: a short line
      }
      expect(new URL(page.url()).searchParams.get('range')).toBe('7d');
      // Nothing is wider than the screen.
      const scrollWidth = await page.evaluate(
      () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
    );
    expect(scrollWidth).toBeLessThanOrEqual(390);
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone-nl.png'), fullPage: true });
      expect(problems).toEqual({ console: [], errors: [], requests: [] });
    } finally {
      await context.close();
    }
  });

  it('draws a minute that arrives over the live stream', async () => {
    const context = await newContext({ locale: 'en-US' });
    const client = await mqtt.connectAsync(stack.mqttUrl, { clientId: `dashboard-test-${process.pid}`, reconnectPeriod: 0 });
    try {
      const page = await context.newPage();
      const problems = watch(page, stack.baseUrl);
      await page.goto(`${stack.baseUrl}/?lang=en`);
      await waitForCharts(page, zones.length);
      await page.waitForSelector('.status[data-state="live"]', { timeout: 15_000 });
      const card = page.locator('article.zone[data-zone-id="markt"]');

      // The next minute of the zone's only sensor (its own simulator has not sent it yet, so this one is first):
      // complete at once, so the aggregator releases it over the event stream without waiting for the settle time.
      const windowStart = Math.floor(Date.now() / 60_000) * 60 + 60;
      const wifi = { ...emptyRadioCounts(), devices: 42, randomized: 30, frames: 300 };
      const message: CountsMessage = { v: 1, sensorId: 's-003', windowStart, windowSeconds: 60, seq: 1_000_000, wifi, ble: emptyRadioCounts(), rssiFloor: null };
      await client.publishAsync(topics.sensorCounts('s-003'), JSON.stringify(message), { qos: 1 });

      // The page counts the minutes it merged from the stream; the zone's latest minute is the one just sent.
      await page.waitForSelector('.status[data-live-events]', { timeout: 20_000 });
      await expect.poll(() => card.locator('.stats dd').first().textContent(), { timeout: 10_000 }).toBe('42');
      expect(Number(await card.locator('.chart').getAttribute('data-released'))).toBeGreaterThan(0);
      expect(problems).toEqual({ console: [], errors: [], requests: [] });
    } finally {
      await client.endAsync();
      await context.close();
    }
  });

  // Last: it stops the stack.
  it('says so, with a retry button, when the server goes away', async () => {
    const context = await newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      const problems = watch(page, stack.baseUrl);
      await page.goto(`${stack.baseUrl}/?lang=en`);
      await waitForCharts(page, zones.length);
      await page.waitForSelector('.status[data-state="live"]', { timeout: 15_000 });
      expect(problems).toEqual({ console: [], errors: [], requests: [] });

      stackClosed = true;
      await stack.close();
      await page.waitForSelector('.banner[data-kind="problem"]:not([hidden])', { timeout: 20_000 });
      expect(await text(page, '.banner')).toMatch(/cannot be reached/);
      expect(await page.isVisible('.banner button.retry')).toBe(true);
      expect(await page.getAttribute('.status', 'data-state')).toBe('down');
      // The charts keep what they had.
      for (const chart of await chartState(page)) expect(chart.released, chart.zoneId).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-server-gone.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
