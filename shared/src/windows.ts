/**
 * Time windows. All times are Unix seconds; a window of `windowSeconds` starts at a multiple of it,
 * aligned to the clock (UTC), so every sensor's minute 12:03 is the same minute.
 */

export const DEFAULT_WINDOW_SECONDS = 60;

/** Window lengths a sensor may use: divisors of an hour, so windows nest in hours and days. */
export const WINDOW_SECONDS_ALLOWED = [10, 15, 20, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 3600] as const;

export function isAllowedWindowSeconds(s: number): boolean {
  return (WINDOW_SECONDS_ALLOWED as readonly number[]).includes(s);
}

/** Start of the window that holds time `t` (seconds, may be fractional). */
export function windowStartOf(t: number, windowSeconds = DEFAULT_WINDOW_SECONDS): number {
  return Math.floor(t / windowSeconds) * windowSeconds;
}

/** Start of the window that holds the time `ms` given in milliseconds. */
export function windowStartOfMs(ms: number, windowSeconds = DEFAULT_WINDOW_SECONDS): number {
  return Math.floor(ms / 1000 / windowSeconds) * windowSeconds;
}

export function isAligned(t: number, windowSeconds = DEFAULT_WINDOW_SECONDS): boolean {
  return Number.isInteger(t) && t % windowSeconds === 0;
}

/** Window starts from `from` (inclusive) to `to` (exclusive), both aligned down to the window. */
export function windowRange(from: number, to: number, windowSeconds = DEFAULT_WINDOW_SECONDS): number[] {
  const out: number[] = [];
  for (let t = windowStartOf(from, windowSeconds); t < to; t += windowSeconds) out.push(t);
  return out;
}

/** Number of windows from `from` (inclusive) to `to` (exclusive). */
export function windowCount(from: number, to: number, windowSeconds = DEFAULT_WINDOW_SECONDS): number {
  if (to <= from) return 0;
  return Math.ceil((to - windowStartOf(from, windowSeconds)) / windowSeconds);
}

/** Steps the API serves: a minute, an hour, a day. */
export const SERIES_STEPS = [60, 3600, 86400] as const;
export type SeriesStep = (typeof SERIES_STEPS)[number];

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
