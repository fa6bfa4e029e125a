/**
 * The static baseline of a sensor: how many devices it hears that never leave (printers, PCs, beacons, a
 * neighbour's television), estimated from its own per-minute counts alone, never by recognising a device.
 *
 * Why: the k rule is about people. A zone whose sensor always hears 8 fixed devices would pass k = 5 all night,
 * and every phone that walks by would then show as a +1 in the public series: one person, visible and followable.
 * So the release layer asks how many devices *beyond the baseline* a cell rests on (see release-rule.ts).
 *
 * How: from the sensor's minute counts in the `historyHours` before the hour being decided, take the
 * `quietHours` hours with the lowest mean count (in practice the deep night), and of the minutes in those hours the
 * `quantile`. The quiet hours hold the static devices plus the odd passer-by, so a high quantile of them errs on the
 * side of a baseline too high: more cells hidden, never a person shown. Hours with fewer than half their minutes
 * reported are not used (a sensor that was offline is not "quiet"). With fewer than `minHistoryHours` usable hours
 * the baseline is unknown (null) and the rule falls back to what it can prove without one (see release-rule.ts).
 *
 * Deterministic: the baseline of (sensor, radio, hour) is a function of the windows stored before that hour, so
 * every aggregator computes the same value from the same store.
 */
import type { Radio } from '@passant/shared';

export interface BaselineOptions {
  /** How far back the history reaches, in hours (the per-sensor rows must be kept at least this long). */
  historyHours: number;
  /** How many of the history's quietest hours are used. */
  quietHours: number;
  /** Quantile (0..1] of the quiet hours' minute counts. */
  quantile: number;
  /** Fewer usable hours than this: no baseline (null). */
  minHistoryHours: number;
  /** Window length in seconds (60). */
  windowSeconds?: number;
}

export const DEFAULT_BASELINE_OPTIONS: BaselineOptions = { historyHours: 48, quietHours: 4, quantile: 0.9, minHistoryHours: 12 };

const HOUR = 3600;

/** A per-minute count of one sensor and radio. */
export interface MinuteCount {
  windowStart: number;
  value: number;
}

/** The q-quantile (nearest rank) of `values`; values are not modified. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * Hour buckets of minute counts: hour start -> the minute values in it. Built once per sensor and radio and read
 * for many hours by `baselineAt`.
 */
export function hourBuckets(minutes: readonly MinuteCount[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const m of minutes) {
    const h = Math.floor(m.windowStart / HOUR) * HOUR;
    const list = out.get(h);
    if (list === undefined) out.set(h, [m.value]);
    else list.push(m.value);
  }
  return out;
}

/** The baseline for decisions in the hour starting at `hour`, from the buckets before it; null when unknown. */
export function baselineAt(buckets: ReadonlyMap<number, readonly number[]>, hour: number, options: BaselineOptions): number | null {
  const windowSeconds = options.windowSeconds ?? 60;
  const minMinutes = Math.ceil(HOUR / windowSeconds / 2);
  const usable: { mean: number; values: readonly number[] }[] = [];
  for (let h = hour - options.historyHours * HOUR; h < hour; h += HOUR) {
    const values = buckets.get(h);
    if (values === undefined || values.length < minMinutes) continue;
    usable.push({ mean: values.reduce((a, b) => a + b, 0) / values.length, values });
  }
  if (usable.length < options.minHistoryHours) return null;
  usable.sort((a, b) => a.mean - b.mean);
  const quiet = usable.slice(0, Math.max(1, options.quietHours)).flatMap((u) => u.values);
  return quantile(quiet, options.quantile);
}

/** A sensor's baselines per radio for one hour (null: unknown). */
export type SensorBaseline = Record<Radio, number | null>;
