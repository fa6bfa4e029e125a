/**
 * Period comparison and the hour-of-week profile, computed only from released series (what the release layer
 * gives the API), so neither can show more than the series themselves do.
 */
import type { SeriesResponse } from '@passant/shared';

export const WEEK_SECONDS = 7 * 86_400;

export interface PeriodSummary {
  /** Sum of the released values of the period, or null when none was released. */
  total: number | null;
  /** Base cells suppressed in the period. */
  suppressedCells: number;
}

export function summarize(series: SeriesResponse): PeriodSummary {
  let total: number | null = null;
  let suppressedCells = 0;
  for (let i = 0; i < series.t.length; i++) {
    const v = series.devices[i];
    if (v !== null && v !== undefined) total = (total ?? 0) + v;
    suppressedCells += series.suppressed[i] ?? 0;
  }
  return { total, suppressedCells };
}

/** Percentage change from `before` to `now`, two decimals; null when either is null or `before` is 0. */
export function percentChange(now: number | null, before: number | null): number | null {
  if (now === null || before === null || before === 0) return null;
  return Math.round(((now - before) / before) * 10_000) / 100;
}

/** The periods a comparison reads: the period, the one before it (same length), the same period a week before. */
export function comparisonPeriods(from: number, to: number): { current: [number, number]; previous: [number, number]; lastWeek: [number, number] } {
  const length = to - from;
  return { current: [from, to], previous: [from - length, from], lastWeek: [from - WEEK_SECONDS, to - WEEK_SECONDS] };
}

/** Hours in a week. */
export const HOURS_OF_WEEK = 168;

const TZ_PATTERN = /^[A-Za-z0-9_+\-/]{1,64}$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The formatter for a time zone name (IANA, such as Europe/Amsterdam, or UTC), or null when this runtime does not
 * know it.
 */
function formatterFor(tz: string): Intl.DateTimeFormat | null {
  const cached = formatters.get(tz);
  if (cached) return cached;
  if (!TZ_PATTERN.test(tz)) return null;
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', hourCycle: 'h23' });
  } catch {
    return null;
  }
  if (formatters.size >= 64) formatters.clear();
  formatters.set(tz, formatter);
  return formatter;
}

export function isKnownTimeZone(tz: string): boolean {
  return formatterFor(tz) !== null;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/**
 * Index of the hour of the week (0 = Monday 00:00-01:00, 167 = Sunday 23:00-24:00) of time `t` in `tz`.
 * A zone whose offset is not a whole number of hours puts each UTC hour at the local hour it starts in.
 */
export function hourOfWeek(t: number, tz = 'UTC'): number {
  if (tz === 'UTC') {
    const day = Math.floor(t / 86_400);
    const weekday = (((day + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday (index 3)
    return weekday * 24 + Math.floor((t - day * 86_400) / 3600);
  }
  const formatter = formatterFor(tz);
  if (formatter === null) throw new RangeError(`unknown time zone ${JSON.stringify(tz.slice(0, 64))}`);
  let weekday = 0;
  let hour = 0;
  for (const part of formatter.formatToParts(new Date(t * 1000))) {
    if (part.type === 'weekday') weekday = WEEKDAYS.indexOf(part.value);
    else if (part.type === 'hour') hour = Number(part.value) % 24;
  }
  return Math.max(0, weekday) * 24 + hour;
}

export interface HourOfWeekProfile {
  /** Mean of the released hourly values in each hour of the week (two decimals), null where none was released. */
  mean: (number | null)[];
  /** Hours that had a released value, per hour of the week. */
  hours: number[];
  /** Suppressed base cells, per hour of the week. */
  suppressed: number[];
}

/** The hour-of-week profile of an hourly released series. */
export function hourOfWeekProfile(hourly: SeriesResponse, tz = 'UTC'): HourOfWeekProfile {
  const sums = new Array<number>(HOURS_OF_WEEK).fill(0);
  const hours = new Array<number>(HOURS_OF_WEEK).fill(0);
  const suppressed = new Array<number>(HOURS_OF_WEEK).fill(0);
  for (let i = 0; i < hourly.t.length; i++) {
    const slot = hourOfWeek(hourly.t[i]!, tz);
    const v = hourly.devices[i];
    if (v !== null && v !== undefined) {
      sums[slot]! += v;
      hours[slot]! += 1;
    }
    suppressed[slot]! += hourly.suppressed[i] ?? 0;
  }
  const mean = sums.map((sum, i) => (hours[i]! > 0 ? Math.round((sum / hours[i]!) * 100) / 100 : null));
  return { mean, hours, suppressed };
}
