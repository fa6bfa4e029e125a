/**
 * A calibration request: manual counts for a zone, checked, matched with the zone's released minutes and fitted
 * (model.ts). Only released values are read (exact, from the release layer); suppressed minutes are counted, never
 * read.
 */
import { RADIOS, type Radio } from '@passant/shared';
import type { ReleaseLayer } from '../release/release-layer.ts';
import type { Calibration } from './calibration-store.ts';
import { CALIBRATION_KINDS, CONFIDENCE, fitCalibration, INTERVAL_METHOD, MODEL_FORMULA, periodPoint, type CalibrationKind, type CalibrationPoint, type PeriodMinute, type PointsUsage } from './model.ts';

/** Most counts in one calibration. */
export const MAX_COUNTS = 2000;
/** Longest count period (a day: a camera counter's daily export). */
export const MAX_PERIOD_SECONDS = 86_400;
/** Most minutes read for one calibration, over all its counts (a month of minutes). */
export const MAX_TOTAL_MINUTES = 44_640;
/** Counts before this (2000-01-01) are taken for a mistake (milliseconds, a wrong column). */
const EARLIEST = 946_684_800;
const MINUTE = 60;
const HOUR = 3600;

export interface CalibrationRequest {
  kind: CalibrationKind;
  radio: Radio;
  counts: { from: number; to: number; people: number }[];
}

/** Checks a request body; returns the request, or every problem (each a sentence). */
export function parseCalibrationRequest(body: unknown, now: number): { ok: true; request: CalibrationRequest } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, problems: ['the body must be a JSON object: { "kind": "present" | "passers", "counts": [{ "from", "to", "people" }] }'] };
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!['kind', 'counts', 'radio'].includes(key)) problems.push(`unknown field ${JSON.stringify(key.slice(0, 40))} (allowed: kind, counts, radio)`);
  const kind = b.kind;
  if (typeof kind !== 'string' || !(CALIBRATION_KINDS as readonly string[]).includes(kind)) problems.push('kind must be "present" (people in the zone at a moment) or "passers" (people crossing in a period)');
  const radio = b.radio ?? 'wifi';
  if (typeof radio !== 'string' || !(RADIOS as readonly string[]).includes(radio)) problems.push(`radio must be one of ${RADIOS.join(', ')} (default wifi)`);
  const counts = b.counts;
  const out: CalibrationRequest['counts'] = [];
  if (!Array.isArray(counts) || counts.length === 0) problems.push('counts must be a non-empty array of { "from": unixSeconds, "to": unixSeconds, "people": number }');
  else if (counts.length > MAX_COUNTS) problems.push(`at most ${MAX_COUNTS} counts per calibration, got ${counts.length}`);
  else {
    counts.forEach((c: unknown, i) => {
      if (problems.length >= 20) return;
      const where = `counts[${i}]`;
      if (typeof c !== 'object' || c === null || Array.isArray(c)) {
        problems.push(`${where} must be an object { from, to, people }`);
        return;
      }
      const r = c as Record<string, unknown>;
      const extra = Object.keys(r).filter((k) => !['from', 'to', 'people'].includes(k));
      if (extra.length > 0) problems.push(`${where} has unknown fields (allowed: from, to, people)`);
      const { from, to, people } = r;
      const time = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= EARLIEST && v <= now + MINUTE;
      if (!time(from)) problems.push(`${where}.from must be Unix seconds (an integer, not in the future)`);
      if (!time(to)) problems.push(`${where}.to must be Unix seconds (an integer, not in the future)`);
      if (typeof people !== 'number' || !Number.isFinite(people) || people < 0 || people > 1_000_000) problems.push(`${where}.people must be a number from 0 to 1000000`);
      if (!time(from) || !time(to) || typeof people !== 'number') return;
      const f = from as number;
      const t = to as number;
      if (t < f) problems.push(`${where}: to is before from`);
      else if (kind === 'passers' && t === f) problems.push(`${where}: a passers count needs a period (to after from); a count at a moment is a "present" count`);
      else if (t - f > MAX_PERIOD_SECONDS) problems.push(`${where}: a period may be at most ${MAX_PERIOD_SECONDS / HOUR} hours`);
      else out.push({ from: f, to: t, people });
    });
  }
  const total = out.reduce((s, c) => s + (periodMinutes(c.from, c.to)[1] - periodMinutes(c.from, c.to)[0]) / MINUTE, 0);
  if (total > MAX_TOTAL_MINUTES) problems.push(`the counts cover ${total} minutes; at most ${MAX_TOTAL_MINUTES} per calibration (send fewer or shorter periods)`);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, request: { kind: kind as CalibrationKind, radio: radio as Radio, counts: out } };
}

/** The minutes of a count period: [from, to) rounded out to whole minutes; a moment (from = to) is its minute. */
export function periodMinutes(from: number, to: number): [number, number] {
  const start = Math.floor(from / MINUTE) * MINUTE;
  const end = to === from ? start + MINUTE : Math.ceil(to / MINUTE) * MINUTE;
  return [start, end];
}

/** Reads the released minutes (and baselines) of each count's period and computes its point. */
export async function collectPoints(release: ReleaseLayer, zoneId: string, sensorIds: readonly string[], request: CalibrationRequest): Promise<CalibrationPoint[]> {
  const baselineCache = new Map<number, number | null>();
  const baselineOf = async (t: number): Promise<number | null> => {
    if (release.baselineOptions === null) return 0;
    const hour = Math.floor(t / HOUR) * HOUR;
    if (!baselineCache.has(hour)) {
      const map = await release.baseline(sensorIds, hour);
      let sum: number | null = 0;
      for (const s of sensorIds) {
        const b = map.get(s)?.[request.radio] ?? null;
        sum = b === null || sum === null ? null : sum + b;
      }
      baselineCache.set(hour, sum);
    }
    return baselineCache.get(hour)!;
  };
  const points: CalibrationPoint[] = [];
  for (const count of request.counts) {
    const [start, end] = periodMinutes(count.from, count.to);
    const series = await release.series({ kind: 'zone', id: zoneId }, { from: start, to: end, step: MINUTE, radio: request.radio }, { exact: true });
    const minutes: PeriodMinute[] = [];
    for (let i = 0; i < (series?.t.length ?? 0); i++) {
      minutes.push({ devices: series!.devices[i] ?? null, suppressed: series!.suppressed[i] ?? 0, baseline: await baselineOf(series!.t[i]!) });
    }
    points.push(periodPoint(request.kind, count, minutes));
  }
  return points;
}

export type CalibrationOutcome = { ok: true; calibration: Omit<Calibration, 'id'> } | { ok: false; reason: string; points: PointsUsage };

/** Fits a zone's calibration from its manual counts; refuses (with the reason) when it cannot. */
export async function calibrateZone(release: ReleaseLayer, zoneId: string, sensorIds: readonly string[], request: CalibrationRequest, now: number): Promise<CalibrationOutcome> {
  const points = await collectPoints(release, zoneId, sensorIds, request);
  const fit = fitCalibration(points);
  if (!fit.ok) return { ok: false, reason: fit.reason, points: fit.usage };
  return {
    ok: true,
    calibration: {
      zoneId,
      kind: request.kind,
      radio: request.radio,
      created: Math.floor(now),
      model: MODEL_FORMULA,
      parameters: fit.parameters,
      interval: { method: INTERVAL_METHOD, confidence: CONFIDENCE },
      statistics: fit.statistics,
      points: fit.usage,
      counts: points.map((p) => ({ from: p.from, to: p.to, people: p.people, minutesUsed: p.x === null ? 0 : p.minutesUsed, minutesHidden: p.minutesHidden })),
    },
  };
}
