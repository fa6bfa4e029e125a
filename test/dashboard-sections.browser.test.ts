/**
 * The dashboard's sites, week comparison, hour-of-week heatmap, CSV download, privacy page and sensor health in
 * Chromium, against a running stack with a week of simulated history (the demo's public access: everything
 * readable without a token). What the page shows is checked against what the API answers for the same question,
 * so a number on the page is the released number, not a guess. Screenshots go to test/artifacts/.
 */
import fs from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { countsMessageJsonSchema, emptyRadioCounts, topics, type CountsMessage } from '@passant/shared';
import {
  ARTIFACTS,
  chartState,
  newContext,
  scrollWidth,
  signIn,
  text,
  unexpected,
  waitForCharts,
  watch,
  type PageGlobals,
} from './helpers/dashboard-page.ts';
import { dashboardForSuite } from './helpers/dashboard-suite.ts';
import { TOWN } from './helpers/stack.ts';
import { waitFor } from './helpers/wait.ts';
import { requireTool } from './helpers/tools.ts';

const hasChromium = requireTool('chromium', 'chromium');
const TZ = 'Europe/Amsterdam';
const NO_PROBLEMS = { console: [], errors: [], requests: [] };

interface Period {
  from: number;
  to: number;
  total: number | null;
  suppressedCells: number;
  change?: number | null;
}
interface Comparison {
  current: Period;
  lastWeek: Period;
}
interface Profile {
  tz: string;
  mean: (number | null)[];
  suppressed: number[];
}

/** The state of each heatmap cell of a card, and the colours the page gave them. */
async function heatCells(page: Page, cardSelector: string): Promise<{ state: string; background: string; image: string; title: string }[]> {
  return page.evaluate((selector) => {
    const g = globalThis as unknown as PageGlobals;
    const card = g.document.querySelector(selector);
    return [...(card?.querySelectorAll('.heat-cell') ?? [])].map((cell) => {
      const style = g.getComputedStyle(cell);
      return { state: cell.dataset.state ?? '', background: style.backgroundColor, image: style.backgroundImage, title: cell.title };
    });
  }, cardSelector);
}

function expectedState(mean: number | null | undefined, suppressed: number | undefined): string {
  if (mean !== null && mean !== undefined) return 'value';
  return (suppressed ?? 0) > 0 ? 'hidden' : 'empty';
}

describe.skipIf(!hasChromium)('dashboard sections in Chromium (Debian package "chromium")', () => {
  const dashboard = dashboardForSuite({
    ...TOWN,
    k: 5, // the demo's k: quiet night hours of the smallest zone are hidden, so the heatmap has hidden cells
    backfillHours: 168, // a week: every hour of the week has data (the sensors' outboxes keep a week)
    // The test injects minutes from before the week of backfill (last week's comparison): a sensor has no static
    // baseline that early and would hide them. The rule with the baseline is tested in test/pipeline.test.ts and
    // aggregator/test/release/people-rule.test.ts; here the pages are the subject.
    overrides: { baseline: { enabled: false } },
  });

  async function api<T>(p: string, token?: string): Promise<T> {
    const res = await fetch(`${dashboard.stack.baseUrl}${p}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    expect(res.status, p).toBe(200);
    return (await res.json()) as T;
  }

  beforeAll(async () => {
    // The week of backfill is published in the background: wait until the aggregator has (most of) it; a backfill
    // that does not arrive in 90 s fails the test here.
    const token = dashboard.token({ role: 'privacy', name: 'test: wait for backfill' });
    await waitFor(
      async () => (await api<{ ingest: { stored: number } }>('/api/v1/privacy/audit', token)).ingest.stored >= 3 * 167 * 60,
      'the week of backfill stored',
      90_000,
      500,
    );
  });

  it('shows the site with its zones, this week against last week from the API, and a painted heatmap', async () => {
    const context = await newContext(dashboard.browser, { locale: 'en-GB', timezoneId: TZ });
    const client = await mqtt.connectAsync(dashboard.stack.mqttUrl, { clientId: `dashboard-sections-${process.pid}`, reconnectPeriod: 0 });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      await page.goto(`${dashboard.stack.baseUrl}/?lang=en&range=24h`);
      await waitForCharts(page, 3, 1440, { released: 'any' }); // the site and its two zones

      // The site first (its series is the sum of its zones), then its zones.
      expect(await page.locator('article.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-site-id') ?? c.getAttribute('data-zone-id')))).toEqual([
        'centrum',
        'winkelstraat',
        'markt',
      ]);
      const [site] = await chartState(page, 'site');
      expect(site).toMatchObject({ id: 'centrum', buckets: 1440 });
      expect(site!.linePixels).toBeGreaterThan(50);
      expect(await text(page, 'article.site .card-kind')).toBe('Site');
      expect(await text(page, 'article.site .card-sub')).toContain('Winkelstraat, Markt');
      expect(await page.isVisible('.site-choice label[data-site="centrum"]')).toBe(true);

      // This week against last week: every card has it, and its totals are the API's.
      await page.waitForFunction(() => [...(globalThis as unknown as PageGlobals).document.querySelectorAll('.compare')].every((c) => c.dataset.loaded === 'true'), null, {
        timeout: 30_000,
      });
      const from = Number(await page.getAttribute('article.zone[data-zone-id="markt"] .compare', 'data-from'));
      const to = Number(await page.getAttribute('article.zone[data-zone-id="markt"] .compare', 'data-to'));
      expect(to).toBeGreaterThan(from);
      expect(to % 3600).toBe(0);
      const compare = (kind: string, id: string) => api<Comparison>(`/api/v1/${kind}s/${id}/compare?from=${from}&to=${to}&step=3600&radio=wifi`);
      const totals: Record<string, number | null> = {};
      for (const [kind, id] of [['site', 'centrum'], ['zone', 'winkelstraat'], ['zone', 'markt']] as const) {
        const expected = await compare(kind, id);
        const shown = await page.getAttribute(`article.${kind}[data-${kind}-id="${id}"] .figure-current`, 'data-total');
        expect(shown, `${id}: this week's total`).toBe(expected.current.total === null ? '' : String(expected.current.total));
        totals[id] = expected.current.total;
      }
      expect(totals.winkelstraat).toBeGreaterThan(0);
      // A site's value is the sum of its zones' released values.
      expect(totals.centrum).toBe((totals.winkelstraat ?? 0) + (totals.markt ?? 0));
      expect(await text(page, 'article.zone[data-zone-id="winkelstraat"] .figure-current .figure-value')).toMatch(/^\d[\d,.]*$/);
      const dayBars = await page.locator('article.zone[data-zone-id="winkelstraat"] .day-bar-current[data-empty="false"]').count();
      expect(dayBars).toBeGreaterThan(0);

      // Last week: ten known minutes of Markt at the start of the same period a week earlier (before the week of
      // backfill began), so the change is a real number the test can check.
      const lastWeekStart = from - 7 * 86_400;
      for (let i = 0; i < 10; i++) {
        const message: CountsMessage = {
          v: 1,
          sensorId: 's-003',
          windowStart: lastWeekStart + i * 60,
          windowSeconds: 60,
          seq: 2_000_000 + i,
          wifi: { ...emptyRadioCounts(), devices: 50, randomized: 40, frames: 200 },
          ble: emptyRadioCounts(),
          rssiFloor: null,
        };
        await client.publishAsync(topics.sensorCounts('s-003'), JSON.stringify(message), { qos: 1 });
      }
      await expect.poll(async () => (await compare('zone', 'markt')).lastWeek.total, { timeout: 15_000 }).toBeGreaterThanOrEqual(500);
      const markt = await compare('zone', 'markt');
      expect(markt.lastWeek.change).not.toBeNull();
      await page.reload();
      await waitForCharts(page, 3, 1440, { released: 'any' });
      const change = page.locator('article.zone[data-zone-id="markt"] .figure-change');
      await expect.poll(() => change.getAttribute('data-change'), { timeout: 30_000 }).toBe(String(markt.lastWeek.change));
      expect(await page.getAttribute('article.zone[data-zone-id="markt"] .figure-last', 'data-total')).toBe(String(markt.lastWeek.total));
      const pct = new Intl.NumberFormat('en-GB', { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(markt.lastWeek.change! / 100);
      expect(await text(page, 'article.zone[data-zone-id="markt"] .figure-change .figure-value')).toBe(pct);
      expect(await page.getAttribute('article.zone[data-zone-id="markt"] .figure-change', 'data-trend')).toBe(markt.lastWeek.change! > 0 ? 'up' : 'down');

      // The heatmap: every cell as the API's profile says (in the browser's time zone), with local day names.
      await page.waitForFunction(() => [...(globalThis as unknown as PageGlobals).document.querySelectorAll('.heatmap')].every((h) => h.dataset.loaded === 'true'), null, {
        timeout: 30_000,
      });
      expect(await page.locator('article.zone[data-zone-id="markt"] .heat-day').allTextContents()).toEqual(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);
      expect(await text(page, 'article.zone[data-zone-id="markt"] .heatmap .detail-note')).toContain(TZ);
      for (const [kind, id] of [['site', 'centrum'], ['zone', 'winkelstraat'], ['zone', 'markt']] as const) {
        const profile = await api<Profile>(`/api/v1/${kind}s/${id}/profile?weeks=4&radio=wifi&tz=${encodeURIComponent(TZ)}`);
        const cells = await heatCells(page, `article.${kind}[data-${kind}-id="${id}"]`);
        expect(cells).toHaveLength(168);
        expect(cells.map((c) => c.state), id).toEqual(profile.mean.map((m, i) => expectedState(m, profile.suppressed[i])));
        const values = cells.filter((c) => c.state === 'value');
        // Most of the week is painted; quiet night hours are hidden (no sensor of the zone hears k devices).
        expect(values.length, `${id}: painted cells`).toBeGreaterThan(84);
        // Painted: a scale of colours, none of them the blank of an empty cell.
        expect(new Set(values.map((c) => c.background)).size).toBeGreaterThan(5);
        const empty = '#f7f8fa'.match(/\w\w/g)!.map((h) => Number.parseInt(h, 16)).join(', ');
        for (const cell of values) expect(cell.background).not.toBe(`rgb(${empty})`);
        for (const cell of cells.filter((c) => c.state === 'hidden')) {
          expect(cell.image).toContain('repeating-linear-gradient'); // hatched, like the charts' hidden minutes
          expect(cell.title).toMatch(/hidden \(fewer than k devices\)/);
        }
        for (const cell of values) expect(cell.title).toMatch(/devices per minute/);
      }
      const marktCells = await heatCells(page, 'article.zone[data-zone-id="markt"]');
      expect(marktCells.some((c) => c.state === 'hidden'), 'Markt has hidden night hours at k = 5').toBe(true);
      expect(await text(page, 'article.zone[data-zone-id="winkelstraat"] .heatmap .detail-summary')).toMatch(/^Busiest hour: \w+day \d\d:00, [\d.,]+ devices per minute\.$/);

      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-sections-en.png'), fullPage: true });
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await client.endAsync();
      await context.close();
    }
  });

  it('downloads the current series as CSV with the same choice as the chart', async () => {
    const context = await newContext(dashboard.browser, { locale: 'en-GB' });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      await page.goto(`${dashboard.stack.baseUrl}/?lang=en&range=24h&radio=ble`);
      await waitForCharts(page, 3, 1440, { released: 'any' });
      const card = page.locator('article.zone[data-zone-id="winkelstraat"]');
      const href = (await card.locator('a.csv-button').getAttribute('href')) ?? '';
      const params = new URL(href, dashboard.stack.baseUrl).searchParams;
      expect(new URL(href, dashboard.stack.baseUrl).pathname).toBe('/api/v1/zones/winkelstraat/series.csv');
      expect(params.get('step')).toBe('60');
      expect(params.get('radio')).toBe('ble');
      expect(Number(params.get('to')) - Number(params.get('from'))).toBe(86_400);

      const [download] = await Promise.all([page.waitForEvent('download'), card.locator('a.csv-button').click()]);
      expect(download.suggestedFilename()).toMatch(/^passant-zone-winkelstraat-ble-\d+-\d+-60\.csv$/);
      const file = await download.path();
      const lines = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/);
      expect(lines[0]).toBe('zone,name,radio,time,unix,devices,suppressed');
      expect(lines.length - 1).toBe(24 * 60);
      expect(lines.slice(1).every((l) => l.startsWith('winkelstraat,Winkelstraat,ble,'))).toBe(true);
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await context.close();
    }
  });

  it('shows the privacy page: k, the hidden share, retention and every field a sensor sends, in Dutch', async () => {
    const context = await newContext(dashboard.browser, { locale: 'nl-NL' });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      await page.goto(`${dashboard.stack.baseUrl}/?lang=nl#privacy`);
      await page.waitForSelector('.schema[data-fields]', { timeout: 15_000 });
      expect(await page.isHidden('#page-overview')).toBe(true);
      expect(await page.getAttribute('a.tab[data-tab="privacy"]', 'aria-current')).toBe('page');
      expect(await text(page, '.privacy-motto')).toBe('tellen mag, volgen niet');
      expect(await text(page, '.fact[data-fact="k"] .fact-value')).toBe('k = 5');
      expect(await text(page, '.fact[data-fact="k"] .fact-note')).toContain('minstens 5 apparaten hoorde naast de apparaten die hij altijd hoort');
      expect(await text(page, '.fact[data-fact="retention"]')).toMatch(/Tellingen per minuut\s*31 dagen/);
      expect(await text(page, '.fact[data-fact="suppressed-share"]')).toMatch(/Wifi\s*\d+(,\d)?\s?%/);

      // Every field of the counts message schema, nested ones as dotted paths, and nothing more.
      const schema = countsMessageJsonSchema() as { properties: Record<string, { properties?: Record<string, unknown> }> };
      const expected = Object.entries(schema.properties).flatMap(([name, field]) => [name, ...Object.keys(field.properties ?? {}).map((sub) => `${name}.${sub}`)]);
      expect(await page.locator('.schema-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-field')))).toEqual(expected);
      const devices = page.locator('.schema-table tr[data-field="wifi.devices"] td');
      expect(await devices.allTextContents()).toEqual(['geheel getal', '0 tot en met 10.000.000', 'Hoeveel verschillende apparaten in het venster gezien zijn.']);
      expect(await text(page, '.schema .panel-lead')).toMatch(/wordt geweigerd/);
      expect(await page.locator('.audit').count()).toBe(0); // the audit is for admin and privacy tokens

      // English on the same page.
      await page.click('button[data-lang="en"]');
      expect(await text(page, '.privacy-motto')).toBe('counting is allowed, tracking is not');
      expect(await page.locator('.schema-table tr[data-field="rssiFloor"] td').first().textContent()).toBe('whole number or empty (null)');
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-privacy-en.png'), fullPage: true });
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await context.close();
    }
  });

  it('shows sensor health (never counts) and the audit to an admin token', async () => {
    const token = dashboard.token({ role: 'admin', name: 'ops' });
    const context = await newContext(dashboard.browser, { locale: 'en-GB' });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      await page.goto(`${dashboard.stack.baseUrl}/?lang=en`);
      await waitForCharts(page, 3, 120, { released: 'any' });
      expect(await page.isHidden('a.tab[data-tab="sensors"]')).toBe(true); // the public has no sensor health
      await signIn(page, token, { open: true, role: 'admin' });
      expect(await text(page, '.account-role')).toBe('Signed in: Admin · ops');

      await page.click('a.tab[data-tab="sensors"]');
      await page.waitForSelector('.sensor-table tbody tr', { timeout: 15_000 });
      expect(await page.locator('.sensor-table thead th').allTextContents()).toEqual([
        'Sensor',
        'Zone',
        'State',
        'Last message',
        'Messages, last hour',
        'Missing minutes, last hour',
        'Missing minutes, last day',
        'Always there (Wi-Fi / BLE)',
        'Version',
      ]);
      const rows = page.locator('.sensor-table tbody tr');
      expect(await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-sensor-id'), tr.children[1]?.textContent, tr.getAttribute('data-state')]))).toEqual([
        ['s-001', 'Winkelstraat', 'online'],
        ['s-002', 'Winkelstraat', 'online'],
        ['s-003', 'Markt', 'online'],
      ]);
      const report = await api<{ sensors: { sensorId: string; messagesLastHour: number; baseline?: { wifi: number | null; ble: number | null } }[] }>('/api/v1/sensors', token);
      const shownMessages = await rows.evaluateAll((trs) => trs.map((tr) => tr.children[4]?.textContent));
      expect(shownMessages).toEqual(report.sensors.map((s) => String(s.messagesLastHour)));
      // the static baseline an admin sees: the report's, per radio ("learning" while unknown)
      const baselines = await rows.evaluateAll((trs) => trs.map((tr) => [tr.children[7]?.getAttribute('data-wifi'), tr.children[7]?.getAttribute('data-ble')]));
      expect(baselines).toEqual(report.sensors.map((s) => [String(s.baseline!.wifi), String(s.baseline!.ble)]));
      expect(await text(page, '.sensor-summary')).toBe('3 online · 0 offline · 0 unknown');
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-sensors-en.png'), fullPage: true });

      await page.click('a.tab[data-tab="privacy"]');
      await page.waitForSelector('.audit .audit-table', { timeout: 15_000 });
      expect(Number((await text(page, '.audit tr[data-audit="stored"] td')).replace(/\D/g, ''))).toBeGreaterThan(1000);

      await page.click('.account-signout');
      await page.waitForSelector('.account-signin:not([hidden])');
      expect(await page.isHidden('a.tab[data-tab="sensors"]')).toBe(true);
      expect(await page.locator('.audit').count()).toBe(0);
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await context.close();
    }
  });

  it('fits a phone: sections stack, nothing is wider than the screen', async () => {
    const context = await newContext(dashboard.browser, { locale: 'nl-NL', width: 390, height: 844, timezoneId: TZ });
    try {
      const page = await context.newPage();
      const problems = watch(page, dashboard.stack.baseUrl);
      await page.goto(`${dashboard.stack.baseUrl}/?range=24h`);
      await waitForCharts(page, 3, 1440, { released: 'any' });
      await page.waitForSelector('article.zone[data-zone-id="markt"] .heatmap[data-loaded="true"]', { timeout: 30_000 });
      expect(await page.locator('article.zone[data-zone-id="markt"] .heat-day').allTextContents()).toEqual(['ma', 'di', 'wo', 'do', 'vr', 'za', 'zo']);
      expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-sections-phone-nl.png'), fullPage: true });
      await page.click('a.tab[data-tab="privacy"]');
      await page.waitForSelector('.schema[data-fields]', { timeout: 15_000 });
      expect(await scrollWidth(page)).toBeLessThanOrEqual(390); // the field table scrolls inside its box
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-privacy-phone-nl.png'), fullPage: true });
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await context.close();
    }
  });
});
