/**
 * The HTTP API (express 5): JSON under /api/v1, CSV export, live updates by Server-Sent Events, health,
 * metrics and the built dashboard. Every error is `{ error: { code, message } }`, never a stack trace. Counts
 * reach a response only through the release layer; who may read what is decided in auth/access.ts.
 *
 * Authentication: `Authorization: Bearer <token>` (or `access_token=` on /events only, for EventSource). No
 * header: the public (auth.public). A bad or revoked token: 401 with WWW-Authenticate. A token without the
 * role for a route: 403. A zone or site the caller may not read: 404 for a token (as if it did not exist),
 * 401 without a token.
 */
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type {
  ApiError,
  AuditBody,
  CompareBody,
  HealthzBody,
  MeBody,
  PrivacyInfoBody,
  ProfileBody,
  SiteInfoBody,
  UnassignedSensorBody,
  ZoneInfoBody,
} from '@passant/shared';
import { countsMessageJsonSchema, RADIOS } from '@passant/shared';
import { REJECT_REASONS } from '@passant/shared/api-schemas';
import { ANONYMOUS, AccessPolicy, roleOf } from '../auth/access.ts';
import type { Principal, PublicAccess } from '../auth/access.ts';
import type { TokenStore } from '../auth/token-store.ts';
import { HttpError } from '../errors.ts';
import type { SensorHealthTracker } from '../ingest/sensor-health.ts';
import type { AggregatorMetrics } from '../metrics.ts';
import type { Registry } from '../registry.ts';
import type { LiveUpdates } from '../release/live-updates.ts';
import type { ReleaseLayer, ReleasedCell, ReleasedSeries, SeriesRequest, SeriesTarget } from '../release/release-layer.ts';
import type { CountsStore, ReleaseStore } from '../store/types.ts';
import { comparisonPeriods, hourOfWeekProfile, percentChange, summarize } from './compare.ts';
import { csvFileName, seriesCsv } from './csv.ts';
import { estimateFieldsOf, seriesEstimator, type EstimateFields } from './estimates.ts';
import { addTotals, auditCounters, type AccessLog, type AccessQuery } from '../access-log/access-log.ts';
import { calibrationRoutes } from './calibration-routes.ts';
import { comparePeriodsRoutes } from './compare-periods.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { ACCESS_LOG_PARAMS, EVENTS_PARAMS, rejectUnknownParams, singleParam } from './params.ts';
import { RateLimiter } from './rate-limit.ts';
import { sensorHealthReport } from './sensor-health-report.ts';
import { cellsRead, siteSeries } from './site-series.ts';
import { parseProfileQuery, parseSeriesOrCalendarQuery, parseSeriesQuery } from './series-query.ts';

export interface HttpAppOptions {
  registry: Registry;
  release: ReleaseLayer;
  live: LiveUpdates;
  /** Read for /healthz (ping) and sensor health (which windows exist; never counts). */
  store: CountsStore & Pick<ReleaseStore, 'windowKeys' | 'sensorStats'>;
  metrics: AggregatorMetrics;
  health: SensorHealthTracker;
  /** The broker link as /healthz reports it: counts flow only when 'connected'. */
  mqttLink: () => HealthzBody['mqtt'];
  logger: Logger;
  dashboardDir: string;
  maxSeriesBuckets: number;
  maxSeriesRangeDays: number;
  maxEventClients: number;
  /** Most open event streams of one client (token, or client address without a token); default 10. */
  maxEventClientsPerClient?: number;
  /** What anyone may read without a token (config auth.public); default: only the privacy page. */
  publicAccess?: PublicAccess;
  /** The API tokens; without it every request is anonymous and any Authorization header is refused. */
  tokens?: TokenStore;
  /** API requests a minute per token or client address (0: no limit; default 600). */
  rateLimitPerMinute?: number;
  /** Requests at once before the rate applies (default 120). */
  rateLimitBurst?: number;
  /** Cells read per extra rate-limit unit of a series request (default 1440). */
  rateLimitCellsPerUnit?: number;
  /** Reverse proxies whose X-Forwarded-* headers are trusted (default 0). */
  trustProxyHops?: number;
  /** How long data is kept, in days by kind (null: for ever), for the privacy page. */
  retention?: Record<string, number | null>;
  /** The aggregator's version, for the OpenAPI document. */
  version?: string;
  /** Now, Unix seconds. */
  now?: () => number;
  /** Interval of the SSE keep-alive comment. */
  eventKeepAliveMs?: number;
  /** How often an open event stream checks that its token was not revoked (default 2000). */
  tokenRecheckMs?: number;
  /** Calibrations of zones (people estimates); without it the calibration routes answer 503. */
  calibrations?: import('../estimate/calibration-store.ts').CalibrationStore;
  /** Sensor id -> its last active day (transparency.sensors[].activeUntil), for sensor health. */
  sensorActiveUntil?: ReadonlyMap<string, string>;
  /** Who read what (token requests); without it nothing is recorded and /privacy/access-log answers 503. */
  accessLog?: AccessLog;
  /** Audit totals of earlier runs (from the access log's file), added to this process's counters; `since` among them. */
  auditBase?: Readonly<Record<string, number>>;
}

export interface HttpApp {
  app: express.Express;
  /** Ends every open event stream (before the server closes). */
  closeEventStreams(): void;
}

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // Inline styles only (uPlot and the dashboard set element styles); no inline script anywhere.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PERMISSIONS_POLICY = [
  'accelerometer=()',
  'camera=()',
  'geolocation=()',
  'gyroscope=()',
  'magnetometer=()',
  'microphone=()',
  'payment=()',
  'usb=()',
  'interest-cohort=()',
].join(', ');

const WWW_AUTHENTICATE = 'Bearer realm="passant"';
/** The privacy page's suppressed share is computed over this period and kept this long. */
const SUPPRESSED_SHARE_PERIOD_SECONDS = 86_400;
const SUPPRESSED_SHARE_CACHE_SECONDS = 300;

function sendError(res: Response, status: number, code: string, message: string): void {
  const body: ApiError = { error: { code, message } };
  res.status(status).json(body);
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(fallback), ms);
    }),
  ]);
}

function quoteId(id: string): string {
  return JSON.stringify(id.slice(0, 80));
}

function principalOf(res: Response): Principal {
  return (res.locals.principal as Principal | undefined) ?? ANONYMOUS;
}

type Kind = SeriesTarget['kind'];

export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { registry, release, live, store, metrics, health, logger } = options;
  const now = options.now ?? (() => Date.now() / 1000);
  const startedAt = now();
  const eventStreams = new Set<Response>();
  // What is public as configured now: the configuration at start until a live reload changes it.
  if (registry.publicAccess === undefined) registry.setPublicAccess(options.publicAccess ?? { zones: 'none', sites: 'none', privacyPage: true });
  const access = new AccessPolicy(() => registry.publicAccess!, {
    ownersOf: (zoneId) => registry.zone(zoneId)?.owners ?? [],
    zonesOfSite: (siteId) => registry.site(siteId)?.zones ?? [],
  });
  const tokens = options.tokens;
  const rate = { perMinute: options.rateLimitPerMinute ?? 600, burst: options.rateLimitBurst ?? 120 };
  const limiter = new RateLimiter(rate);
  // /healthz and /metrics: limited too, generously, in buckets of their own (a monitor sharing an address with a
  // busy dashboard still gets its probes through).
  const probeLimiter = new RateLimiter(rate);
  const cellsPerUnit = options.rateLimitCellsPerUnit ?? 1440;
  const maxEventClientsPerClient = options.maxEventClientsPerClient ?? 10;
  const streamsOfClient = new Map<string, number>();
  const limits = () => ({ now: now(), maxBuckets: options.maxSeriesBuckets, maxRangeSeconds: options.maxSeriesRangeDays * 86_400 });
  const estimates = seriesEstimator({ release, registry, access, calibrations: options.calibrations, now });
  const openApi = JSON.stringify(buildOpenApiDocument(options.version ?? '0.0.0'));

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);
  if ((options.trustProxyHops ?? 0) > 0) app.set('trust proxy', options.trustProxyHops);

  app.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    // Only when the request came over TLS (directly, or through a trusted proxy): HSTS on plain HTTP is ignored
    // by browsers and would be wrong on a loopback demo.
    if (req.secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    res.on('finish', () => {
      // Route patterns, not paths, so the label set stays bounded whatever clients ask for.
      const route =
        req.route?.path !== undefined ? `${String(res.locals.routeBase ?? '')}${String(req.route.path)}` : (res.locals.route ?? 'other');
      metrics.httpRequests.inc({ route: String(route), status: String(res.statusCode) });
    });
    next();
  });

  /** The client a request is counted against: its token, else its address. */
  function clientKey(req: Request, principal: Principal): string {
    return principal.kind === 'token' ? `token:${principal.token.id}` : `ip:${req.ip ?? req.socket.remoteAddress ?? '?'}`;
  }

  function limit(res: Response, decision: ReturnType<RateLimiter['take']>): void {
    if (decision.ok) return;
    res.setHeader('Retry-After', String(decision.retryAfterSeconds));
    throw new HttpError(429, 'rate_limited', `too many requests; try again in ${decision.retryAfterSeconds} s`);
  }

  /** Who is asking: ANONYMOUS without credentials; null for a bad or revoked token. */
  function authenticate(req: Request, allowQueryToken: boolean): Principal | null {
    const query = req.query as Record<string, unknown>;
    const header = req.headers.authorization;
    const fromQuery = allowQueryToken ? query.access_token : undefined;
    let presented: string | null | undefined;
    if (header !== undefined) {
      const match = /^Bearer +(\S+) *$/i.exec(header);
      presented = match ? match[1]! : null;
      if (fromQuery !== undefined) throw new HttpError(400, 'invalid_parameter', 'send the token once: in the Authorization header or as access_token, not both');
    } else if (fromQuery !== undefined) {
      presented = typeof fromQuery === 'string' ? fromQuery : null;
    }
    if (presented === undefined) return ANONYMOUS;
    const token = presented === null || tokens === undefined ? null : tokens.verify(presented);
    return token === null ? null : { kind: 'token', token };
  }

  function invalidToken(): HttpError {
    return new HttpError(401, 'invalid_token', 'the token is not valid (unknown, revoked or malformed); send Authorization: Bearer <token>');
  }

  app.get('/healthz', async (req, res) => {
    limit(res, probeLimiter.take(`probe:ip:${req.ip ?? req.socket.remoteAddress ?? '?'}`));
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    const [answers, writeError] = await Promise.all([
      withTimeout(store.ping().catch(() => false), 2000, false),
      // Reads alone cannot tell a full disk or a read-only file system: the store says whether it can write.
      withTimeout(
        (store.writeStatus?.() ?? Promise.resolve(null)).catch((err: unknown) => `the write check failed: ${(err as Error).message}`),
        2000,
        'the write check timed out',
      ),
    ]);
    const storeError = answers ? writeError : 'the store does not answer';
    const mqtt = options.mqttLink();
    const ok = storeError === null && mqtt === 'connected';
    res.status(ok ? 200 : 503).setHeader('Cache-Control', 'no-store').json({
      status: ok ? 'ok' : 'unavailable',
      mqtt,
      store: storeError === null ? 'ok' : 'failing',
      ...(storeError === null ? {} : { storeError: storeError.slice(0, 300) }),
      sensors: health.countByState(),
      uptimeSeconds: Math.floor(now() - startedAt),
    });
  });

  // Operational counters of the whole aggregator (ingest, store, HTTP), none per zone: for admin and privacy
  // tokens, or anyone when auth.public.metrics says so.
  app.get('/metrics', async (req, res) => {
    const principal = authenticate(req, false);
    limit(res, probeLimiter.take(`probe:${clientKey(req, principal ?? ANONYMOUS)}`));
    if (principal === null) throw invalidToken();
    res.locals.principal = principal;
    requireAccess(res, (p) => access.canReadMetrics(p), 'GET /metrics', 'admin and privacy tokens (auth.public.metrics is off)');
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    res.status(200).setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8').setHeader('Cache-Control', 'no-store');
    res.send(await metrics.render());
  });

  const api = express.Router();

  // Every request made with a token is recorded when it finishes (who read what), for the privacy officer.
  if (options.accessLog !== undefined) api.use(options.accessLog.middleware());

  // Who is asking, then the rate limit (per token, or per client address), then a bad token is refused.
  api.use((req, res, next) => {
    res.locals.routeBase = '/api/v1';
    res.setHeader('Cache-Control', 'no-store');
    const principal = authenticate(req, req.path === '/events');
    const key = clientKey(req, principal ?? ANONYMOUS);
    res.locals.clientKey = key;
    limit(res, limiter.take(key));
    if (principal === null) throw invalidToken();
    res.locals.principal = principal;
    next();
  });

  /**
   * Charges a request's reading cost beyond the 1 unit every request pays: 1 unit per `cellsPerUnit` cells it
   * reads (zones x minutes, hours or days). A year of minutes of one zone is 365 units; one request never costs
   * more than the burst.
   */
  function charge(res: Response, cells: number): void {
    // The request has paid 1 already: at most burst - 1 more, so that every valid request fits a full bucket.
    const extra = Math.min(Math.floor(cells / cellsPerUnit), rate.burst - 1);
    if (extra > 0) limit(res, limiter.take(String(res.locals.clientKey), extra));
  }

  /** Zones a read of `target` scans for this caller (at least 1: the request itself). */
  function zonesRead(res: Response, target: SeriesTarget): number {
    if (target.kind === 'zone') return 1;
    return Math.max(1, access.readableZonesOf(principalOf(res), registry.site(target.id)?.zones ?? []).length);
  }

  /** A 401 without a token, else the 404 an unknown id gets: a token holder cannot probe what exists. */
  function denied(principal: Principal, kind: Kind, id: string): HttpError {
    if (principal.kind === 'anonymous') {
      return new HttpError(401, 'authentication_required', `reading ${kind} ${quoteId(id)} needs a token (Authorization: Bearer <token>)`);
    }
    return notFound(kind, id);
  }

  function notFound(kind: Kind, id: string): HttpError {
    return new HttpError(404, `${kind}_not_found`, `no ${kind} ${quoteId(id)}; GET /api/v1/${kind}s lists them`);
  }

  function canRead(principal: Principal, kind: Kind, id: string): boolean {
    return kind === 'zone' ? access.canReadZone(principal, id) : access.canReadSite(principal, id);
  }

  /** The zone or site the caller asked for and may read, with its name; 401/404 otherwise. */
  function readable(res: Response, kind: Kind, rawId: unknown): { target: SeriesTarget; name: string } {
    const id = String(rawId);
    const principal = principalOf(res);
    if (!canRead(principal, kind, id)) throw denied(principal, kind, id);
    const entry = kind === 'zone' ? registry.zone(id) : registry.site(id);
    if (entry === undefined) throw notFound(kind, id);
    return { target: { kind, id }, name: entry.name };
  }

  function requireAccess(res: Response, allowed: (p: Principal) => boolean, what: string, roles: string): void {
    const principal = principalOf(res);
    if (allowed(principal)) return;
    if (principal.kind === 'anonymous') throw new HttpError(401, 'authentication_required', `${what} needs a token (Authorization: Bearer <token>)`);
    throw new HttpError(403, 'forbidden', `${what} is for ${roles}; this token's role is ${roleOf(principal)}`);
  }

  /**
   * Admin tokens, and viewer tokens for the zones and sites they name, get exact released values; everything else
   * is read as open data (noisy when noise is on).
   */
  async function released(res: Response, target: SeriesTarget, query: SeriesRequest): Promise<ReleasedSeries> {
    const principal = principalOf(res);
    const exact = access.grantsExact(principal, target);
    if (target.kind === 'site') {
      // Only the zones this caller may read: a site is never a way to a zone (see auth/access.ts).
      const site = registry.site(target.id);
      if (site === undefined) throw notFound(target.kind, target.id);
      const zones = access.readableZonesOf(principal, site.zones.filter((zoneId) => registry.zone(zoneId) !== undefined));
      return siteSeries(release, zones, query, exact);
    }
    const series = await release.series(target, query, { exact });
    if (series === undefined) throw notFound(target.kind, target.id);
    return series;
  }

  function readableZones(principal: Principal): ZoneInfoBody[] {
    return registry
      .allZones()
      .filter((zone) => access.canReadZone(principal, zone.id))
      .map((zone) => ({
        id: zone.id,
        name: zone.name,
        coordinates: zone.coordinates ? { lat: zone.coordinates.lat, lon: zone.coordinates.lon } : null,
        site: siteIfReadable(principal, registry.siteOf(zone.id)),
      }));
  }

  /** A zone's site id, when the caller may read that site (else the site's existence is not shown). */
  function siteIfReadable(principal: Principal, siteId: string | undefined): string | null {
    return siteId !== undefined && access.canReadSite(principal, siteId) ? siteId : null;
  }

  /** A site as the caller may see it: only the zones it may read are listed (others are not shown to exist). */
  function siteInfo(principal: Principal, id: string): SiteInfoBody | undefined {
    const site = registry.site(id);
    if (site === undefined) return undefined;
    const coordinates = site.coordinates;
    return {
      id: site.id,
      name: site.name,
      coordinates: coordinates ? { lat: coordinates.lat, lon: coordinates.lon } : null,
      zones: site.zones.filter((zoneId) => access.canReadZone(principal, zoneId)),
    };
  }

  api.get('/openapi.json', (req, res) => {
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    res.type('application/json').send(openApi);
  });

  api.get('/me', (req, res) => {
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    const principal = principalOf(res);
    const body: MeBody = {
      role: roleOf(principal) ?? 'public',
      name: principal.kind === 'token' ? principal.token.name : null,
      tokenId: principal.kind === 'token' ? principal.token.id : null,
      zones: access.readsAllZones(principal) ? 'all' : readableZones(principal).map((z) => z.id),
      sites:
        access.public.sites === 'all' || access.isAdmin(principal)
          ? 'all'
          : registry
              .listSites()
              .filter((s) => access.canReadSite(principal, s.id))
              .map((s) => s.id),
      health: access.canSeeHealth(principal),
      audit: access.canSeeAudit(principal),
      admin: access.isAdmin(principal),
    };
    res.json(body);
  });

  api.get('/zones', (req, res) => {
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    const principal = principalOf(res);
    if (!access.mayReadAnyZone(principal)) {
      throw new HttpError(401, 'authentication_required', 'no zone is public here: send a token (Authorization: Bearer <token>)');
    }
    res.json(readableZones(principal));
  });

  api.get('/sites', (req, res) => {
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    const principal = principalOf(res);
    if (!access.mayReadAnySite(principal)) {
      throw new HttpError(401, 'authentication_required', 'no site is public here: send a token (Authorization: Bearer <token>)');
    }
    const sites = registry
      .listSites()
      .filter((s) => access.canReadSite(principal, s.id))
      .map((s) => siteInfo(principal, s.id)!);
    res.json(sites);
  });

  for (const kind of ['zone', 'site'] as const) {
    const base = `/${kind}s/:id`;

    api.get(`${base}/series`, async (req, res) => {
      const { target } = readable(res, kind, (req.params as Record<string, string>).id);
      const query = parseSeriesOrCalendarQuery(req.query as Record<string, unknown>, limits());
      // calendar steps read hour rollups
      charge(res, cellsRead(query.from, query.to, typeof query.step === 'number' ? query.step : 3600) * zonesRead(res, target));
      res.json(await estimates.add(await released(res, target, query), principalOf(res), target, query));
    });

    api.get(`${base}/series.csv`, async (req, res) => {
      const { target, name } = readable(res, kind, (req.params as Record<string, string>).id);
      const query = parseSeriesOrCalendarQuery(req.query as Record<string, unknown>, limits());
      charge(res, cellsRead(query.from, query.to, typeof query.step === 'number' ? query.step : 3600) * zonesRead(res, target));
      const series = await estimates.add(await released(res, target, query), principalOf(res), target, query);
      const subject = { kind, id: target.id, name, radio: query.radio };
      if (series.noise) res.setHeader('X-Passant-Noise', `mechanism=${series.noise.mechanism}; epsilon=${series.noise.epsilon}`);
      res
        .status(200)
        .type('text/csv; charset=utf-8')
        .setHeader('Content-Disposition', `attachment; filename="${csvFileName(subject, query.from, query.to, query.step)}"`)
        .send(seriesCsv(subject, series));
    });

    api.get(`${base}/compare`, async (req, res) => {
      const { target } = readable(res, kind, (req.params as Record<string, string>).id);
      const query = parseSeriesQuery(req.query as Record<string, unknown>, limits());
      const periods = comparisonPeriods(query.from, query.to);
      charge(res, 3 * cellsRead(query.from, query.to, query.step) * zonesRead(res, target));
      const [current, previous, lastWeek] = await Promise.all(
        [periods.current, periods.previous, periods.lastWeek].map(([from, to]) => released(res, target, { ...query, from, to }).then((s) => estimates.add(s, principalOf(res), target, { ...query, from, to }))),
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
    });

    api.get(`${base}/profile`, async (req, res) => {
      const { target } = readable(res, kind, (req.params as Record<string, string>).id);
      const query = parseProfileQuery(req.query as Record<string, unknown>, limits());
      charge(res, cellsRead(query.from, query.to, 3600) * zonesRead(res, target));
      const hourly = await released(res, target, { from: query.from, to: query.to, step: 3600, radio: query.radio });
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
    });
  }

  api.get('/sensors', async (req, res) => {
    requireAccess(res, (p) => access.canSeeHealth(p), 'sensor health', 'admin and privacy tokens');
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    const sensors: [string, string][] = [];
    for (const zone of registry.listZones()) for (const sensorId of registry.zone(zone.id)?.sensors ?? []) sensors.push([sensorId, zone.id]);
    res.json(await sensorHealthReport({ sensors, health, store, now: now(), windowSeconds: release.windowSeconds, activeUntil: options.sensorActiveUntil }));
  });

  api.get('/admin/unassigned-sensors', async (req, res) => {
    requireAccess(res, (p) => access.isAdmin(p), 'the list of unassigned sensors', 'admin tokens');
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    const rows = new Map<string, UnassignedSensorBody>();
    for (const u of await registry.unassignedSensors()) {
      rows.set(u.sensorId, {
        sensorId: u.sensorId,
        state: 'unknown',
        lastMessageAt: u.lastSeen,
        lastStatusAt: null,
        firstWindowStart: u.firstWindowStart,
        lastWindowStart: u.lastWindowStart,
        messages: u.messages,
      });
    }
    // Sensors heard from since the start, by status or counts, that the store has no window of (yet).
    for (const h of health.list()) {
      if (registry.zoneOf(h.sensorId) !== undefined) continue;
      const row = rows.get(h.sensorId) ?? {
        sensorId: h.sensorId,
        state: 'unknown',
        lastMessageAt: h.lastCountsAt,
        lastStatusAt: null,
        firstWindowStart: null,
        lastWindowStart: null,
        messages: 0,
      };
      row.state = h.state;
      row.lastStatusAt = h.lastStatusAt;
      rows.set(h.sensorId, row);
    }
    res.json({ sensors: [...rows.values()].sort((a, b) => a.sensorId.localeCompare(b.sensorId)) });
  });

  /** Per set of readable zones (a few: public, each viewer's, all). */
  const shareCache = new Map<string, { at: number; value: PrivacyInfoBody['suppressedShare'] }>();
  /** The share of suppressed cells over the zones the caller may read (not over the others: access composes). */
  async function suppressedShare(principal: Principal): Promise<PrivacyInfoBody['suppressedShare']> {
    const at = now();
    const zones = registry.listZones().filter((zone) => access.canReadZone(principal, zone.id));
    const cacheKey = zones.map((zone) => zone.id).join(',');
    const cached = shareCache.get(cacheKey);
    if (cached && at - cached.at < SUPPRESSED_SHARE_CACHE_SECONDS) return cached.value;
    const to = Math.floor(at / 60) * 60;
    const from = to - SUPPRESSED_SHARE_PERIOD_SECONDS;
    const value: PrivacyInfoBody['suppressedShare'] = { periodSeconds: SUPPRESSED_SHARE_PERIOD_SECONDS, wifi: null, ble: null };
    for (const radio of RADIOS) {
      let releasedCells = 0;
      let suppressedCells = 0;
      for (const zone of zones) {
        const series = await release.series({ kind: 'zone', id: zone.id }, { from, to, step: 60, radio }, { exact: true });
        if (series === undefined) continue;
        for (let i = 0; i < series.t.length; i++) {
          if (series.devices[i] !== null) releasedCells++;
          suppressedCells += series.suppressed[i] ?? 0;
        }
      }
      const total = releasedCells + suppressedCells;
      value[radio] = total === 0 ? null : Math.round((suppressedCells / total) * 10_000) / 10_000;
    }
    if (shareCache.size >= 100) shareCache.clear();
    shareCache.set(cacheKey, { at, value });
    return value;
  }

  api.get('/privacy', async (req, res) => {
    requireAccess(res, (p) => access.canSeePrivacyPage(p), 'the privacy page', 'admin and privacy tokens (auth.public.privacyPage is off)');
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    const body: PrivacyInfoBody = {
      k: release.k,
      windowSeconds: release.windowSeconds,
      settleSeconds: release.settleSeconds,
      retention: options.retention ?? {},
      noise: release.noiseInfo,
      suppressedShare: await suppressedShare(principalOf(res)),
      publicAccess: { zones: access.public.zones === 'all' || access.public.zones === 'none' ? access.public.zones : [...access.public.zones], sites: access.public.sites === 'all' || access.public.sites === 'none' ? access.public.sites : [...access.public.sites] },
      countsSchema: countsMessageJsonSchema(),
    };
    res.json(body);
  });

  api.get('/privacy/audit', (req, res) => {
    requireAccess(res, (p) => access.canSeeAudit(p), 'audit data', 'admin and privacy tokens');
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    // Totals since the first start: earlier runs' totals (kept in the access log's file) plus this process's counters.
    const totals = addTotals(options.auditBase ?? {}, auditCounters(metrics, REJECT_REASONS));
    const tokenCounts = { viewer: 0, admin: 0, privacy: 0, revoked: 0 };
    for (const t of tokens?.list() ?? []) {
      if (t.revokedAt !== null) tokenCounts.revoked++;
      else tokenCounts[t.role]++;
    }
    const body: AuditBody = {
      since: Math.floor(totals.since ?? startedAt),
      ingest: {
        stored: totals.stored ?? 0,
        duplicate: totals.duplicate ?? 0,
        rejected: Object.fromEntries(REJECT_REASONS.map((reason) => [reason, totals[`rejected:${reason}`] ?? 0])) as Record<
          (typeof REJECT_REASONS)[number],
          number
        >,
      },
      statusMessages: {
        accepted: totals.statusAccepted ?? 0,
        rejected: totals.statusRejected ?? 0,
      },
      tokens: tokenCounts,
    };
    res.json(body);
  });

  api.get('/privacy/access-log', (req, res) => {
    requireAccess(res, (p) => roleOf(p) === 'privacy' || roleOf(p) === 'admin', 'the access log', 'privacy and admin tokens');
    const query = req.query as Record<string, unknown>;
    rejectUnknownParams(query, ACCESS_LOG_PARAMS);
    if (options.accessLog === undefined) throw new HttpError(503, 'access_log_unavailable', 'this aggregator keeps no access log');
    const time = (name: string): number | undefined => {
      const raw = singleParam(query, name);
      if (raw === undefined) return undefined;
      if (!/^\d{1,12}$/.test(raw)) throw new HttpError(400, 'invalid_parameter', `${name} must be a time in whole Unix seconds`);
      return Number(raw);
    };
    const token = singleParam(query, 'token');
    if (token !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(token)) throw new HttpError(400, 'invalid_parameter', 'token must be a token id (letters, digits, - and _)');
    const limitRaw = singleParam(query, 'limit');
    if (limitRaw !== undefined && (!/^\d{1,5}$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > 10_000)) {
      throw new HttpError(400, 'invalid_parameter', 'limit must be a whole number from 1 to 10000');
    }
    const q: AccessQuery = {};
    const from = time('from');
    const to = time('to');
    if (from !== undefined) q.from = from;
    if (to !== undefined) q.to = to;
    if (token !== undefined) q.tokenId = token;
    if (limitRaw !== undefined) q.limit = Number(limitRaw);
    res.json({ retentionDays: options.accessLog.retentionDays, entries: options.accessLog.query(q) });
  });

  api.get('/events', (req, res) => {
    const query = req.query as Record<string, unknown>;
    rejectUnknownParams(query, EVENTS_PARAMS);
    const principal = principalOf(res);
    const zone = singleParam(query, 'zone');
    if (zone !== undefined) readable(res, 'zone', zone);
    else if (!access.mayReadAnyZone(principal)) {
      throw new HttpError(401, 'authentication_required', 'no zone is public here: send a token (Authorization: Bearer <token>)');
    }
    const client = String(res.locals.clientKey);
    if ((streamsOfClient.get(client) ?? 0) >= maxEventClientsPerClient) {
      res.setHeader('Retry-After', '30');
      throw new HttpError(429, 'too_many_streams', `this client has ${maxEventClientsPerClient} live-update connections open already; close one first`);
    }
    if (eventStreams.size >= options.maxEventClients) {
      throw new HttpError(503, 'too_many_clients', 'too many live-update connections; try again later');
    }
    res.locals.route = '/api/v1/events';
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 5000\n\n');
    eventStreams.add(res);
    streamsOfClient.set(client, (streamsOfClient.get(client) ?? 0) + 1);
    metrics.eventClients.set(eventStreams.size);
    /**
     * The caller as it is now: the token read again (revoked: null, ends the stream; its role, zones and owner
     * labels as stored now), with the registry and auth.public as configured now. Every event is checked
     * against it, so access removed in any way (token revoked, role changed, owner label or zone taken away by
     * a config reload, a zone made private) stops that zone's events from the next one on.
     */
    const current = (): Principal | null => {
      if (principal.kind === 'anonymous') return ANONYMOUS;
      const token = tokens?.get(principal.token.id);
      return token === undefined || token.revokedAt !== null ? null : { kind: 'token', token };
    };
    /** False (and the stream ended) when nothing this stream was opened for may be read any more. */
    const stillAllowed = (who: Principal | null): who is Principal => {
      const ok = who !== null && (zone !== undefined ? registry.zone(zone) !== undefined && access.canReadZone(who, zone) : access.mayReadAnyZone(who));
      if (!ok && !res.writableEnded) res.end();
      return ok;
    };
    const onCell = (open: ReleasedCell, exact: ReleasedCell) => {
      if (res.writableEnded) return;
      if (zone !== undefined && open.zoneId !== zone) return;
      const who = current();
      if (!stillAllowed(who) || !access.canReadZone(who, open.zoneId)) return;
      // The same values as this caller's series: exact for admin and the zone's own viewers, else open data.
      const cell = access.grantsExact(who, { kind: 'zone', id: open.zoneId }) ? exact : open;
      metrics.releasedCells.inc();
      res.write(`data: ${JSON.stringify(cell)}\n\n`);
    };
    live.on('cell', onCell);
    const keepAlive = setInterval(() => {
      if (!res.writableEnded) res.write(': keep-alive\n\n');
    }, options.eventKeepAliveMs ?? 15_000);
    // Also checked on a timer and after every reload, so a stream whose access is gone ends even when no event comes.
    const recheck = setInterval(() => stillAllowed(current()), options.tokenRecheckMs ?? 2000);
    const offRegistry = registry.onChange(() => stillAllowed(current()));
    const cleanup = () => {
      clearInterval(keepAlive);
      clearInterval(recheck);
      offRegistry();
      live.off('cell', onCell);
      if (eventStreams.delete(res)) {
        const left = (streamsOfClient.get(client) ?? 1) - 1;
        if (left > 0) streamsOfClient.set(client, left);
        else streamsOfClient.delete(client);
      }
      metrics.eventClients.set(eventStreams.size);
    };
    res.on('close', cleanup);
  });

  api.use(
    comparePeriodsRoutes({
      readable,
      released,
      charge,
      limits,
      windowSeconds: release.windowSeconds,
      readableZonesOfSite: (res, siteId) =>
        access
          .readableZonesOf(principalOf(res), (registry.site(siteId)?.zones ?? []).filter((z) => registry.zone(z) !== undefined))
          .map((id) => ({ id, name: registry.zone(id)!.name })),
    }),
  );
  api.use(
    calibrationRoutes({ registry, release, calibrations: options.calibrations, now, logger, canReadZone: (p, zoneId) => access.canReadZone(p, zoneId) }),
  );

  api.use((req, _res) => {
    throw new HttpError(404, 'not_found', `no API endpoint ${req.method} ${req.path.slice(0, 100)}`);
  });
  app.use('/api/v1', api);
  app.use('/api', (req, _res) => {
    throw new HttpError(404, 'not_found', `no API endpoint ${req.method} ${req.originalUrl.split('?')[0]!.slice(0, 100)}: the API is under /api/v1`);
  });

  // The dashboard, built by `npm run build` into dashboardDir.
  const dashboardDir = path.resolve(options.dashboardDir);
  app.get('/', (_req, res, next) => {
    if (fs.existsSync(path.join(dashboardDir, 'index.html'))) {
      next();
      return;
    }
    res.locals.route = '/';
    res
      .status(503)
      .type('text/plain; charset=utf-8')
      .send(`The dashboard is not built: no index.html in ${dashboardDir}.\nRun \`npm run build\` in the repository, then reload.\nThe API is at /api/v1/zones.\n`);
  });
  app.use(
    express.static(dashboardDir, {
      index: 'index.html',
      dotfiles: 'ignore',
      fallthrough: true,
      setHeaders: (res) => {
        res.locals.route = 'static';
      },
    }),
  );

  app.use((req, _res) => {
    throw new HttpError(404, 'not_found', `nothing at ${req.path.slice(0, 100)}`);
  });

  // The boundary: every error becomes `{ error: { code, message } }`; unexpected ones are logged, not shown.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (err instanceof HttpError) {
      if (err.status === 401) {
        res.setHeader('WWW-Authenticate', err.code === 'invalid_token' ? `${WWW_AUTHENTICATE}, error="invalid_token"` : WWW_AUTHENTICATE);
      } else if (err.status === 403) {
        res.setHeader('WWW-Authenticate', `${WWW_AUTHENTICATE}, error="insufficient_scope"`);
      }
      sendError(res, err.status, err.code, err.message);
      return;
    }
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendError(res, status, 'bad_request', 'the request could not be read');
      return;
    }
    logger.error({ err: (err as Error)?.message, method: req.method, path: req.path.slice(0, 100) }, 'request failed');
    sendError(res, 500, 'internal', 'internal error; see the aggregator log');
  });

  return {
    app,
    closeEventStreams() {
      for (const res of eventStreams) res.end();
      eventStreams.clear();
      streamsOfClient.clear();
      metrics.eventClients.set(0);
    },
  };
}
