import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calendarSpan, checkCustom, formatLocalDate, periodFromQuery, periodToQuery, periodWindow, type Period } from '../src/periods.ts';
import { defaultUnit, isoWeek, totalsBy } from '../src/totals.ts';

// The calendar is the browser's: here Amsterdam's (CET in winter, CEST in summer; clocks go back on 25 Oct 2026).
const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
let savedTz: string | undefined;
beforeAll(() => {
  savedTz = env.TZ;
  env.TZ = 'Europe/Amsterdam';
});
afterAll(() => {
  if (savedTz === undefined) delete env.TZ;
  else env.TZ = savedTz;
});

const at = (iso: string) => Date.parse(iso) / 1000;

describe('periodWindow in local time', () => {
  const now = at('2026-11-04T10:17:00Z'); // Wednesday 4 November 2026, 11:17 in Amsterdam (CET)
  it.each([
    ['today', '2026-11-03T23:00:00Z', '2026-11-04T23:00:00Z', 60],
    ['yesterday', '2026-11-02T23:00:00Z', '2026-11-03T23:00:00Z', 60],
    ['thisWeek', '2026-11-01T23:00:00Z', '2026-11-08T23:00:00Z', 3600],
    ['lastWeek', '2026-10-25T23:00:00Z', '2026-11-01T23:00:00Z', 3600],
    ['thisMonth', '2026-10-31T23:00:00Z', '2026-11-30T23:00:00Z', 3600],
    // October has the 25-hour day: it starts at 22:00Z (CEST) and ends at 23:00Z (CET).
    ['lastMonth', '2026-09-30T22:00:00Z', '2026-10-31T23:00:00Z', 3600],
    ['thisYear', '2025-12-31T23:00:00Z', '2026-12-31T23:00:00Z', 3600],
  ] as const)('%s', (id, from, to, step) => {
    expect(periodWindow({ id }, now)).toEqual({ from: at(from), to: at(to), step });
  });

  it('a custom range of local dates, across the change to winter time, is 8 days and one hour', () => {
    const win = periodWindow({ id: 'custom', custom: { from: '2026-10-20', to: '2026-10-27' } }, now)!;
    expect(win).toEqual({ from: at('2026-10-19T22:00:00Z'), to: at('2026-10-27T23:00:00Z'), step: 3600 });
    expect((win.to - win.from) / 3600).toBe(8 * 24 + 1);
  });

  it('keeps the sliding presets', () => {
    expect(periodWindow({ id: '2h' }, now)).toEqual({ from: at('2026-11-04T08:18:00Z'), to: at('2026-11-04T10:18:00Z'), step: 60 });
  });

  it('refuses a custom range that is not one', () => {
    expect(checkCustom({ from: '2026-10-27', to: '2026-10-20' })).toBeNull();
    expect(checkCustom({ from: '2026-02-30', to: '2026-03-02' })).toBeNull();
    expect(checkCustom({ from: '2024-01-01', to: '2026-01-01' })).toBeNull(); // longer than 400 days
    expect(checkCustom({ from: 'x', to: '2026-01-01' })).toBeNull();
    expect(periodWindow({ id: 'custom', custom: { from: '', to: '' } }, now)).toBeNull();
  });
});

describe('the period in the URL', () => {
  it.each<Period>([{ id: 'lastMonth' }, { id: '7d' }, { id: 'custom', custom: { from: '2026-10-20', to: '2026-10-27' } }])('%j round-trips', (period) => {
    const params = new URLSearchParams('lang=nl&from=2020-01-01&to=2020-01-02');
    periodToQuery(period, params);
    expect(periodFromQuery(params)).toEqual(period);
    if (period.id !== 'custom') expect(params.has('from')).toBe(false);
  });

  it('ignores what it does not know', () => {
    expect(periodFromQuery(new URLSearchParams('range=decade'))).toBeNull();
    expect(periodFromQuery(new URLSearchParams('range=custom&from=2026-10-27&to=2026-10-20'))).toBeNull();
  });
});

describe('totals per local day, week and month', () => {
  // Hourly buckets from 24 to 27 October 2026 (local), every hour 60 device-minutes, one hour hidden.
  const from = at('2026-10-23T22:00:00Z');
  const to = at('2026-10-27T23:00:00Z');
  const t: number[] = [];
  const devices: (number | null)[] = [];
  const suppressed: number[] = [];
  for (let x = from; x < to; x += 3600) {
    t.push(x);
    const hidden = x === at('2026-10-26T11:00:00Z');
    devices.push(hidden ? null : 60);
    suppressed.push(hidden ? 60 : 0);
  }

  it('sums each local day, the 25-hour day included', () => {
    const rows = totalsBy({ t, devices, suppressed }, 'day');
    expect(rows.map((r) => [formatLocalDate(new Date(r.start * 1000)), r.deviceMinutes, r.hiddenMinutes])).toEqual([
      ['2026-10-24', 24 * 60, 0],
      ['2026-10-25', 25 * 60, 0], // clocks go back: 25 hours
      ['2026-10-26', 23 * 60, 60],
      ['2026-10-27', 24 * 60, 0],
    ]);
  });

  it('sums ISO weeks (Monday first) and months', () => {
    const weeks = totalsBy({ t, devices, suppressed }, 'week');
    expect(weeks.map((r) => [formatLocalDate(new Date(r.start * 1000)), r.deviceMinutes])).toEqual([
      ['2026-10-19', 49 * 60],
      ['2026-10-26', 47 * 60],
    ]);
    expect(totalsBy({ t, devices, suppressed }, 'month').map((r) => r.deviceMinutes)).toEqual([96 * 60]);
  });

  it('never turns a fully hidden unit into a zero', () => {
    expect(totalsBy({ t: [at('2026-10-26T11:00:00Z')], devices: [null], suppressed: [60] }, 'day')).toEqual([
      { start: at('2026-10-25T23:00:00Z'), deviceMinutes: null, hiddenMinutes: 60 },
    ]);
  });

  it('numbers ISO weeks and picks a unit that suits the period', () => {
    expect(isoWeek(new Date(2026, 0, 1))).toBe(1);
    expect(isoWeek(new Date(2027, 0, 1))).toBe(53);
    expect(isoWeek(new Date(2026, 10, 4))).toBe(45);
    expect(defaultUnit(31 * 86_400)).toBe('day');
    expect(defaultUnit(91 * 86_400)).toBe('week');
    expect(defaultUnit(365 * 86_400)).toBe('month');
  });

  it('knows the span of a calendar period', () => {
    const span = calendarSpan({ id: 'lastWeek' }, new Date(at('2026-11-04T10:00:00Z') * 1000))!;
    expect([formatLocalDate(span.start), formatLocalDate(span.end)]).toEqual(['2026-10-26', '2026-11-02']);
  });
});
