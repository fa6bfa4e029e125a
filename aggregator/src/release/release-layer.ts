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
 * stay consistent (see `fillNoise`).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Radio, SeriesResponse } from '@passant/shared';
import type { Registry } from '../registry.ts';
import type { DeleteResult, FrozenCell, ReleaseStore, Rollup, RollupStep, SensorWindow, WindowKey } from '../store/types.ts';
import { rollupStart } from '../store/types.ts';
import { NOISE_MECHANISM, noiseFor, type NoiseSettings } from './noise.ts';
import { calendarBoundaries, isCalendarUnit, type CalendarUnit } from './calendar.ts';
import { releasedByPeopleRule } from './release-series.ts';
import { settleDeadline } from './settle.ts';
import { baselineAt, hourBuckets, type BaselineOptions, type SensorBaseline } from './static-baseline.ts';

export interface ReleaseLayerOptions {
  k: number;
  settleSeconds: number;
  /** Length of a base cell; 60 while sensors must send minute windows. */
  windowSeconds?: number;
  /** Now in Unix seconds (tests pass a fixed clock). */
  now?: () => number;
  /** Noise for noisy output; null or absent: off. */
  noise?: NoiseSettings | null;
  /**
   * Devices one person may carry, for the noise's sensitivity: one person changes a zone-minute by at most this
   * times the zone's sensors (every sensor of the zone may hear each of their devices). Default 2.
   */
  devicesPerPerson?: number;
  /**
   * The static baseline (static-baseline.ts): a sensor whose baseline is still unknown (fewer than minHistoryHours
   * of history) adds nothing to a cell's moving devices. Null or absent: off, every sensor's baseline is 0 (the rule
   * is then devices >= k on the zone's loudest sensor). The aggregator's config turns it on by default.
   */
  baseline?: BaselineOptions | null;
  /** Minute data older than this many whole days are deleted by applyRetention(); absent: kept. */
  minuteDays?: number;
  /** Period of the retention job started by start(). */
  retentionIntervalMs?: number;
  /** Period of the settle job started by start(). */
  settleIntervalMs?: number;
  /** Unsettled keys looked at per round of a settle pass. */
  settleBatch?: number;
  logger?: Logger;
}

/**
 * What a series is of: a zone, a site (the sum of its zones' released cells), or a set of zones (the sum of their
 * released cells: a site as one caller may read it, see http/site-series.ts).
 */
export interface SeriesTarget {
  kind: 'zone' | 'site';
  id: string;
}

/** A set of zones: the sum of their released cells (unknown ones left out). */
export interface ZoneSetTarget {
  kind: 'zones';
  ids: readonly string[];
}

/**
 * A series request: buckets of `step` seconds from `from` (inclusive) to `to` (exclusive, rounded up to a whole
 * bucket), or calendar buckets (days, ISO weeks, months) in `timeZone`.
 */
export interface SeriesRequest {
  from: number;
  to: number;
  /**
   * Bucket length: a multiple of the window (60); a multiple of 3600 reads hour rollups, of 86400 day rollups (UTC
   * days). Or a calendar unit: the buckets are days, weeks or months in `timeZone`, from the one that holds `from`.
   */
  step: number | CalendarUnit;
  radio: Radio;
  /** IANA time zone of calendar steps (default UTC). */
  timeZone?: string;
}

export interface SeriesOptions {
  /**
   * Exact released values even when noise is configured (for roles that may see them). Default false: noisy
   * when noise is configured.
   */
  exact?: boolean;
  /**
   * Also `released`, the released base cells per bucket, for steps in seconds too (calendar steps always carry it):
   * the estimates and the index divide by it (http/estimates.ts). How many cells were released is no secret: the
   * suppressed ones are counted in every series.
   */
  released?: boolean;
}

/** How a noisy response says so. */
export interface NoiseInfo {
  epsilon: number;
  mechanism: typeof NOISE_MECHANISM;
}

/** A released series; `noise` is present when the values carry noise. */
export type ReleasedSeries = SeriesResponse & { noise?: NoiseInfo };

/** One released base cell of a zone, as live updates carry it. */
export interface ReleasedCell {
  zoneId: string;
  radio: Radio;
  /** Window start, Unix seconds. */
  t: number;
  /** Devices, or null when suppressed. */
  devices: number | null;
  /** 1 when the cell was suppressed, else 0. */
  suppressed: number;
}

interface Events {
  /** Cells frozen by a settle pass (each once). */
  frozen: [FrozenCell[]];
}

const RADIOS = ['wifi', 'ble'] as const;
const REGISTRY_META_KEY = 'release-registry';
const DAY = 86_400;
const HOUR = 3600;
/** Most rounds of one settle pass (each `settleBatch` keys); the rest waits for the next pass. */
const MAX_SETTLE_ROUNDS = 50;
/** Baselines kept in memory (sensor-hours); past this the cache starts again. */
const MAX_CACHED_BASELINES = 200_000;

/** Start of the UTC day that holds `t`. */
function dayStart(t: number): number {
  return Math.floor(t / DAY) * DAY;
}

export class ReleaseLayer extends EventEmitter<Events> {
  readonly k: number;
  readonly settleSeconds: number;
  readonly windowSeconds: number;
  /** Days of minute data kept, or undefined when kept for ever. */
  readonly minuteDays: number | undefined;
  private readonly noise: NoiseSettings | null;
  readonly devicesPerPerson: number;
  /** Options of the static baseline, or null when it is off. */
  readonly baselineOptions: BaselineOptions | null;
  /** (sensor, hour) -> baselines per radio. */
  private readonly baselines = new Map<string, SensorBaseline>();
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private readonly settleBatch: number;
  private readonly settleIntervalMs: number;
  private readonly retentionIntervalMs: number;
  /** Settle passes, registry syncs and retention runs one after another. */
  private chain: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private started = false;
  /** Late windows for frozen cells seen so far (stored, never released); for the stats line. */
  lateWindows = 0;
  /** How long after a write the store may take to show it (ReleaseStore.writeVisibilitySeconds). */
  private readonly visibilitySeconds: number;

  constructor(
    private readonly store: ReleaseStore,
    private readonly registry: Registry,
    options: ReleaseLayerOptions,
  ) {
    super();
    if (!Number.isInteger(options.k) || options.k < 1) throw new RangeError(`k must be a positive integer, got ${options.k}`);
    this.k = options.k;
    this.settleSeconds = options.settleSeconds;
    this.windowSeconds = options.windowSeconds ?? 60;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.noise = options.noise ?? null;
    this.devicesPerPerson = options.devicesPerPerson ?? 2;
    if (!Number.isInteger(this.devicesPerPerson) || this.devicesPerPerson < 1) {
      throw new RangeError(`devicesPerPerson must be a positive integer, got ${this.devicesPerPerson}`);
    }
    this.baselineOptions = options.baseline ?? null;
    this.minuteDays = options.minuteDays;
    this.logger = options.logger;
    this.settleBatch = options.settleBatch ?? 20_000;
    this.settleIntervalMs = options.settleIntervalMs ?? 5000;
    this.retentionIntervalMs = options.retentionIntervalMs ?? 3_600_000;
    this.visibilitySeconds = store.writeVisibilitySeconds ?? 0;
  }

  /** The noise of noisy responses, or null when noise is off. */
  get noiseInfo(): NoiseInfo | null {
    return this.noise === null ? null : { epsilon: this.noise.epsilon, mechanism: NOISE_MECHANISM };
  }

  /**
   * The sensitivity of a zone's cells: how much one person can change a zone-minute (their devices, each heard by
   * every sensor of the zone). The noise of the zone's cells is drawn with epsilon / sensitivity, so epsilon holds
   * per person and zone-minute.
   */
  sensitivity(zoneId: string): number {
    const sensors = this.registry.zone(zoneId)?.sensors.length ?? 1;
    return Math.max(1, sensors) * this.devicesPerPerson;
  }

  /** The noise settings for a zone's cells: epsilon scaled by the zone's sensitivity. */
  private zoneNoise(zoneId: string): NoiseSettings {
    const noise = this.noise!;
    return { key: noise.key, epsilon: noise.epsilon / this.sensitivity(zoneId) };
  }

  /**
   * The static baseline of each sensor for the hour holding `t` (per radio; null while unknown), as the release
   * rule uses it. For admins' sensor health and for people estimates.
   */
  async baseline(sensorIds: readonly string[], t: number): Promise<Map<string, SensorBaseline>> {
    const hour = rollupStart(t, HOUR);
    await this.loadBaselines(new Map(sensorIds.map((s) => [s, new Set([hour])])));
    const out = new Map<string, SensorBaseline>();
    for (const s of sensorIds) out.set(s, this.baselines.get(`${s}@${hour}`) ?? { wifi: null, ble: null });
    return out;
  }

  /** Computes the baselines of the (sensor, hour) pairs not cached yet, one store read per sensor. */
  private async loadBaselines(needed: ReadonlyMap<string, ReadonlySet<number>>): Promise<void> {
    const options = this.baselineOptions;
    if (options === null) return;
    if (this.baselines.size > MAX_CACHED_BASELINES) this.baselines.clear();
    for (const [sensorId, hours] of needed) {
      const missing = [...hours].filter((h) => !this.baselines.has(`${sensorId}@${h}`));
      if (missing.length === 0) continue;
      const rows = await this.store.sensorWindows([sensorId], Math.min(...missing) - options.historyHours * HOUR, Math.max(...missing));
      const wifi = hourBuckets(rows.map((r) => ({ windowStart: r.windowStart, value: r.wifi })));
      const ble = hourBuckets(rows.map((r) => ({ windowStart: r.windowStart, value: r.ble })));
      const opts = { ...options, windowSeconds: this.windowSeconds };
      for (const h of missing) this.baselines.set(`${sensorId}@${h}`, { wifi: baselineAt(wifi, h, opts), ble: baselineAt(ble, h, opts) });
    }
  }

  /** Windows before this (a UTC day start) are deleted by retention; null when minute data are kept for ever. */
  retentionCutoff(): number | null {
    if (this.minuteDays === undefined) return null;
    return dayStart(this.now()) - this.minuteDays * DAY;
  }

  /**
   * Starts the background jobs: registry sync (now and on every registry change), retention (now and every
   * retentionIntervalMs) and settling (every settleIntervalMs). Their failures are logged, never thrown.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe = this.registry.onChange((change) => {
      if (!change.metadataOnly) void this.syncRegistry().catch((err: unknown) => this.warn('registry sync failed', err));
    });
    void this.syncRegistry().catch((err: unknown) => this.warn('registry sync failed', err));
    if (this.minuteDays !== undefined) {
      void this.applyRetention().catch((err: unknown) => this.warn('retention failed', err));
      const retention = setInterval(() => void this.applyRetention().catch((err: unknown) => this.warn('retention failed', err)), this.retentionIntervalMs);
      retention.unref();
      this.timers.push(retention);
    }
    const settle = setInterval(() => void this.settle().catch((err: unknown) => this.warn('settle failed', err)), this.settleIntervalMs);
    settle.unref();
    this.timers.push(settle);
  }

  /** Stops the background jobs and waits for the running one. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.started = false;
    await this.idle();
  }

  /** Resolves when the work queued so far is done. */
  async idle(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  private warn(what: string, err: unknown): void {
    this.logger?.warn({ err: (err as Error)?.message }, what);
  }

  /** Runs `task` after everything queued before it. */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.catch(() => undefined).then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  // ---------------------------------------------------------------- output

  /**
   * The released series of a zone or a site: buckets of `step` from `from` to `to`. A string target is a zone id.
   * Returns undefined for an unknown zone or site. Throws a RangeError when `step` is not a multiple of the
   * window or `from` is not aligned to the data the step reads (a minute, an hour or a day).
   */
  async series(target: SeriesTarget | ZoneSetTarget | string, query: SeriesRequest, options: SeriesOptions = {}): Promise<ReleasedSeries | undefined> {
    const t = typeof target === 'string' ? { kind: 'zone' as const, id: target } : target;
    let zoneIds: string[];
    if (t.kind === 'zones') {
      zoneIds = t.ids.filter((z) => this.registry.zone(z) !== undefined);
    } else if (t.kind === 'site') {
      const site = this.registry.site(t.id);
      if (site === undefined) return undefined;
      zoneIds = site.zones.filter((z) => this.registry.zone(z) !== undefined);
    } else {
      if (this.registry.zone(t.id) === undefined) return undefined;
      zoneIds = [t.id];
    }
    if (isCalendarUnit(query.step)) return this.calendarSeries(zoneIds, query.step, query, options);
    const { from, radio } = query;
    const step = query.step;
    const source = this.sourceStep(step);
    if (!Number.isInteger(from) || from % source !== 0) {
      throw new RangeError(`from (${from}) must be a multiple of ${source} s for step ${step}`);
    }
    const n = query.to > from ? Math.ceil((query.to - from) / step) : 0;
    const noisy = this.noise !== null && options.exact !== true;
    const out: ReleasedSeries = {
      t: Array.from({ length: n }, (_, i) => from + i * step),
      devices: new Array<number | null>(n).fill(null),
      suppressed: new Array<number>(n).fill(0),
    };
    if (noisy) out.noise = this.noiseInfo!;
    const released = options.released === true ? new Array<number>(n).fill(0) : undefined;
    if (released !== undefined) out.released = released;
    if (n === 0) return out;
    await this.settle();
    const end = from + n * step;
    for (const zoneId of zoneIds) {
      const buckets = source === this.windowSeconds ? await this.minuteBuckets(zoneId, radio, from, end, noisy) : await this.rollupBuckets(zoneId, source as RollupStep, radio, from, end, noisy);
      for (const b of buckets) {
        const i = Math.floor((b.t - from) / step);
        if (i < 0 || i >= n) continue;
        if (b.released > 0) out.devices[i] = (out.devices[i] ?? 0) + b.value;
        out.suppressed[i]! += b.suppressed;
        if (released !== undefined) released[i]! += b.released;
      }
    }
    return out;
  }

  /**
   * Calendar buckets in a time zone: each bucket is the sum of the released cells in it (read from hour rollups
   * when every boundary falls on a whole hour, as in every zone whose offsets are whole hours, else from minute
   * cells), with the number of suppressed cells, the base minutes it covers and how many of them were released.
   * Nothing else than for any other step: sums of released cells.
   */
  private async calendarSeries(zoneIds: string[], unit: CalendarUnit, query: SeriesRequest, options: SeriesOptions): Promise<ReleasedSeries> {
    const timeZone = query.timeZone ?? 'UTC';
    const bounds = calendarBoundaries(query.from, query.to, unit, timeZone);
    const n = Math.max(0, bounds.length - 1);
    const noisy = this.noise !== null && options.exact !== true;
    const out: ReleasedSeries & { minutes: number[]; released: number[]; tz: string } = {
      t: bounds.slice(0, n),
      devices: new Array<number | null>(n).fill(null),
      suppressed: new Array<number>(n).fill(0),
      minutes: Array.from({ length: n }, (_, i) => (bounds[i + 1]! - bounds[i]!) / this.windowSeconds),
      released: new Array<number>(n).fill(0),
      tz: timeZone,
    };
    if (noisy) out.noise = this.noiseInfo!;
    if (n === 0) return out;
    await this.settle();
    const start = bounds[0]!;
    const end = bounds[n]!;
    const wholeHours = bounds.every((b) => b % HOUR === 0);
    for (const zoneId of zoneIds) {
      const buckets = wholeHours
        ? await this.rollupBuckets(zoneId, HOUR, query.radio, start, end, noisy)
        : await this.minuteBuckets(zoneId, query.radio, start, end, noisy);
      let i = 0;
      for (const b of buckets) {
        while (i < n - 1 && b.t >= bounds[i + 1]!) i++;
        if (b.t < bounds[i]! || b.t >= bounds[i + 1]!) continue;
        if (b.released > 0) out.devices[i] = (out.devices[i] ?? 0) + b.value;
        out.released[i]! += b.released;
        out.suppressed[i]! += b.suppressed;
      }
    }
    return out;
  }

  /** The data a step is read from: day rollups, hour rollups or minute cells. */
  private sourceStep(step: number): number | RollupStep {
    if (!Number.isInteger(step) || step <= 0 || step % this.windowSeconds !== 0) {
      throw new RangeError(`step must be a positive multiple of ${this.windowSeconds} s, got ${step}`);
    }
    if (step % DAY === 0) return DAY;
    if (step % HOUR === 0) return HOUR;
    return this.windowSeconds;
  }

  /** Per minute cell: its released value (with noise when noisy) or 1 suppressed. */
  private async minuteBuckets(zoneId: string, radio: Radio, from: number, to: number, noisy: boolean): Promise<Bucket[]> {
    // Noisy reads take whole hours, so that the read-time noise of cells frozen without noise is numbered per hour.
    const values = { sensors: false };
    const cells = noisy
      ? await this.store.cells([zoneId], rollupStart(from, HOUR), Math.ceil(to / HOUR) * HOUR, values)
      : await this.store.cells([zoneId], from, to, values);
    const fillRank = new Map<number, number>();
    const out: Bucket[] = [];
    for (const c of cells) {
      const r = c[radio];
      let rank = -1;
      if (noisy && r.released && r.noise === null) {
        const hour = rollupStart(c.windowStart, HOUR);
        rank = fillRank.get(hour) ?? 0;
        fillRank.set(hour, rank + 1);
      }
      if (c.windowStart < from || c.windowStart >= to) continue;
      if (!r.released) {
        out.push({ t: c.windowStart, value: 0, released: 0, suppressed: 1 });
        continue;
      }
      let value = r.devices;
      if (noisy) value += r.noise ?? this.fillDraw(zoneId, rollupStart(c.windowStart, HOUR), radio, rank);
      out.push({ t: c.windowStart, value, released: 1, suppressed: 0 });
    }
    return out;
  }

  private async rollupBuckets(zoneId: string, step: RollupStep, radio: Radio, from: number, to: number, noisy: boolean): Promise<Bucket[]> {
    const rows = await this.store.rollups(zoneId, step, from, to);
    const out: Bucket[] = [];
    for (const row of rows) {
      const r = row[radio];
      let value = r.sum;
      if (noisy && r.released > 0) value += r.noise + (r.noised < r.released ? await this.fillNoise(row, radio) : 0);
      out.push({ t: row.t, value, released: r.released, suppressed: r.suppressed });
    }
    return out;
  }

  /**
   * Noise for released cells frozen while noise was off (they have none stored), for a noisy read. For an hour
   * with m such cells it is the sum of the draws 0..m-1 of (zone, hour, radio); the minute read gives the i-th
   * such cell of the hour (in time order) draw i, and a day adds up its hours. So minutes, hours and days stay
   * consistent, also after the minutes are deleted.
   */
  private async fillNoise(row: Rollup, radio: Radio): Promise<number> {
    const hours = row.step === HOUR ? [row] : await this.store.rollups(row.zoneId, HOUR, row.t, row.t + DAY);
    let total = 0;
    for (const h of hours) {
      const missing = h[radio].released - h[radio].noised;
      for (let i = 0; i < missing; i++) total += this.fillDraw(h.zoneId, h.t, radio, i);
    }
    return total;
  }

  private fillDraw(zoneId: string, hour: number, radio: Radio, i: number): number {
    return noiseFor(this.zoneNoise(zoneId), ['fill', zoneId, hour, radio, HOUR, i]);
  }

  /** The released form of a frozen cell, per radio (live updates). */
  releasedCells(cell: FrozenCell, options: SeriesOptions = {}): ReleasedCell[] {
    const noisy = this.noise !== null && options.exact !== true;
    return RADIOS.map((radio) => {
      const r = cell[radio];
      const devices = r.released ? r.devices + (noisy ? (r.noise ?? 0) : 0) : null;
      return { zoneId: cell.zoneId, radio, t: cell.windowStart, devices, suppressed: r.released ? 0 : 1 };
    });
  }

  /**
   * The released base cells (both radios) of a zone's window, or 'pending' when the window has data that have not
   * settled, or 'empty' when it has none (or the zone is unknown).
   */
  async cells(zoneId: string, windowStart: number, options: SeriesOptions = {}): Promise<ReleasedCell[] | 'pending' | 'empty'> {
    const zone = this.registry.zone(zoneId);
    if (zone === undefined) return 'empty';
    await this.settle();
    const [cell] = await this.store.cells([zoneId], windowStart, windowStart + this.windowSeconds);
    if (cell !== undefined) return this.releasedCells(cell, options);
    const windows = await this.store.sensorWindows(zone.sensors, windowStart, windowStart + this.windowSeconds);
    return windows.length > 0 ? 'pending' : 'empty';
  }

  // ---------------------------------------------------------------- settling

  /**
   * One settle pass: looks at the unsettled windows and freezes every zone-window that has settled. Returns the
   * cells it froze (also emitted as 'frozen'). Passes run one after another.
   */
  settle(): Promise<FrozenCell[]> {
    return this.serialized(() => this.settleNow());
  }

  private async settleNow(): Promise<FrozenCell[]> {
    const frozen: FrozenCell[] = [];
    for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
      const keys = await this.store.unsettled(this.settleBatch);
      if (keys.length === 0) break;
      const result = await this.settleKeys(keys);
      frozen.push(...result.frozen);
      // A full batch that only holds windows still waiting: the rest are newer and wait too.
      if (keys.length < this.settleBatch || result.cleared === 0) break;
    }
    if (frozen.length > 0) this.emit('frozen', frozen);
    return frozen;
  }

  private async settleKeys(keys: WindowKey[]): Promise<{ frozen: FrozenCell[]; cleared: number }> {
    const now = this.now();
    const ws = this.windowSeconds;
    const clear: WindowKey[] = [];
    /** zone -> window -> its keys in this batch */
    const byZone = new Map<string, Map<number, WindowKey[]>>();
    for (const key of keys) {
      const zoneId = this.registry.zoneOf(key.sensorId);
      // A sensor in no zone: stored apart, released nowhere. (Windows older than the retention period are
      // frozen like any other, so the rollups that outlive them hold them; the next retention run deletes them.)
      if (zoneId === undefined) {
        clear.push(key);
        continue;
      }
      const windows = byZone.get(zoneId) ?? new Map<number, WindowKey[]>();
      windows.set(key.windowStart, [...(windows.get(key.windowStart) ?? []), key]);
      byZone.set(zoneId, windows);
    }
    const toFreeze: FrozenCell[] = [];
    /** Zone-windows that settled, with their parts; built into cells once the parts' baselines are known. */
    const settledParts: { zoneId: string; windowStart: number; parts: SensorWindow[] }[] = [];
    if (byZone.size > 0) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const windows of byZone.values()) {
        for (const w of windows.keys()) {
          lo = Math.min(lo, w);
          hi = Math.max(hi, w);
        }
      }
      // Frozen cells of every zone in the range: which zone-windows are done, and which sensor windows are used.
      const existing = await this.store.cells(null, lo, hi + ws);
      const frozenKeys = new Set(existing.map((c) => `${c.zoneId}@${c.windowStart}`));
      const used = new Map<number, Set<string>>();
      for (const c of existing) {
        const set = used.get(c.windowStart) ?? new Set<string>();
        for (const s of c.sensors) set.add(s);
        used.set(c.windowStart, set);
      }
      const cutoff = this.retentionCutoff();
      for (const [zoneId, windows] of byZone) {
        // The registry may have been reloaded while this pass awaited the store: a zone gone meanwhile waits for
        // the next pass (its windows stay unsettled).
        const zone = this.registry.zone(zoneId);
        if (zone === undefined) continue;
        // Minutes older than the retention period whose hour was closed by retention: their frozen cells are gone,
        // so whether a minute was released cannot be told; none of them is released again (it could be counted
        // twice, and an old window delivered again would then show as a difference).
        const oldWindows = cutoff === null ? [] : [...windows.keys()].filter((w) => w < cutoff);
        const closedHours = new Set<number>();
        if (oldWindows.length > 0) {
          const first = rollupStart(Math.min(...oldWindows), HOUR);
          for (const t of await this.store.closedHours(zoneId, first, Math.max(...oldWindows) + ws)) closedHours.add(t);
        }
        const open = [...windows.keys()].filter((w) => {
          const frozenBefore = frozenKeys.has(`${zoneId}@${w}`) || closedHours.has(rollupStart(w, HOUR));
          if (!frozenBefore) return true;
          // Late data for a frozen cell: stored, never released.
          this.lateWindows += windows.get(w)!.length;
          clear.push(...windows.get(w)!);
          return false;
        });
        if (open.length === 0) continue;
        const rows = await this.store.sensorWindows(zone.sensors, Math.min(...open), Math.max(...open) + ws);
        const rowsAt = new Map<number, SensorWindow[]>();
        for (const r of rows) rowsAt.set(r.windowStart, [...(rowsAt.get(r.windowStart) ?? []), r]);
        for (const w of open) {
          const here = rowsAt.get(w) ?? [];
          if (here.length === 0) {
            clear.push(...windows.get(w)!); // its windows are gone (retention)
            continue;
          }
          // The settle time runs from the window's end; for a window whose first data arrived only after that
          // deadline (sensors replaying their outboxes after an outage), from that arrival, so the other sensors
          // of the zone get the same time to catch up.
          const firstArrival = Math.min(...here.map((r) => r.receivedAt));
          const regular = settleDeadline(w, { settleSeconds: this.settleSeconds, windowSeconds: ws });
          const deadline = firstArrival <= regular ? regular : firstArrival + this.settleSeconds;
          // A cell is made of the windows received by its deadline, and of no other, whenever and wherever it is
          // frozen: several aggregators on one store (which cannot refuse a second write of a cell) then freeze the
          // same content, so a released value cannot change. A window received after the deadline is late. Past the deadline a cell waits a little longer when the store shows writes only after a delay
          // (its writeVisibilitySeconds), so that every window received in time is seen.
          const inTime = here.filter((r) => r.receivedAt <= deadline);
          const reported = new Set(inTime.map((r) => r.sensorId));
          const settled = zone.sensors.every((s) => reported.has(s)) || now >= deadline + this.visibilitySeconds;
          if (!settled) continue;
          clear.push(...windows.get(w)!);
          this.lateWindows += here.length - inTime.length;
          const usedHere = used.get(w);
          const parts = inTime.filter((r) => usedHere === undefined || !usedHere.has(r.sensorId));
          if (parts.length === 0) continue;
          settledParts.push({ zoneId, windowStart: w, parts });
        }
      }
    }
    const needed = new Map<string, Set<number>>();
    for (const { windowStart, parts } of settledParts) {
      for (const p of parts) {
        const hours = needed.get(p.sensorId) ?? new Set<number>();
        hours.add(rollupStart(windowStart, HOUR));
        needed.set(p.sensorId, hours);
      }
    }
    await this.loadBaselines(needed);
    for (const { zoneId, windowStart, parts } of settledParts) toFreeze.push(this.buildCell(zoneId, windowStart, parts));
    const written = await this.store.freeze(toFreeze);
    await this.store.clearUnsettled(clear);
    const frozen = toFreeze.filter((_, i) => written[i] === true);
    if (frozen.length > 0) this.logger?.debug({ frozen: frozen.length, cleared: clear.length }, 'settled');
    return { frozen, cleared: clear.length };
  }

  private buildCell(zoneId: string, windowStart: number, parts: SensorWindow[]): FrozenCell {
    const hour = rollupStart(windowStart, HOUR);
    const radio = (r: Radio) => {
      const devices = parts.reduce((sum, p) => sum + p[r], 0);
      const released = releasedByPeopleRule(
        parts.map((p) => ({ devices: p[r], baseline: this.baselineOptions === null ? 0 : (this.baselines.get(`${p.sensorId}@${hour}`)?.[r] ?? null) })),
        this.k,
      );
      const noise = released && this.noise !== null ? noiseFor(this.zoneNoise(zoneId), ['cell', zoneId, windowStart, r, this.windowSeconds]) : null;
      return { devices, released, noise };
    };
    return { zoneId, windowStart, sensors: parts.map((p) => p.sensorId).sort(), wifi: radio('wifi'), ble: radio('ble') };
  }

  // ---------------------------------------------------------------- registry and retention

  /**
   * Brings the store in line with the registry: windows of sensors that joined a zone since the last sync (kept
   * in the store's meta) are queued again, so they settle into that zone wherever it has no frozen cell.
   */
  syncRegistry(): Promise<number> {
    return this.serialized(async () => {
      const current = this.registry.sensorMap();
      const raw = await this.store.getMeta(REGISTRY_META_KEY);
      let previous: Record<string, string[]> = {};
      if (raw !== undefined) {
        try {
          previous = JSON.parse(raw) as Record<string, string[]>;
        } catch {
          previous = {};
        }
      }
      const joined = new Set<string>();
      for (const [zoneId, sensors] of Object.entries(current)) {
        const before = new Set(previous[zoneId] ?? []);
        for (const s of sensors) if (!before.has(s)) joined.add(s);
      }
      let queued = 0;
      if (joined.size > 0) {
        const stats = (await this.store.sensorStats()).filter((s) => joined.has(s.sensorId));
        if (stats.length > 0) {
          const first = Math.min(...stats.map((s) => s.firstWindowStart));
          const from = Math.max(first, this.retentionCutoff() ?? first);
          const to = Math.max(...stats.map((s) => s.lastWindowStart)) + this.windowSeconds;
          queued = await this.store.requeue([...joined], from, to);
        }
      }
      await this.store.setMeta(REGISTRY_META_KEY, JSON.stringify(current));
      if (queued > 0) this.logger?.info({ sensors: joined.size, windows: queued }, 'sensors joined zones: their retained windows are settled again');
      return queued;
    });
  }

  /** Deletes minute data older than the retention period (whole UTC days). Null when minute data are kept for ever. */
  applyRetention(): Promise<DeleteResult | null> {
    return this.serialized(async () => {
      const cutoff = this.retentionCutoff();
      if (cutoff === null) return null;
      const result = await this.store.deleteMinutesBefore(cutoff);
      if (result.windows !== 0 || result.cells !== 0) this.logger?.info({ before: cutoff, ...result }, 'retention: minute data deleted');
      return result;
    });
  }
}

interface Bucket {
  t: number;
  value: number;
  released: number;
  suppressed: number;
}
