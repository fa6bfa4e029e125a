/**
 * The release layer: the only path from stored counts to any output (API, CSV, live updates, open data).
 *
 * Base cells. A base cell is (zone, window): the sum over the zone's sensors of `devices`, per radio. It is
 * released only when one of the zone's sensors heard at least k devices beyond its static baseline (the devices it
 * always hears; static-baseline.ts, release-series.ts `releasedByPeopleRule`); otherwise it is suppressed: shown as
 * suppressed, never as a number. See docs/release-layer.md, "Base cells and the rule about people".
 *
 * Freezing. A cell is *settled* when every sensor of the zone has reported the window, or `settleSeconds` after
 * the window ended (or, when its first data arrived only after that, `settleSeconds` after they arrived: sensors
 * replaying their outboxes after an outage each get that long to catch up). When it settles it is *frozen*: its exact sums, its release decision (>= k or not) and its
 * noise are written once to the store (`cells`) and never change. Data that arrive later for a frozen cell (a
 * sensor's outbox after a long outage) are stored but never released: a released value that changed later would
 * give away the late sensor's count as the difference, which may be below k. Data for a window where the zone
 * has no frozen cell yet are released when they settle (nothing was shown for that window before). Each stored
 * window of a sensor is part of at most one frozen cell ever (a sensor moved to another zone does not bring its
 * already released windows along), so no two released cells can be subtracted to isolate a sensor's count.
 *
 * Coarser values. Every value coarser than a base cell (an hour, a day, a week, a site, any range) is the sum of
 * the released cells in it plus the number of suppressed cells in it; a bucket with no released cell is null.
 * A site's bucket is the sum over its zones of their released cells (never a sum of raw counts across the
 * site, which would give a suppressed zone-cell away by subtraction). So every output is a sum of released
 * cells: no set of outputs, at any resolution, in any combination, reveals a suppressed value.
 *
 * Rollups. Hour and day buckets are read from rollups the store updates in the same write that freezes the
 * cells; they stay after minute data are deleted (retention), so long ranges are fast and keep working.
 *
 * Registry changes. Frozen cells stay as they were frozen. A sensor newly assigned to a zone (or moved) has its
 * retained windows queued again: they become part of the zone for every window where the zone has no frozen
 * cell yet, and for all windows from now on. Sites are read with the current registry.
 *
 * Noise (noise.ts), when configured: fixed per released cell at freezing; noisy outputs are the sums of noisy
 * cells. Cells frozen while noise was off get their noise at read time, derived the same way per hour, so sums
 * stay consistent (reader.ts, `fillNoise`).
 *
 * Parts. This class is a facade over three: the reader (reader.ts: series and cells, pure reads of frozen cells
 * and rollups, never a write), the settler (settler.ts: the only writer of frozen cells, with one scheduler: its
 * interval and `notifyStored()`) and the jobs (jobs.ts: registry sync, retention, starting and stopping).
 */
import { EventEmitter } from 'node:events';
import type { Registry } from '../registry.ts';
import type { DeleteResult, FrozenCell, ReleaseStore } from '../store/types.ts';
import { ReleaseJobs } from './jobs.ts';
import { releaseParams, retentionCutoff, sensitivity, type ReleaseLayerOptions, type ReleaseParams } from './params.ts';
import { ReleaseReader, type NoiseInfo, type ReleasedCell, type ReleasedSeries, type SeriesOptions, type SeriesRequest, type SeriesTarget, type ZoneSetTarget } from './reader.ts';
import { Settler } from './settler.ts';
import type { BaselineOptions, SensorBaseline } from './static-baseline.ts';

export type { ReleaseLayerOptions } from './params.ts';
export type { NoiseInfo, ReleasedCell, ReleasedSeries, SeriesOptions, SeriesRequest, SeriesTarget, ZoneSetTarget } from './reader.ts';

interface Events {
  /** Cells frozen by a settle pass (each once). */
  frozen: [FrozenCell[]];
}

export class ReleaseLayer extends EventEmitter<Events> {
  readonly k: number;
  readonly settleSeconds: number;
  readonly windowSeconds: number;
  /** Days of minute data kept, or undefined when kept for ever. */
  readonly minuteDays: number | undefined;
  readonly devicesPerPerson: number;
  /** Options of the static baseline, or null when it is off. */
  readonly baselineOptions: BaselineOptions | null;
  private readonly params: ReleaseParams;
  private readonly reader: ReleaseReader;
  private readonly settler: Settler;
  private readonly jobs: ReleaseJobs;

  constructor(
    store: ReleaseStore,
    private readonly registry: Registry,
    options: ReleaseLayerOptions,
  ) {
    super();
    const params = releaseParams(options);
    this.params = params;
    this.k = params.k;
    this.settleSeconds = params.settleSeconds;
    this.windowSeconds = params.windowSeconds;
    this.minuteDays = params.minuteDays;
    this.devicesPerPerson = params.devicesPerPerson;
    this.baselineOptions = params.baselineOptions;
    this.reader = new ReleaseReader(store, registry, params);
    this.settler = new Settler(store, registry, params);
    this.settler.on('frozen', (cells) => this.emit('frozen', cells));
    this.jobs = new ReleaseJobs(store, registry, params, this.settler);
  }

  /** Late windows for frozen cells seen so far (stored, never released); for the stats line. */
  get lateWindows(): number {
    return this.settler.lateWindows;
  }

  /** Settle passes completed so far. */
  get settlePasses(): number {
    return this.settler.passes;
  }

  /** The noise of noisy responses, or null when noise is off. */
  get noiseInfo(): NoiseInfo | null {
    return this.reader.noiseInfo;
  }

  /**
   * The sensitivity of a zone's cells: how much one person can change a zone-minute (their devices, each heard by
   * every sensor of the zone). The noise of the zone's cells is drawn with epsilon / sensitivity, so epsilon holds
   * per person and zone-minute.
   */
  sensitivity(zoneId: string): number {
    return sensitivity(this.params, this.registry, zoneId);
  }

  /**
   * The static baseline of each sensor for the hour holding `t` (per radio; null while unknown), as the release
   * rule uses it. For admins' sensor health and for people estimates.
   */
  baseline(sensorIds: readonly string[], t: number): Promise<Map<string, SensorBaseline>> {
    return this.settler.baseline(sensorIds, t);
  }

  /** Windows before this (a UTC day start) are deleted by retention; null when minute data are kept for ever. */
  retentionCutoff(): number | null {
    return retentionCutoff(this.params);
  }

  // ---------------------------------------------------------------- jobs (jobs.ts)

  /**
   * Starts the background jobs: registry sync (now and on every registry change), retention (now and every
   * retentionIntervalMs) and the settler's interval (every settleIntervalMs). Their failures are logged, never thrown.
   */
  start(): void {
    this.jobs.start();
  }

  /** Stops the background jobs and waits for the running one. */
  stop(): Promise<void> {
    return this.jobs.stop();
  }

  /** Resolves when the work queued so far is done. */
  idle(): Promise<void> {
    return this.settler.idle();
  }

  /**
   * Brings the store in line with the registry: windows of sensors that joined a zone since the last sync (kept
   * in the store's meta) are queued again, so they settle into that zone wherever it has no frozen cell.
   */
  syncRegistry(): Promise<number> {
    return this.jobs.syncRegistry();
  }

  /** Deletes minute data older than the retention period (whole UTC days). Null when minute data are kept for ever. */
  applyRetention(): Promise<DeleteResult | null> {
    return this.jobs.applyRetention();
  }

  // ---------------------------------------------------------------- output (reader.ts): reads never write

  /**
   * The released series of a zone or a site: buckets of `step` from `from` to `to`. A string target is a zone id.
   * Returns undefined for an unknown zone or site. Throws a RangeError when `step` is not a multiple of the
   * window or `from` is not aligned to the data the step reads (a minute, an hour or a day). Shows what has been
   * frozen so far; it never settles.
   */
  series(target: SeriesTarget | ZoneSetTarget | string, query: SeriesRequest, options: SeriesOptions = {}): Promise<ReleasedSeries | undefined> {
    return this.reader.series(target, query, options);
  }

  /** The released form of a frozen cell, per radio (live updates). */
  releasedCells(cell: FrozenCell, options: SeriesOptions = {}): ReleasedCell[] {
    return this.reader.releasedCells(cell, options);
  }

  /**
   * The released base cells (both radios) of a zone's window, or 'pending' when the window has data that have not
   * been frozen yet, or 'empty' when it has none (or the zone is unknown).
   */
  cells(zoneId: string, windowStart: number, options: SeriesOptions = {}): Promise<ReleasedCell[] | 'pending' | 'empty'> {
    return this.reader.cells(zoneId, windowStart, options);
  }

  // ---------------------------------------------------------------- settling (settler.ts)

  /**
   * Asks for a settle pass and waits for it: resolves with the cells it froze (also emitted as 'frozen'). Joins the
   * pass already waiting to run, if any. Passes run one after another.
   */
  settle(): Promise<FrozenCell[]> {
    return this.settler.settle();
  }

  /** Windows were stored: a settle pass follows soon (requests coalesce). Never throws. */
  notifyStored(): void {
    this.settler.notifyStored();
  }
}
