/**
 * Calibration routes, mounted under /api/v1 (after authentication and the rate limit):
 *
 *   POST /zones/{id}/calibrations   (admin)            manual counts in, the fitted calibration out (201), or a 422
 *                                                       problem saying why it cannot fit; 400 for bad input
 *   GET  /zones/{id}/calibrations   (admin, privacy)   every calibration of the zone, oldest first
 *
 * Body: { "kind": "present" | "passers", "counts": [{ "from": unixSeconds, "to": unixSeconds, "people": number }],
 * "radio"?: "wifi" | "ble" }. The fit reads only the zone's released minutes (estimate/calibrate.ts).
 */
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { ANONYMOUS, roleOf, type Principal } from '../auth/access.ts';
import { HttpError } from '../errors.ts';
import { calibrateZone, parseCalibrationRequest } from '../estimate/calibrate.ts';
import type { CalibrationStore } from '../estimate/calibration-store.ts';
import type { Registry } from '../registry.ts';
import type { ReleaseLayer } from '../release/release-layer.ts';
import { rejectUnknownParams } from './params.ts';

export interface CalibrationRoutesOptions {
  registry: Registry;
  release: ReleaseLayer;
  /** The calibration database; without it the routes answer 503. */
  calibrations: CalibrationStore | undefined;
  now: () => number;
  logger?: Logger;
  /**
   * Whether a principal may read a zone's released values (auth/access.ts). A privacy token reads the calibrations
   * of those zones only (never more than the public); an admin reads every zone. Default: every zone.
   */
  canReadZone?: (principal: Principal, zoneId: string) => boolean;
}

const MAX_BODY = '512kb';

function principalOf(res: Response): Principal {
  return (res.locals.principal as Principal | undefined) ?? ANONYMOUS;
}

function requireRole(res: Response, roles: readonly string[], what: string): void {
  const principal = principalOf(res);
  const role = roleOf(principal);
  if (role !== null && roles.includes(role)) return;
  if (role === null) throw new HttpError(401, 'authentication_required', `${what} needs a token (Authorization: Bearer <token>)`);
  throw new HttpError(403, 'forbidden', `${what} is for ${roles.join(' and ')} tokens; this token's role is ${role}`);
}

export function calibrationRoutes(options: CalibrationRoutesOptions): express.Router {
  const { registry, release, now, logger } = options;
  const router = express.Router();
  const path = '/zones/:id/calibrations';

  function zoneOf(req: Request, res: Response): { id: string; sensors: string[] } {
    const id = String((req.params as Record<string, string>).id);
    const zone = registry.zone(id);
    // A zone the caller may not read answers as one that does not exist.
    if (zone === undefined || options.canReadZone?.(principalOf(res), id) === false) throw new HttpError(404, 'zone_not_found', `no zone ${JSON.stringify(id.slice(0, 80))}; GET /api/v1/zones lists them`);
    return { id, sensors: [...zone.sensors] };
  }

  function store(): CalibrationStore {
    if (options.calibrations === undefined) throw new HttpError(503, 'calibrations_unavailable', 'this aggregator keeps no calibration database');
    return options.calibrations;
  }

  router.get(path, (req, res) => {
    requireRole(res, ['admin', 'privacy'], 'the calibrations of a zone');
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    const zone = zoneOf(req, res);
    res.json({ zoneId: zone.id, calibrations: store().list(zone.id) });
  });

  router.post(
    path,
    (req, res, next) => {
      // Role first: nobody else gets to have a body parsed.
      requireRole(res, ['admin'], 'adding a calibration');
      rejectUnknownParams(req.query as Record<string, unknown>, []);
      if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the counts as JSON (Content-Type: application/json)');
      next();
    },
    express.json({ limit: MAX_BODY, strict: false }),
    async (req, res) => {
      const zone = zoneOf(req, res);
      const calibrations = store();
      const size = Number(req.headers['content-length'] ?? 0);
      const parsed = parseCalibrationRequest(req.body, now());
      if (!parsed.ok) {
        logger?.info({ zoneId: zone.id, bytes: size, problems: parsed.problems.length }, 'calibration refused: invalid input');
        throw new HttpError(400, 'invalid_calibration', parsed.problems.slice(0, 20).join('; '));
      }
      const outcome = await calibrateZone(release, zone.id, zone.sensors, parsed.request, now());
      if (!outcome.ok) {
        logger?.info({ zoneId: zone.id, kind: parsed.request.kind, counts: outcome.points.given, usable: outcome.points.used }, 'calibration refused: cannot fit');
        throw new HttpError(422, 'cannot_fit', `cannot fit a calibration: ${outcome.reason}`);
      }
      const saved = calibrations.add(outcome.calibration);
      logger?.info({ zoneId: zone.id, calibrationId: saved.id, kind: saved.kind, radio: saved.radio, used: saved.points.used }, 'calibration added');
      res.status(201).json(saved);
    },
  );

  // A body that is not JSON, or too large: a clear 400 / 413 instead of the generic one.
  router.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => {
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.parse.failed') next(new HttpError(400, 'invalid_json', 'the body is not valid JSON'));
    else if (e.type === 'entity.too.large') next(new HttpError(413, 'payload_too_large', `the body may be at most ${MAX_BODY}`));
    else next(err);
  });

  return router;
}
