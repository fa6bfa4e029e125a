/**
 * Zones and sites: the lists, and of each zone or site its released series (JSON and CSV), the comparison with the
 * periods before and the hour-of-week profile. Counts come only through `ctx.released` (the release layer).
 */
import type { CompareBody, ProfileBody } from '@passant/shared';
import { ComparePeriodsSchema, CompareSchema, ProfileSchema, SeriesSchema, SiteListSchema, SiteSeriesSchema, ZoneListSchema } from '@passant/shared/api-schemas';
import type { ReleasedSeries } from '../../release/release-layer.ts';
import { COMPARE_PERIODS_PARAMS, comparePeriodsHandler } from '../compare-periods.ts';
import { comparisonPeriods, hourOfWeekProfile, percentChange, summarize } from '../compare.ts';
import { csvFileName, seriesCsv } from '../csv.ts';
import { estimateFieldsOf, type EstimateFields } from '../estimates.ts';
import { EXPORT_FORMAT_FIELD, exportSeries, takeExportFormat } from '../export.ts';
import { COMPARE_QUERY, NO_QUERY, PROFILE_QUERY, SERIES_QUERY, SITE_SERIES_QUERY } from '../params.ts';
import { parseProfileQuery, parseSeriesOrCalendarQuery, parseSeriesQuery } from '../series-query.ts';
import { cellsRead, referenceCellsRead } from '../site-series.ts';
import { idOf, nothingPublic } from './steps.ts';
import type { RouteSpec } from './types.ts';

export const ZONE_ACCESS =
  'the zones auth.public makes public; viewer tokens: their zones, the zones of their owner labels and of the sites on the token too; admin: all. Others: 401 without a token, 404 with one';
export const SITE_ACCESS =
  'the sites auth.public makes public; viewer tokens: the sites on the token too; admin: all. Others: 401 without a token, 404 with one. A site counts only the zones the caller may read';
export const ZONE_ID = { name: 'id', description: 'zone id' };
export const SITE_ID = { name: 'id', description: 'site id' };

function seriesRoutes(kind: 'zone' | 'site'): RouteSpec[] {
  const Kind = kind === 'zone' ? 'Zone' : 'Site';
  const base = `/api/v1/${kind}s/:id`;
  const common = {
    method: 'get' as const,
    tag: `${kind}s`,
    auth: 'public-configurable' as const,
    access: kind === 'zone' ? ZONE_ACCESS : SITE_ACCESS,
    pathParams: [kind === 'zone' ? ZONE_ID : SITE_ID],
    errors: [400, 401, 404],
    guard: ((ctx, req, res) => void ctx.readable(res, kind, idOf(req))) satisfies RouteSpec['guard'],
  };
  const of = kind === 'zone' ? 'a zone' : 'a site (the sum of the released cells of those of its zones the caller may read)';
  return [
    {
      ...common,
      path: `${base}/series`,
      operationId: `get${Kind}Series`,
      summary:
        kind === 'zone'
          ? `Released series of ${of}: buckets of step seconds, suppressed cells counted, never shown`
          : `Released series of ${of}: buckets of step seconds, suppressed cells counted, never shown; with ?include=zones also the series of its zones`,
      query: kind === 'zone' ? SERIES_QUERY : SITE_SERIES_QUERY,
      body: { kind: 'json', schema: kind === 'zone' ? SeriesSchema : SiteSeriesSchema },
      handle: (ctx) => async (req, res) => {
        const { target } = ctx.readable(res, kind, idOf(req));
        const { include, ...rest } = req.query as Record<string, unknown>;
        const query = parseSeriesOrCalendarQuery(rest, ctx.limits());
        const principal = ctx.principalOf(res);
        // calendar steps read hour rollups; a site's zones asked along are read once more
        const cells = (cellsRead(query.from, query.to, typeof query.step === 'number' ? query.step : 3600) + referenceCellsRead(query.reference)) * ctx.zonesRead(res, target);
        await ctx.charge(res, include === 'zones' ? 2 * cells : cells);
        const seriesOf = async (of: typeof target) => ctx.estimates.add(await ctx.released(res, of, query), principal, of, query);
        const body = await seriesOf(target);
        if (include !== 'zones') return void res.json(body);
        // each zone exactly as its own series route gives it to this caller
        const zones = ctx.readableZonesOfSite(principal, target.id) ?? [];
        res.json({ ...body, zones: await Promise.all(zones.map(async (id) => ({ id, series: await seriesOf({ kind: 'zone', id }) }))) });
      },
    },
    {
      ...common,
      path: `${base}/series.csv`,
      operationId: `get${Kind}SeriesCsv`,
      summary: `The same series as CSV (${kind}, name, radio, time, unix, devices, suppressed), as a download`,
      query: SERIES_QUERY.extend({ format: EXPORT_FORMAT_FIELD }),
      body: { kind: 'csv' },
      handle: (ctx) => async (req, res) => {
        const { target, name } = ctx.readable(res, kind, idOf(req));
        const { format, rest } = takeExportFormat(req.query as Record<string, unknown>);
        const query = parseSeriesOrCalendarQuery(rest, ctx.limits());
        await ctx.charge(res, (cellsRead(query.from, query.to, typeof query.step === 'number' ? query.step : 3600) + referenceCellsRead(query.reference)) * ctx.zonesRead(res, target));
        // format=csv|csv-nl: the export people open (export.ts)
        if (format !== undefined) {
          return exportSeries(res, { kind, id: target.id, name, radio: query.radio }, query, format, rest, async (q) =>
            ctx.estimates.add(await ctx.released(res, target, q), ctx.principalOf(res), target, { ...q, ...(query.reference === undefined ? {} : { reference: query.reference }) }),
          );
        }
        const series = await ctx.estimates.add(await ctx.released(res, target, query), ctx.principalOf(res), target, query);
        const subject = { kind, id: target.id, name, radio: query.radio };
        if (series.noise) res.setHeader('X-Passant-Noise', `mechanism=${series.noise.mechanism}; epsilon=${series.noise.epsilon}`);
        res
          .status(200)
          .type('text/csv; charset=utf-8')
          .setHeader('Content-Disposition', `attachment; filename="${csvFileName(subject, query.from, query.to, query.step)}"`)
          .send(seriesCsv(subject, series));
      },
    },
    {
      ...common,
      path: `${base}/compare`,
      operationId: `compare${Kind}`,
      summary: 'The period against the one before it and against the same days a week earlier, from released series only',
      query: COMPARE_QUERY,
      body: { kind: 'json', schema: CompareSchema },
      handle: (ctx) => async (req, res) => {
        const { target } = ctx.readable(res, kind, idOf(req));
        const query = parseSeriesQuery(req.query as Record<string, unknown>, ctx.limits());
        const periods = comparisonPeriods(query.from, query.to);
        await ctx.charge(res, 3 * (cellsRead(query.from, query.to, query.step) + referenceCellsRead(query.reference)) * ctx.zonesRead(res, target));
        const [current, previous, lastWeek] = await Promise.all(
          [periods.current, periods.previous, periods.lastWeek].map(([from, to]) =>
            ctx.released(res, target, { ...query, from, to }).then((s) => ctx.estimates.add(s, ctx.principalOf(res), target, { ...query, from, to })),
          ),
        );
        const period = (series: ReleasedSeries & EstimateFields, [from, to]: [number, number]) => ({
          from,
          to,
          t: series.t,
          devices: series.devices,
          suppressed: series.suppressed,
          ...summarize(series),
          ...estimateFieldsOf(series),
        });
        const cur = period(current!, periods.current);
        const body: CompareBody = {
          step: query.step,
          radio: query.radio,
          current: cur,
          previous: { ...period(previous!, periods.previous), change: percentChange(cur.total, summarize(previous!).total) },
          lastWeek: { ...period(lastWeek!, periods.lastWeek), change: percentChange(cur.total, summarize(lastWeek!).total) },
        };
        if (current!.noise) body.noise = current!.noise;
        res.json(body);
      },
    },
    {
      ...common,
      path: `${base}/compare-periods`,
      operationId: `compare${Kind}Periods`,
      summary:
        'Any two periods (from..to against againstFrom..againstTo) in the same step, aligned by offset: totals, change in %, hidden-minute share per side with a caveat when they differ; a site also per readable zone, ranked',
      // its parser (compare-periods.ts) judges the values, with the series routes' messages
      query: COMPARE_PERIODS_PARAMS,
      body: { kind: 'json', schema: ComparePeriodsSchema },
      handle: (ctx) =>
        comparePeriodsHandler(kind, {
          readable: ctx.readable,
          released: ctx.released,
          charge: ctx.charge,
          limits: ctx.limits,
          windowSeconds: ctx.release.windowSeconds,
          readableZonesOfSite: (res, siteId) =>
            ctx.access
              .readableZonesOf(ctx.principalOf(res), (ctx.registry.site(siteId)?.zones ?? []).filter((z) => ctx.registry.zone(z) !== undefined))
              .map((id) => ({ id, name: ctx.registry.zone(id)!.name })),
        }),
    },
    {
      ...common,
      path: `${base}/profile`,
      operationId: `get${Kind}Profile`,
      summary: 'Hour-of-week profile: the mean released hourly value of each of the 168 hours over the last weeks',
      query: PROFILE_QUERY,
      body: { kind: 'json', schema: ProfileSchema },
      handle: (ctx) => async (req, res) => {
        const { target } = ctx.readable(res, kind, idOf(req));
        const query = parseProfileQuery(req.query as Record<string, unknown>, ctx.limits());
        await ctx.charge(res, cellsRead(query.from, query.to, 3600) * ctx.zonesRead(res, target));
        const hourly = await ctx.released(res, target, { from: query.from, to: query.to, step: 3600, radio: query.radio });
        const body: ProfileBody = {
          weeks: query.weeks,
          tz: query.tz,
          radio: query.radio,
          from: query.from,
          to: query.to,
          ...hourOfWeekProfile(hourly, query.tz),
        };
        if (hourly.noise) body.noise = hourly.noise;
        res.json(body);
      },
    },
  ];
}

export const ZONE_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/v1/zones',
    operationId: 'listZones',
    summary: 'The zones the caller may read (401 without a token when no zone is public)',
    tag: 'zones',
    auth: 'public-configurable',
    access: ZONE_ACCESS,
    query: NO_QUERY,
    body: { kind: 'json', schema: ZoneListSchema },
    errors: [400, 401],
    handle: (ctx) => (_req, res) => {
      const principal = ctx.principalOf(res);
      if (!ctx.access.mayReadAnyZone(principal)) {
        throw nothingPublic('zone');
      }
      res.json(ctx.readableZones(principal));
    },
  },
  ...seriesRoutes('zone'),
  {
    method: 'get',
    path: '/api/v1/sites',
    operationId: 'listSites',
    summary: 'The sites the caller may read, with name, coordinates and zones (401 without a token when no site is public)',
    tag: 'sites',
    auth: 'public-configurable',
    access: SITE_ACCESS,
    query: NO_QUERY,
    body: { kind: 'json', schema: SiteListSchema },
    errors: [400, 401],
    handle: (ctx) => (_req, res) => {
      const principal = ctx.principalOf(res);
      if (!ctx.access.mayReadAnySite(principal)) {
        throw nothingPublic('site');
      }
      res.json(ctx.readableSites(principal));
    },
  },
  ...seriesRoutes('site'),
];
