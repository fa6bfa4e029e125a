/**
 * Periods in the dashboard, in Chromium, against the stack (test/helpers/stack.ts, no sensors) on a store holding
 * weeks of data written straight into SQLite (bench/lib/query-data.ts), so the data reach back past the last change to winter time in
 * Europe: the presets (today ... this year) ask for local-time windows; a custom from-to range across that change
 * (in the browser's Europe/Amsterdam) shows a totals table per day whose 25-hour day sums 25 hours of released
 * values, each row equal to the API's own hours summed; every view is a URL that restores it on load. In English
 * at desktop size and in Dutch at phone size.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildQueryStore } from '../bench/lib/query-data.ts';
import { newContext, scrollWidth, startDashboard, unexpected, watch, type Dashboard } from './helpers/dashboard-page.ts';
import type { Stack } from './helpers/stack.ts';
import { requireTool } from './helpers/tools.ts';

const hasChromium = requireTool('chromium', 'chromium');
const NO_PROBLEMS = { console: [], errors: [], requests: [] };
const DAY = 86_400;
const TZ = 'Europe/Amsterdam';

/** The last Sunday of October before today (Europe's change to winter time) as YYYY-MM-DD, and its Unix time. */
function lastWinterChange(now: Date): { date: string; t: number } {
  for (let year = now.getUTCFullYear(); ; year--) {
    const oct31 = Date.UTC(year, 9, 31);
    const sunday = oct31 - new Date(oct31).getUTCDay() * DAY * 1000;
    if (sunday + 2 * DAY * 1000 < now.getTime()) return { date: new Date(sunday).toISOString().slice(0, 10), t: sunday / 1000 };
  }
}

function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T12:00:00Z`) + days * DAY * 1000).toISOString().slice(0, 10);
}

interface Series {
  t: number[];
  devices: (number | null)[];
  suppressed: number[];
}

describe.skipIf(!hasChromium)('dashboard periods in Chromium (Debian package "chromium")', () => {
  let dashboard: Dashboard | undefined;
  let stack: Stack;
  let browser: Browser;
  const change = lastWinterChange(new Date());

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-periods-'));
    const endDay = Math.floor(Date.now() / 1000 / DAY) * DAY + DAY;
    const days = Math.ceil((endDay - change.t) / DAY) + 10;
    const data = await buildQueryStore({ file: path.join(dir, 'passant.db'), zoneCount: 2, sensorsPerZone: 2, days, minuteDays: 1, endDay, k: 5 });
    dashboard = await startDashboard({
      dataDir: dir,
      simulatedSensors: false, // the store holds the data
      k: 5,
      zones: data.zones,
      sites: [],
      overrides: { aggregator: { id: 'periods-test' }, auth: { public: { zones: 'all' } }, retention: { minuteDays: 1 } },
    });
    ({ stack, browser } = dashboard);
  });

  afterAll(async () => {
    await dashboard?.close();
  });

  for (const view of [
    { lang: 'en', locale: 'en-GB', width: 1280, height: 800, perDay: 'Totals per day', from: 'From' },
    { lang: 'nl', locale: 'nl-NL', width: 390, height: 844, perDay: 'Totalen per dag', from: 'Van' },
  ] as const) {
    it(`a custom range across the change to winter time, totals per day, and shareable presets (${view.lang}, ${view.width} px)`, async () => {
      const context = await newContext(browser, { locale: view.locale, width: view.width, height: view.height, timezoneId: TZ });
      try {
        const page = await context.newPage();
        const problems = watch(page, stack.baseUrl);
        const seriesAsked: URL[] = [];
        page.on('request', (req) => {
          const url = new URL(req.url());
          if (url.pathname === '/api/v1/zones/zone-00/series') seriesAsked.push(url);
        });
        await page.goto(`${stack.baseUrl}/?lang=${view.lang}`);
        await page.waitForSelector('article.zone[data-zone-id="zone-00"] .chart[data-buckets="120"]', { timeout: 30_000 });

        // Choose dates: the browser's date fields, then Show.
        const from = shiftDate(change.date, -3);
        const to = shiftDate(change.date, 2);
        await page.click('label[for="range-custom"]');
        await page.waitForSelector('form.custom-range:not([hidden])');
        expect(await page.getAttribute('#custom-from', 'type')).toBe('date');
        expect((await page.locator('label[for="custom-from"]').textContent())?.trim()).toBe(view.from);
        await page.fill('#custom-from', from);
        await page.fill('#custom-to', to);
        await page.locator('form.custom-range button[type="submit"]').click();
        const card = page.locator('article.zone[data-zone-id="zone-00"]');
        await expect.poll(() => card.locator('.totals tbody tr').count(), { timeout: 30_000 }).toBe(6);
        expect(await card.locator('.totals h3').textContent()).toBe(view.perDay);

        // The window asked for: local midnight (summer time, +02:00) to local midnight (winter time, +01:00).
        const asked = seriesAsked.at(-1)!;
        const winFrom = Number(asked.searchParams.get('from'));
        const winTo = Number(asked.searchParams.get('to'));
        expect(new Date(winFrom * 1000).toISOString()).toBe(`${shiftDate(from, -1)}T22:00:00.000Z`);
        expect(new Date(winTo * 1000).toISOString()).toBe(`${to}T23:00:00.000Z`);
        expect((winTo - winFrom) / 3600).toBe(6 * 24 + 1);

        // Each row is the sum of the API's released hours of that local day; the change day has 25 of them.
        const res = await fetch(`${stack.baseUrl}/api/v1/zones/zone-00/series?from=${winFrom}&to=${winTo}&step=3600&radio=wifi`);
        const api = (await res.json()) as Series;
        const rows = await card.locator('.totals tbody tr').evaluateAll((trs) =>
          trs.map((tr) => ({ start: Number(tr.getAttribute('data-start')), total: tr.getAttribute('data-total'), hidden: Number(tr.getAttribute('data-hidden')) })),
        );
        const ends = [...rows.slice(1).map((r) => r.start), winTo];
        rows.forEach((row, i) => {
          let total = 0;
          let hidden = 0;
          let hours = 0;
          api.t.forEach((t, j) => {
            if (t < row.start || t >= ends[i]) return;
            hours++;
            total += api.devices[j] ?? 0;
            hidden += api.suppressed[j] ?? 0;
          });
          expect({ row: i, total: row.total, hidden: row.hidden }).toEqual({ row: i, total: String(total), hidden });
          expect(hours, `hours in local day ${i}`).toBe(i === 3 ? 25 : 24);
        });
        expect(rows[3].start).toBe(change.t - 2 * 3600); // the change day starts at 22:00Z (still summer time)
        expect(rows.some((r) => r.hidden > 0), 'quiet nights have hidden minutes').toBe(true);

        // The chart's data table holds the same hours: the released value per minute and the hidden minutes.
        await card.locator('.chart-table summary').click();
        const tableRows = card.locator('.chart-data tbody tr');
        await expect.poll(() => tableRows.count()).toBe(6 * 24 + 1);
        const shown = await tableRows.evaluateAll((trs) => trs.map((tr) => ({ t: Number(tr.getAttribute('data-t')), hidden: tr.children[2]?.textContent })));
        expect(shown.map((r) => r.t)).toEqual(api.t);
        expect(shown.map((r) => Number(r.hidden))).toEqual(api.suppressed);

        // The view is a URL: reloading it (or sending it to someone) shows the same.
        const url = new URL(page.url());
        expect([url.searchParams.get('range'), url.searchParams.get('from'), url.searchParams.get('to')]).toEqual(['custom', from, to]);
        await page.goto(url.toString());
        await expect.poll(() => page.locator('article.zone[data-zone-id="zone-00"] .totals tbody tr').count(), { timeout: 30_000 }).toBe(6);
        expect(await page.isChecked('#range-custom')).toBe(true);
        expect(await page.inputValue('#custom-to')).toBe(to);

        // Totals per week instead; then a preset: last month, hours summed per local day.
        await page.selectOption('#totals-unit', 'week');
        await expect.poll(() => new URL(page.url()).searchParams.get('per')).toBe('week');
        await expect.poll(() => card.locator('.totals tbody tr').count()).toBe(2);
        await page.click('label[for="range-lastMonth"]');
        await expect.poll(() => new URL(page.url()).searchParams.get('range')).toBe('lastMonth');
        expect(new URL(page.url()).searchParams.has('from')).toBe(false);
        await page.selectOption('#totals-unit', 'day');
        const now = new Date();
        const daysLastMonth = new Date(now.getFullYear(), now.getMonth(), 0).getDate();
        await expect.poll(() => card.locator('.totals tbody tr').count(), { timeout: 30_000 }).toBe(daysLastMonth);

        // Last month's daily totals for Excel: one click gives the API's Dutch export, a row per local day, whose
        // device-minutes are the table's totals.
        const [download] = await Promise.all([page.waitForEvent('download'), card.locator('.totals button[data-format="csv-nl"]').click()]);
        const first = new Date(now.getFullYear(), now.getMonth() - 1, 1);
        const ymd = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
        expect(download.suggestedFilename()).toBe(`passant-zone-zone-00-wifi-${ymd(first)}_${ymd(new Date(now.getFullYear(), now.getMonth(), 0))}-day-nl.csv`);
        const file = fs.readFileSync((await download.path())!, 'utf8').replace(/^\uFEFF/, '').trim().split('\r\n');
        expect(file[0]!.split(';').slice(0, 3)).toEqual(['zone', 'naam', 'radio']);
        const tableTotals = await card.locator('.totals tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-total') ?? ''));
        expect(file.slice(1).map((line) => line.split(';')[6])).toEqual(tableTotals);
        expect(await scrollWidth(page)).toBeLessThanOrEqual(view.width);
        expect(unexpected(problems)).toEqual(NO_PROBLEMS);
      } finally {
        await context.close();
      }
    }, 180_000);
  }
});
