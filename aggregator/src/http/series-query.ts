/**
 * Parses and checks the queries of the series routes (`.../series`, `.../series.csv`, `.../compare`) and of
 * `.../profile`. Every problem is a 400 with a code and a message saying what is wrong. Unknown parameters are
 * rejected (a typo such as `stp=3600` must not silently give minute data).
 */
import { RADIOS, SERIES_STEPS } from '@passant/shared';
import type { Radio, SeriesStep } from '@passant/shared';
import { HttpError } from '../errors.ts';
import { isKnownTimeZone, WEEK_SECONDS } from './compare.ts';
import type { CalendarUnit } from '../release/calendar.ts';
import type { ReferencePeriod } from './estimates.ts';
import { CALENDAR_STEPS, COMPARE_PARAMS, PROFILE_PARAMS, rejectUnknownParams, SERIES_PARAMS, singleParam } from './params.ts';

export interface SeriesQueryLimits {
  /** Now, Unix seconds. */
  now: number;
  maxBuckets: number;
  maxRangeSeconds: number;
}

export interface ParsedSeriesQuery {
  from: number;
  to: number;
  step: SeriesStep;
  radio: Radio;
  /** The index's reference period (`reference=from,to`), when named. */
  reference?: ReferencePeriod;
}

const DEFAULT_RANGE_SECONDS = 86_400;
const single = singleParam;

/** A query parameter in whole Unix seconds (undefined when absent); anything else is a 400. */
export function unixSeconds(query: Record<string, unknown>, name: string): number | undefined {
  const raw = single(query, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,12}$/.test(raw)) {
    throw new HttpError(400, 'invalid_parameter', `${name} must be a time in whole Unix seconds (digits only), got ${JSON.stringify(raw.slice(0, 40))}`);
  }
  return Number(raw);
}

/** A series in calendar buckets (days, ISO weeks, months) of a time zone. */
export interface ParsedCalendarQuery {
  from: number;
  to: number;
  step: CalendarUnit;
  radio: Radio;
  timeZone: string;
  reference?: ReferencePeriod;
}

const CALENDAR_SECONDS: Record<CalendarUnit, number> = { day: 86_400, week: 7 * 86_400, month: 28 * 86_400 };

/**
 * Parses `.../series` and `.../series.csv`: the steps of parseSeriesQuery, or a calendar step (day, week, month;
 * 86400 with a tz other than UTC is day) in `tz` (default UTC). Calendar ranges start at the local bucket that holds
 * `from` (the release layer aligns them).
 */
export function parseSeriesOrCalendarQuery(query: Record<string, unknown>, limits: SeriesQueryLimits): ParsedSeriesQuery | ParsedCalendarQuery {
  rejectUnknownParams(query, SERIES_PARAMS);
  const stepRaw = single(query, 'step');
  const tzRaw = single(query, 'tz');
  if (tzRaw !== undefined && !isKnownTimeZone(tzRaw)) {
    throw new HttpError(400, 'invalid_time_zone', `tz must be an IANA time zone such as Europe/Amsterdam or UTC, got ${JSON.stringify(tzRaw.slice(0, 64))}`);
  }
  const unit = (CALENDAR_STEPS as readonly string[]).includes(stepRaw ?? '')
    ? (stepRaw as CalendarUnit)
    : stepRaw === '86400' && tzRaw !== undefined && tzRaw !== 'UTC'
      ? 'day'
      : undefined;
  if (unit === undefined) return withReference(parseSteps(query, limits), query, limits);
  const radio = parseRadio(query);
  const to = unixSeconds(query, 'to') ?? Math.floor(limits.now);
  const from = unixSeconds(query, 'from') ?? Math.max(0, to - DEFAULT_RANGE_SECONDS);
  if (from > to) throw new HttpError(400, 'invalid_range', `from (${from}) is after to (${to})`);
  if (to - from > limits.maxRangeSeconds) {
    throw new HttpError(
      400,
      'range_too_long',
      `from..to spans ${Math.ceil((to - from) / 86_400)} days; at most ${Math.floor(limits.maxRangeSeconds / 86_400)} days per request`,
    );
  }
  const buckets = Math.ceil((to - from) / CALENDAR_SECONDS[unit]) + 1;
  if (buckets > limits.maxBuckets) {
    throw new HttpError(400, 'too_many_buckets', `from..to in ${unit}s gives up to ${buckets} buckets; at most ${limits.maxBuckets}: use a larger step or a shorter range`);
  }
  return withReference({ from, to, step: unit, radio, timeZone: tzRaw ?? 'UTC' }, query, limits);
}

/**
 * `reference=from,to`, the index's reference period (http/estimates.ts): Unix seconds, aligned down to whole minutes;
 * from before to, at most `maxRangeSeconds` long, and over (to not after now). Absent: no index.
 */
export function parseReference(query: Record<string, unknown>, limits: SeriesQueryLimits): ReferencePeriod | undefined {
  const raw = single(query, 'reference');
  if (raw === undefined) return undefined;
  const m = /^(\d{1,12}),(\d{1,12})$/.exec(raw);
  if (m === null) {
    throw new HttpError(400, 'invalid_reference', `reference must be from,to in whole Unix seconds (e.g. reference=1699315200,1699920000), got ${JSON.stringify(raw.slice(0, 40))}`);
  }
  const from = Math.floor(Number(m[1]) / 60) * 60;
  const to = Math.floor(Number(m[2]) / 60) * 60;
  if (to <= from) throw new HttpError(400, 'invalid_reference', `the reference must end after it starts (in whole minutes): from ${m[1]}, to ${m[2]}`);
  if (to > limits.now) throw new HttpError(400, 'invalid_reference', `the reference ends in the future (${to} is after now, ${Math.floor(limits.now)}): pick a period that is over`);
  if (to - from > limits.maxRangeSeconds) {
    throw new HttpError(
      400,
      'invalid_reference',
      `the reference spans ${Math.ceil((to - from) / 86_400)} days; at most ${Math.floor(limits.maxRangeSeconds / 86_400)} days, as for a series`,
    );
  }
  return { from, to };
}

function withReference<Q extends ParsedSeriesQuery | ParsedCalendarQuery>(parsed: Q, query: Record<string, unknown>, limits: SeriesQueryLimits): Q {
  const reference = parseReference(query, limits);
  return reference === undefined ? parsed : { ...parsed, reference };
}

/** Parses `.../compare` (steps in seconds only). */
export function parseSeriesQuery(query: Record<string, unknown>, limits: SeriesQueryLimits): ParsedSeriesQuery {
  rejectUnknownParams(query, COMPARE_PARAMS);
  return withReference(parseSteps(query, limits), query, limits);
}

function parseSteps(query: Record<string, unknown>, limits: SeriesQueryLimits): ParsedSeriesQuery {
  const stepRaw = single(query, 'step');
  let step: SeriesStep = 60;
  if (stepRaw !== undefined) {
    const found = SERIES_STEPS.find((s) => String(s) === stepRaw);
    if (found === undefined) {
      throw new HttpError(400, 'invalid_step', `step must be one of ${SERIES_STEPS.join(', ')} (seconds), got ${JSON.stringify(stepRaw.slice(0, 40))}`);
    }
    step = found;
  }
  const radio = parseRadio(query);
  const toRaw = unixSeconds(query, 'to') ?? Math.floor(limits.now);
  const fromRaw = unixSeconds(query, 'from') ?? Math.max(0, toRaw - DEFAULT_RANGE_SECONDS);
  if (fromRaw > toRaw) {
    throw new HttpError(400, 'invalid_range', `from (${fromRaw}) is after to (${toRaw})`);
  }
  const from = Math.floor(fromRaw / step) * step;
  const to = Math.floor(toRaw / step) * step;
  if (to - from > limits.maxRangeSeconds) {
    throw new HttpError(
      400,
      'range_too_long',
      `from..to spans ${Math.ceil((to - from) / 86_400)} days; at most ${Math.floor(limits.maxRangeSeconds / 86_400)} days per request`,
    );
  }
  const buckets = (to - from) / step;
  if (buckets > limits.maxBuckets) {
    throw new HttpError(400, 'too_many_buckets', `from..to at step ${step} gives ${buckets} buckets; at most ${limits.maxBuckets}: use a larger step or a shorter range`);
  }
  return { from, to, step, radio };
}

function parseRadio(query: Record<string, unknown>): Radio {
  const radioRaw = single(query, 'radio');
  if (radioRaw === undefined) return 'wifi';
  const found = RADIOS.find((r) => r === radioRaw);
  if (found === undefined) {
    throw new HttpError(400, 'invalid_radio', `radio must be one of ${RADIOS.join(', ')}, got ${JSON.stringify(radioRaw.slice(0, 40))}`);
  }
  return found;
}

export interface ParsedProfileQuery {
  weeks: number;
  radio: Radio;
  tz: string;
  /** First hour looked at, Unix seconds. */
  from: number;
  /** The start of the current hour (exclusive). */
  to: number;
}

export const MAX_PROFILE_WEEKS = 52;

/** Parses `GET .../profile`: weeks (1..52, default 4), radio, tz (default UTC). */
export function parseProfileQuery(query: Record<string, unknown>, limits: SeriesQueryLimits): ParsedProfileQuery {
  rejectUnknownParams(query, PROFILE_PARAMS);
  const weeksRaw = single(query, 'weeks');
  let weeks = 4;
  if (weeksRaw !== undefined) {
    weeks = /^\d{1,2}$/.test(weeksRaw) ? Number(weeksRaw) : NaN;
    if (!(weeks >= 1 && weeks <= MAX_PROFILE_WEEKS)) {
      throw new HttpError(400, 'invalid_parameter', `weeks must be a whole number from 1 to ${MAX_PROFILE_WEEKS}, got ${JSON.stringify(weeksRaw.slice(0, 40))}`);
    }
  }
  if (weeks * WEEK_SECONDS > limits.maxRangeSeconds) {
    throw new HttpError(
      400,
      'range_too_long',
      `${weeks} weeks span ${weeks * 7} days; at most ${Math.floor(limits.maxRangeSeconds / 86_400)} days per request`,
    );
  }
  if (weeks * 168 > limits.maxBuckets) {
    throw new HttpError(400, 'too_many_buckets', `${weeks} weeks are ${weeks * 168} hours; at most ${limits.maxBuckets} buckets per request`);
  }
  const radio = parseRadio(query);
  const tz = single(query, 'tz') ?? 'UTC';
  if (!isKnownTimeZone(tz)) {
    throw new HttpError(400, 'invalid_time_zone', `tz must be an IANA time zone such as Europe/Amsterdam or UTC, got ${JSON.stringify(tz.slice(0, 64))}`);
  }
  const to = Math.floor(limits.now / 3600) * 3600;
  return { weeks, radio, tz, from: to - weeks * WEEK_SECONDS, to };
}
