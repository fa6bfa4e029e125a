/**
 * The store interface (one contract suite runs against every implementation). Stores hold exact per-sensor
 * counts, and the release layer's frozen base cells and their rollups; only the release layer turns them into
 * output.
 *
 * Three kinds of data:
 * - raw windows (`put`, `sensorWindows`, `windowKeys`): exact per-sensor counts, minute data, deleted once
 *   settled and older than the per-sensor retention (`deleteSensorWindowsBefore`, 48 h by default), and in any
 *   case after the minute retention period (`deleteMinutesBefore`). No RSSI histogram is stored. Every stored window is also queued as *unsettled* until the release
 *   layer has looked at it (`unsettled`, `clearUnsettled`, `requeue`).
 * - frozen cells (`freeze`, `cells`): a zone's base cell (zone, minute) as the release layer fixed it the first
 *   time it was released: the exact sums, the release decision (>= k or suppressed) and the noise. A cell is
 *   written once and never changes (the first write wins), so later data cannot change what was released.
 *   Minute data: deleted with the raw windows.
 * - rollups (`rollups`): per zone and hour, and per zone and day, the sums over its frozen cells, kept up to date
 *   by `freeze` and kept after the minute data are gone.
 */
import type { CountsMessage } from '@passant/shared';

export type PutResult = 'stored' | 'duplicate';

/**
 * One stored window of one sensor: its `devices` and `randomized` per radio (nothing else leaves the store this
 * way; the static baseline of the release layer is computed from them).
 */
export interface SensorWindow {
  sensorId: string;
  windowStart: number;
  wifi: number;
  ble: number;
  /** `randomized` per radio; absent only from a store that keeps no more than devices (a raw-only CountsStore). */
  wifiRandomized?: number;
  bleRandomized?: number;
  /** Unix seconds the window was stored (the settle time of a late window runs from here). */
  receivedAt: number;
}

/** The key of a stored window. */
export interface WindowKey {
  sensorId: string;
  windowStart: number;
}

/** One radio of a frozen cell. */
export interface FrozenRadio {
  /** Exact sum of the cell's sensors' devices. Never output when `released` is false. */
  devices: number;
  /** devices >= k when the cell was frozen. */
  released: boolean;
  /** Noise added to `devices` in noisy output, fixed at freezing; null when noise was off (or the cell is suppressed). */
  noise: number | null;
}

/** A zone's base cell (zone, window) as the release layer froze it. */
export interface FrozenCell {
  zoneId: string;
  windowStart: number;
  /** The sensors whose windows make the cell (each stored window is part of at most one frozen cell). */
  sensors: string[];
  wifi: FrozenRadio;
  ble: FrozenRadio;
}

export interface CellsReadOptions {
  /** Read each cell's sensor list (default true). */
  sensors?: boolean;
}

/** Rollup steps: an hour and a day (UTC). */
export const ROLLUP_STEPS = [3600, 86_400] as const;
export type RollupStep = (typeof ROLLUP_STEPS)[number];

/** One radio of a rollup: sums over the frozen cells of the zone in the bucket. */
export interface RollupRadio {
  /** Sum of `devices` of the released cells. */
  sum: number;
  /** Number of released cells. */
  released: number;
  /** Number of suppressed cells. */
  suppressed: number;
  /** Sum of the noise of the released cells that have one. */
  noise: number;
  /** Number of released cells that have noise. */
  noised: number;
}

/** Per zone and bucket (hour or day, `t` its start), the sums over the zone's frozen cells in it. */
export interface Rollup {
  zoneId: string;
  step: RollupStep;
  t: number;
  wifi: RollupRadio;
  ble: RollupRadio;
}

/** What the store knows about a sensor that sent counts: activity only, no counts. */
export interface SensorStats {
  sensorId: string;
  /** Earliest windowStart stored (of the windows the store still holds, for stores that keep no separate tally). */
  firstWindowStart: number;
  lastWindowStart: number;
  /** Unix seconds the latest window was received. */
  lastReceivedAt: number;
  /** Windows stored (duplicates not counted). */
  messages: number;
}

/** A sensor's latest stored window (the greatest windowStart) and its seq: what the ingest's seq rule starts from. */
export interface SensorLastWindow {
  sensorId: string;
  windowStart: number;
  seq: number;
}

export interface DeleteResult {
  /** Raw windows deleted. */
  windows: number;
  /** Frozen cells deleted. */
  cells: number;
}

/** Raw counts: what ingest writes. Nothing here reads counts back: they leave the aggregator only as frozen cells. */
export interface CountsStore {
  /**
   * Stores windows idempotently on (sensorId, windowStart): the first write wins, a later one for the same
   * key is a duplicate and changes nothing. Results are in input order. In a ReleaseStore, every stored window
   * is also queued as unsettled and the sensor's activity tally is updated, in the same write.
   */
  put(messages: CountsMessage[], receivedAt: number): Promise<PutResult[]>;
  /**
   * Every sensor's latest stored window and its seq (see plausibility.ts). Optional: without it the ingest learns
   * them from the messages it takes in after its start.
   */
  lastWindows?(): Promise<SensorLastWindow[]>;
  /** True when the store answers. */
  ping(): Promise<boolean>;
  /**
   * Null when the store can write, else a short reason (no counts, no path): for /healthz, which reads alone cannot
   * tell (a full disk or a read-only file system still answers reads). Optional: a store without it is judged by
   * ping() alone.
   */
  writeStatus?(): Promise<string | null>;
  close(): Promise<void>;
}

/** The whole store the aggregator runs on: raw counts plus the release layer's data. */
export interface ReleaseStore extends CountsStore {
  /** The stored windows of `sensorIds` in [from, to), ordered by windowStart then sensorId. */
  sensorWindows(sensorIds: string[], from: number, to: number): Promise<SensorWindow[]>;
  /**
   * Which windows of `sensorIds` in [from, to) are stored, ordered by windowStart then sensorId: keys only, no
   * counts (sensor health reads this; its type cannot carry a count).
   */
  windowKeys(sensorIds: string[], from: number, to: number): Promise<WindowKey[]>;

  /**
   * How long after a write returns, or after its received-at time, the store may take to show it to every reader
   * (absent: 0, shown when the write returns). The release layer freezes a cell that long after its settle deadline,
   * so that every window received before the deadline is in it, whichever aggregator freezes it.
   */
  readonly writeVisibilitySeconds?: number;
  /** Up to `limit` unsettled window keys, oldest windowStart first. */
  unsettled(limit: number): Promise<WindowKey[]>;
  /** Removes keys from the unsettled queue (absent keys are ignored). */
  clearUnsettled(keys: WindowKey[]): Promise<void>;
  /** Queues again every stored window of `sensorIds` in [from, to) (after a registry change). Returns how many. */
  requeue(sensorIds: string[], from: number, to: number): Promise<number>;

  /**
   * Writes frozen cells; a cell whose (zoneId, windowStart) exists already is left as it is (the first write
   * wins). The hour and day rollups of the written cells are updated with them. Results in input order: true
   * when written, false when it existed.
   */
  freeze(cells: FrozenCell[]): Promise<boolean[]>;
  /**
   * Frozen cells of `zoneIds` (null: every zone) with windowStart in [from, to), ordered by windowStart then
   * zoneId. With `{ sensors: false }` the cells' `sensors` lists are left empty (faster: series need only values).
   */
  cells(zoneIds: string[] | null, from: number, to: number, options?: CellsReadOptions): Promise<FrozenCell[]>;
  /** Rollups of a zone at `step` with t in [from, to), ascending. Buckets without frozen cells are absent. */
  rollups(zoneId: string, step: RollupStep, from: number, to: number): Promise<Rollup[]>;

  /**
   * Deletes raw windows, unsettled keys and frozen cells with windowStart < `t` (an hour start); rollups stay,
   * and the hour rollups before `t` are marked closed: their minutes are gone.
   */
  deleteMinutesBefore(t: number): Promise<DeleteResult>;
  /**
   * Deletes the raw windows with windowStart < `t` that are settled (no longer in the unsettled queue: their cells
   * are frozen). Per-sensor rows are kept only as long as the release layer needs them; frozen cells and rollups
   * stay (deleteMinutesBefore ends those). Returns how many were deleted (-1: the store cannot tell).
   */
  deleteSensorWindowsBefore(t: number): Promise<number>;
  /** Starts of the closed hour rollups of a zone in [from, to), ascending. */
  closedHours(zoneId: string, from: number, to: number): Promise<number[]>;
  /** Activity of every sensor that sent counts (for listing unassigned sensors). */
  sensorStats(): Promise<SensorStats[]>;
  /** A small persistent value of the release layer (such as the registry it last settled with), or undefined. */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
}

/** Empty rollup radio. */
export function emptyRollupRadio(): RollupRadio {
  return { sum: 0, released: 0, suppressed: 0, noise: 0, noised: 0 };
}

/** Adds one frozen radio to a rollup radio (in place). */
export function addToRollup(target: RollupRadio, cell: FrozenRadio): void {
  if (cell.released) {
    target.sum += cell.devices;
    target.released += 1;
    if (cell.noise !== null) {
      target.noise += cell.noise;
      target.noised += 1;
    }
  } else {
    target.suppressed += 1;
  }
}

/** Start of the rollup bucket of `step` that holds `t`. */
export function rollupStart(t: number, step: RollupStep): number {
  return Math.floor(t / step) * step;
}
