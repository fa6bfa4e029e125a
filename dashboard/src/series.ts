/**
 * Pure functions on columnar series (what the API serves and uPlot draws): the time window of a range preset,
 * filling absent buckets with gaps, merging a live minute, trimming to the window, and the figures shown above a
 * chart. Nothing here touches the DOM or the network. A `null` device count is a suppressed or empty bucket: it
 * stays a gap, never a zero.
 */
import type { SeriesResponse, SeriesStep } from '@passant/shared';

export type Series = SeriesResponse;

export const RANGE_IDS = ['2h', '24h', '7d'] as const;
export type RangeId = (typeof RANGE_IDS)[number];

export interface RangePreset {
  seconds: number;
  step: SeriesStep;
}

export const RANGES: Record<RangeId, RangePreset> = {
  '2h': { seconds: 2 * 3600, step: 60 },
  '24h': { seconds: 24 * 3600, step: 60 },
  '7d': { seconds: 7 * 86400, step: 3600 },
};

export function isRangeId(value: unknown): value is RangeId {
  return typeof value === 'string' && (RANGE_IDS as readonly string[]).includes(value);
}

/** A time window [from, to) in Unix seconds, both multiples of `step`. */
export interface TimeWindow {
  from: number;
  to: number;
  step: SeriesStep;
}

/** The window of `preset` at time `now` (seconds): it ends with the bucket that holds `now`. */
export function windowAt(now: number, preset: RangePreset): TimeWindow {
  const to = Math.floor(now / preset.step) * preset.step + preset.step;
  return { from: to - preset.seconds, to, step: preset.step };
}

/** Most buckets a series may hold (a week of minutes): bounds every loop below, whatever the input. */
export const MAX_BUCKETS = 7 * 24 * 60;

export function emptySeries(): Series {
  return { t: [], devices: [], suppressed: [] };
}

/**
 * One bucket for every step in `window`: the buckets of `s` that fall in the window (others dropped, and any
 * time not aligned to the step dropped), a gap (`null`, 0 suppressed) where a bucket is absent.
 */
export function densify(s: Series, window: TimeWindow): Series {
  const { from, to, step } = window;
  const count = Math.min(Math.max(0, Math.ceil((to - from) / step)), MAX_BUCKETS);
  const start = to - count * step; // the most recent buckets when the window is longer than MAX_BUCKETS
  const byT = new Map<number, number>();
  for (let i = 0; i < s.t.length; i++) byT.set(s.t[i], i);
  const out = emptySeries();
  for (let k = 0; k < count; k++) {
    const t = start + k * step;
    const i = byT.get(t);
    out.t.push(t);
    out.devices.push(i === undefined ? null : (s.devices[i] ?? null));
    out.suppressed.push(i === undefined ? 0 : (s.suppressed[i] ?? 0));
  }
  return out;
}

/** A released bucket as a live update carries it. */
export interface Bucket {
  t: number;
  devices: number | null;
  suppressed: number;
}

/**
 * `s` with bucket `b` merged in: an existing bucket at `b.t` is replaced (a minute can be re-released when a late
 * sensor reports); a later bucket is appended after gaps for any skipped steps, so the line never bridges
 * missing minutes; an earlier one is inserted in order. A bucket not aligned to `step` is ignored. The result
 * keeps at most MAX_BUCKETS (the oldest go). `s` is not changed.
 */
export function mergeBucket(s: Series, b: Bucket, step: number): Series {
  if (!Number.isInteger(b.t) || b.t % step !== 0) return s;
  const out: Series = { t: [...s.t], devices: [...s.devices], suppressed: [...s.suppressed] };
  const n = out.t.length;
  const last = n > 0 ? out.t[n - 1] : undefined;
  if (last === undefined || b.t > last) {
    if (last !== undefined) {
      const skipped = (b.t - last) / step - 1;
      if (skipped >= MAX_BUCKETS) return { t: [b.t], devices: [b.devices], suppressed: [b.suppressed] };
      for (let k = 1; k <= skipped; k++) {
        out.t.push(last + k * step);
        out.devices.push(null);
        out.suppressed.push(0);
      }
    }
    out.t.push(b.t);
    out.devices.push(b.devices);
    out.suppressed.push(b.suppressed);
  } else {
    const i = lowerBound(out.t, b.t);
    if (out.t[i] === b.t) {
      out.devices[i] = b.devices;
      out.suppressed[i] = b.suppressed;
    } else {
      out.t.splice(i, 0, b.t);
      out.devices.splice(i, 0, b.devices);
      out.suppressed.splice(i, 0, b.suppressed);
    }
  }
  const excess = out.t.length - MAX_BUCKETS;
  return excess > 0 ? sliceSeries(out, excess, out.t.length) : out;
}

/** The buckets of `s` with `from <= t < to` (`s` is sorted by t). */
export function trimToWindow(s: Series, window: Pick<TimeWindow, 'from' | 'to'>): Series {
  return sliceSeries(s, lowerBound(s.t, window.from), lowerBound(s.t, window.to));
}

function sliceSeries(s: Series, start: number, end: number): Series {
  return { t: s.t.slice(start, end), devices: s.devices.slice(start, end), suppressed: s.suppressed.slice(start, end) };
}

/** First index whose value is >= x in the ascending array `a` (a.length when none). */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Device counts in devices per minute. A bucket of an hour or a day holds the sum of its released minutes, so it
 * is divided by the minutes in it, or, for the bucket still under way at `now`, by the minutes gone so far (a
 * hidden minute counts as 0 there). Gaps stay gaps.
 */
export function perMinute(s: Pick<Series, 't' | 'devices'>, step: number, now: number): (number | null)[] {
  const minutes = step / 60;
  if (minutes <= 1) return [...s.devices];
  return s.devices.map((d, i) => {
    if (d === null) return null;
    const elapsed = Math.floor((now - s.t[i]) / 60);
    return d / Math.min(minutes, Math.max(1, elapsed));
  });
}

export interface SeriesSummary {
  /** The last bucket with a released count, in devices per minute. */
  latest: { t: number; value: number } | null;
  /** The bucket with the highest released count (the latest such), in devices per minute. */
  peak: { t: number; value: number } | null;
  /** Minutes hidden because fewer than k devices were seen (suppressed base cells). */
  hiddenMinutes: number;
  /** Minutes in the window. */
  totalMinutes: number;
}

export function summarize(s: Series, window: TimeWindow, now: number): SeriesSummary {
  const values = perMinute(s, window.step, now);
  let latest: SeriesSummary['latest'] = null;
  let peak: SeriesSummary['peak'] = null;
  let hiddenMinutes = 0;
  for (let i = 0; i < s.t.length; i++) {
    hiddenMinutes += s.suppressed[i] ?? 0;
    const v = values[i];
    if (v === null || v === undefined) continue;
    latest = { t: s.t[i], value: v };
    if (peak === null || v >= peak.value) peak = { t: s.t[i], value: v };
  }
  return { latest, peak, hiddenMinutes, totalMinutes: Math.round((window.to - window.from) / 60) };
}

/** True when every released count is absent (nothing to draw but gaps). */
export function hasReleasedData(s: Series): boolean {
  return s.devices.some((d) => d !== null);
}
