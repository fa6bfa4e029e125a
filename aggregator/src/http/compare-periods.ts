/**
 * Any two periods compared (`GET /api/v1/{zones|sites}/:id/compare-periods`): before and after a street redesign, an
 * event day against a normal day, this year against last. Both sides are released series of the same step (seconds,
 * or calendar days, ISO weeks and months in `tz`), aligned by their offset from each side's start; totals, the change
 * in %, the share of hidden (suppressed) minutes per side and a caveat when one side hides clearly more, and for a
 * site each of its zones the caller may read, ranked. Every number is a released series or a sum of one, as the zone
 * and site series routes give them: nothing here can show more than those do.
 */
import express from 'express';
import { z } from 'zod';
import type { Request, RequestHandler, Response } from 'express';
import type { ComparePeriodsBody } from '@passant/shared';
import { HttpError } from '../errors.ts';
import { calendarBoundaries, isCalendarUnit } from '../release/calendar.ts';
import type { CalendarUnit } from '../release/calendar.ts';
import type { ReleasedSeries, SeriesRequest, SeriesTarget } from '../release/release-layer.ts';
import { percentChange, summarize } from './compare.ts';
import { rejectUnknownParams, SERIES_PARAMS, singleParam } from './params.ts';
import type { ParamSpec } from './params.ts';
import { parseSeriesOrCalendarQuery, unixSeconds } from './series-query.ts';
import type { SeriesQueryLimits } from './series-query.ts';
import { cellsRead } from './site-series.ts';

type Kind = SeriesTarget['kind'];

/** A caveat is set when the hidden shares of the two sides differ by at least this much (5 percentage points). */
export const HIDDEN_SHARE_CAVEAT = 0.05;

const seriesParam = (name: string): ParamSpec => SERIES_PARAMS.find((p) => p.name === name)!;

export const COMPARE_PERIODS_PARAMS: readonly ParamSpec[] = [
  { ...seriesParam('from'), description: 'start of the period, Unix seconds (default: `to` minus 24 hours); calendar steps start at the local bucket that holds it' },
  { ...seriesParam('to'), description: 'end of the period (exclusive), Unix seconds (default: now)' },
  {
    name: 'againstFrom',
    description: 'start of the period to compare with, Unix seconds (default: the period of the same length just before `from`)',
    schema: { type: 'string', pattern: '^\\d{1,12}$' },
    example: '1699833600',
  },
  {
    name: 'againstTo',
    description: 'end (exclusive) of the period to compare with; give both againstFrom and againstTo, or neither',
    schema: { type: 'string', pattern: '^\\d{1,12}$' },
    example: '1699920000',
  },
  seriesParam('step'),
  seriesParam('radio'),
  { ...seriesParam('tz'), description: 'IANA time zone of calendar steps, e.g. Europe/Amsterdam (default UTC)' },
];

/**
 * The same parameters as a zod object (optional strings, each described, with an example), for a route table that
 * validates queries with zod; the handler checks them again (rejectUnknownParams and the series parser).
 */
export const COMPARE_PERIODS_QUERY = z.object(
  Object.fromEntries(
    COMPARE_PERIODS_PARAMS.map((p) => {
      const schema = p.schema as { pattern?: string; enum?: string[] };
      const base = schema.enum !== undefined ? z.enum(schema.enum as [string, ...string[]]) : z.string().regex(new RegExp(schema.pattern ?? '^.*$'));
      return [p.name, base.describe(p.description).meta({ example: p.example }).optional()];
    }),
  ),
);

export interface ComparePeriodsDeps {
  /** The zone or site asked for, when the caller may read it (401/404 otherwise). */
  readable(res: Response, kind: Kind, id: unknown): { target: SeriesTarget; name: string };
  /** The released series of a target as this caller reads it (a site: only the zones it may read). */
  released(res: Response, target: SeriesTarget, query: SeriesRequest): Promise<ReleasedSeries>;
  /** The zones of a site this caller may read, with their names, in configuration order. */
  readableZonesOfSite(res: Response, siteId: string): { id: string; name: string }[];
  /** Charges the request's reading cost (cells read) to the caller's rate limit. */
  charge(res: Response, cells: number): void | Promise<void>;
  limits(): SeriesQueryLimits;
  /** Length of a base cell (60). */
  windowSeconds: number;
}

/** One side of the comparison as parsed: the series request and its real bounds. */
export interface ComparedSideQuery {
  request: SeriesRequest;
  from: number;
  to: number;
}

export interface ParsedComparePeriods {
  step: number | CalendarUnit;
  radio: SeriesRequest['radio'];
  tz: string;
  period: ComparedSideQuery;
  against: ComparedSideQuery;
}

/** A side as the series routes would read it; its bounds as the buckets really cover. */
function side(query: Record<string, string>, limits: SeriesQueryLimits): ComparedSideQuery & { step: number | CalendarUnit; tz: string } {
  const parsed = parseSeriesOrCalendarQuery(query, limits);
  if ('timeZone' in parsed) {
    const bounds = calendarBoundaries(parsed.from, parsed.to, parsed.step, parsed.timeZone);
    const from = bounds[0] ?? parsed.from;
    const to = bounds.at(-1) ?? parsed.from;
    return { request: { from, to, step: parsed.step, radio: parsed.radio, timeZone: parsed.timeZone }, from, to, step: parsed.step, tz: parsed.timeZone };
  }
  return { request: { from: parsed.from, to: parsed.to, step: parsed.step, radio: parsed.radio }, from: parsed.from, to: parsed.to, step: parsed.step, tz: query.tz ?? 'UTC' };
}

/** Parses the query: both sides checked as the series route checks one (steps, tz, range and bucket limits). */
export function parseComparePeriodsQuery(query: Record<string, unknown>, limits: SeriesQueryLimits): ParsedComparePeriods {
  rejectUnknownParams(query, COMPARE_PERIODS_PARAMS);
  const common: Record<string, string> = {};
  for (const name of ['step', 'radio', 'tz']) {
    const value = singleParam(query, name);
    if (value !== undefined) common[name] = value;
  }
  const fromRaw = unixSeconds(query, 'from');
  const toRaw = unixSeconds(query, 'to');
  const periodQuery: Record<string, string> = { ...common };
  if (fromRaw !== undefined) periodQuery.from = String(fromRaw);
  if (toRaw !== undefined) periodQuery.to = String(toRaw);
  const period = side(periodQuery, limits);
  let againstFrom = unixSeconds(query, 'againstFrom');
  let againstTo = unixSeconds(query, 'againstTo');
  if ((againstFrom === undefined) !== (againstTo === undefined)) {
    throw new HttpError(400, 'invalid_parameter', 'give both againstFrom and againstTo, or neither (then the period of the same length just before)');
  }
  if (againstFrom === undefined || againstTo === undefined) {
    const to = toRaw ?? Math.floor(limits.now);
    const from = fromRaw ?? Math.max(0, to - 86_400);
    againstTo = from;
    againstFrom = Math.max(0, from - (to - from));
  }
  if (againstFrom > againstTo) throw new HttpError(400, 'invalid_range', `againstFrom (${againstFrom}) is after againstTo (${againstTo})`);
  const against = side({ ...common, from: String(againstFrom), to: String(againstTo) }, limits);
  return {
    step: period.step,
    radio: period.request.radio,
    tz: period.tz,
    period: { request: period.request, from: period.from, to: period.to },
    against: { request: against.request, from: against.from, to: against.to },
  };
}

function share(part: number, whole: number): number | null {
  return whole > 0 ? Math.min(1, Math.round((part / whole) * 10_000) / 10_000) : null;
}

/** A side's totals and its hidden share over `zones` zones. */
export function sideSummary(series: ReleasedSeries, from: number, to: number, zones: number, windowSeconds: number) {
  const { total, suppressedCells } = summarize(series);
  const zoneMinutes = Math.max(0, Math.round((to - from) / windowSeconds)) * zones;
  return { total, suppressedCells, zoneMinutes, hiddenShare: share(suppressedCells, zoneMinutes) };
}

/** The caveat: which side hides clearly more of its minutes, or null. */
export function hiddenCaveat(period: number | null, against: number | null): ComparePeriodsBody['caveat'] {
  if (period === null || against === null) return null;
  const difference = Math.round(Math.abs(period - against) * 10_000) / 10_000;
  if (difference < HIDDEN_SHARE_CAVEAT) return null;
  return { moreHidden: period > against ? 'period' : 'against', difference };
}

/** Offsets of the buckets from each side's start: seconds for steps in seconds, bucket counts for calendar steps. */
function offsets(step: number | CalendarUnit, buckets: number): number[] {
  return Array.from({ length: buckets }, (_, i) => (isCalendarUnit(step) ? i : i * step));
}

function sideBody(series: ReleasedSeries, q: ComparedSideQuery, zones: number, windowSeconds: number): ComparePeriodsBody['period'] {
  const body: ComparePeriodsBody['period'] = {
    from: q.from,
    to: q.to,
    t: series.t,
    devices: series.devices,
    suppressed: series.suppressed,
    ...sideSummary(series, q.from, q.to, zones, windowSeconds),
  };
  if (series.minutes !== undefined) body.minutes = series.minutes;
  if (series.released !== undefined) body.released = series.released;
  return body;
}

/** Ranks zones: the largest period total first, null last, then by id. */
export function rankZones<T extends { id: string; period: { total: number | null } }>(zones: T[]): T[] {
  return [...zones].sort((a, b) => (b.period.total ?? -Infinity) - (a.period.total ?? -Infinity) || a.id.localeCompare(b.id));
}

/** The handler of `GET /api/v1/{kind}s/:id/compare-periods`. */
export function comparePeriodsHandler(kind: Kind, deps: ComparePeriodsDeps): RequestHandler {
  return async (req: Request, res: Response) => {
    const { target } = deps.readable(res, kind, (req.params as Record<string, string>).id);
    const q = parseComparePeriodsQuery(req.query as Record<string, unknown>, deps.limits());
    const zones = kind === 'site' ? deps.readableZonesOfSite(res, target.id) : [];
    const zonesCounted = kind === 'site' ? zones.length : 1;
    // calendar steps read hour rollups; a site reads its zones twice (the sum and each zone)
    const source = typeof q.step === 'number' ? q.step : 3600;
    const cells = cellsRead(q.period.from, q.period.to, source) + cellsRead(q.against.from, q.against.to, source);
    await deps.charge(res, cells * Math.max(1, zonesCounted) * (kind === 'site' ? 2 : 1));
    const [period, against] = await Promise.all([deps.released(res, target, q.period.request), deps.released(res, target, q.against.request)]);
    const p = sideBody(period, q.period, zonesCounted, deps.windowSeconds);
    const a = sideBody(against, q.against, zonesCounted, deps.windowSeconds);
    const body: ComparePeriodsBody = {
      step: q.step as ComparePeriodsBody['step'],
      radio: q.radio,
      tz: q.tz,
      offset: offsets(q.step, Math.max(p.t.length, a.t.length)),
      period: p,
      against: a,
      change: percentChange(p.total, a.total),
      caveat: hiddenCaveat(p.hiddenShare, a.hiddenShare),
    };
    if (kind === 'site') {
      const perZone = await Promise.all(
        zones.map(async (zone) => {
          const zoneTarget: SeriesTarget = { kind: 'zone', id: zone.id };
          const [zp, za] = await Promise.all([deps.released(res, zoneTarget, q.period.request), deps.released(res, zoneTarget, q.against.request)]);
          const ps = sideSummary(zp, q.period.from, q.period.to, 1, deps.windowSeconds);
          const as = sideSummary(za, q.against.from, q.against.to, 1, deps.windowSeconds);
          return {
            id: zone.id,
            name: zone.name,
            period: { total: ps.total, suppressedCells: ps.suppressedCells, hiddenShare: ps.hiddenShare },
            against: { total: as.total, suppressedCells: as.suppressedCells, hiddenShare: as.hiddenShare },
            change: percentChange(ps.total, as.total),
          };
        }),
      );
      body.zones = rankZones(perZone);
    }
    if (period.noise) body.noise = period.noise;
    res.json(body);
  };
}

/** The routes, for both zones and sites, as an express router to mount on the /api/v1 router. */
export function comparePeriodsRoutes(deps: ComparePeriodsDeps): express.Router {
  const router = express.Router();
  for (const kind of ['zone', 'site'] as const) router.get(`/${kind}s/:id/compare-periods`, comparePeriodsHandler(kind, deps));
  return router;
}
