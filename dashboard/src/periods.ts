/**
 * The periods a reader can pick, in the browser's local time: the sliding ones (the last 2 hours, 24 hours,
 * 7 days), the calendar presets (today, yesterday, this and last week, this and last month, this year) and a
 * custom range of local dates; each as the time window the API is asked for, and as a query string so every view
 * is a shareable URL. Weeks are ISO weeks (Monday first). Pure: no DOM, no network (dates go through `Date`'s
 * local-time fields, so a day of 23 or 25 hours at a daylight-saving change is one local day).
 *
 * The API's `step` is 60 or 3600 here: hour buckets are summed into local days, weeks and months on this side
 * (totals.ts). When the series API takes calendar steps in a time zone (`step=day|week|month&tz=`), long
 * periods and the totals can ask for those instead (see `stepFor`).
 */
import type { SeriesStep } from '@passant/shared';
import { RANGES, windowAt, type TimeWindow } from './series.ts';

export const SLIDING_IDS = ['2h', '24h', '7d'] as const;
export const CALENDAR_IDS = ['today', 'yesterday', 'thisWeek', 'lastWeek', 'thisMonth', 'lastMonth', 'thisYear'] as const;
export const PERIOD_IDS = [...SLIDING_IDS, ...CALENDAR_IDS, 'custom'] as const;
export type PeriodId = (typeof PERIOD_IDS)[number];
export type SlidingId = (typeof SLIDING_IDS)[number];

/** A custom range: first and last local day, inclusive, as `YYYY-MM-DD` (what `<input type=date>` holds). */
export interface CustomRange {
  from: string;
  to: string;
}

export interface Period {
  id: PeriodId;
  /** Only for `custom`. */
  custom?: CustomRange;
}

/** Longest custom range (hourly buckets: 9,600 at most, under the dashboard's bucket limit of a week of minutes). */
export const MAX_CUSTOM_DAYS = 400;
const MINUTE_STEP_MAX_DAYS = 2;

export function isPeriodId(value: unknown): value is PeriodId {
  return typeof value === 'string' && (PERIOD_IDS as readonly string[]).includes(value);
}

export function isSliding(id: PeriodId): id is SlidingId {
  return (SLIDING_IDS as readonly string[]).includes(id);
}

/** A `YYYY-MM-DD` local date as a Date at its local midnight, or null when it is not a real date. */
export function parseLocalDate(text: string | null | undefined): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text ?? '');
  if (m === null) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  const date = new Date(y, mo, d);
  return date.getFullYear() === y && date.getMonth() === mo && date.getDate() === d ? date : null;
}

/** The local date of `date` as `YYYY-MM-DD`. */
export function formatLocalDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Local midnight of the day `days` after the day of `date` (negative: before). */
export function addLocalDays(date: Date, days: number): Date {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() + days);
}

/** Local midnight of the Monday of the ISO week holding `date`. */
export function weekStart(date: Date): Date {
  return addLocalDays(date, -((date.getDay() + 6) % 7));
}

/** Local midnight of the first day of the month holding `date`, `months` later (negative: earlier). */
export function monthStart(date: Date, months = 0): Date {
  return new Date(date.getFullYear(), date.getMonth() + months, 1);
}

/** A custom range that can be asked for: real dates, from <= to, at most MAX_CUSTOM_DAYS days. */
export function checkCustom(range: CustomRange): { from: Date; toExclusive: Date } | null {
  const from = parseLocalDate(range.from);
  const to = parseLocalDate(range.to);
  if (from === null || to === null || to < from) return null;
  const toExclusive = addLocalDays(to, 1);
  if (Math.round((toExclusive.getTime() - from.getTime()) / 86_400_000) > MAX_CUSTOM_DAYS) return null;
  return { from, toExclusive };
}

/**
 * The step for a calendar window: minutes up to two days, hours beyond (hour buckets are summed into local days,
 * weeks and months by totals.ts; with calendar steps in the API, `day` would serve periods of months).
 */
export function stepFor(seconds: number): SeriesStep {
  return seconds <= MINUTE_STEP_MAX_DAYS * 86_400 ? 60 : 3600;
}

/** [start, end) in local time of a calendar period at `now`; null for a sliding or a bad custom one. */
export function calendarSpan(period: Period, now: Date): { start: Date; end: Date } | null {
  const today = addLocalDays(now, 0);
  switch (period.id) {
    case 'today':
      return { start: today, end: addLocalDays(today, 1) };
    case 'yesterday':
      return { start: addLocalDays(today, -1), end: today };
    case 'thisWeek':
      return { start: weekStart(now), end: addLocalDays(weekStart(now), 7) };
    case 'lastWeek':
      return { start: addLocalDays(weekStart(now), -7), end: weekStart(now) };
    case 'thisMonth':
      return { start: monthStart(now), end: monthStart(now, 1) };
    case 'lastMonth':
      return { start: monthStart(now, -1), end: monthStart(now) };
    case 'thisYear':
      return { start: new Date(now.getFullYear(), 0, 1), end: new Date(now.getFullYear() + 1, 0, 1) };
    case 'custom': {
      const checked = period.custom ? checkCustom(period.custom) : null;
      return checked === null ? null : { start: checked.from, end: checked.toExclusive };
    }
    default:
      return null;
  }
}

/**
 * The API window of `period` at `now` (Unix seconds): a sliding one ends with the bucket holding now; a calendar
 * one runs from its first local midnight to its end, both rounded down to the step (a zone offset of whole hours,
 * as in Europe, rounds nothing). Null for a custom range that cannot be asked for.
 */
export function periodWindow(period: Period, nowSeconds: number): TimeWindow | null {
  if (isSliding(period.id)) return windowAt(nowSeconds, RANGES[period.id]);
  const span = calendarSpan(period, new Date(nowSeconds * 1000));
  if (span === null) return null;
  const start = Math.floor(span.start.getTime() / 1000);
  const end = Math.floor(span.end.getTime() / 1000);
  const step = stepFor(end - start);
  return { from: Math.floor(start / step) * step, to: Math.floor(end / step) * step, step };
}

/** The period in a URL query (`range`, and `from` and `to` for a custom range). */
export function periodFromQuery(params: URLSearchParams): Period | null {
  const id = params.get('range');
  if (!isPeriodId(id)) return null;
  if (id !== 'custom') return { id };
  const custom = { from: params.get('from') ?? '', to: params.get('to') ?? '' };
  return checkCustom(custom) === null ? null : { id, custom };
}

/** Writes the period into `params` (and removes what another period had put there). */
export function periodToQuery(period: Period, params: URLSearchParams): void {
  params.set('range', period.id);
  if (period.id === 'custom' && period.custom) {
    params.set('from', period.custom.from);
    params.set('to', period.custom.to);
  } else {
    params.delete('from');
    params.delete('to');
  }
}
