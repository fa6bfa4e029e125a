/**
 * Estimated people on the dashboard, in Chromium, against a running stack: one zone is calibrated through the real
 * `POST /api/v1/zones/{id}/calibrations` with head counts that follow a known relation to its released devices
 * (people = half the devices, give or take half a person), the other is not. The calibrated zone's card shows devices
 * and, labelled as an estimate, the estimated people with their interval, the calibration's date (and, for an admin,
 * its number of counts), in the chart's hover and in its data table; the other shows the calm "not calibrated" state.
 * A third zone carries a calibration of more than a year ago, fitted when 3 devices were always there (written
 * into the calibration database: the route dates every calibration now and fits the baseline it finds, here none)
 * and shows its warnings: the calibration is old, and (to readers of exact values, here the admin: the server checks
 * the baseline only for them) the devices always there moved. An admin uploads counts through the form.
 * In Dutch and English; every number checked against what the API answers for the same minute; axe-clean.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CalibrationStore, calibrationsFileOf, type Calibration as StoredCalibration } from '../aggregator/src/estimate/calibration-store.ts';
import { drawCharts, launchBrowser, newContext, seriousAxeProblems, text, unexpected, waitForCharts, watch } from './helpers/dashboard-page.ts';
import { startStack } from './helpers/stack.ts';
import { requireTool } from './helpers/tools.ts';

const hasChromium = requireTool('chromium', 'chromium');
const TZ = 'Europe/Amsterdam';
const NO_PROBLEMS = { console: [], errors: [], requests: [] };
/** The known relation of the head counts: people = SLOPE x devices (+/- half a person). */
const SLOPE = 0.5;
const COUNTS = 12;

interface Series {
  t: number[];
  devices: (number | null)[];
  suppressed: number[];
  people?: (number | null)[];
  peopleLow?: (number | null)[];
  peopleHigh?: (number | null)[];
  passers?: (number | null)[];
  estimate?: { kind: string | null; calibrationId: string | null; reason: string; calibratedAt?: number | null };
}

interface Calibration {
  id: string;
  kind: string;
  created: number;
  parameters: { a: number };
  points: { used: number };
}

describe.skipIf(!hasChromium)('dashboard estimated people in Chromium (Debian package "chromium")', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let browser: Browser;
  let adminToken: string;
  let calibration: Calibration;

  async function api<T>(p: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
    const res = await fetch(`${stack.baseUrl}${p}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...(init.headers ?? {}) } });
    return { status: res.status, body: (await res.json()) as T };
  }

  async function minutes(zone: string, from: number, to: number): Promise<Series> {
    const { status, body } = await api<Series>(`/api/v1/zones/${zone}/series?from=${from}&to=${to}&step=60&radio=wifi`);
    expect(status).toBe(200);
    return body;
  }

  beforeAll(async () => {
    stack = await startStack({
      k: 2,
      backfillHours: 2,
      zones: [
        { id: 'winkelstraat', name: 'Winkelstraat', sensors: ['s-001', 's-002'] },
        { id: 'markt', name: 'Markt', sensors: ['s-003'] },
        { id: 'plein', name: 'Plein', sensors: ['s-004'] },
      ],
      sites: [],
      // Two hours of history: too short for a sensor's static baseline (it would hide every minute); the baseline
      // is then 0 and x is the released devices.
      overrides: { baseline: { enabled: false } },
    });
    adminToken = stack.aggregator.tokens.create({ role: 'admin', name: 'estimates' }).token;
    browser = await launchBrowser();

    // The backfill is published in the background: wait until an hour of Winkelstraat is released.
    const now = Math.floor(Date.now() / 60_000) * 60;
    let released: { t: number; devices: number }[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await minutes('winkelstraat', now - 7200, now - 300);
      released = s.t.flatMap((t, i) => (s.devices[i] !== null && s.devices[i]! > 0 ? [{ t, devices: s.devices[i]! }] : []));
      if (released.length >= 60 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(released.length).toBeGreaterThanOrEqual(COUNTS);

    // Head counts at COUNTS released minutes spread over the period: half the devices, half a person off either way.
    const step = Math.floor(released.length / COUNTS);
    const counts = Array.from({ length: COUNTS }, (_, i) => {
      const m = released[i * step]!;
      return { from: m.t + 30, to: m.t + 30, people: SLOPE * m.devices + (i % 2 === 0 ? 0.5 : -0.5) };
    });
    const posted = await api<Calibration>('/api/v1/zones/winkelstraat/calibrations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'present', counts }),
    });
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    calibration = posted.body;
    expect(calibration.points.used).toBe(COUNTS);
    // The fit recovers the relation the counts were made with.
    expect(calibration.parameters.a).toBeGreaterThan(SLOPE - 0.05);
    expect(calibration.parameters.a).toBeLessThan(SLOPE + 0.05);

    // The same fit for Plein, made 400 days ago with 3 devices always there (the baseline is 0 now: it is off).
    const store = CalibrationStore.open(calibrationsFileOf(stack.dataDir));
    try {
      const { id: _id, ...fit } = posted.body as unknown as StoredCalibration;
      store.add({ ...fit, parameters: { ...fit.parameters, baseline: 3 }, zoneId: 'plein', created: Math.floor(Date.now() / 1000) - 400 * 86_400 });
    } finally {
      store.close();
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function open(lang: 'nl' | 'en', asAdmin: boolean): Promise<{ page: Page; problems: ReturnType<typeof watch>; close: () => Promise<void> }> {
    const context = await newContext(browser, { locale: lang === 'nl' ? 'nl-NL' : 'en-GB', timezoneId: TZ });
    if (asAdmin) {
      await context.addInitScript((token) => (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem('passant.token', token), adminToken);
    }
    const page = await context.newPage();
    const problems = watch(page, stack.baseUrl);
    await page.goto(`${stack.baseUrl}/?lang=${lang}&range=2h`);
    await waitForCharts(page, 3, 120, { released: 'any' });
    return { page, problems, close: () => context.close() };
  }

  const calibrated = 'article.zone[data-zone-id="winkelstraat"]';
  const uncalibrated = 'article.zone[data-zone-id="markt"]';
  const old = 'article.zone[data-zone-id="plein"]';

  for (const { lang, asAdmin } of [
    { lang: 'nl', asAdmin: false },
    { lang: 'en', asAdmin: true },
  ] as const) {
    it(`shows devices and estimated people for the calibrated zone, "not calibrated" for the other (${lang}, ${asAdmin ? 'admin' : 'public'})`, async () => {
      const { page, problems, close } = await open(lang, asAdmin);
      try {
        const words =
          lang === 'nl'
            ? { people: 'Geschatte personen', badge: 'Schatting', notCalibrated: 'Niet gekalibreerd: alleen apparaten', calibrated: 'Gekalibreerd op', interval: '95%-interval', old: 'meer dan een jaar oud', moved: 'De apparaten die er altijd zijn, zijn veranderd' }
            : { people: 'Estimated people', badge: 'Estimate', notCalibrated: 'Not calibrated: devices only', calibrated: 'Calibrated on', interval: '95 % interval', old: 'more than a year old', moved: 'The devices that are always there changed' };

        // The calibrated zone: devices as before, and the estimate beside them, labelled as one.
        await page.waitForSelector(`${calibrated}[data-estimate="calibrated"] .estimate-value[data-value]`, { timeout: 30_000 });
        expect(await text(page, `${calibrated} .estimate-title`)).toBe(words.people);
        expect(await text(page, `${calibrated} .estimate-badge`)).toBe(words.badge);
        expect(await text(page, `${calibrated} .stats dd`)).toMatch(/^\d/); // the latest devices are still shown
        expect(await page.isVisible(`${calibrated} .key-estimate`)).toBe(true);
        expect(await text(page, `${calibrated} .key-estimate`)).toContain(words.interval);

        // The latest estimate is the API's for that minute, with its interval.
        const shownT = Number(await page.getAttribute(`${calibrated} .estimate-value`, 'data-t'));
        const s = await minutes('winkelstraat', shownT - 3600, shownT + 60);
        expect(s.estimate).toMatchObject({ kind: 'present', calibrationId: calibration.id });
        const i = s.t.indexOf(shownT);
        expect(i).toBeGreaterThanOrEqual(0);
        expect(s.people?.[i]).not.toBeNull();
        expect(Number(await page.getAttribute(`${calibrated} .estimate-value`, 'data-value'))).toBe(s.people![i]);
        expect(Number(await page.getAttribute(`${calibrated} .estimate-value`, 'data-low'))).toBe(s.peopleLow![i]);
        expect(Number(await page.getAttribute(`${calibrated} .estimate-value`, 'data-high'))).toBe(s.peopleHigh![i]);
        expect(s.peopleLow![i]!).toBeLessThanOrEqual(s.people![i]!);
        expect(s.peopleHigh![i]!).toBeGreaterThan(s.people![i]!);
        // The known relation: about half the devices of that minute.
        expect(s.people![i]!).toBeCloseTo(calibration.parameters.a * s.devices[i]!, 1);
        expect(await text(page, `${calibrated} .estimate-interval`)).toContain(words.interval);

        // The calibration's date; its number of counts for an admin (who may read the calibration).
        const note = await text(page, `${calibrated} .estimate-calibration`);
        expect(note).toContain(words.calibrated);
        const date = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: TZ }).format(new Date(calibration.created * 1000));
        expect(note).toContain(date);
        if (asAdmin) {
          await expect.poll(() => page.getAttribute(`${calibrated} .estimate-calibration`, 'data-points'), { timeout: 15_000 }).toBe(String(COUNTS));
          expect(await text(page, `${calibrated} .estimate-calibration`)).toContain(String(COUNTS));
        }
        expect(await page.locator(`${calibrated} .estimate-warnings li`).count()).toBe(0); // a fresh calibration, baseline off

        // The chart draws the estimate, and the hover names it with its interval.
        const estimated = Number(await page.getAttribute(`${calibrated} .chart`, 'data-estimated'));
        expect(estimated).toBeGreaterThan(30);
        await drawCharts(page, `${calibrated} .chart`); // a chart is made when it comes near the screen
        const box = (await page.locator(`${calibrated} .chart .u-over`).boundingBox())!;
        let readout = '';
        for (let x = box.x + box.width - 4; x > box.x + box.width / 2 && !readout.includes(words.people); x -= 7) {
          await page.mouse.move(x, box.y + box.height / 2);
          readout = await text(page, `${calibrated} .readout`);
        }
        expect(readout).toContain(words.people);
        expect(readout).toContain(words.interval);
        await page.mouse.move(0, 0);

        // The data table: estimate and interval columns with the API's values, minute by minute.
        // The details element's toggle event (which builds the table) fires after the click returns: wait for the table.
        await page.locator(`${calibrated} .chart-table-toggle`).click();
        const headerCells = page.locator(`${calibrated} .chart-data thead th`);
        await expect.poll(() => headerCells.count(), { timeout: 15_000 }).toBe(5);
        const headers = await headerCells.allTextContents();
        expect(headers[3]).toContain(words.people);
        expect(headers[4]).toBe(words.interval);
        const rows = await page.locator(`${calibrated} .chart-data tbody tr[data-estimate]`).evaluateAll((trs) =>
          trs.map((tr) => ({ t: Number(tr.getAttribute('data-t')), value: Number(tr.getAttribute('data-estimate')), low: Number(tr.getAttribute('data-low')), high: Number(tr.getAttribute('data-high')) })),
        );
        expect(rows.length).toBe(estimated);
        const all = await minutes('winkelstraat', rows[0]!.t, rows.at(-1)!.t + 60);
        for (const row of rows) {
          const j = all.t.indexOf(row.t);
          expect({ t: row.t, value: row.value, low: row.low, high: row.high }).toEqual({ t: row.t, value: all.people![j], low: all.peopleLow![j], high: all.peopleHigh![j] });
        }
        expect(await seriousAxeProblems(page, `${calibrated} .chart-table`)).toEqual([]);

        // The zone without a calibration: devices only, calmly said, with how to calibrate; no estimate drawn.
        await page.waitForSelector(`${uncalibrated}[data-estimate="uncalibrated"]`, { timeout: 15_000 });
        expect(await text(page, `${uncalibrated} .estimate-title`)).toBe(words.notCalibrated);
        expect(await text(page, `${uncalibrated} .estimate-what`)).toContain('/api/v1/zones/markt/calibrations');
        expect(await page.isVisible(`${uncalibrated} .estimate-value`)).toBe(false);
        expect(await page.isVisible(`${uncalibrated} .estimate-badge`)).toBe(false);
        expect(await page.isVisible(`${uncalibrated} .key-estimate`)).toBe(false);
        expect(await page.getAttribute(`${uncalibrated} .chart`, 'data-estimated')).toBe('0');
        const markt = await minutes('markt', shownT - 600, shownT + 60);
        expect(markt.estimate?.reason).toBe('not_calibrated');

        // The zone calibrated 400 days ago with another baseline: its estimate, with the warnings the API gives.
        await page.waitForSelector(`${old}[data-estimate="calibrated"] .estimate-warnings li[data-warning="calibration_old"]`, { timeout: 15_000 });
        expect(await text(page, `${old} .estimate-warnings li[data-warning="calibration_old"]`)).toContain(words.old);
        if (asAdmin) expect(await text(page, `${old} .estimate-warnings li[data-warning="baseline_moved"]`)).toContain(words.moved);
        expect(await page.locator(`${old} .estimate-warnings li`).count()).toBe(asAdmin ? 2 : 1);

        // What this adds to a card is axe-clean (the whole page is checked by dashboard-a11y.browser.test.ts).
        for (const part of [`${calibrated} .estimate`, `${calibrated} .chart-figure`, `${uncalibrated} .estimate`, `${old} .estimate`]) {
          expect(await seriousAxeProblems(page, part), part).toEqual([]);
        }
        await page.screenshot({ path: `test/artifacts/dashboard-estimates-${lang}.png`, fullPage: true });
        expect(unexpected(problems)).toEqual(NO_PROBLEMS);
      } finally {
        await close();
      }
    }, 180_000);
  }

  it("lets an admin upload manual counts for the uncalibrated zone: the server's refusal, then the fit, then the estimate", async () => {
    const { page, problems, close } = await open('en', true);
    try {
      const form = `${uncalibrated} details.calibrate`;
      await page.locator(`${form} summary`).click();
      expect(await text(page, `${form} summary`)).toBe('Upload manual counts (admin)');
      expect(await seriousAxeProblems(page, form)).toEqual([]);

      // Three head counts: too few to fit, and the page says what the server said.
      const now = Math.floor(Date.now() / 60_000) * 60;
      const s = await minutes('markt', now - 7200, now - 300);
      const released = s.t.flatMap((t, i) => (s.devices[i] !== null && s.devices[i]! > 0 ? [{ t, devices: s.devices[i]! }] : []));
      expect(released.length).toBeGreaterThanOrEqual(COUNTS);
      const line = (m: { t: number; devices: number }, i: number) => `${m.t + 30},,${SLOPE * m.devices + (i % 2 === 0 ? 0.5 : -0.5)}`;
      await page.fill(`${form} textarea`, ['from,to,people', ...released.slice(0, 3).map(line)].join('\n'));
      await page.locator(`${form} button[type="submit"]`).click();
      await page.waitForSelector(`${form} .calibrate-result[data-outcome="refused"]`, { timeout: 15_000 });
      expect(await text(page, `${form} .calibrate-result`)).toMatch(/^Not fitted: cannot fit a calibration: 3 usable counts; at least \d+ are needed/);
      expect(await page.getAttribute(uncalibrated, 'data-estimate')).toBe('uncalibrated');

      // Twelve, as a CSV file: fitted, and the card shows the estimate from the next load on.
      const step = Math.floor(released.length / COUNTS);
      const csv = ['from,to,people', ...Array.from({ length: COUNTS }, (_, i) => line(released[i * step]!, i))].join('\n');
      await page.setInputFiles(`${form} input[type="file"]`, { name: 'markt.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await expect.poll(() => page.inputValue(`${form} textarea`)).toBe(csv);
      await page.locator(`${form} button[type="submit"]`).click();
      await page.waitForSelector(`${form} .calibrate-result[data-outcome="done"]`, { timeout: 15_000 });
      expect(await text(page, `${form} .calibrate-result`)).toMatch(new RegExp(`^Calibration fitted from ${COUNTS} counts: 0\\.\\d+ people per device`));
      await page.waitForSelector(`${uncalibrated}[data-estimate="calibrated"] .estimate-value[data-value]`, { timeout: 30_000 });
      const listed = await api<{ calibrations: Calibration[] }>('/api/v1/zones/markt/calibrations');
      expect(listed.body.calibrations).toHaveLength(1);
      await expect.poll(() => page.getAttribute(`${uncalibrated} .estimate-calibration`, 'data-points'), { timeout: 15_000 }).toBe(String(COUNTS));
      expect(unexpected(problems, { console: [/status of 422/], requests: [/\/calibrations answered 422$/] })).toEqual(NO_PROBLEMS);
    } finally {
      await close();
    }
  }, 120_000);

  it('shows the estimate for the other radio as such: the calibration is for Wi-Fi', async () => {
    const { page, problems, close } = await open('en', false);
    try {
      await page.locator('label[for="radio-ble"]').click();
      await page.waitForSelector(`${calibrated}[data-estimate="otherRadio"]`, { timeout: 30_000 });
      expect(await text(page, `${calibrated} .estimate-title`)).toBe('The calibration of this zone is for Wi-Fi: choose Wi-Fi to see estimated people.');
      expect(await page.getAttribute(`${calibrated} .chart`, 'data-estimated')).toBe('0');
      expect(unexpected(problems)).toEqual(NO_PROBLEMS);
    } finally {
      await close();
    }
  }, 60_000);
});
