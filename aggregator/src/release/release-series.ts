/**
 * The release rule, as pure functions. A base cell is (zone, window): the sum over the zone's sensors of
 * `devices` for one radio. A cell below k is suppressed: it is shown as suppressed, never as a number.
 * A coarser bucket is the sum of the released base cells in it plus the number of suppressed cells in it, so
 * no combination of outputs gives back a suppressed value. A bucket with no released cell is null.
 */
import type { SeriesResponse } from '@passant/shared';

/** A base cell before release: the window start (Unix seconds) and the zone's device sum. */
export interface BaseCell {
  windowStart: number;
  devices: number;
}

export interface ReleaseOptions {
  /** Threshold: cells with devices < k are suppressed. */
  k: number;
  /** First bucket start (inclusive), Unix seconds, aligned to `step`. */
  from: number;
  /** End (exclusive), Unix seconds. */
  to: number;
  /** Bucket length in seconds (60, 3600, 86400). */
  step: number;
}

/** The released value of one base cell: its devices, or null when it is below k. */
export function releaseCell(devices: number, k: number): number | null {
  return devices >= k ? devices : null;
}

/** One sensor's part of a base cell for one radio: its devices, and its static baseline for the cell's hour. */
export interface CellPart {
  devices: number;
  /**
   * Devices the sensor always hears (static-baseline.ts); 0 when the baseline is turned off. Null while unknown
   * (a new sensor still learning): nothing of its devices can be shown to be moving, so its part counts 0.
   */
  baseline: number | null;
}

/**
 * How many devices beyond the static ones a cell certainly rests on: the largest over the zone's sensors of
 * (devices - baseline). Each sensor's moving devices are distinct devices, so the zone holds at least that many;
 * summing over the sensors instead would count a device that two sensors hear twice, and let two people pass
 * k = 4 in a zone of two sensors.
 */
export function movingDevices(parts: readonly CellPart[]): number {
  let best = 0;
  for (const p of parts) if (p.baseline !== null) best = Math.max(best, p.devices - p.baseline);
  return best;
}

/**
 * The release rule about people: a base cell is released when it certainly rests on at least k devices that are
 * not always there. Its released value is still the sum of the sensors' devices (static ones and devices heard
 * by two sensors included: the API says so); only the decision looks at moving devices.
 */
export function releasedByPeopleRule(parts: readonly CellPart[], k: number): boolean {
  return movingDevices(parts) >= k;
}

/**
 * The columnar series of buckets `from`, `from + step`, ... before `to`. Cells outside [from, to) are ignored;
 * cells must not repeat a window (the store sums per window).
 */
export function releaseSeries(cells: readonly BaseCell[], options: ReleaseOptions): SeriesResponse {
  const { k, from, to, step } = options;
  if (!Number.isInteger(step) || step <= 0) throw new RangeError(`step must be a positive integer, got ${step}`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const n = to > from ? Math.ceil((to - from) / step) : 0;
  const t = new Array<number>(n);
  const devices = new Array<number | null>(n).fill(null);
  const suppressed = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) t[i] = from + i * step;
  for (const cell of cells) {
    if (cell.windowStart < from || cell.windowStart >= to) continue;
    const i = Math.floor((cell.windowStart - from) / step);
    const released = releaseCell(cell.devices, k);
    if (released === null) suppressed[i]! += 1;
    else devices[i] = (devices[i] ?? 0) + released;
  }
  return { t, devices, suppressed };
}
