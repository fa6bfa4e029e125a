/**
 * The release layer's reader: series (minute, hour, day and calendar buckets), the released cells of one window,
 * and noise at read time. Every output is a sum of frozen cells (or of the rollups frozen with them), as the
 * facade's header explains (release-layer.ts). A read never writes and never settles: its store type holds only
 * read methods, and what it shows is what the settler (settler.ts) has frozen so far.
 */
import type { Radio, SeriesResponse } from '@passant/shared';
import type { Registry } from '../registry.ts';
import type { FrozenCell, ReleaseStore, Rollup, RollupStep } from '../store/types.ts';
import { rollupStart } from '../store/types.ts';
import { NOISE_MECHANISM, noiseFor } from './noise.ts';
import { calendarBoundaries, isCalendarUnit, type CalendarUnit } from './calendar.ts';
import { DAY, HOUR, zoneNoise, type ReleaseParams } from './params.ts';

/** What the reader may ask of the store: reads only. */
export type ReadStore = Pick<ReleaseStore, 'cells' | 'rollups' | 'sensorWindows'>;

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

interface Bucket {
  t: number;
  value: number;
  released: number;
  suppressed: number;
}

const RADIOS = ['wifi', 'ble'] as const;

export class ReleaseReader {
  constructor(
    private readonly store: ReadStore,
    private readonly registry: Registry,
    private readonly params: ReleaseParams,
  ) {}

  /** The noise of noisy responses, or null when noise is off. */
  get noiseInfo(): NoiseInfo | null {
    const noise = this.params.noise;
    return noise === null ? null : { epsilon: noise.epsilon, mechanism: NOISE_MECHANISM };
  }

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
    const noisy = this.params.noise !== null && options.exact !== true;
    const out: ReleasedSeries = {
      t: Array.from({ length: n }, (_, i) => from + i * step),
      devices: new Array<number | null>(n).fill(null),
      suppressed: new Array<number>(n).fill(0),
    };
    if (noisy) out.noise = this.noiseInfo!;
    const released = options.released === true ? new Array<number>(n).fill(0) : undefined;
    if (released !== undefined) out.released = released;
    if (n === 0) return out;
    const end = from + n * step;
    for (const zoneId of zoneIds) {
      const buckets =
        source === this.params.windowSeconds ? await this.minuteBuckets(zoneId, radio, from, end, noisy) : await this.rollupBuckets(zoneId, source as RollupStep, radio, from, end, noisy);
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
    const noisy = this.params.noise !== null && options.exact !== true;
    const out: ReleasedSeries & { minutes: number[]; released: number[]; tz: string } = {
      t: bounds.slice(0, n),
      devices: new Array<number | null>(n).fill(null),
      suppressed: new Array<number>(n).fill(0),
      minutes: Array.from({ length: n }, (_, i) => (bounds[i + 1]! - bounds[i]!) / this.params.windowSeconds),
      released: new Array<number>(n).fill(0),
      tz: timeZone,
    };
    if (noisy) out.noise = this.noiseInfo!;
    if (n === 0) return out;
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
    const ws = this.params.windowSeconds;
    if (!Number.isInteger(step) || step <= 0 || step % ws !== 0) {
      throw new RangeError(`step must be a positive multiple of ${ws} s, got ${step}`);
    }
    if (step % DAY === 0) return DAY;
    if (step % HOUR === 0) return HOUR;
    return ws;
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
    return noiseFor(zoneNoise(this.params, this.registry, zoneId), ['fill', zoneId, hour, radio, HOUR, i]);
  }

  /** The released form of a frozen cell, per radio (live updates). */
  releasedCells(cell: FrozenCell, options: SeriesOptions = {}): ReleasedCell[] {
    const noisy = this.params.noise !== null && options.exact !== true;
    return RADIOS.map((radio) => {
      const r = cell[radio];
      const devices = r.released ? r.devices + (noisy ? (r.noise ?? 0) : 0) : null;
      return { zoneId: cell.zoneId, radio, t: cell.windowStart, devices, suppressed: r.released ? 0 : 1 };
    });
  }

  /**
   * The released base cells (both radios) of a zone's window, or 'pending' when the window has data that have not
   * been frozen yet, or 'empty' when it has none (or the zone is unknown).
   */
  async cells(zoneId: string, windowStart: number, options: SeriesOptions = {}): Promise<ReleasedCell[] | 'pending' | 'empty'> {
    const zone = this.registry.zone(zoneId);
    if (zone === undefined) return 'empty';
    const ws = this.params.windowSeconds;
    const [cell] = await this.store.cells([zoneId], windowStart, windowStart + ws);
    if (cell !== undefined) return this.releasedCells(cell, options);
    const windows = await this.store.sensorWindows(zone.sensors, windowStart, windowStart + ws);
    return windows.length > 0 ? 'pending' : 'empty';
  }
}
