/**
 * Estimated people and passers, and the index against a reference period, for the series, CSV and compare routes.
 * Everything here is computed from what the release layer gives the caller (released cells only, exact or noisy as
 * the caller reads them) and from a calibration's constants, so nothing here can tell more about a hidden cell than
 * the series itself:
 *
 * - **Estimates** (estimate/estimate.ts `estimateSeries`): per zone, its latest calibration for the radio, applied
 *   with the baseline it was fitted with; a bucket's hidden minutes count as holding between 0 and what the release
 *   rule lets a hidden cell hold (sensors x (k - 1) moving devices), which widens the interval, never a hidden value. A site's estimate is the sum of its zones' (those the caller may read),
 *   and only when every one of them is calibrated with the same kind: a site whose quiet zone is left out would look
 *   emptier than it is. A bucket is null where any zone's is (no released cell in it). The site's interval is the
 *   sum of the zones' bounds: on the safe side (each zone's 95 % bound at once).
 * - **Index**: the bucket's released devices per released base cell (zone-minute) against the same of the
 *   reference period, times 100. Per released cell, so that hidden minutes, minutes without data and the buckets'
 *   different lengths (a 25-hour day, a month) do not move it; null where the bucket or the reference has no
 *   released cell.
 *
 * The released cells per bucket (`released`) come from the release layer; how many cells were released is no
 * secret (the suppressed ones are counted in every series), but the series bodies carry it only for calendar steps,
 * so it is read again here for steps in seconds, and only when a calibration or a reference needs it.
 */
import type { Radio } from '@passant/shared';
import type { Principal } from '../auth/access.ts';
import { estimateSeries, latestCalibration, nullEstimateColumns, type CalibrationForEstimate, type EstimateInfo, type EstimateWarning, type SeriesEstimate } from '../estimate/estimate.ts';
import type { CalibrationKind } from '../estimate/model.ts';
import type { ReleaseLayer, ReleasedSeries, SeriesRequest, SeriesTarget, ZoneSetTarget } from '../release/release-layer.ts';

/** A reference period, Unix seconds, whole minutes (series-query.ts checks it). */
export interface ReferencePeriod {
  from: number;
  to: number;
}

/** A series request as the routes parse it, with the optional reference of the index. */
export type EstimateQuery = SeriesRequest & { reference?: ReferencePeriod };

export interface EstimatorDeps {
  release: Pick<ReleaseLayer, 'series' | 'baseline' | 'baselineOptions' | 'k'>;
  registry: { zone(id: string): { sensors: readonly string[] } | undefined; site(id: string): { zones: readonly string[] } | undefined };
  access: {
    readableZonesOf(principal: Principal, zoneIds: readonly string[]): string[];
    grantsExact(principal: Principal, target: { kind: 'zone' | 'site'; id: string }): boolean;
  };
  /** The calibrations (estimate/calibration-store.ts); without it nothing is calibrated. */
  calibrations: { list(zoneId: string): CalibrationForEstimate[] } | undefined;
  /** Now, Unix seconds. */
  now: () => number;
  /** Calibrations older than this many days are flagged as old (default 365). */
  maxAgeDays?: number;
}

/** One zone's part of a site's estimate. */
export interface ZoneEstimateInfo {
  zoneId: string;
  kind: CalibrationKind | null;
  calibrationId: string | null;
  calibratedAt: number | null;
  reason: EstimateInfo['reason'];
}

/** What the estimate says for the whole series; a site's lists its zones. */
export type SeriesEstimateInfo = EstimateInfo & { zones?: ZoneEstimateInfo[] };

export interface ReferenceInfo {
  from: number;
  to: number;
  /** Released base cells (zone-minutes) of the reference period. */
  releasedCells: number;
  reason: 'ok' | 'nothing_released';
  message: string;
}

/** What a series gets: a zone's estimate columns (estimate/estimate.ts), with a site's estimate info, and the index. */
export interface EstimateFields extends Omit<SeriesEstimate, 'estimate'> {
  estimate: SeriesEstimateInfo;
  /** Present when the request named a reference. */
  index?: (number | null)[];
  reference?: ReferenceInfo;
}

const HOUR = 3600;
const MINUTE = 60;

function nulls(n: number): (number | null)[] {
  return new Array<number | null>(n).fill(null);
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/**
 * A site's estimate from its zones' (pure): per bucket the sum of the zones' values and bounds where every zone has
 * one, else null. `zones` must be every zone the caller reads of the site, each with its estimate or null when it has
 * no calibration for the radio.
 */
export function combineZoneEstimates(n: number, zones: readonly { zoneId: string; estimate: SeriesEstimate }[]): SeriesEstimate & { estimate: SeriesEstimateInfo } {
  const out: SeriesEstimate & { estimate: SeriesEstimateInfo } = {
    ...nullEstimateColumns(n),
    estimate: {
      kind: null,
      calibrationId: null,
      calibratedAt: null,
      reason: 'not_calibrated',
      message: 'this site has no zone the caller may read: people cannot be estimated',
      warnings: [],
      zones: zones.map(({ zoneId, estimate: e }) => ({ zoneId, kind: e.estimate.kind, calibrationId: e.estimate.calibrationId, calibratedAt: e.estimate.calibratedAt, reason: e.estimate.reason })),
    },
  };
  if (zones.length === 0) return out;
  const info = out.estimate;
  const uncalibrated = zones.filter((z) => z.estimate.estimate.kind === null || z.estimate.estimate.reason === 'other_radio');
  if (uncalibrated.length > 0) {
    info.reason = uncalibrated.length === zones.length ? 'not_calibrated' : 'zone_not_calibrated';
    info.message =
      uncalibrated.length === zones.length
        ? 'no zone of this site is calibrated for this radio: people cannot be estimated (devices only)'
        : `${uncalibrated.length} of the ${zones.length} zones of this site have no calibration for this radio (${uncalibrated
            .map((z) => z.zoneId)
            .join(', ')}): a site's estimate needs every zone's, so it is null`;
    return out;
  }
  const kinds = new Set(zones.map((z) => z.estimate.estimate.kind));
  if (kinds.size > 1) {
    info.reason = 'mixed_kinds';
    info.message = 'the zones of this site are calibrated with different kinds (present and passers), which cannot be added: the estimate is null';
    return out;
  }
  const kind = zones[0]!.estimate.estimate.kind!;
  info.kind = kind;
  info.calibratedAt = Math.min(...zones.map((z) => z.estimate.estimate.calibratedAt ?? Infinity));
  const warnings = new Set<EstimateWarning>();
  for (const z of zones) for (const w of z.estimate.estimate.warnings) warnings.add(w);
  info.warnings = [...warnings];
  const fields = kind === 'present' ? (['people', 'peopleLow', 'peopleHigh'] as const) : (['passers', 'passersLow', 'passersHigh'] as const);
  let hidden = 0;
  for (let i = 0; i < n; i++) {
    if (zones.some((z) => z.estimate[fields[0]][i] === null || z.estimate[fields[0]][i] === undefined)) {
      hidden++;
      continue;
    }
    for (const f of fields) out[f][i] = round2(zones.reduce((s, z) => s + z.estimate[f][i]!, 0));
  }
  if (hidden > 0) {
    info.reason = 'hidden_buckets';
    info.message = `${hidden} buckets have a zone with no released value: their estimates are null (a site's estimate is the sum of every zone's)`;
  } else {
    info.reason = 'ok';
    info.message = `${kind === 'present' ? 'estimated people present (mean per minute of the bucket)' : 'estimated passers in the bucket'}: the sum of the estimates of the site's ${zones.length} zones, each from its released device counts and its calibration; the interval is the sum of theirs`;
  }
  return out;
}

/** The index (pure): 100 x (devices / released of the bucket) / (devices / released of the reference). */
export function indexSeries(
  devices: readonly (number | null)[],
  released: readonly number[],
  reference: { devices: number | null; released: number },
): (number | null)[] {
  const refMean = reference.devices !== null && reference.released > 0 ? reference.devices / reference.released : null;
  return devices.map((d, i) => {
    const r = released[i] ?? 0;
    if (d === null || d === undefined || r <= 0 || refMean === null || refMean <= 0) return null;
    return round2((100 * (d / r)) / refMean);
  });
}

/** Released devices (sum) and released cells of a period, read in hour rollups where it can, minutes at its ends. */
async function periodTotals(
  release: EstimatorDeps['release'],
  target: SeriesTarget | ZoneSetTarget,
  radio: Radio,
  period: ReferencePeriod,
  exact: boolean,
): Promise<{ devices: number | null; released: number }> {
  const parts: [number, number, number][] = [];
  const h1 = Math.ceil(period.from / HOUR) * HOUR;
  const h2 = Math.floor(period.to / HOUR) * HOUR;
  if (h1 >= h2) parts.push([period.from, period.to, MINUTE]);
  else {
    if (period.from < h1) parts.push([period.from, h1, MINUTE]);
    parts.push([h1, h2, HOUR]);
    if (h2 < period.to) parts.push([h2, period.to, MINUTE]);
  }
  let devices: number | null = null;
  let released = 0;
  for (const [from, to, step] of parts) {
    const series = await release.series(target, { from, to, step, radio }, { exact, released: true });
    if (series === undefined) continue;
    series.devices.forEach((d, i) => {
      if (d !== null && d !== undefined) devices = (devices ?? 0) + d;
      released += series.released?.[i] ?? 0;
    });
  }
  return { devices, released };
}

/**
 * Adds estimates (and the index, when the query names a reference) to series bodies as a caller reads them. One
 * estimator per app; `add` per response.
 */
export function seriesEstimator(deps: EstimatorDeps) {
  /** The zones a target's body sums for this caller, with their sensors. */
  function zonesOf(principal: Principal, target: SeriesTarget): { id: string; sensors: readonly string[] }[] {
    const ids =
      target.kind === 'zone'
        ? [target.id]
        : deps.access.readableZonesOf(principal, (deps.registry.site(target.id)?.zones ?? []).filter((z) => deps.registry.zone(z) !== undefined));
    return ids.flatMap((id) => {
      const zone = deps.registry.zone(id);
      return zone === undefined ? [] : [{ id, sensors: zone.sensors }];
    });
  }

  /** The zone's baseline sum now (for the baseline_moved warning), or null while unknown. */
  async function currentBaseline(sensors: readonly string[], radio: Radio, now: number): Promise<number | null> {
    if (deps.release.baselineOptions === null) return 0;
    const map = await deps.release.baseline(sensors, now);
    let sum = 0;
    for (const s of sensors) {
      const b = map.get(s)?.[radio] ?? null;
      if (b === null) return null;
      sum += b;
    }
    return sum;
  }

  /** The latest calibration of a zone for the radio; else the latest for another radio (to say so), else null. */
  function calibrationOf(zoneId: string, radio: Radio): CalibrationForEstimate | null {
    const list = deps.calibrations?.list(zoneId) ?? [];
    return latestCalibration(list, radio) ?? latestCalibration(list, radio === 'wifi' ? 'ble' : 'wifi');
  }

  return {
    /**
     * `body` as the caller reads it (exact or noisy), `query` the request it answers. Returns the body with the
     * estimate fields (and `index`, `reference` when the query names a reference). A body of a step in seconds is
     * read again with its released counts when a calibration or a reference needs them; the answer then carries
     * the values of that read (the same released cells, unless one settled in between).
     */
    async add<T extends ReleasedSeries>(body: T, principal: Principal, target: SeriesTarget, query: EstimateQuery): Promise<T & EstimateFields> {
      const now = deps.now();
      const n = body.t.length;
      const radio = query.radio;
      const exact = deps.access.grantsExact(principal, target);
      const zones = zonesOf(principal, target);
      const calibrations = zones.map((z) => calibrationOf(z.id, radio));
      const calendar = body.released !== undefined;
      let devices = body.devices;
      let suppressed = body.suppressed;
      let released: number[] | undefined = body.released;

      /** A zone's (or the zones') series with released counts: the body itself when it carries them. */
      const read = async (t: SeriesTarget | ZoneSetTarget): Promise<ReleasedSeries> => {
        const series = await deps.release.series(t, query, { exact, released: true });
        return series ?? { t: [...body.t], devices: nulls(n), suppressed: new Array<number>(n).fill(0), released: new Array<number>(n).fill(0) };
      };

      const estimable = target.kind === 'zone' ? calibrations[0] !== null && calibrations[0]!.radio === radio : zones.length > 0 && calibrations.every((c) => c !== null && c.radio === radio);
      let estimates: SeriesEstimate & { estimate: SeriesEstimateInfo };
      const perZone: { zoneId: string; estimate: SeriesEstimate }[] = [];
      const zoneSeries: ReleasedSeries[] = [];
      if (estimable) {
        for (let z = 0; z < zones.length; z++) {
          const zone = zones[z]!;
          const calibration = calibrations[z]!;
          const series = target.kind === 'zone' && calendar ? body : await read({ kind: 'zone', id: zone.id });
          zoneSeries.push(series);
          if (target.kind === 'zone' && !calendar) {
            devices = series.devices;
            suppressed = series.suppressed;
            released = series.released;
          }
          const estimate = estimateSeries(
            { t: series.t, devices: series.devices, suppressed: series.suppressed, released: series.released, minutes: body.minutes, step: typeof query.step === 'number' ? query.step : MINUTE, radio },
            calibration.parameters.baseline,
            calibration,
            {
              now,
              // a hidden cell: every sensor heard fewer than k moving devices (the release rule)
              hiddenCap: zone.sensors.length * (deps.release.k - 1),
              ...(deps.maxAgeDays === undefined ? {} : { maxAgeDays: deps.maxAgeDays }),
              ...(exact ? { currentBaseline: await currentBaseline(zone.sensors, radio, now) } : {}),
            },
          );
          perZone.push({ zoneId: zone.id, estimate });
        }
        if (target.kind === 'site' && !calendar) {
          // the site's body from the same reads: the sum of the zones' released values
          devices = nulls(n);
          suppressed = new Array<number>(n).fill(0);
          released = new Array<number>(n).fill(0);
          for (const series of zoneSeries) {
            for (let i = 0; i < n; i++) {
              const d = series.devices[i];
              if (d !== null && d !== undefined) devices[i] = (devices[i] ?? 0) + d;
              suppressed[i]! += series.suppressed[i] ?? 0;
              released[i]! += series.released?.[i] ?? 0;
            }
          }
        }
      }
      if (target.kind === 'zone') {
        estimates = estimable
          ? perZone[0]!.estimate
          : estimateSeries({ t: body.t, devices, suppressed, step: MINUTE, radio }, null, calibrations[0] ?? null, { now });
      } else {
        // every zone's estimate, calibrated or not, so that the answer says which zone is missing
        const all = zones.map((zone, z) => perZone.find((p) => p.zoneId === zone.id) ?? { zoneId: zone.id, estimate: estimateSeries({ t: [], devices: [], suppressed: [], step: MINUTE, radio }, null, calibrations[z] ?? null) });
        estimates = combineZoneEstimates(n, all);
      }

      const out = { ...body, devices, suppressed } as T & EstimateFields;
      if (!calendar) delete (out as { released?: number[] }).released;
      out.people = estimates.people;
      out.peopleLow = estimates.peopleLow;
      out.peopleHigh = estimates.peopleHigh;
      out.passers = estimates.passers;
      out.passersLow = estimates.passersLow;
      out.passersHigh = estimates.passersHigh;
      out.estimate = estimates.estimate;

      if (query.reference !== undefined) {
        const set: SeriesTarget | ZoneSetTarget = target.kind === 'zone' ? target : { kind: 'zones', ids: zones.map((z) => z.id) };
        if (released === undefined) {
          const series = await read(set);
          out.devices = devices = series.devices;
          out.suppressed = suppressed = series.suppressed;
          released = series.released ?? new Array<number>(n).fill(0);
        }
        const ref = zones.length === 0 ? { devices: null, released: 0 } : await periodTotals(deps.release, set, radio, query.reference, exact);
        out.index = indexSeries(devices, released, ref);
        const ok = ref.released > 0 && ref.devices !== null && ref.devices > 0;
        out.reference = {
          from: query.reference.from,
          to: query.reference.to,
          releasedCells: ref.released,
          reason: ok ? 'ok' : 'nothing_released',
          message: ok
            ? 'index: released devices per released zone-minute of the bucket, against the same of the reference period (= 100)'
            : 'the reference period has no released zone-minute (or no device in them): the index is null',
        };
      }
      return out;
    },
  };
}

/** The estimate fields of a body, for a compare period (which copies its series' arrays). */
export function estimateFieldsOf(body: EstimateFields): EstimateFields {
  const { people, peopleLow, peopleHigh, passers, passersLow, passersHigh, estimate, index, reference } = body;
  return { people, peopleLow, peopleHigh, passers, passersLow, passersHigh, estimate, ...(index === undefined ? {} : { index }), ...(reference === undefined ? {} : { reference }) };
}
