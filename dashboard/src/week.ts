/**
 * Pure helpers for "this week against last week" and the hour-of-week heatmap: which period to ask the API for,
 * per-day totals of a comparison, averages, and the colour and names of heatmap cells. Only released values are
 * used (what the API gives); a day or an hour with nothing released stays empty, never zero. Local time is the
 * browser's (the `Date` methods), so the week starts on Monday at midnight where the reader is.
 */
import type { ComparedPeriod, Period, Radio } from './api.ts';
import type { SeriesQuery } from '@passant/shared';

export const DAYS_PER_WEEK = 7;
export const HOURS_PER_DAY = 24;

/** Monday 00:00 local time of the week that holds `now` (Unix seconds), aligned down to a whole hour. */
export function weekStart(now: number): number {
  const d = new Date(now * 1000);
  const daysSinceMonday = (d.getDay() + 6) % 7;
  const monday = new Date(d.getFullYear(), d.getMonth(), d.getDate() - daysSinceMonday, 0, 0, 0, 0);
  return Math.floor(monday.getTime() / 3_600_000) * 3600;
}

/**
 * The comparison the API is asked for at `now`: from Monday 00:00 to the start of the current hour, in hours
 * (the API adds the same period a week earlier). Null in the first hour of the week, when no full hour has passed.
 */
export function weekComparisonQuery(now: number, radio: Radio): SeriesQuery | null {
  const from = weekStart(now);
  const to = Math.floor(now / 3600) * 3600;
  return to > from ? { from, to, step: 3600, radio } : null;
}

/** Weekday of `t` (Unix seconds) in local time, 0 = Monday. */
export function localWeekday(t: number): number {
  return (new Date(t * 1000).getDay() + 6) % 7;
}

export interface DayTotal {
  /** 0 = Monday. */
  weekday: number;
  /** Sum of the day's released hours, or null when none was released. */
  current: number | null;
  lastWeek: number | null;
  /** Suppressed base cells (minutes) in the day. */
  currentHidden: number;
  lastWeekHidden: number;
}

function addDays(period: Period, into: DayTotal[], key: 'current' | 'lastWeek'): void {
  const hiddenKey = key === 'current' ? 'currentHidden' : 'lastWeekHidden';
  for (let i = 0; i < period.t.length; i++) {
    const day = into[localWeekday(period.t[i]!)];
    if (day === undefined) continue;
    const v = period.devices[i];
    if (v !== null && v !== undefined) day[key] = (day[key] ?? 0) + v;
    day[hiddenKey] += period.suppressed[i] ?? 0;
  }
}

/** Per weekday from Monday up to the weekday of the period's last hour: the sums of both weeks. */
export function dailyTotals(current: Period, lastWeek: Period): DayTotal[] {
  const lastDay = current.to > current.from ? localWeekday(current.to - 1) : 0;
  const days: DayTotal[] = [];
  for (let weekday = 0; weekday <= lastDay; weekday++) {
    days.push({ weekday, current: null, lastWeek: null, currentHidden: 0, lastWeekHidden: 0 });
  }
  addDays(current, days, 'current');
  addDays(lastWeek, days, 'lastWeek');
  return days;
}

/** A period's total spread over its minutes: devices per minute on average (hidden and missing minutes count 0). */
export function perMinuteAverage(period: Pick<Period, 'from' | 'to' | 'total'>): number | null {
  const minutes = (period.to - period.from) / 60;
  return period.total === null || minutes <= 0 ? null : period.total / minutes;
}

/** The change the API computed, or null; kept apart so a missing last week never shows as "+∞" or "0 %". */
export function changeOf(period: ComparedPeriod): number | null {
  return period.change !== null && Number.isFinite(period.change) ? period.change : null;
}

// ---- heatmap ---------------------------------------------------------------------------------------------------

export type CellState = 'value' | 'hidden' | 'empty';

/** A released mean is a value; no mean but suppressed minutes is hidden; neither is empty (no data). */
export function cellState(mean: number | null | undefined, suppressed: number | undefined): CellState {
  if (mean !== null && mean !== undefined) return 'value';
  return (suppressed ?? 0) > 0 ? 'hidden' : 'empty';
}

/** Colour stops of the heatmap, light (few) to dark (many): the dashboard's teal. */
export const HEAT_STOPS = ['#e8f5f3', '#b9e1da', '#7fc5b9', '#43a396', '#0f766e', '#0a4f4a'] as const;

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The colour of a fraction 0..1 of the largest value, interpolated between the stops (out-of-range clamped). */
export function heatColor(fraction: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const pos = f * (HEAT_STOPS.length - 1);
  const i = Math.min(HEAT_STOPS.length - 2, Math.floor(pos));
  const a = rgb(HEAT_STOPS[i]!);
  const b = rgb(HEAT_STOPS[i + 1]!);
  const w = pos - i;
  const mix = a.map((x, j) => Math.round(x + (b[j]! - x) * w));
  return `rgb(${mix[0]}, ${mix[1]}, ${mix[2]})`;
}

/** Dark text reads on the light half of the scale, white on the dark half. */
export function heatTextIsLight(fraction: number): boolean {
  return fraction > 0.55;
}

/** Weekday names Monday first, in the reader's language (`style` as Intl's `weekday`). */
export function weekdayNames(locale: string, style: 'short' | 'long' | 'narrow' = 'short'): string[] {
  return [
    ...remembered(`days ${locale} ${style}`, () => {
      const fmt = new Intl.DateTimeFormat(locale, { weekday: style, timeZone: 'UTC' });
      const monday = Date.UTC(2024, 0, 1); // 1 January 2024 was a Monday
      return Array.from({ length: DAYS_PER_WEEK }, (_, i) => fmt.format(new Date(monday + i * 86_400_000)));
    }),
  ];
}

/**
 * Names made once per locale: every card's heatmap renders them, and making an Intl formatter is slow enough that
 * a page of many cards notices (callers get a copy).
 */
const NAMES = new Map<string, string[]>();
function remembered(key: string, make: () => string[]): string[] {
  let names = NAMES.get(key);
  if (names === undefined) NAMES.set(key, (names = make()));
  return names;
}

/** Hour labels 0..23 in the reader's convention: "14:00", or "2 PM" where clocks count to 12. */
export function hourLabels(locale: string): string[] {
  return [
    ...remembered(`hours ${locale}`, () => {
      const twelve = /^h1[12]$/.test(new Intl.DateTimeFormat(locale, { hour: 'numeric' }).resolvedOptions().hourCycle ?? '');
      const fmt = new Intl.DateTimeFormat(
        locale,
        twelve ? { hour: 'numeric', timeZone: 'UTC' } : { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' },
      );
      return Array.from({ length: HOURS_PER_DAY }, (_, h) => fmt.format(new Date(Date.UTC(2024, 0, 1, h))));
    }),
  ];
}

/** The reader's IANA time zone, or UTC when the browser does not say. */
export function browserTimeZone(): string {
  try {
    const tz = new Intl.DateTimeFormat().resolvedOptions().timeZone;
    return typeof tz === 'string' && tz !== '' ? tz : 'UTC';
  } catch {
    return 'UTC';
  }
}
