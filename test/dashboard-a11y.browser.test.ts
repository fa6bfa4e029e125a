/**
 * Accessibility of every dashboard page in Chromium, checked with axe-core: the overview, the privacy page, the
 * sensors page (admin) and the sign-in panel, in Dutch and in English, at desktop (1280 x 800) and phone (390 x 844)
 * size; no serious or critical violation is allowed (the open data table of a chart is checked on its own: the
 * page with it open takes axe-core minutes on a busy machine). Also what axe cannot judge on its own: every chart has a
 * data table with the same released values as the API (hidden minutes marked), the heatmap's values are reachable
 * by keyboard and by a tap, and the Dutch sensor table stays inside its box.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { newContext, openSignIn, scrollWidth, seriousAxeProblems, signIn, unexpected, waitForCharts, watch, type PageGlobals } from './helpers/dashboard-page.ts';
import { dashboardForSuite, townStack } from './helpers/dashboard-suite.ts';
import { requireTool } from './helpers/tools.ts';

const hasChromium = requireTool('chromium', 'chromium');
const NO_PROBLEMS = { console: [], errors: [], requests: [] };
const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

interface Series {
  t: number[];
  devices: (number | null)[];
  suppressed: number[];
}

describe.skipIf(!hasChromium)('dashboard accessibility in Chromium (Debian package "chromium")', () => {
  const dashboard = dashboardForSuite(townStack());
  let adminToken: string;

  beforeAll(() => {
    adminToken = dashboard.token({ role: 'admin', name: 'a11y' });
  });

  for (const lang of ['nl', 'en'] as const) {
    for (const size of SIZES) {
      it(`has no serious or critical axe violations on any page, ${lang}, ${size.name}`, async () => {
        const context = await newContext(dashboard.browser, { locale: lang === 'nl' ? 'nl-NL' : 'en-GB', width: size.width, height: size.height, timezoneId: 'Europe/Amsterdam' });
        try {
          const page = await context.newPage();
          const problems = watch(page, dashboard.stack.baseUrl);
          const found: Record<string, unknown> = {};
          const check = async (name: string) => {
            const started = Date.now();
            const list = await seriousAxeProblems(page);
            if (Date.now() - started > 20_000) console.log(`axe-core took ${Date.now() - started} ms on the ${name} page`);
            if (list.length > 0) found[name] = list;
            const width = await scrollWidth(page);
            if (width > size.width) found[`${name}: page wider than the screen`] = width;
          };

          await page.goto(`${dashboard.stack.baseUrl}/?lang=${lang}`);
          await waitForCharts(page, 3, 1, { released: 'any' });
          await page.waitForSelector('.heatmap[data-loaded="true"]', { timeout: 30_000 });
          await check('overview');

          await openSignIn(page);
          await check('sign-in');

          await signIn(page, adminToken, { role: 'admin' });
          await page.click('a.tab[data-tab="privacy"]');
          await page.waitForSelector('.audit .audit-table', { timeout: 15_000 });
          await check('privacy');

          await page.click('a.tab[data-tab="sensors"]');
          await page.waitForSelector('.sensor-table tbody tr', { timeout: 15_000 });
          await check('sensors');
          const table = await sensorTableFit(page);
          if (table.tableWidth > table.boxWidth + 1) found['sensors: table wider than its box'] = table;

          expect(found).toEqual({});
          expect(unexpected(problems)).toEqual(NO_PROBLEMS);
        } finally {
          await context.close();
        }
      }, 300_000); // axe-core takes a while over four pages of several hundred elements each
    }
  }

  it('has a data table behind every chart with the released values of the API, hidden minutes marked (en, desktop)', async () => {
    const context = await newContext(dashboard.browser, { locale: 'en-GB', timezoneId: 'Europe/Amsterdam' });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      await page.goto(`${dashboard.stack.baseUrl}/?lang=en`);
      await waitForCharts(page, 3, 120, { released: 'any' });
      const cards = page.locator('article.card');
      expect(await cards.count()).toBe(3);
      expect(await page.locator('article.card .chart-table').count()).toBe(3);
      let hiddenTotal = 0; // rows the table marks hidden (how many depends on the simulated hour: printed, not asserted)
      for (const [kind, id] of [['sites', 'centrum'], ['zones', 'winkelstraat'], ['zones', 'markt']] as const) {
        const card = page.locator(`article.card[data-${kind === 'sites' ? 'site' : 'zone'}-id="${id}"]`);
        expect(await card.locator('.chart-table summary').textContent()).toBe('Values as a table');
        await card.locator('.chart-table summary').click();
        const rows = card.locator('.chart-data tbody tr');
        await expect.poll(() => rows.count()).toBe(120);
        const shown = await rows.evaluateAll((trs) =>
          trs.map((tr) => ({ t: Number(tr.getAttribute('data-t')), state: tr.getAttribute('data-state'), value: tr.getAttribute('data-value'), cells: [...tr.children].map((c) => c.textContent) })),
        );
        const from = shown[0].t;
        const to = shown[shown.length - 1].t + 60;
        const res = await fetch(`${dashboard.stack.baseUrl}/api/v1/${kind}/${id}/series?from=${from}&to=${to}&step=60&radio=wifi`);
        const api = (await res.json()) as Series;
        const byT = new Map(api.t.map((t, i) => [t, i]));
        const settled = Date.now() / 1000 - 300; // the last minutes may still be released while this runs
        let hiddenRows = 0;
        for (const row of shown.filter((r) => r.t < settled)) {
          const i = byT.get(row.t);
          const devices = i === undefined ? null : api.devices[i];
          const suppressed = i === undefined ? 0 : api.suppressed[i];
          const want = devices !== null ? 'value' : suppressed > 0 ? 'hidden' : 'empty';
          expect({ t: row.t, state: row.state, value: row.value, hidden: row.cells[2] }).toEqual({
            t: row.t,
            state: want,
            value: devices === null ? null : String(devices),
            hidden: String(suppressed),
          });
          if (want === 'hidden') {
            hiddenRows++;
            expect(row.cells[1]).toBe('hidden (fewer than k)');
          }
        }
        hiddenTotal += hiddenRows;
      }
      console.log(`data tables: ${hiddenTotal} hidden rows marked`);
      expect(await seriousAxeProblems(page, 'article.zone[data-zone-id="markt"] .chart-table')).toEqual([]);
      expect(await page.locator('article.card .chart-data caption').first().textContent()).toMatch(/^Devices per minute in Centrum, last 2 hours, Wi-Fi$/);
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await context.close();
    }
  });

  it('reaches every heatmap value by keyboard (en, desktop) and by a tap (nl, phone)', async () => {
    const desktop = await newContext(dashboard.browser, { locale: 'en-GB', timezoneId: 'Europe/Amsterdam' });
    try {
      const page = await desktop.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      await page.goto(`${dashboard.stack.baseUrl}/?lang=en`);
      await page.waitForSelector('article.zone[data-zone-id="markt"] .heatmap[data-loaded="true"]', { timeout: 30_000 });
      const grid = page.locator('article.zone[data-zone-id="markt"] .heat-grid');
      // One tab stop per grid: its first cell until another is chosen.
      expect(await grid.locator('.heat-cell[tabindex="0"]').count()).toBe(1);
      await grid.locator('.heat-cell[data-slot="0"]').focus();
      const focused = () => page.evaluate(() => {
        const a = (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }).document.activeElement;
        return { slot: a?.getAttribute('data-slot'), label: a?.getAttribute('aria-label') };
      });
      expect((await focused()).slot).toBe('0');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('End');
      const now = await focused();
      expect(now.slot).toBe(String(24 + 23)); // Tuesday 23:00
      const cell = await grid.locator('.heat-cell[data-slot="47"]').evaluate((c) => ({ title: (c as unknown as { title: string }).title }));
      expect(now.label).toBe(cell.title);
      expect(now.label).toMatch(/^Tue 23:00: /);
      expect(await page.locator('article.zone[data-zone-id="markt"] .heat-readout').textContent()).toBe(now.label);
      expect(await grid.locator('.heat-cell[tabindex="0"]').count()).toBe(1);
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await desktop.close();
    }

    const phone = await newContext(dashboard.browser, { locale: 'nl-NL', width: 390, height: 844, timezoneId: 'Europe/Amsterdam', touch: true });
    try {
      const page = await phone.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      await page.goto(`${dashboard.stack.baseUrl}/`);
      await page.waitForSelector('article.zone[data-zone-id="markt"] .heatmap[data-loaded="true"]', { timeout: 30_000 });
      const card = page.locator('article.zone[data-zone-id="markt"]');
      const painted = card.locator('.heat-cell[data-state="value"]').first();
      await painted.scrollIntoViewIfNeeded();
      await painted.tap();
      const label = await painted.getAttribute('aria-label');
      expect(label).toMatch(/apparaten per minuut/);
      expect(await card.locator('.heat-readout').textContent()).toBe(label);
      expect(await painted.getAttribute('data-selected')).toBe('true');
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await phone.close();
    }
  });
});

/** The sensor table's width against the width of the box it sits in (a wider table overflows at desktop size). */
async function sensorTableFit(page: Page): Promise<{ tableWidth: number; boxWidth: number }> {
  return page.evaluate(() => {
    const d = (globalThis as unknown as { document: { querySelector(s: string): { scrollWidth: number; parentElement: { clientWidth: number } } | null } }).document;
    const table = d.querySelector('.sensor-table');
    return { tableWidth: table?.scrollWidth ?? 0, boxWidth: table?.parentElement.clientWidth ?? 0 };
  });
}

export type { PageGlobals };
