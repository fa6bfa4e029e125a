/**
 * The route table: every route the aggregator serves, declared once per resource module. `mountRoutes` makes the
 * express routes from it (guard, query check, body step, handlers) and openapi.ts the document.
 *
 * Adding a route: declare a RouteSpec in the module of its resource (or a new module listed here), with its query
 * schema in params.ts, its body (if any) with steps.ts `jsonBody` and its response schema in
 * @passant/shared/api-schemas; the route, its validation, the OpenAPI document and the README's route table
 * follow. Routes that another module serves with a router of its own (the open-data feed, NGSI-LD) are listed in
 * EXTERNAL_ROUTES for the document.
 */
import type express from 'express';
import { INTEROP_ROUTES } from '../../interop/openapi-routes.ts';
import type { RouteDoc } from '../openapi.ts';
import { rejectUnknownParams, singleParam, validateQuery } from '../params.ts';
import { CALIBRATION_ROUTES } from './calibrations.ts';
import type { RouteContext } from './context.ts';
import { ADMIN_ROUTES } from '../../auth/admin-routes.ts';
import { MARKED_PERIOD_ROUTES } from '../../events/routes.ts';
import { EVENT_ROUTES } from './events.ts';
import { META_ROUTES } from './meta.ts';
import { OPERATION_ROUTES } from './operations.ts';
import { PRIVACY_ROUTES } from './privacy.ts';
import { SENSOR_ROUTES } from './sensors.ts';
import { bodySteps } from './steps.ts';
import type { RouteSpec } from './types.ts';
import { ZONE_ROUTES } from './zones.ts';

/** The routes this module mounts, in the order express matches them. */
export const ROUTE_TABLE: readonly RouteSpec[] = [
  ...OPERATION_ROUTES,
  ...META_ROUTES,
  ...ZONE_ROUTES,
  ...SENSOR_ROUTES,
  ...PRIVACY_ROUTES,
  ...EVENT_ROUTES,
  ...MARKED_PERIOD_ROUTES,
  ...ADMIN_ROUTES,
  ...CALIBRATION_ROUTES,
];

/** Routes served by routers of their own (open-data.ts, ngsi-ld.ts), as documented. */
export const EXTERNAL_ROUTES: readonly RouteDoc[] = INTEROP_ROUTES;

/** The query check of a route: names (aliases renamed), repetition, and values where the schema is zod. */
function checkQuery(spec: RouteSpec, query: Record<string, unknown>): void {
  if (spec.anyQuery) return;
  if (Array.isArray(spec.query)) {
    rejectUnknownParams(query, spec.query);
    for (const p of spec.query) singleParam(query, p.name);
    return;
  }
  validateQuery(query, spec.query as Exclude<RouteSpec['query'], readonly unknown[]>, spec.queryAliases);
}

/**
 * Mounts the routes of `routes` whose path starts with `prefix` on `router` (paths relative to the prefix): for each,
 * its guard, its query check, its body step (a route with a requestBody), then its handlers.
 */
export function mountRoutes(router: express.Router, routes: readonly RouteSpec[], ctx: RouteContext, prefix = ''): void {
  for (const spec of routes) {
    if (!spec.path.startsWith(prefix)) continue;
    const path = spec.path.slice(prefix.length) || '/';
    const check: express.RequestHandler = (req, res, next) => {
      spec.guard?.(ctx, req, res);
      checkQuery(spec, req.query as Record<string, unknown>);
      next();
    };
    const body = spec.requestBody === undefined ? [] : bodySteps(ctx, spec.requestBody);
    const handlers = [...body, spec.handle(ctx)].flat();
    router[spec.method](path, check, ...(handlers as express.RequestHandler[]));
  }
}
