import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Period } from '../src/api.ts';
import {
  HEAT_STOPS,
  cellState,
  dailyTotals,
  heatColor,
  hourLabels,
  localWeekday,
  perMinuteAverage,
  weekComparisonQuery,
  weekStart,
  weekdayNames,
} from '../src/week.ts';

// Local time matters here (the week starts on Monday at local midnight): run these in a zone with DST.
// (Node reads TZ again when it changes.)
beforeAll(() => {
  vi.stubEnv('TZ', 'Europe/Amsterdam');
});
afterAll(() => {
  vi.unstubAllEnvs();
});

const utc = (iso: string) => Date.parse(iso) / 1000;

describe('weekStart', () => {
  it.each([
    // Wednesday 11 March 2026, 15:30 in Amsterdam (UTC+1): Monday 9 March 00:00 local = Sunday 8 March 23:00 UTC.
    ['2026-03-11T14:30:00Z', '2026-03-08T23:00:00Z'],
    // Monday 00:30 local: the same Monday.
    ['2026-03-08T23:30:00Z', '2026-03-08T23:00:00Z'],
    // Sunday 23:59 local belongs to the week before.
    ['2026-03-08T22:59:00Z', '2026-03-01T23:00:00Z'],
    // Summer time (UTC+2): Monday 6 July 00:00 local = Sunday 5 July 22:00 UTC.
    ['2026-07-09T10:00:00Z', '2026-07-05T22:00:00Z'],
    // The week in which the clocks go forward (29 March 2026): it started in winter time.
    ['2026-03-29T12:00:00Z', '2026-03-22T23:00:00Z'],
  ])('at %s is %s', (now, start) => {
    expect(weekStart(utc(now))).toBe(utc(start));
  });
});

describe('weekComparisonQuery', () => {
  it('runs from Monday 00:00 to the start of the current hour, hourly', () => {
    expect(weekComparisonQuery(utc('2026-03-11T14:30:00Z'), 'ble')).toEqual({
      from: utc('2026-03-08T23:00:00Z'),
      to: utc('2026-03-11T14:00:00Z'),
      step: 3600,
      radio: 'ble',
    });
  });

  it('is null in the first hour of the week (no full hour to compare)', () => {
    expect(weekComparisonQuery(utc('2026-03-08T23:40:00Z'), 'wifi')).toBeNull();
  });
});

const period = (from: number, to: number, values: [string, number | null, number?][]): Period => {
  const t = values.map(([iso]) => utc(iso));
  const devices = values.map(([, v]) => v);
  const suppressed = values.map(([, , s]) => s ?? 0);
  const released = devices.filter((v): v is number => v !== null);
  return { from, to, t, devices, suppressed, total: released.length ? released.reduce((a, b) => a + b, 0) : null, suppressedCells: 0 };
};

describe('dailyTotals', () => {
  it('sums released hours per local weekday, up to the last day of the period; nothing released stays null', () => {
    const from = utc('2026-03-08T23:00:00Z'); // Monday 9 March 00:00 local
    const to = utc('2026-03-11T14:00:00Z'); // Wednesday 15:00 local
    const week = 7 * 86_400;
    const current = period(from, to, [
      ['2026-03-08T23:00:00Z', 10], // Monday 00:00 local
      ['2026-03-09T22:00:00Z', 5], // Monday 23:00 local
      ['2026-03-09T23:00:00Z', null, 60], // Tuesday 00:00 local: hidden
      ['2026-03-11T13:00:00Z', 7, 3], // Wednesday 14:00 local
    ]);
    const lastWeek = period(from - week, to - week, [
      ['2026-03-01T23:00:00Z', 4], // Monday a week earlier
      ['2026-03-04T12:00:00Z', 8], // Wednesday a week earlier
    ]);
    expect(dailyTotals(current, lastWeek)).toEqual([
      { weekday: 0, current: 15, lastWeek: 4, currentHidden: 0, lastWeekHidden: 0 },
      { weekday: 1, current: null, lastWeek: null, currentHidden: 60, lastWeekHidden: 0 },
      { weekday: 2, current: 7, lastWeek: 8, currentHidden: 3, lastWeekHidden: 0 },
    ]);
  });

  it('uses local weekdays', () => {
    expect(localWeekday(utc('2026-03-08T22:59:00Z'))).toBe(6); // Sunday 23:59 in Amsterdam
    expect(localWeekday(utc('2026-03-08T23:00:00Z'))).toBe(0); // Monday 00:00
  });
});

describe('perMinuteAverage', () => {
  it('spreads the total over the minutes of the period; null stays null', () => {
    expect(perMinuteAverage({ from: 0, to: 7200, total: 600 })).toBe(5);
    expect(perMinuteAverage({ from: 0, to: 7200, total: null })).toBeNull();
    expect(perMinuteAverage({ from: 0, to: 0, total: 5 })).toBeNull();
  });
});

describe('heatmap helpers', () => {
  it('tells a released hour, a hidden hour and an hour without data apart', () => {
    expect(cellState(12.5, 0)).toBe('value');
    expect(cellState(0, 0)).toBe('value'); // a released zero is a value
    expect(cellState(12.5, 4)).toBe('value'); // partly hidden, but something was released
    expect(cellState(null, 3)).toBe('hidden');
    expect(cellState(null, 0)).toBe('empty');
    expect(cellState(undefined, undefined)).toBe('empty');
  });

  it('colours from the lightest to the darkest stop, clamped', () => {
    const hex = (s: string) => {
      const n = Number.parseInt(s.slice(1), 16);
      return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
    };
    expect(heatColor(0)).toBe(hex(HEAT_STOPS[0]));
    expect(heatColor(1)).toBe(hex(HEAT_STOPS[HEAT_STOPS.length - 1]!));
    expect(heatColor(-3)).toBe(heatColor(0));
    expect(heatColor(7)).toBe(heatColor(1));
    expect(heatColor(Number.NaN)).toBe(heatColor(0));
    expect(heatColor(0.5)).not.toBe(heatColor(0.4));
  });

  it('names the days Monday first and the hours the local way', () => {
    expect(weekdayNames('en-GB')).toEqual(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);
    expect(weekdayNames('nl-NL', 'long')[0]).toBe('maandag');
    const nl = hourLabels('nl-NL');
    expect(nl).toHaveLength(24);
    expect(nl[0]).toBe('00:00');
    expect(nl[15]).toBe('15:00');
    expect(hourLabels('en-US')[15]).toMatch(/^3\sPM$/);
  });
});
