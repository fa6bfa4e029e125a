/**
 * The operational routes at the root: the dashboard's page, /healthz and /metrics. They are in the route table
 * (the README lists them) but not in the OpenAPI document of the versioned API (see RouteSpec.documented).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { HealthzSchema } from '@passant/shared/api-schemas';
import { ANONYMOUS } from '../../auth/access.ts';
import { TimeoutError, withTimeout } from '@passant/shared';
import { NO_QUERY } from '../params.ts';
import type { RouteContext } from './context.ts';
import type { RouteSpec } from './types.ts';

export const OPERATION_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/',
    operationId: 'getDashboard',
    summary: 'The dashboard (index.html; its other files are served by name); 503 with a hint when it is not built',
    tag: 'operations',
    auth: 'public',
    access: 'anyone (the page reads the API with the caller’s access)',
    query: NO_QUERY,
    anyQuery: true,
    body: { kind: 'text', mediaType: 'text/html' },
    errors: [503],
    documented: false,
    handle: (ctx) => (_req, res, next) => {
      const dashboardDir = path.resolve(ctx.options.dashboardDir);
      if (fs.existsSync(path.join(dashboardDir, 'index.html'))) {
        next();
        return;
      }
      res.locals.route = '/';
      res
        .status(503)
        .type('text/plain; charset=utf-8')
        .send(`The dashboard is not built: no index.html in ${dashboardDir}.\nRun \`npm run build\` in the repository, then reload.\nThe API is at /api/v1/zones.\n`);
    },
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'getHealth',
    summary: 'Liveness and readiness: 200 while the store answers and the counts subscription is in place, else 503 with the same report',
    tag: 'operations',
    auth: 'public',
    access: 'anyone (no counts); rate limited per client address, in buckets apart from the API',
    query: NO_QUERY,
    body: { kind: 'json', schema: HealthzSchema },
    errors: [400, 429, 503],
    documented: false,
    handle: (ctx) => [
      (req: Request, res: Response, next: NextFunction) => {
        res.locals.probeKey = `probe:${ctx.clientKey(req, ANONYMOUS)}`;
        next();
      },
      ctx.probeLimit,
      async (_req: Request, res: Response) => {
        const { store, health, now } = ctx;
        const [answers, writeError] = await Promise.all([
          withTimeout(store.ping(), 2000, 'the ping').catch(() => false),
          // Reads alone cannot tell a full disk or a read-only file system: the store says whether it can write.
          withTimeout(store.writeStatus?.() ?? Promise.resolve(null), 2000, 'the write check').catch((err: unknown) =>
            err instanceof TimeoutError ? 'the write check timed out' : `the write check failed: ${(err as Error).message}`,
          ),
        ]);
        const storeError = answers ? writeError : 'the store does not answer';
        const mqtt = ctx.options.mqttLink();
        const ok = storeError === null && mqtt === 'connected';
        res.status(ok ? 200 : 503).setHeader('Cache-Control', 'no-store').json({
          status: ok ? 'ok' : 'unavailable',
          mqtt,
          store: storeError === null ? 'ok' : 'failing',
          ...(storeError === null ? {} : { storeError: storeError.slice(0, 300) }),
          sensors: health.countByState(),
          uptimeSeconds: Math.floor(now() - ctx.startedAt),
        });
      },
    ],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics (text format 0.0.4): ingest results, store latency, HTTP requests; nothing per zone, no counts of people',
    tag: 'operations',
    auth: 'public-configurable',
    access: 'admin and privacy tokens; anyone when auth.public.metrics is true',
    query: NO_QUERY,
    body: { kind: 'text', mediaType: 'text/plain' },
    errors: [400, 401, 403, 429],
    documented: false,
    handle: (ctx: RouteContext) => [
      (req: Request, res: Response, next: NextFunction) => {
        const principal = ctx.authenticate(req, false);
        res.locals.probeKey = `probe:${ctx.clientKey(req, principal ?? ANONYMOUS)}`;
        res.locals.presented = principal;
        next();
      },
      ctx.probeLimit,
      async (_req: Request, res: Response) => {
        const principal = res.locals.presented as ReturnType<RouteContext['authenticate']>;
        if (principal === null) throw ctx.invalidToken();
        res.locals.principal = principal;
        ctx.requireAccess(res, (p) => ctx.access.canReadMetrics(p), 'GET /metrics', 'admin and privacy tokens (auth.public.metrics is off)');
        res.status(200).setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8').setHeader('Cache-Control', 'no-store');
        res.send(await ctx.metrics.render());
      },
    ],
  },
];
