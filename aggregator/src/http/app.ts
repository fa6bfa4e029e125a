/**
 * The HTTP API (express 5): JSON under /api/v1, live updates by Server-Sent Events, health, metrics and the
 * built dashboard. Every error is `{ error: { code, message } }`, never a stack trace. Counts reach a response
 * only through the release layer.
 */
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { ApiError } from '@passant/shared';
import { HttpError } from '../errors.ts';
import type { SensorHealthTracker } from '../ingest/sensor-health.ts';
import type { AggregatorMetrics } from '../metrics.ts';
import type { Registry } from '../registry.ts';
import type { LiveUpdates } from '../release/live-updates.ts';
import type { ReleaseLayer, ReleasedCell } from '../release/release-layer.ts';
import type { CountsStore } from '../store/types.ts';
import { parseSeriesQuery } from './series-query.ts';

export interface HttpAppOptions {
  registry: Registry;
  release: ReleaseLayer;
  live: LiveUpdates;
  store: CountsStore;
  metrics: AggregatorMetrics;
  health: SensorHealthTracker;
  /** True while the MQTT connection is up. */
  mqttConnected: () => boolean;
  logger: Logger;
  dashboardDir: string;
  maxSeriesBuckets: number;
  maxSeriesRangeDays: number;
  maxEventClients: number;
  /** Now, Unix seconds. */
  now?: () => number;
  /** Interval of the SSE keep-alive comment. */
  eventKeepAliveMs?: number;
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

export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { registry, release, live, store, metrics, health, logger } = options;
  const now = options.now ?? (() => Date.now() / 1000);
  const startedAt = now();
  const eventStreams = new Set<Response>();

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);

  app.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.on('finish', () => {
      // Route patterns, not paths, so the label set stays bounded whatever clients ask for.
      const route =
        req.route?.path !== undefined ? `${String(res.locals.routeBase ?? '')}${String(req.route.path)}` : (res.locals.route ?? 'other');
      metrics.httpRequests.inc({ route: String(route), status: String(res.statusCode) });
    });
    next();
  });

  app.get('/healthz', async (_req, res) => {
    const storeOk = await withTimeout(store.ping().catch(() => false), 2000, false);
    const mqttOk = options.mqttConnected();
    const ok = storeOk && mqttOk;
    res.status(ok ? 200 : 503).setHeader('Cache-Control', 'no-store').json({
      status: ok ? 'ok' : 'unavailable',
      mqtt: mqttOk ? 'connected' : 'disconnected',
      store: storeOk ? 'ok' : 'failing',
      sensors: health.countByState(),
      uptimeSeconds: Math.floor(now() - startedAt),
    });
  });

  app.get('/metrics', (_req, res) => {
    res.status(200).setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8').setHeader('Cache-Control', 'no-store');
    res.send(metrics.render());
  });

  const api = express.Router();
  api.use((_req, res, next) => {
    res.locals.routeBase = '/api/v1';
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  api.get('/zones', (req, res) => {
    if (Object.keys(req.query).length > 0) {
      throw new HttpError(400, 'unknown_parameter', 'this endpoint takes no query parameters');
    }
    res.json(registry.listZones());
  });

  api.get('/zones/:id/series', async (req, res) => {
    const zoneId = String(req.params.id);
    if (registry.zone(zoneId) === undefined) {
      throw new HttpError(404, 'zone_not_found', `no zone ${JSON.stringify(zoneId.slice(0, 80))}; GET /api/v1/zones lists them`);
    }
    const query = parseSeriesQuery(req.query as Record<string, unknown>, {
      now: now(),
      maxBuckets: options.maxSeriesBuckets,
      maxRangeSeconds: options.maxSeriesRangeDays * 86_400,
    });
    const series = await release.series(zoneId, query);
    if (series === undefined) throw new HttpError(404, 'zone_not_found', `no zone ${JSON.stringify(zoneId)}`);
    res.json(series);
  });

  api.get('/events', (req, res) => {
    const unknown = Object.keys(req.query).filter((k) => k !== 'zone');
    if (unknown.length > 0) {
      throw new HttpError(400, 'unknown_parameter', `unknown query parameter ${JSON.stringify(unknown[0]!.slice(0, 40))}: use zone`);
    }
    const zone = req.query.zone;
    if (zone !== undefined && typeof zone !== 'string') throw new HttpError(400, 'invalid_parameter', 'zone must be given once');
    if (zone !== undefined && registry.zone(zone) === undefined) {
      throw new HttpError(404, 'zone_not_found', `no zone ${JSON.stringify(zone.slice(0, 80))}`);
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
    metrics.eventClients.set(eventStreams.size);
    const onCell = (cell: ReleasedCell) => {
      if (zone !== undefined && cell.zoneId !== zone) return;
      metrics.releasedCells.inc({ result: cell.devices === null ? 'suppressed' : 'released' });
      res.write(`data: ${JSON.stringify(cell)}\n\n`);
    };
    live.on('cell', onCell);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), options.eventKeepAliveMs ?? 15_000);
    const cleanup = () => {
      clearInterval(keepAlive);
      live.off('cell', onCell);
      eventStreams.delete(res);
      metrics.eventClients.set(eventStreams.size);
    };
    res.on('close', cleanup);
  });

  api.use((req, _res) => {
    throw new HttpError(404, 'not_found', `no API endpoint ${req.method} ${req.path.slice(0, 100)}`);
  });
  app.use('/api/v1', api);
  app.use('/api', (req, _res) => {
    throw new HttpError(404, 'not_found', `no API endpoint ${req.method} ${req.originalUrl.slice(0, 100)}: the API is under /api/v1`);
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
      metrics.eventClients.set(0);
    },
  };
}
