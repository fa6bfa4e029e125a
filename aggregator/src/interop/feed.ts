/**
 * What the open-data feed and the NGSI-LD entities publish: per public zone and per hour or local day, the released
 * values exactly as the public reads them (the access policy with the anonymous principal; noisy where noise is on),
 * and the estimated passers-by where the zone has a calibration of kind `passers` for the radio.
 *
 * Only zones anyone may read without a token are in it (auth.public, as configured now), and only released data:
 * a bucket where nothing was released has no value (null), never 0. A bucket with no data at all is left out. The
 * site of a zone (its `area`) is named only when the site is public too.
 */
import type { Radio } from '@passant/shared';
import { ANONYMOUS, type AccessPolicy } from '../auth/access.ts';
import type { CalibrationSource } from '../estimate/estimate.ts';
import { estimateSeries, latestCalibration, type CalibrationForEstimate } from '../estimate/estimate.ts';
import type { Registry } from '../registry.ts';
import type { NoiseInfo, ReleaseLayer, SeriesOptions } from '../release/release-layer.ts';

export type FeedPeriod = 'hour' | 'day';

export interface FeedDeps {
  registry: Registry;
  release: ReleaseLayer;
  access: AccessPolicy;
  /** The zones' calibrations; without it nothing is estimated. */
  calibrations?: CalibrationSource<CalibrationForEstimate>;
}

export interface FeedQuery {
  /** Unix seconds; for hours aligned to the hour, for days the start of a local day. */
  from: number;
  /** Exclusive. */
  to: number;
  period: FeedPeriod;
  radio: Radio;
  /** Time zone of the days. */
  timeZone: string;
  /** Only these zones (ids); absent: every public zone. */
  zones?: readonly string[];
}

export interface PassersEstimate {
  value: number;
  low: number;
  high: number;
  calibrationId: string;
  /** Unix seconds. */
  calibratedAt: number;
}

export interface FeedObservation {
  zoneId: string;
  zoneName: string;
  /** The zone's site, when it is public too. */
  area: { id: string; name: string } | null;
  coordinates: { lat: number; lon: number } | null;
  radio: Radio;
  period: FeedPeriod;
  /** Unix seconds; `end` exclusive. */
  start: number;
  end: number;
  /** Base minutes the bucket covers (a 25-hour day: 1500). */
  minutes: number;
  /** Minutes released, and minutes hidden (fewer than k devices beyond the static ones). */
  releasedMinutes: number;
  hiddenMinutes: number;
  /** Sum over the released minutes of the devices heard in each minute; null when no minute was released. */
  deviceMinutes: number | null;
  /** Estimated passers-by in the bucket; null without a calibration of kind passers or without a released minute. */
  passers: PassersEstimate | null;
}

export interface Feed {
  observations: FeedObservation[];
  /** Present when the values carry noise. */
  noise?: NoiseInfo;
}

/** Values as the public reads them, with the released minutes of each bucket (the estimates divide by them). */
function seriesOptions(exact: boolean): SeriesOptions {
  return { exact, released: true } as SeriesOptions;
}

/** The zones anyone may read, in configuration order (only those asked for, when `only` is given). */
export function publicZones(deps: Pick<FeedDeps, 'registry' | 'access'>, only?: readonly string[]): string[] {
  return deps.registry
    .allZones()
    .map((zone) => zone.id)
    .filter((id) => deps.access.canReadZone(ANONYMOUS, id) && (only === undefined || only.includes(id)));
}

/** The latest calibration of kind passers of a zone for a radio, or null. */
function passersCalibration(deps: FeedDeps, zoneId: string, radio: Radio): CalibrationForEstimate | null {
  if (deps.calibrations === undefined) return null;
  return latestCalibration(deps.calibrations.list(zoneId), radio, 'passers');
}

/** Observations of every public zone (or of `query.zones` among them), in zone order, then time order. */
export async function feedObservations(deps: FeedDeps, query: FeedQuery): Promise<Feed> {
  const { registry, release, access } = deps;
  const out: Feed = { observations: [] };
  for (const zoneId of publicZones(deps, query.zones)) {
    const zone = registry.zone(zoneId);
    if (zone === undefined) continue;
    const exact = access.grantsExact(ANONYMOUS, { kind: 'zone', id: zoneId });
    const series =
      query.period === 'hour'
        ? await release.series({ kind: 'zone', id: zoneId }, { from: query.from, to: query.to, step: 3600, radio: query.radio }, seriesOptions(exact))
        : await release.series({ kind: 'zone', id: zoneId }, { from: query.from, to: query.to, step: 'day', radio: query.radio, timeZone: query.timeZone }, seriesOptions(exact));
    if (series === undefined) continue;
    if (series.noise) out.noise = series.noise;
    const siteId = registry.siteOf(zoneId);
    const site = siteId !== undefined && access.canReadSite(ANONYMOUS, siteId) ? registry.site(siteId) : undefined;
    const calibration = passersCalibration(deps, zoneId, query.radio);
    for (let i = 0; i < series.t.length; i++) {
      const start = series.t[i]!;
      const minutes = series.minutes?.[i] ?? 60;
      const devices = series.devices[i] ?? null;
      const hidden = series.suppressed[i] ?? 0;
      const released = series.released?.[i] ?? (devices === null ? 0 : minutes - hidden);
      // A bucket with nothing in it (no sensor reported): not an observation.
      if (devices === null && hidden === 0) continue;
      let passers: PassersEstimate | null = null;
      if (calibration !== null && devices !== null) {
        // One bucket at a time: a local day may be 23 or 25 hours long.
        const e = estimateSeries(
          { t: [start], devices: [devices], suppressed: [hidden], released: [released], step: minutes * 60, radio: query.radio },
          calibration.parameters.baseline,
          calibration,
          // as the API estimates: over the minutes the sensors counted, a hidden one holding at most what the rule lets it
          { hiddenCap: zone.sensors.length * (release.k - 1) },
        );
        if (e.passers[0] !== null && e.passers[0] !== undefined) {
          passers = { value: e.passers[0], low: e.passersLow[0]!, high: e.passersHigh[0]!, calibrationId: calibration.id, calibratedAt: calibration.created };
        }
      }
      out.observations.push({
        zoneId,
        zoneName: zone.name,
        area: site === undefined ? null : { id: site.id, name: site.name },
        coordinates: zone.coordinates ? { lat: zone.coordinates.lat, lon: zone.coordinates.lon } : null,
        radio: query.radio,
        period: query.period,
        start,
        end: start + minutes * 60,
        minutes,
        releasedMinutes: released,
        hiddenMinutes: hidden,
        deviceMinutes: devices,
        passers,
      });
    }
  }
  return out;
}

/**
 * One observation per public zone (or per zone of `query.zones` among them) over the whole period [from, to) (whole
 * hours): the sums of its hours, and the passers estimated for the period as one bucket. A zone with nothing in the
 * period is still listed (its released and hidden minutes 0, no values).
 */
export async function feedTotals(deps: FeedDeps, query: Omit<FeedQuery, 'period' | 'timeZone'>): Promise<Feed> {
  const { registry, release, access } = deps;
  const out: Feed = { observations: [] };
  for (const zoneId of publicZones(deps, query.zones)) {
    const zone = registry.zone(zoneId);
    if (zone === undefined) continue;
    const exact = access.grantsExact(ANONYMOUS, { kind: 'zone', id: zoneId });
    const series = await release.series({ kind: 'zone', id: zoneId }, { from: query.from, to: query.to, step: 3600, radio: query.radio }, seriesOptions(exact));
    if (series === undefined) continue;
    if (series.noise) out.noise = series.noise;
    let devices: number | null = null;
    let hidden = 0;
    let released = 0;
    for (let i = 0; i < series.t.length; i++) {
      const d = series.devices[i];
      if (d !== null && d !== undefined) devices = (devices ?? 0) + d;
      hidden += series.suppressed[i] ?? 0;
      released += series.released?.[i] ?? (d === null || d === undefined ? 0 : 60 - (series.suppressed[i] ?? 0));
    }
    const minutes = Math.round((query.to - query.from) / 60);
    const calibration = passersCalibration(deps, zoneId, query.radio);
    let passers: PassersEstimate | null = null;
    if (calibration !== null && devices !== null) {
      const e = estimateSeries(
        { t: [query.from], devices: [devices], suppressed: [hidden], released: [released], step: minutes * 60, radio: query.radio },
        calibration.parameters.baseline,
        calibration,
        { hiddenCap: zone.sensors.length * (release.k - 1) },
      );
      if (e.passers[0] !== null && e.passers[0] !== undefined) {
        passers = { value: e.passers[0], low: e.passersLow[0]!, high: e.passersHigh[0]!, calibrationId: calibration.id, calibratedAt: calibration.created };
      }
    }
    const siteId = registry.siteOf(zoneId);
    const site = siteId !== undefined && access.canReadSite(ANONYMOUS, siteId) ? registry.site(siteId) : undefined;
    out.observations.push({
      zoneId,
      zoneName: zone.name,
      area: site === undefined ? null : { id: site.id, name: site.name },
      coordinates: zone.coordinates ? { lat: zone.coordinates.lat, lon: zone.coordinates.lon } : null,
      radio: query.radio,
      period: 'hour',
      start: query.from,
      end: query.to,
      minutes,
      releasedMinutes: released,
      hiddenMinutes: hidden,
      deviceMinutes: devices,
      passers,
    });
  }
  return out;
}
