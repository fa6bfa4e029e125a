/**
 * One load of the dashboard asks for each resource once: /me with the zone and site lists (one request, not /me,
 * then /zones and /sites), the site's series with its zones' (one request, ?include=zones), every card's comparison
 * and profile, each exactly once, with the event stream open
 * (its opening used to start a second load that fetched all of them again). In English at desktop size and in Dutch at phone size, against a running dashboard.stack.
 * The overview builds none of the tab pages (each is built when its tab first opens), and a chart is drawn once it
 * comes within half a screen of the viewport, not before (dashboard/src/lazy-page.ts, charts.ts).
 */
import { describe, expect, it } from 'vitest';
import { newContext, unexpected, waitForCharts, watch } from './helpers/dashboard-page.ts';
import { dashboardForSuite, townStack } from './helpers/dashboard-suite.ts';
import { requireTool } from './helpers/tools.ts';

const hasChromium = requireTool('chromium', 'chromium');
const NO_PROBLEMS = { console: [], errors: [], requests: [] };

describe.skipIf(!hasChromium)('dashboard loading in Chromium (Debian package "chromium")', () => {
  const dashboard = dashboardForSuite(townStack({ backfillHours: 2 }));

  for (const view of [
    { lang: 'en', locale: 'en-GB', width: 1280, height: 800 },
    { lang: 'nl', locale: 'nl-NL', width: 390, height: 844 },
  ] as const) {
    it(`fetches each resource once per load (${view.lang}, ${view.width} px)`, async () => {
      const context = await newContext(dashboard.browser, { locale: view.locale, width: view.width, height: view.height });
      try {
        const page = await context.newPage();
        const problems = watch(page, dashboard.stack.baseUrl);
        const asked = new Map<string, number>();
        const meQueries: string[] = [];
        const siteSeriesQueries: URLSearchParams[] = [];
        page.on('request', (req) => {
          const { pathname, search, searchParams } = new URL(req.url());
          if (pathname.startsWith('/api/')) asked.set(pathname, (asked.get(pathname) ?? 0) + 1);
          if (pathname === '/api/v1/me') meQueries.push(search);
          if (pathname === '/api/v1/sites/centrum/series') siteSeriesQueries.push(searchParams);
        });
        // The tab pages built so far (each in its box, empty until then).
        const built = () => page.locator('.lazy-page').evaluateAll((boxes) => boxes.filter((b) => b.childElementCount > 0).map((b) => b.getAttribute('data-page')));
        await page.goto(`${dashboard.stack.baseUrl}/?lang=${view.lang}`);
        await waitForCharts(page, 3, 120, { released: 'any' });
        await page.waitForSelector('.status[data-state="live"]', { timeout: 15_000 });
        // The comparison and the heatmap of every card are the last things a load asks for.
        await expect.poll(() => page.locator('.heatmap[data-loaded="true"]').count(), { timeout: 30_000 }).toBe(3);
        await expect.poll(() => page.locator('.compare[data-loaded="true"]').count(), { timeout: 30_000 }).toBe(3);

        // The lists come with /me: /zones and /sites are not asked at all.
        const expected: Record<string, number> = { '/api/v1/me': 1, '/api/v1/events': 1, '/api/v1/marked-periods': 1 };
        for (const card of ['sites/centrum', 'zones/winkelstraat', 'zones/markt']) {
          for (const what of ['compare', 'profile']) expected[`/api/v1/${card}/${what}`] = 1;
        }
        // The zones' series come with the site's: no /zones/{id}/series at all.
        expected['/api/v1/sites/centrum/series'] = 1;
        expect(Object.fromEntries([...asked].sort())).toEqual(Object.fromEntries(Object.entries(expected).sort()));
        expect(meQueries).toEqual(['?include=zones,sites']);
        expect(siteSeriesQueries.map((q) => q.get('include'))).toEqual(['zones']);
        expect(await page.locator('article.card').count()).toBe(3);

        // No tab page was built for the overview.
        expect(await page.locator('.lazy-page').count()).toBe(4);
        expect(await built()).toEqual([]);
        // Every chart within half a screen of the viewport is drawn; on a phone the last card's is not, yet.
        const charts = () =>
          page.locator('article.card .chart').evaluateAll((boxes) => {
            const h = (globalThis as unknown as { innerHeight: number }).innerHeight;
            return boxes.map((box) => {
              const r = box.getBoundingClientRect();
              return { near: r.top < h * 1.5 && r.bottom > -h * 0.5, drawn: (box as unknown as { dataset: Record<string, string | undefined> }).dataset.drawn === '1', canvas: box.querySelector('canvas') !== null };
            });
          });
        await expect.poll(async () => (await charts()).filter((c) => c.near && !(c.drawn && c.canvas)).length, { timeout: 15_000 }).toBe(0);
        if (view.width < 600) {
          const far = (await charts()).filter((c) => !c.near);
          expect(far.length).toBeGreaterThan(0);
          expect(far.every((c) => !c.drawn && !c.canvas)).toBe(true);
          // Scrolled down to the last card, its chart is drawn (and the others near the screen).
          await page.locator('article.card .chart').last().scrollIntoViewIfNeeded();
          await expect.poll(async () => (await charts()).filter((c) => c.near && !(c.drawn && c.canvas)).length, { timeout: 15_000 }).toBe(0);
          expect((await charts()).at(-1)).toMatchObject({ near: true, drawn: true, canvas: true });
        }

        // A tab page is built when its tab is first opened, once (what it shows then is its own tests' subject).
        await page.click('a.tab[data-tab="privacy"]');
        await expect.poll(built, { timeout: 15_000 }).toEqual(['privacy']);
        const privacyPage = await page.locator('.lazy-page[data-page="privacy"] > *').elementHandle();
        await page.click('a.tab[data-tab="compare"]');
        await expect.poll(built, { timeout: 15_000 }).toEqual(['compare', 'privacy']);
        await page.click('a.tab[data-tab="privacy"]');
        await page.waitForSelector('.lazy-page[data-page="privacy"] > *:visible', { timeout: 15_000 });
        expect(await privacyPage!.evaluate((el) => el.isConnected)).toBe(true); // the same page, not a second one
        expect(await built()).toEqual(['compare', 'privacy']);
        expect(unexpected(problems)).toEqual(NO_PROBLEMS);
      } finally {
        await context.close();
      }
    });
  }
});
