/**
 * From devices to people: the calibration model, as pure functions.
 *
 * The model, per zone, radio and kind of count:
 *
 *     people = a x (devices - baseline)
 *
 * a straight line through the origin. `devices - baseline` is the zone's released device count (the sum over its
 * sensors) minus the sum of its sensors' static baselines (the devices that never leave: printers, PCs, beacons).
 * Through the origin, because with the static devices taken out no moving device means nobody there; one parameter,
 * because a municipality's calibration counts are few (a handful of sessions) and a second parameter (an intercept)
 * would be fitted mostly from noise. `a` is "people per moving device": below 1 when people carry several radios,
 * above 1 when many carry none or their phones are quiet.
 *
 * What x is, per kind:
 *  - `present` (people in the zone at a moment or over a period): x = the mean over the period's *released* minutes
 *    of (devices - baseline). A head count at a moment (from = to) uses the minute that holds it.
 *  - `passers` (people crossing a line in a period): x = the same mean per released minute, times the period's length
 *    in minutes: the moving device-minutes of the period, with hidden minutes taken at the period's released rate.
 *    A rate, not the sum of the released minutes, so that a count period of which a few minutes are hidden does not
 *    look emptier than it was, and so that periods of different lengths (a 15-minute clicker count, an hourly camera
 *    export) fit one line. `a` is then "passers per moving device-minute" (1 / the mean dwell in minutes, roughly).
 *
 * Only released values enter x: a minute that was suppressed is left out (and counted as such), never read.
 *
 * The interval: a 95 % prediction interval from the residuals of the fit (ordinary least squares through the
 * origin): half-width t(0.975, n-1) x s x sqrt(1 + x0^2 / sum x^2), s the residual standard deviation. From the
 * residuals rather than a bootstrap because it is deterministic (the same estimate on every request, so repeating a
 * request shows nothing new), cheap to compute on every series bucket, and with few points a bootstrap resamples
 * too few distinct values to say more. The spread is taken as constant, not proportional to the level: counts of
 * zero people (an empty square) are valid calibration points, and a log model could not use them.
 *
 * Refusal: fewer than MIN_POINTS usable points are refused. The interval rests on the residual spread, estimated
 * from n - 1 degrees of freedom: with 5 the t factor is 2.57 (1.96 for many) and the spread estimate itself is still
 * off by up to a factor of about 1.6 (chi-square, 95 %); below that the interval is mostly the t factor. Six points
 * is one session of 90 minutes with a head count every 15 minutes.
 */

export type CalibrationKind = 'present' | 'passers';
export const CALIBRATION_KINDS: readonly CalibrationKind[] = ['present', 'passers'];

/** Fewer usable points than this are refused (see the module comment). */
export const MIN_POINTS = 6;
/** Confidence of the prediction interval. */
export const CONFIDENCE = 0.95;
export const MODEL_FORMULA = 'people = a x (devices - baseline)';
export const INTERVAL_METHOD = 'prediction interval from the residuals (least squares through the origin, t distribution, 95 %)';

/** One manual count and what the released series held over its period. */
export interface CalibrationPoint {
  /** Unix seconds. */
  from: number;
  /** Unix seconds (= from for a head count at a moment). */
  to: number;
  /** The counted people. */
  people: number;
  /** Minutes the period covers (the minute that holds it for a head count at a moment). */
  minutes: number;
  /** Released minutes with a known baseline: the ones x is computed from. */
  minutesUsed: number;
  /** Suppressed minutes (never read). */
  minutesHidden: number;
  /** Released minutes whose baseline was still unknown (a sensor still learning). */
  minutesNoBaseline: number;
  /** Moving devices (see the module comment), or null when no minute of the period could be used. */
  x: number | null;
  /** Mean baseline sum over the minutes used (null when none was). */
  baseline: number | null;
}

/** The minute values x is computed from: released devices (or null when hidden) and the zone's baseline sum. */
export interface PeriodMinute {
  /** Released devices of the zone, or null when the minute was suppressed or has no data. */
  devices: number | null;
  /** 1 when the minute was suppressed. */
  suppressed: number;
  /** Sum of the zone's sensors' baselines for the minute's hour; null while one is unknown. */
  baseline: number | null;
}

/** x of a count period from its minutes (released values only); see the module comment. */
export function periodPoint(kind: CalibrationKind, count: { from: number; to: number; people: number }, minutes: readonly PeriodMinute[]): CalibrationPoint {
  let sum = 0;
  let used = 0;
  let hidden = 0;
  let noBaseline = 0;
  let baselineSum = 0;
  for (const m of minutes) {
    if (m.devices === null) {
      hidden += m.suppressed > 0 ? 1 : 0;
      continue;
    }
    if (m.baseline === null) {
      noBaseline++;
      continue;
    }
    sum += m.devices - m.baseline;
    baselineSum += m.baseline;
    used++;
  }
  const mean = used > 0 ? sum / used : null;
  const x = mean === null ? null : kind === 'present' ? mean : mean * minutes.length;
  return { ...count, minutes: minutes.length, minutesUsed: used, minutesHidden: hidden, minutesNoBaseline: noBaseline, x, baseline: used > 0 ? baselineSum / used : null };
}

export interface ModelParameters {
  /** People per moving device (present) or per moving device-minute (passers). */
  a: number;
  /** Standard error of a. */
  aStdError: number;
  /** Residual standard deviation (people). */
  residualSd: number;
  /** Degrees of freedom of the residuals (points - 1). */
  df: number;
  /** Sum of x^2 over the points (for the interval). */
  sumX2: number;
  /** t(0.975, df). */
  t: number;
  /** Mean length of the count periods in minutes (passers: the residual spread is scaled to a bucket's length). */
  meanMinutes: number;
  /**
   * The zone's baseline sum (devices always there) over the minutes the fit used, on average. When the zone's
   * baseline now differs much from it, the place changed (a new printer, a sensor moved) and the calibration may be
   * off; an estimate may also use it instead of the current baseline (estimate.ts).
   */
  baseline: number;
}

export interface FitStatistics {
  /** 1 - SSres / SStot (SStot around the mean of the counts); null when the counts do not vary. */
  r2: number | null;
  /** Mean absolute residual (people). */
  mae: number;
  /** Share of the points inside their own prediction interval. */
  coverage: number;
  // No range of x: a single count's x is an exact released value, and privacy tokens, which read calibrations, see
  // released values with noise when noise is on.
  minPeople: number;
  maxPeople: number;
}

export interface PointsUsage {
  /** Counts given. */
  given: number;
  /** Counts the fit used. */
  used: number;
  /** Counts left out because no minute of their period was released with a known baseline. */
  unusable: number;
  /** Released minutes read, over all used counts. */
  minutesUsed: number;
  /** Suppressed minutes in the counts' periods (not read). */
  minutesHidden: number;
  /** Released minutes left out because a sensor's baseline was unknown. */
  minutesNoBaseline: number;
}

export type FitResult =
  | { ok: true; parameters: ModelParameters; statistics: FitStatistics; usage: PointsUsage }
  | { ok: false; reason: string; usage: PointsUsage };

/** Two-sided 0.975 quantile of Student's t with `df` degrees of freedom (Cornish-Fisher expansion; within 0.01 of the tables from df 3 on). */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) throw new RangeError(`degrees of freedom must be >= 1, got ${df}`);
  // Exact values where the expansion is weakest.
  if (df === 1) return 12.7062;
  if (df === 2) return 4.3027;
  const z = 1.959964;
  const z2 = z * z;
  const g1 = (z2 * z + z) / 4;
  const g2 = (5 * z2 * z2 * z + 16 * z2 * z + 3 * z) / 96;
  const g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384;
  const g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
}

function usageOf(points: readonly CalibrationPoint[], used: readonly CalibrationPoint[]): PointsUsage {
  return {
    given: points.length,
    used: used.length,
    unusable: points.length - used.length,
    minutesUsed: used.reduce((s, p) => s + p.minutesUsed, 0),
    minutesHidden: points.reduce((s, p) => s + p.minutesHidden, 0),
    minutesNoBaseline: points.reduce((s, p) => s + p.minutesNoBaseline, 0),
  };
}

/** Fits `people = a x` through the origin; refuses (ok: false, with the reason) when it cannot. */
export function fitCalibration(points: readonly CalibrationPoint[]): FitResult {
  const used = points.filter((p) => p.x !== null);
  const usage = usageOf(points, used);
  if (used.length < MIN_POINTS) {
    const left = usage.unusable > 0 ? `; ${usage.unusable} of the ${points.length} counts fell in periods with no released minute (hidden or no data) or an unknown baseline` : '';
    return { ok: false, reason: `${used.length} usable counts; at least ${MIN_POINTS} are needed for an interval${left}`, usage };
  }
  let sxx = 0;
  let sxy = 0;
  for (const p of used) {
    sxx += p.x! * p.x!;
    sxy += p.x! * p.people;
  }
  if (sxx === 0) return { ok: false, reason: 'the released devices never rose above the baseline in the counted periods: nothing to scale', usage };
  const a = sxy / sxx;
  if (!(a > 0)) return { ok: false, reason: `the counted people do not rise with the devices (fitted a = ${a.toPrecision(3)}): check the zone and the counts`, usage };
  const residuals = used.map((p) => p.people - a * p.x!);
  const df = used.length - 1;
  const ssRes = residuals.reduce((s, r) => s + r * r, 0);
  const residualSd = Math.sqrt(ssRes / df);
  const meanPeople = used.reduce((s, p) => s + p.people, 0) / used.length;
  const ssTot = used.reduce((s, p) => s + (p.people - meanPeople) ** 2, 0);
  const parameters: ModelParameters = {
    a,
    aStdError: residualSd / Math.sqrt(sxx),
    residualSd,
    df,
    sumX2: sxx,
    t: tQuantile975(df),
    meanMinutes: used.reduce((s, p) => s + p.minutes, 0) / used.length,
    baseline: used.reduce((s, p) => s + (p.baseline ?? 0), 0) / used.length,
  };
  let inside = 0;
  for (const p of used) {
    const { low, high } = predict(parameters, p.x!, 'present');
    if (p.people >= low && p.people <= high) inside++;
  }
  const ys = used.map((p) => p.people);
  return {
    ok: true,
    parameters,
    statistics: {
      r2: ssTot > 0 ? 1 - ssRes / ssTot : null,
      mae: residuals.reduce((s, r) => s + Math.abs(r), 0) / used.length,
      coverage: inside / used.length,
      minPeople: Math.min(...ys),
      maxPeople: Math.max(...ys),
    },
    usage,
  };
}

export interface Prediction {
  value: number;
  low: number;
  high: number;
}

/**
 * The estimate and its 95 % prediction interval at x. `scale`: 'present' uses the residual spread as fitted;
 * a number of minutes (passers in a bucket of that length) scales the spread by sqrt(minutes / the calibration
 * periods' mean length), as for a sum of independent minutes. People are never negative: value and bounds are
 * clamped at 0.
 */
export function predict(p: ModelParameters, x: number, scale: 'present' | number): Prediction {
  const spread = scale === 'present' ? p.residualSd : p.residualSd * Math.sqrt(scale / p.meanMinutes);
  const value = p.a * x;
  const half = p.t * Math.sqrt(spread * spread + (x * p.aStdError) ** 2);
  return { value: Math.max(0, value), low: Math.max(0, value - half), high: Math.max(0, value + half) };
}
