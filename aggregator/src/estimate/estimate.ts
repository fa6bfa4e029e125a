/**
 * Estimated people and passers for a released series (pure). Reads only what the series already shows (the
 * released sums and the count of suppressed cells per bucket), the zone's baseline sum and a calibration, so an
 * estimate can never tell more about a hidden cell than the series itself.
 *
 * Per bucket of `step` seconds with R released minutes holding D devices in all, and baseline sum B per minute:
 *   x = D / R - B                       (mean moving devices per released minute)
 *   people  = a x                        (present calibration: mean people per minute of the bucket)
 *   passers = a x (step / 60)            (passers calibration: passers in the bucket; with `hiddenCap`, over the
 *                                         minutes the sensors counted, released or hidden, instead of step / 60)
 * with the calibration's 95 % prediction interval (model.ts). R is the bucket's minutes minus its suppressed cells
 * unless the caller gives the released counts (minutes without any data lower the estimate then). With `hiddenCap`
 * (EstimateOptions) the bucket's hidden minutes count as what they can hold, not at the released rate: a value a
 * hidden cell's count never enters, only that it was hidden and the release rule's bound. A bucket with no
 * released cell is null; so is every bucket without a valid calibration of the right kind and radio, with the reason.
 */
import type { Radio } from '@passant/shared';
import { predict, type CalibrationKind, type ModelParameters } from './model.ts';

/** What the estimate needs of a stored calibration. */
export interface CalibrationForEstimate {
  id: string;
  kind: CalibrationKind;
  radio: Radio;
  /** Unix seconds. */
  created: number;
  parameters: ModelParameters;
}

export interface SeriesForEstimate {
  t: readonly number[];
  devices: readonly (number | null)[];
  suppressed: readonly number[];
  /** Bucket length in seconds (a multiple of 60). */
  step: number;
  /** The series' radio (must be the calibration's). */
  radio: Radio;
  /** Released cells per bucket, when the caller knows them (else the bucket's minutes - suppressed). */
  released?: readonly number[];
  /** Minutes each bucket covers, when they differ (calendar steps: days, weeks, months); else step / 60. */
  minutes?: readonly number[];
}

export type EstimateReason =
  | 'ok'
  | 'not_calibrated'
  | 'other_radio'
  | 'baseline_unknown'
  | 'hidden_buckets'
  /** A site: one of the zones the caller reads has no calibration for the radio (a site sums every zone or none). */
  | 'zone_not_calibrated'
  /** A site: its zones are calibrated with different kinds (present and passers cannot be added). */
  | 'mixed_kinds';

export interface EstimateInfo {
  /** The calibration's kind, or null without one. */
  kind: CalibrationKind | null;
  calibrationId: string | null;
  /** Unix seconds, or null. */
  calibratedAt: number | null;
  /**
   * ok: every bucket with a released cell has an estimate; hidden_buckets: some buckets are null because nothing
   * in them was released; not_calibrated / other_radio / baseline_unknown: all null, and why.
   */
  reason: EstimateReason;
  /** The reason in words, for people. */
  message: string;
  /**
   * What a reader should be told beside the numbers: calibration_old (older than `maxAgeDays`), baseline_moved
   * (the zone's baseline now differs from the one the calibration was fitted with by more than 2 devices and 25 %:
   * the place changed, the calibration may be off).
   */
  warnings: EstimateWarning[];
}

export type EstimateWarning = 'calibration_old' | 'baseline_moved';

export interface EstimateOptions {
  /** Now, Unix seconds (for calibration_old); absent: no age check. */
  now?: number;
  /** Calibrations older than this many days are flagged (default 365). */
  maxAgeDays?: number;
  /** The zone's baseline sum now (for baseline_moved); absent or null: no check. */
  currentBaseline?: number | null;
  /**
   * The most moving devices a hidden (suppressed) cell of the zone can hold: its sensors x (k - 1), since a cell is
   * released as soon as one sensor hears k beyond its baseline. Given, a bucket's hidden minutes count as holding
   * between 0 and that many (half of it as the value), so that a bucket with quiet hidden minutes is not taken for
   * as busy as its released ones: the bounds widen by what the hidden minutes could hold. Absent: hidden minutes are
   * taken at the released minutes' rate.
   */
  hiddenCap?: number;
}

export interface SeriesEstimate {
  people: (number | null)[];
  peopleLow: (number | null)[];
  peopleHigh: (number | null)[];
  passers: (number | null)[];
  passersLow: (number | null)[];
  passersHigh: (number | null)[];
  estimate: EstimateInfo;
}

const ROUND = 100;
function round(v: number): number {
  return Math.round(v * ROUND) / ROUND;
}

function nulls(n: number): (number | null)[] {
  return new Array<number | null>(n).fill(null);
}

/** The estimate columns of `n` buckets, every value null (not estimable). */
export function nullEstimateColumns(n: number): Omit<SeriesEstimate, 'estimate'> {
  return {
    people: nulls(n),
    peopleLow: nulls(n),
    peopleHigh: nulls(n),
    passers: nulls(n),
    passersLow: nulls(n),
    passersHigh: nulls(n),
  };
}

/**
 * Estimates for every bucket of a released series. `baseline`: the sum of the zone's sensors' baselines for the
 * series' radio (one number for the whole series, or one per bucket), 0 when the baseline is turned off, null while
 * unknown; or `calibration.parameters.baseline`, the baseline the calibration was fitted with. That one is a
 * constant of the calibration: with it, an estimate is a function of the released values alone. With the current
 * baseline, whoever sees both devices and estimates of two buckets can solve for the zone's baseline sum of the
 * hour (a quantile of its quiet, mostly hidden minutes), which is why the choice is left to the caller.
 * `calibration`: the zone's latest valid calibration for the series' radio, or null.
 */
export function estimateSeries(
  series: SeriesForEstimate,
  baseline: number | null | readonly (number | null)[],
  calibration: CalibrationForEstimate | null,
  options: EstimateOptions = {},
): SeriesEstimate {
  const n = series.t.length;
  const out: SeriesEstimate = {
    ...nullEstimateColumns(n),
    estimate: { kind: null, calibrationId: null, calibratedAt: null, reason: 'not_calibrated', message: 'this zone has no calibration: people cannot be estimated (devices only)', warnings: [] },
  };
  if (calibration === null) return out;
  out.estimate = { kind: calibration.kind, calibrationId: calibration.id, calibratedAt: calibration.created, reason: 'ok', message: '', warnings: [] };
  if (options.now !== undefined && options.now - calibration.created > (options.maxAgeDays ?? 365) * 86_400) out.estimate.warnings.push('calibration_old');
  const current = options.currentBaseline;
  const fitted = calibration.parameters.baseline;
  if (current !== undefined && current !== null && Math.abs(current - fitted) > Math.max(2, 0.25 * fitted)) out.estimate.warnings.push('baseline_moved');
  if (calibration.radio !== series.radio) {
    out.estimate.reason = 'other_radio';
    out.estimate.message = `the calibration is for ${calibration.radio}, this series is ${series.radio}`;
    return out;
  }
  let hidden = 0;
  let unknown = 0;
  for (let i = 0; i < n; i++) {
    const minutesPerBucket = series.minutes?.[i] ?? series.step / 60;
    const devices = series.devices[i];
    const b = typeof baseline === 'number' || baseline === null ? baseline : (baseline[i] ?? null);
    const released = series.released?.[i] ?? minutesPerBucket - (series.suppressed[i] ?? 0);
    if (devices === null || devices === undefined || released <= 0) {
      hidden++;
      continue;
    }
    if (b === null) {
      unknown++;
      continue;
    }
    const x = devices / released - b;
    const [value, low, high] = calibration.kind === 'present' ? [out.people, out.peopleLow, out.peopleHigh] : [out.passers, out.passersLow, out.passersHigh];
    const cap = options.hiddenCap;
    const hiddenCells = cap === undefined ? 0 : (series.suppressed[i] ?? 0);
    // the share of the bucket's minutes with data that was released (the rest hidden, between 0 and cap moving devices)
    const share = released / (released + hiddenCells);
    const a = calibration.parameters.a;
    if (calibration.kind === 'present') {
      const p = predict(calibration.parameters, x, 'present');
      const hiddenPeople = hiddenCells > 0 ? a * cap! : 0;
      value[i] = round(share * p.value + (1 - share) * hiddenPeople / 2);
      low[i] = round(share * p.low);
      high[i] = round(share * p.high + (1 - share) * hiddenPeople);
    } else {
      // moving device-minutes of the bucket: released minutes at their rate, hidden ones at half the cap; with the
      // cap given, over the minutes the sensors counted (a minute without any data adds nothing, as with devices),
      // else over the whole bucket
      const covered = cap === undefined ? minutesPerBucket : released + hiddenCells;
      const rate = share * x + (1 - share) * (hiddenCells > 0 ? cap! / 2 : 0);
      const p = predict(calibration.parameters, rate * covered, covered);
      const spread = hiddenCells > 0 ? (a * cap! * (1 - share) * covered) / 2 : 0;
      value[i] = round(p.value);
      low[i] = round(Math.max(0, p.low - spread));
      high[i] = round(p.high + spread);
    }
  }
  const estimated = n - hidden - unknown;
  if (unknown > 0 && estimated === 0) {
    out.estimate.reason = 'baseline_unknown';
    out.estimate.message = "a sensor's static baseline is still unknown (it learns over its first nights): no estimate yet";
  } else if (hidden > 0 || unknown > 0) {
    out.estimate.reason = 'hidden_buckets';
    out.estimate.message = `${hidden} buckets have no released value${unknown > 0 ? ` and ${unknown} an unknown baseline` : ''}: their estimates are null`;
  } else {
    out.estimate.message =
      calibration.kind === 'present'
        ? 'estimated people present (mean per minute of the bucket), from released device counts and a calibration by manual counts'
        : 'estimated passers in the bucket, from released device counts and a calibration by manual counts';
  }
  return out;
}

/** The latest calibration of a zone for a radio (and a kind, when given), or null; of two in one second, the later in the list. */
export function latestCalibration<C extends CalibrationForEstimate>(calibrations: readonly C[], radio: Radio, kind?: CalibrationKind): C | null {
  let best: C | null = null;
  for (const c of calibrations) {
    if (c.radio !== radio || (kind !== undefined && c.kind !== kind)) continue;
    if (best === null || c.created >= best.created) best = c;
  }
  return best;
}

/** What `zoneEstimate` reads calibrations from (CalibrationStore). */
export interface CalibrationSource<C extends CalibrationForEstimate> {
  list(zoneId: string): C[];
}

/**
 * The estimate for a zone's released series, as a series response would carry it: the zone's latest calibration for
 * the series' radio (of either kind), applied with the baseline it was fitted with, so the estimate is a function of
 * the released values and the calibration's constants only (see `estimateSeries`). `currentBaseline` (the zone's
 * baseline sum now) only decides the baseline_moved warning.
 */
export function zoneEstimate<C extends CalibrationForEstimate>(
  calibrations: CalibrationSource<C>,
  zoneId: string,
  series: SeriesForEstimate,
  options: EstimateOptions = {},
): SeriesEstimate {
  const calibration = latestCalibration(calibrations.list(zoneId), series.radio);
  return estimateSeries(series, calibration === null ? null : calibration.parameters.baseline, calibration, options);
}
