/**
 * The simulator's day curve (simulator.ts): how busy a shopping street is at each hour of the week, as a share of
 * the week's peak. Arrivals are thinned by it.
 */

const HOUR_MS = 3_600_000;

/**
 * Relative traffic per local hour (0-23), peak of the week = 1: a shopping street. Weekdays build up to the late
 * afternoon, Friday has a longer evening, Saturday is the busiest day, Sunday afternoon is quieter.
 */
const WEEKDAY = [0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.12, 0.22, 0.32, 0.42, 0.52, 0.62, 0.6, 0.6, 0.64, 0.7, 0.62, 0.45, 0.3, 0.2, 0.12, 0.07, 0.04];
const FRIDAY = [0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.12, 0.22, 0.32, 0.45, 0.55, 0.66, 0.65, 0.66, 0.72, 0.8, 0.75, 0.6, 0.5, 0.4, 0.25, 0.12, 0.06];
const SATURDAY = [0.04, 0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.12, 0.3, 0.5, 0.68, 0.82, 0.9, 1.0, 1.0, 0.95, 0.8, 0.55, 0.35, 0.25, 0.18, 0.12, 0.07];
const SUNDAY = [0.05, 0.03, 0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.04, 0.08, 0.15, 0.25, 0.38, 0.45, 0.5, 0.5, 0.45, 0.35, 0.22, 0.14, 0.1, 0.07, 0.04, 0.03];
/** Index by day of week, 0 = Sunday. */
const WEEK = [SUNDAY, WEEKDAY, WEEKDAY, WEEKDAY, WEEKDAY, FRIDAY, SATURDAY];

/**
 * Share (0..1) of the week's peak traffic at Unix time `ms`, in a time zone `utcOffsetHours` east of UTC;
 * linear between the middles of the hours.
 */
export function dayCurve(ms: number, utcOffsetHours: number): number {
  const local = ms + utcOffsetHours * HOUR_MS - HOUR_MS / 2;
  const hourIndex = Math.floor(local / HOUR_MS);
  const frac = (local - hourIndex * HOUR_MS) / HOUR_MS;
  return lerp(hourValue(hourIndex), hourValue(hourIndex + 1), frac);
}

function hourValue(hourIndex: number): number {
  const day = Math.floor(hourIndex / 24);
  const hour = hourIndex - day * 24;
  // 1970-01-01 was a Thursday (4).
  const dow = (((day + 4) % 7) + 7) % 7;
  return WEEK[dow]![hour]!;
}

function lerp(a: number, b: number, f: number): number {
  return a + (b - a) * f;
}
