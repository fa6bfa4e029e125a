/**
 * Parses and checks the query of `GET /api/v1/zones/:id/series`. Every problem is a 400 with a code and a
 * message saying what is wrong. Unknown parameters are rejected (a typo such as `stp=3600` must not silently
 * give minute data).
 */
import { RADIOS, SERIES_STEPS } from '@passant/shared';
import type { Radio, SeriesStep } from '@passant/shared';
import { HttpError } from '../errors.ts';

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
}

const KNOWN = new Set(['from', 'to', 'step', 'radio']);
const DEFAULT_RANGE_SECONDS = 86_400;

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new HttpError(400, 'invalid_parameter', `${name} must be given once, as a plain value`);
  }
  return value;
}

function unixSeconds(query: Record<string, unknown>, name: string): number | undefined {
  const raw = single(query, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,12}$/.test(raw)) {
    throw new HttpError(400, 'invalid_parameter', `${name} must be a time in whole Unix seconds (digits only), got ${JSON.stringify(raw.slice(0, 40))}`);
  }
  return Number(raw);
}

export function parseSeriesQuery(query: Record<string, unknown>, limits: SeriesQueryLimits): ParsedSeriesQuery {
  const unknown = Object.keys(query).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) {
    throw new HttpError(
      400,
      'unknown_parameter',
      `unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => JSON.stringify(u.slice(0, 40))).join(', ')}: use from, to, step, radio`,
    );
  }
  const stepRaw = single(query, 'step');
  let step: SeriesStep = 60;
  if (stepRaw !== undefined) {
    const found = SERIES_STEPS.find((s) => String(s) === stepRaw);
    if (found === undefined) {
      throw new HttpError(400, 'invalid_step', `step must be one of ${SERIES_STEPS.join(', ')} (seconds), got ${JSON.stringify(stepRaw.slice(0, 40))}`);
    }
    step = found;
  }
  const radioRaw = single(query, 'radio');
  let radio: Radio = 'wifi';
  if (radioRaw !== undefined) {
    const found = RADIOS.find((r) => r === radioRaw);
    if (found === undefined) {
      throw new HttpError(400, 'invalid_radio', `radio must be one of ${RADIOS.join(', ')}, got ${JSON.stringify(radioRaw.slice(0, 40))}`);
    }
    radio = found;
  }
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
