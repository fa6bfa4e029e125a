/**
 * Comparing any two periods in the dashboard, in Chromium, against the stack (test/helpers/stack.ts, no sensors) on a
 * store holding weeks of data written straight into SQLite (bench/lib/query-data.ts), one site of three zones. In one
 * period the first zone's daytime hours are hidden (its rollups rewritten as suppressed minutes, through the store),
 * so that period hides clearly more of its minutes than the one it is compared with. A shared URL opens the compare page on the site with those two
 * custom ranges: the change per zone in % is what `GET .../compare-periods` answers for the same query, the caveat
 * names the period with more hidden minutes, the zones are ranked on one scale, the overlay chart (uPlot) has its
 * data table, the choice is in the URL; a preset changes it. An event created through the API shows on the
 * overview's charts (a band and a list) and its "compare" link opens the compare page with the event's period
 * against the same days a week earlier. In English at desktop size and in Dutch at phone size; axe-clean.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore, type Rollup } from '@passant/aggregator';
import { buildQueryStore } from '../bench/lib/query-data.ts';
import {
  ARTIFACTS, newContext, scrollWidth, seriousAxeProblems, startDashboard, text, unexpected, watch, type Dashboard, type PageElement, type PageGlobals,
} from './helpers/dashboard-page.ts';
import type { Stack } from './helpers/stack.ts';
import { requireTool } from './helpers/tools.ts';

const hasChromium = requireTool('chromium', 'chromium');
const NO_PROBLEMS = { console: [], errors: [], requests: [] };
const DAY = 86_400;
const TZ = 'Europe/Amsterdam';
const ZONES = ['zone-00', 'zone-01', 'zone-02'];

interface Side {
  from: number;
  to: number;
  t: number[];
  devices: (number | null)[];
  total: number | null;
  hiddenShare: number | null;
}

interface Comparison {
  offset: number[];
  period: Side;
  against: Side;
  change: number | null;
  caveat: { moreHidden: 'period' | 'against'; difference: number } | null;
  zones?: { id: string; name: string; period: { total: number | null }; against: { total: number | null }; change: number | null }[];
}

/** The local date (YYYY-MM-DD) in Europe/Amsterdam `days` days from now, and its local midnight as Unix seconds. */
function amsterdamDay(days: number): { date: string; t: number } {
  const date = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + days * DAY * 1000));
  return { date, t: amsterdamTime(date, 0) };
}

/** Unix seconds of `date` at `hour`:00 in Europe/Amsterdam. */
function amsterdamTime(date: string, hour: number): number {
  const guess = Date.parse(`${date}T${String(hour).padStart(2, '0')}:00:00Z`) / 1000;
  for (const offset of [1, 2]) {
    const t = guess - offset * 3600;
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', hourCycle: 'h23', day: '2-digit' }).formatToParts(new Date(t * 1000));
    if (Number(local.find((p) => p.type === 'hour')?.value) === hour && date.endsWith(local.find((p) => p.type === 'day')?.value ?? '')) return t;
  }
  throw new Error(`no ${hour}:00 on ${date} in ${TZ}`);
}

describe.skipIf(!hasChromium)('dashboard: any two periods compared, and events on charts, in Chromium (Debian package "chromium")', () => {
  let dashboard: Dashboard | undefined;
  let stack: Stack;
  let browser: Browser;
  let adminToken: string;
  let event: { id: string; name: string; from: number; to: number };
  // The period: three local days ten days ago; compared with the three days a week before them.
  const a = { from: amsterdamDay(-10), to: amsterdamDay(-8), end: amsterdamDay(-7) };
  const b = { from: amsterdamDay(-17), to: amsterdamDay(-15), end: amsterdamDay(-14) };

  async function compareApi(query: Record<string, string | number>): Promise<Comparison> {
    const qs = new URLSearchParams(Object.entries(query).flatMap(([k, v]): [string, string][] => (k === 'kind' || k === 'id' ? [] : [[k, String(v)]])));
    const res = await fetch(`${stack.baseUrl}/api/v1/${query.kind}s/${query.id}/compare-periods?${qs}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Comparison;
  }

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-compare-'));
    const endDay = Math.floor(Date.now() / 1000 / DAY) * DAY + DAY;
    const file = path.join(dir, 'passant.db');
    const data = await buildQueryStore({ file, zoneCount: 3, sensorsPerZone: 1, days: 30, minuteDays: 1, endDay, k: 5 });
    // The first zone hid its daytime (09:00-17:00 UTC) in the period: every minute of those hours below k. Written
    // through the store (its rollups read and written again) before the aggregator opens the file.
    const store = SqliteStore.open(file);
    try {
      const hidden = (r: Rollup): Rollup => ({
        ...r,
        wifi: { ...r.wifi, sum: 0, released: 0, suppressed: 60 },
        ble: { ...r.ble, sum: 0, released: 0, suppressed: 60 },
      });
      const daytimeInPeriod = (t: number) => t >= a.from.t && t < a.end.t && t % DAY >= 9 * 3600 && t % DAY < 17 * 3600;
      const hours = (await store.rollups('zone-00', 3600, a.from.t - DAY, a.end.t + 2 * DAY)).map((r) => (daytimeInPeriod(r.t) ? hidden(r) : r));
      expect(hours.filter((r) => daytimeInPeriod(r.t))).toHaveLength(3 * 8);
      // The day rollups of that zone: the sums of their hours again.
      const days = (await store.rollups('zone-00', 86_400, a.from.t - DAY, a.end.t + DAY)).map((d): Rollup => {
        const of = hours.filter((h) => h.t >= d.t && h.t < d.t + DAY);
        const sum = (radio: 'wifi' | 'ble', field: 'sum' | 'released' | 'suppressed') => of.reduce((n, h) => n + h[radio][field], 0);
        return {
          ...d,
          wifi: { ...d.wifi, sum: sum('wifi', 'sum'), released: sum('wifi', 'released'), suppressed: sum('wifi', 'suppressed') },
          ble: { ...d.ble, sum: sum('ble', 'sum'), released: sum('ble', 'released'), suppressed: sum('ble', 'suppressed') },
        };
      });
      store.importRollups([...hours, ...days]);
    } finally {
      await store.close();
    }
    const zones = data.zones.map((z, i) => ({ ...z, name: ['Winkelstraat', 'Markt', 'Plein'][i]! }));
    dashboard = await startDashboard({
      dataDir: dir,
      simulatedSensors: false, // the store holds the data
      k: 5,
      zones,
      sites: [{ id: 'centrum', name: 'Centrum', zones: ZONES }],
      overrides: {
        aggregator: { id: 'compare-test' },
        auth: { public: { zones: 'all', sites: 'all' } },
        retention: { minuteDays: 1 },
        // Without a rate limit: the page's comparisons of a year of a site (and the test's own questions) read many
        // cells within a minute from one client address; the limit is not what this test is about.
        http: { rateLimitPerMinute: 0 },
      },
    });
    ({ stack, browser } = dashboard);
    adminToken = dashboard.token({ role: 'admin', name: 'compare test' });

    // An event through the API: a market on the Markt three days ago, 08:00-18:00 local time.
    const day = amsterdamDay(-3).date;
    const res = await fetch(`${stack.baseUrl}/api/v1/marked-periods`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Weekmarkt', from: amsterdamTime(day, 8), to: amsterdamTime(day, 18), zones: ['zone-01'] }),
    });
    expect(res.status).toBe(201);
    event = (await res.json()) as typeof event;
  }, 180_000);

  afterAll(async () => {
    await dashboard?.close();
  });

  /** The compare requests the page makes, newest last. */
  function compareRequests(page: Page): URL[] {
    const asked: URL[] = [];
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (url.pathname.endsWith('/compare-periods')) asked.push(url);
    });
    return asked;
  }

  for (const view of [
    { lang: 'en', locale: 'en-GB', width: 1280, height: 800, title: 'Compare two periods', events: 'Events in this period', tab: 'Compare' },
    { lang: 'nl', locale: 'nl-NL', width: 390, height: 844, title: 'Twee perioden vergelijken', events: 'Evenementen in deze periode', tab: 'Vergelijken' },
  ] as const) {
    it(`a shared comparison of a site: change per zone as the API says, the caveat, zones ranked on one scale (${view.lang}, ${view.width} px)`, async () => {
      const context = await newContext(browser, { locale: view.locale, width: view.width, height: view.height, timezoneId: TZ });
      try {
        const page = await context.newPage();
        const problems = watch(page, stack.baseUrl);
        const asked = compareRequests(page);
        const ca = `${a.from.date}_${a.to.date}`;
        const cb = `${b.from.date}_${b.to.date}`;
        await page.goto(`${stack.baseUrl}/?lang=${view.lang}&cmp=site:centrum&ca=${ca}&cb=${cb}&cstep=day#compare`);
        await page.waitForSelector('.compare-page[data-loaded="true"]', { timeout: 30_000 });
        expect(await text(page, '.compare-page h2')).toBe(view.title);
        expect(await text(page, 'nav a[aria-current="page"]')).toBe(view.tab);
        expect(await page.inputValue('#cmp-target')).toBe('site:centrum');
        expect(await page.inputValue('#cmp-ca')).toBe('custom');
        expect(await page.inputValue('#cmp-ca-from')).toBe(a.from.date);
        expect(await page.inputValue('#cmp-cb-to')).toBe(b.to.date);

        // The page asked for local days: Amsterdam midnights, in the browser's time zone.
        const url = asked.at(-1)!;
        expect(Object.fromEntries(url.searchParams)).toMatchObject({
          from: String(a.from.t),
          to: String(a.end.t),
          againstFrom: String(b.from.t),
          againstTo: String(b.end.t),
          step: 'day',
          tz: TZ,
        });
        const api = await compareApi({ kind: 'site', id: 'centrum', ...Object.fromEntries(url.searchParams) });

        // The change and the totals as the API answers them.
        const figures = await page.evaluate(() => {
          const { document } = globalThis as unknown as PageGlobals;
          const data = (sel: string) => document.querySelector(sel)?.dataset ?? {};
          return { change: data('.compare-page .figure-change').change, period: data('.compare-page .figure-current').total, against: data('.compare-page .figure-last').total };
        });
        expect(figures).toEqual({ change: String(api.change), period: String(api.period.total), against: String(api.against.total) });
        expect(api.change).not.toBeNull();

        // The caveat: the period hides clearly more of its minutes.
        expect(api.caveat?.moreHidden).toBe('period');
        const caveat = page.locator('.cmp-caveat');
        await expect.poll(() => caveat.isVisible()).toBe(true);
        expect(await caveat.getAttribute('data-more-hidden')).toBe('period');
        const pct = new Intl.NumberFormat(view.locale, { style: 'percent', maximumFractionDigits: 1 });
        expect(await caveat.textContent()).toContain(pct.format(api.period.hiddenShare!));

        // Zones side by side: in the API's ranking, each change as the API says, bars on one scale.
        const zones = await page.locator('.cmp-zone').evaluateAll((lis) =>
          lis.map((li) => {
            const e = li as unknown as PageElement;
            const [p, q] = [...e.querySelectorAll('.cmp-bar')] as unknown as { style: { width: string } }[];
            return { id: e.dataset.zone, change: e.dataset.change, total: e.dataset.total, widths: [p?.style.width, q?.style.width] };
          }),
        );
        expect(api.zones?.map((z) => z.id).sort()).toEqual(ZONES);
        expect(api.zones?.at(-1)?.id).toBe('zone-00'); // the zone that hid its days ranks last
        const max = Math.max(...api.zones!.flatMap((z) => [z.period.total ?? 0, z.against.total ?? 0]));
        const width = (v: number | null) => `${Math.max(1, Math.round(((v ?? 0) / max) * 100))}%`;
        expect(zones).toEqual(
          api.zones!.map((z) => ({ id: z.id, change: String(z.change), total: String(z.period.total), widths: [width(z.period.total), width(z.against.total)] })),
        );
        const zone00 = api.zones!.find((z) => z.id === 'zone-00')!;
        expect(zone00.change!).toBeLessThan(api.zones!.find((z) => z.id === 'zone-01')!.change! - 10);

        // The overlay chart (uPlot) and its data table: one row per local day, the API's values.
        expect(await page.locator('.cmp-chart canvas').count()).toBe(1);
        expect(await page.getAttribute('.cmp-chart', 'data-buckets')).toBe(String(api.offset.length));
        expect(api.offset.length).toBe(3);
        const rows = await page.locator('.cmp-table tbody tr').evaluateAll((trs) =>
          trs.map((tr) => [...(tr as unknown as PageElement).querySelectorAll('td[data-value]')].map((td) => td.dataset.value)),
        );
        expect(rows).toEqual(api.period.devices.map((v, i) => [String(v ?? ''), String(api.against.devices[i] ?? '')]));
        expect(await seriousAxeProblems(page, '.compare-page')).toEqual([]);
        await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-compare-${view.lang}-${view.width}.png`), fullPage: true });

        // The period for Dutch Excel: `;` between fields, a decimal comma, local days in the file name.
        const download = page.waitForEvent('download');
        await page.click('.cmp-export[data-side="period"][data-format="csv-nl"]');
        const file = await download;
        expect(file.suggestedFilename()).toContain(a.from.date);
        const csv = fs.readFileSync(await file.path(), 'utf8');
        expect(csv.split('\n')[0]).toContain(';');
        expect(csv.trim().split('\n').length).toBeGreaterThanOrEqual(4);

        // A preset: last week against the same length just before; the URL follows, and the page loads it.
        const before = asked.length;
        await page.selectOption('#cmp-ca', 'lastWeek');
        await expect.poll(() => new URL(page.url()).searchParams.get('ca')).toBe('lastWeek');
        await page.selectOption('#cmp-cb', 'before');
        await expect.poll(() => new URL(page.url()).searchParams.get('cb')).toBe('before');
        await expect.poll(() => asked.length).toBeGreaterThan(before);
        await page.waitForSelector('.compare-page[data-loaded="true"]', { timeout: 30_000 });
        const week = asked.at(-1)!;
        expect((Number(week.searchParams.get('to')) - Number(week.searchParams.get('from'))) / 3600).toBeGreaterThanOrEqual(7 * 24 - 1);
        expect(week.searchParams.get('againstTo')).toBe(week.searchParams.get('from'));
        expect(await page.locator('.compare-page .figure-change').getAttribute('data-change')).not.toBe('');

        // This year against the same dates a year earlier, per month: a year before the data nothing was released.
        await page.selectOption('#cmp-step', 'month');
        await page.selectOption('#cmp-ca', 'thisYear');
        await page.selectOption('#cmp-cb', 'yearBefore');
        await expect.poll(() => new URL(page.url()).searchParams.get('cb')).toBe('yearBefore');
        await page.waitForSelector('.compare-page[data-loaded="true"]', { timeout: 30_000 });
        const year = asked.at(-1)!;
        expect([year.searchParams.get('step'), year.searchParams.get('from')]).toEqual(['month', String(amsterdamTime(`${new Date().getFullYear()}-01-01`, 0))]);
        expect(await page.locator('.compare-page .figure-change').getAttribute('data-trend')).toBe('none');
        expect(await page.locator('.cmp-table tbody tr').count()).toBe(12);
        expect(await scrollWidth(page)).toBeLessThanOrEqual(view.width);
        expect(unexpected(problems)).toEqual(NO_PROBLEMS);
      } finally {
        await context.close();
      }
    }, 180_000);

    it(`an event shows on the overview's charts, and "compare" opens it against a week earlier (${view.lang}, ${view.width} px)`, async () => {
      const context = await newContext(browser, { locale: view.locale, width: view.width, height: view.height, timezoneId: TZ });
      try {
        const page = await context.newPage();
        const problems = watch(page, stack.baseUrl);
        const asked = compareRequests(page);
        await page.goto(`${stack.baseUrl}/?lang=${view.lang}&range=7d`);
        const card = page.locator('article.zone[data-zone-id="zone-01"]');
        const item = card.locator(`.card-event[data-event="${event.id}"]`);
        await item.waitFor({ timeout: 30_000 });
        expect(await card.locator('.card-events h3').textContent()).toBe(view.events);
        expect(await item.locator('.card-event-name').textContent()).toBe('Weekmarkt');
        expect(await card.locator('.chart').getAttribute('data-marks')).toBe('1');
        // The site holds the Markt: its chart shows the event too; the other zones' do not.
        expect(await page.locator(`article.site[data-site-id="centrum"] .card-event[data-event="${event.id}"]`).count()).toBe(1);
        expect(await page.locator('article.zone[data-zone-id="zone-00"] .card-events').count()).toBe(0);
        expect(await page.locator('article.zone[data-zone-id="zone-00"] .chart').getAttribute('data-marks')).toBe('0');

        expect(await seriousAxeProblems(page, 'article.zone[data-zone-id="zone-01"]')).toEqual([]);
        await card.screenshot({ path: path.join(ARTIFACTS, `dashboard-compare-event-${view.lang}-${view.width}.png`) });
        await item.locator('a.event-compare').click();
        await page.waitForSelector('#page-compare:not([hidden]) .compare-page[data-loaded="true"]', { timeout: 30_000 });
        const url = new URL(page.url());
        expect(url.hash).toBe('#compare');
        expect([url.searchParams.get('cmp'), url.searchParams.get('ca'), url.searchParams.get('cb')]).toEqual(['zone:zone-01', `event:${event.id}`, 'weekBefore']);
        expect(await page.inputValue('#cmp-ca')).toBe(`event:${event.id}`);
        const q = asked.at(-1)!;
        expect([q.searchParams.get('from'), q.searchParams.get('to'), q.searchParams.get('step')]).toEqual([String(event.from), String(event.to), '3600']);
        expect(Number(q.searchParams.get('againstFrom'))).toBe(event.from - 7 * DAY);
        const api = await compareApi({ kind: 'zone', id: 'zone-01', ...Object.fromEntries(q.searchParams) });
        expect(api.offset.length).toBe(10);
        expect(await page.getAttribute('.compare-page .figure-change', 'data-change')).toBe(String(api.change));
        await page.locator('.compare-page').screenshot({ path: path.join(ARTIFACTS, `dashboard-compare-event-page-${view.lang}-${view.width}.png`) });

        // The link is a shareable address: opened again, the same comparison.
        await page.goto(url.toString());
        await page.waitForSelector('.compare-page[data-loaded="true"]', { timeout: 30_000 });
        expect(await page.getAttribute('.compare-page .figure-change', 'data-change')).toBe(String(api.change));
        expect(await seriousAxeProblems(page, '.compare-page')).toEqual([]);
        expect(await scrollWidth(page)).toBeLessThanOrEqual(view.width);
        expect(unexpected(problems)).toEqual(NO_PROBLEMS);
      } finally {
        await context.close();
      }
    }, 180_000);
  }
});
