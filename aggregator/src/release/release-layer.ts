/**
 * The only path from stored counts to any output (API, live updates, later CSV and open data): reads zone sums
 * from the store, keeps back cells that have not settled, and applies the release rule.
 */
import type { Radio, SeriesResponse, SeriesStep } from '@passant/shared';
import type { Registry } from '../registry.ts';
import type { CountsStore } from '../store/types.ts';
import { releaseCell, releaseSeries } from './release-series.ts';
import { isSettled } from './settle.ts';

export interface ReleaseLayerOptions {
  k: number;
  settleSeconds: number;
  /** Length of a base cell; 60 while sensors must send minute windows. */
  windowSeconds?: number;
  /** Now in Unix seconds (tests pass a fixed clock). */
  now?: () => number;
}

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

export class ReleaseLayer {
  readonly k: number;
  readonly settleSeconds: number;
  readonly windowSeconds: number;
  private readonly now: () => number;

  constructor(
    private readonly store: CountsStore,
    private readonly registry: Registry,
    options: ReleaseLayerOptions,
  ) {
    this.k = options.k;
    this.settleSeconds = options.settleSeconds;
    this.windowSeconds = options.windowSeconds ?? 60;
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  /**
   * The released series of a zone: buckets of `step` from `from` (aligned by the caller) to `to` (exclusive).
   * Returns undefined for an unknown zone.
   */
  async series(zoneId: string, query: { from: number; to: number; step: SeriesStep; radio: Radio }): Promise<SeriesResponse | undefined> {
    const zone = this.registry.zone(zoneId);
    if (zone === undefined) return undefined;
    const sums = await this.store.sumByWindow(zone.sensors, query.radio, query.from, query.to);
    const settle = { zoneSensors: zone.sensors.length, now: this.now(), settleSeconds: this.settleSeconds, windowSeconds: this.windowSeconds };
    const cells = sums.filter((s) => isSettled(s, settle));
    return releaseSeries(cells, { k: this.k, from: query.from, to: query.to, step: query.step });
  }

  /**
   * The released base cells (both radios) of a zone's window, or 'pending' when the window has not settled,
   * or 'empty' when no sensor of the zone reported it.
   */
  async cells(zoneId: string, windowStart: number): Promise<ReleasedCell[] | 'pending' | 'empty'> {
    const zone = this.registry.zone(zoneId);
    if (zone === undefined) return 'empty';
    const settle = { zoneSensors: zone.sensors.length, now: this.now(), settleSeconds: this.settleSeconds, windowSeconds: this.windowSeconds };
    const out: ReleasedCell[] = [];
    for (const radio of ['wifi', 'ble'] as const) {
      const [sum] = await this.store.sumByWindow(zone.sensors, radio, windowStart, windowStart + this.windowSeconds);
      if (sum === undefined) return 'empty';
      if (!isSettled(sum, settle)) return 'pending';
      const devices = releaseCell(sum.devices, this.k);
      out.push({ zoneId, radio, t: windowStart, devices, suppressed: devices === null ? 1 : 0 });
    }
    return out;
  }
}
