/**
 * The HTTP API (express 5): JSON under /api/v1, CSV export, live updates by Server-Sent Events, health,
 * metrics and the built dashboard. Every route is declared once in the route table (routes/); this file puts
 * the table's routes in order behind what every request goes through: security headers (helmet), the API-Version
 * header, compression, who is asking, the rate limit, and the error boundary. Every error is problem details
 * (RFC 9457, application/problem+json, with a machine-readable `code`), never a stack trace. Counts reach a
 * response only through the release layer; who may read what is decided in auth/access.ts.
 *
 * Authentication: `Authorization: Bearer <token>` (or `accessToken=`, formerly `access_token=`, on /events only, for
 * EventSource). No header: the public (auth.public). A bad or revoked token: 401 with WWW-Authenticate. A token
 * without the role for a route: 403. A zone or site the caller may not read: 404 for a token (as if it did not
 * exist), 401 without a token.
 */
import path from 'node:path';
import compression from 'compression';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { ApiErrorCode, HealthzBody } from '@passant/shared';
import { ANONYMOUS } from '../auth/access.ts';
import type { PublicAccess } from '../auth/access.ts';
import type { TokenStore } from '../auth/token-store.ts';
import { HttpError, PROBLEM_MEDIA_TYPE, problemOf } from '../errors.ts';
import { precompressedFiles } from './precompressed.ts';
import type { SensorHealthTracker } from '../ingest/sensor-health.ts';
import type { AggregatorMetrics } from '../metrics.ts';
import type { Registry } from '../registry.ts';
import type { LiveUpdates } from '../release/live-updates.ts';
import type { ReleaseLayer } from '../release/release-layer.ts';
import type { CountsStore, ReleaseStore } from '../store/types.ts';
import type { AccessLog } from '../access-log/access-log.ts';
import { OpenDataConfigSchema, type OpenDataConfig } from '../interop/config.ts';
import { ngsiLdRoutes } from './ngsi-ld.ts';
import { openDataRoutes } from './open-data.ts';
import { buildOpenApiDocument, type ApiContact } from './openapi.ts';
import { createRouteContext } from './routes/context.ts';
import { mountRoutes, ROUTE_TABLE } from './routes/index.ts';

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
  /** Who runs this aggregator, for the OpenAPI document's info.contact (config transparency.controller). */
  contact?: ApiContact;
  /** The aggregator's version: the OpenAPI document's and every response's API-Version header. */
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
  /** The open-data feed's settings (config openData); default: the schema's defaults. */
  openData?: OpenDataConfig;
}

export interface HttpApp {
  app: express.Express;
  /** Ends every open event stream (before the server closes). */
  closeEventStreams(): void;
}

const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  // Inline styles only (uPlot and the dashboard set element styles); no inline script anywhere.
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** Not a helmet header: the browser features no page of Passant uses. */
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

function sendProblem(res: Response, status: number, code: ApiErrorCode, detail: string): void {
  res.status(status).setHeader('Content-Type', `${PROBLEM_MEDIA_TYPE}; charset=utf-8`);
  res.send(JSON.stringify(problemOf(status, code, detail)));
}

export function createHttpApp(options: HttpAppOptions): HttpApp {
  const version = options.version ?? '0.0.0';
  const ctx = createRouteContext(options, JSON.stringify(buildOpenApiDocument(version, options.contact)));
  const { registry, release, access, metrics, logger, eventStreams, streamsOfClient } = ctx;

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);
  if ((options.trustProxyHops ?? 0) > 0) app.set('trust proxy', options.trustProxyHops);

  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
      xFrameOptions: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginOpenerPolicy: { policy: 'same-origin' },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      // Only over TLS, below: HSTS on plain HTTP is ignored by browsers and would be wrong on a loopback demo.
      strictTransportSecurity: false,
    }),
  );
  const hsts = helmet.strictTransportSecurity({ maxAge: 31_536_000, includeSubDomains: false });
  app.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
    res.setHeader('API-Version', version);
    res.on('finish', () => {
      // Route patterns, not paths, so the label set stays bounded whatever clients ask for.
      const route =
        req.route?.path !== undefined ? `${String(res.locals.routeBase ?? '')}${String(req.route.path)}` : (res.locals.route ?? 'other');
      metrics.httpRequests.inc({ route: String(route), status: String(res.statusCode) });
    });
    // When the request came over TLS (directly, or through a trusted proxy).
    if (req.secure) hsts(req, res, next);
    else next();
  });
  // Responses are compressed when the client asks; never an event stream (each event must leave as it is written:
  // its Cache-Control says no-transform, which compression honours, and the filter says so again).
  app.use(
    compression({
      filter: (req, res) => !String(res.getHeader('Content-Type') ?? '').startsWith('text/event-stream') && compression.filter(req, res),
    }),
  );

  // The dashboard's page, /healthz and /metrics.
  mountRoutes(app, ROUTE_TABLE.filter((r) => !r.path.startsWith('/api/')), ctx);

  const api = express.Router();

  // Every request made with a token is recorded when it finishes (who read what), for the privacy officer.
  if (options.accessLog !== undefined) api.use(options.accessLog.middleware());

  // Who is asking, then the rate limit (per token, or per client address), then a bad token is refused.
  const apiGuard = [
    (req: Request, res: Response, next: NextFunction): void => {
      res.locals.routeBase = req.baseUrl;
      res.setHeader('Cache-Control', 'no-store');
      const principal = ctx.authenticate(req, req.path === '/events');
      res.locals.clientKey = ctx.clientKey(req, principal ?? ANONYMOUS);
      res.locals.presented = principal;
      next();
    },
    ctx.apiLimit,
    (_req: Request, res: Response, next: NextFunction): void => {
      const principal = res.locals.presented as ReturnType<typeof ctx.authenticate>;
      if (principal === null) throw ctx.invalidToken();
      res.locals.principal = principal;
      next();
    },
  ];
  api.use(apiGuard);

  mountRoutes(api, ROUTE_TABLE.filter((r) => r.path.startsWith('/api/v1/')), ctx, '/api/v1');

  // The open-data feed and FIWARE NGSI-LD: what anyone may read without a token, whoever asks.
  const feedDeps = { registry, release, access, ...(options.calibrations === undefined ? {} : { calibrations: options.calibrations }) };
  api.use(openDataRoutes({ ...feedDeps, config: options.openData ?? OpenDataConfigSchema.parse({}), now: ctx.now }));

  api.use((req, _res) => {
    throw new HttpError(404, 'not_found', `no API endpoint ${req.method} ${req.path.slice(0, 100)}`);
  });
  app.use('/api/v1', api);
  const ngsi = express.Router();
  if (options.accessLog !== undefined) ngsi.use(options.accessLog.middleware());
  ngsi.use(apiGuard, ngsiLdRoutes({ ...feedDeps, now: ctx.now }));
  app.use('/ngsi-ld', ngsi);
  app.use('/api', (req, _res) => {
    throw new HttpError(404, 'not_found', `no API endpoint ${req.method} ${req.originalUrl.split('?')[0]!.slice(0, 100)}: the API is under /api/v1`);
  });

  // The dashboard, built by `npm run build` into dashboardDir (its page: the '/' route of the table); its large
  // files as the build compressed them, when it did and the client accepts that.
  app.use(
    precompressedFiles(path.resolve(options.dashboardDir), (res) => {
      res.locals.route = 'static';
    }),
  );
  app.use(
    express.static(path.resolve(options.dashboardDir), {
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

  // The boundary: every error becomes problem details; unexpected ones are logged, not shown.
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
      sendProblem(res, err.status, err.code, err.message);
      return;
    }
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendProblem(res, status, 'bad_request', 'the request could not be read');
      return;
    }
    logger.error({ err, method: req.method, path: req.path.slice(0, 100) }, 'request failed');
    sendProblem(res, 500, 'internal', 'internal error; see the aggregator log');
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
