/**
 * The dashboard in a real browser against a running stack (broker, aggregator, simulated sensors, in process):
 * Chromium from Debian, driven by playwright-core. It checks that every zone's chart is drawn with data, that the
 * page makes no failed or outside requests and logs no console errors, that zone names are shown as text, that
 * the language switch changes the texts (and is remembered), that the live stream connects, and that the range
 * choice reloads the charts. Screenshots go to test/artifacts/ (git-ignored) for a person to look at.
 */
import path from 'node:path';
import mqtt from 'mqtt';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyRadioCounts, topics, type CountsMessage } from '@passant/shared';
import { ARTIFACTS, chartState, launchBrowser, newContext as makeContext, scrollWidth, text, waitForCharts, watch } from './helpers/dashboard-page.ts';
import { startStack } from './helpers/stack.ts';
import { requireTool } from './helpers/tools.ts';

const hasChromium = requireTool('chromium', 'chromium');

interface ZoneInfo {
  id: string;
  name: string;
}

describe.skipIf(!hasChromium)('dashboard in Chromium (Debian package "chromium")', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let stackClosed = false;
  let browser: Browser;
  let zones: ZoneInfo[];

  beforeAll(async () => {
    stack = await startStack({
      k: 2, // low, so even a quiet hour of the simulated day draws a line
      backfillHours: 3,
      zones: [
        { id: 'winkelstraat', name: 'Winkelstraat', sensors: ['s-001', 's-002'] },
        // A name with markup: it must show as these characters, never become an element.
        { id: 'markt', name: 'Markt <img src=x onerror="document.title=1"> & "co"', sensors: ['s-003'] },
      ],
      overrides: { baseline: { enabled: false } }, // three hours of history: too short for a sensor's static baseline
    });
    browser = await launchBrowser();
    const res = await fetch(`${stack.baseUrl}/api/v1/zones`);
    zones = (await res.json()) as ZoneInfo[];
  });

  afterAll(async () => {
    await browser?.close();
    if (!stackClosed) await stack?.close();
  });

  async function newContext(options: { locale: string; width?: number; height?: number }): Promise<BrowserContext> {
    return makeContext(browser, options);
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
      expect(charts.map((c) => c.id)).toEqual(zones.map((z) => z.id));
      for (const chart of charts) {
        expect(chart.buckets, chart.id).toBe(120); // 2 hours of minutes
        expect(chart.released, chart.id).toBeGreaterThan(0);
        expect(chart.linePixels, `${chart.id}: line pixels on the canvas`).toBeGreaterThan(50);
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
      for (const chart of await chartState(page)) expect(chart.linePixels, chart.id).toBeGreaterThan(50);
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
        expect(chart.buckets, chart.id).toBe(168);
        expect(chart.linePixels, chart.id).toBeGreaterThan(0); // a few hours of history: a short line
      }
      expect(new URL(page.url()).searchParams.get('range')).toBe('7d');
      // Nothing is wider than the screen.
      expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
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
      for (const chart of await chartState(page)) expect(chart.released, chart.id).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-server-gone.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
