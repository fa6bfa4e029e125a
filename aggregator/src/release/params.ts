/**
 * The release layer's settings, shared by its reader (reader.ts), its settler (settler.ts) and its jobs (jobs.ts):
 * the options as given, the resolved parameters, and the few rules all three apply the same way (the noise of a
 * zone's cells, the retention cutoff).
 */
import type { Logger } from 'pino';
import type { Registry } from '../registry.ts';
import type { NoiseSettings } from './noise.ts';
import type { BaselineOptions } from './static-baseline.ts';

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
  /** Period of the settler's interval started by start() (cells whose settle time has passed are frozen by it). */
  settleIntervalMs?: number;
  /** Unsettled keys looked at per round of a settle pass. */
  settleBatch?: number;
  logger?: Logger;
}

/** The options resolved: what the reader, the settler and the jobs read. */
export interface ReleaseParams {
  readonly k: number;
  readonly settleSeconds: number;
  readonly windowSeconds: number;
  readonly now: () => number;
  /** Null when noise is off. */
  readonly noise: NoiseSettings | null;
  readonly devicesPerPerson: number;
  /** Null when the static baseline is off. */
  readonly baselineOptions: BaselineOptions | null;
  /** Days of minute data kept, or undefined when kept for ever. */
  readonly minuteDays: number | undefined;
  readonly settleBatch: number;
  readonly settleIntervalMs: number;
  readonly retentionIntervalMs: number;
  readonly logger: Logger | undefined;
}

export const HOUR = 3600;
export const DAY = 86_400;

/** Checks and resolves the options (RangeError on a bad k or devicesPerPerson). */
export function releaseParams(options: ReleaseLayerOptions): ReleaseParams {
  if (!Number.isInteger(options.k) || options.k < 1) throw new RangeError(`k must be a positive integer, got ${options.k}`);
  const devicesPerPerson = options.devicesPerPerson ?? 2;
  if (!Number.isInteger(devicesPerPerson) || devicesPerPerson < 1) {
    throw new RangeError(`devicesPerPerson must be a positive integer, got ${devicesPerPerson}`);
  }
  return {
    k: options.k,
    settleSeconds: options.settleSeconds,
    windowSeconds: options.windowSeconds ?? 60,
    now: options.now ?? (() => Date.now() / 1000),
    noise: options.noise ?? null,
    devicesPerPerson,
    baselineOptions: options.baseline ?? null,
    minuteDays: options.minuteDays,
    settleBatch: options.settleBatch ?? 20_000,
    settleIntervalMs: options.settleIntervalMs ?? 5000,
    retentionIntervalMs: options.retentionIntervalMs ?? 3_600_000,
    logger: options.logger,
  };
}

/**
 * The sensitivity of a zone's cells: how much one person can change a zone-minute (their devices, each heard by
 * every sensor of the zone). The noise of the zone's cells is drawn with epsilon / sensitivity, so epsilon holds
 * per person and zone-minute.
 */
export function sensitivity(params: ReleaseParams, registry: Registry, zoneId: string): number {
  const sensors = registry.zone(zoneId)?.sensors.length ?? 1;
  return Math.max(1, sensors) * params.devicesPerPerson;
}

/** The noise settings for a zone's cells: epsilon scaled by the zone's sensitivity. Only when noise is on. */
export function zoneNoise(params: ReleaseParams, registry: Registry, zoneId: string): NoiseSettings {
  const noise = params.noise!;
  return { key: noise.key, epsilon: noise.epsilon / sensitivity(params, registry, zoneId) };
}

/** Windows before this (a UTC day start) are deleted by retention; null when minute data are kept for ever. */
export function retentionCutoff(params: ReleaseParams): number | null {
  if (params.minuteDays === undefined) return null;
  return Math.floor(params.now() / DAY) * DAY - params.minuteDays * DAY;
}
