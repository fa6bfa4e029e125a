/**
 * Calibrations of a zone (people estimates from manual counts):
 *
 *   POST /zones/{id}/calibrations   (admin)            manual counts in, the fitted calibration out (201), or a 422
 *                                                       problem saying why it cannot fit; 400 for bad input
 *   GET  /zones/{id}/calibrations   (admin, privacy)   every calibration of the zone, oldest first
 *
 * Body: { "kind": "present" | "passers", "counts": [{ "from": unixSeconds, "to": unixSeconds, "people": number }],
 * "radio"?: "wifi" | "ble" }. The fit reads only the zone's released minutes (estimate/calibrate.ts). Without a
 * calibration database the routes answer 503.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { HttpError } from '../../errors.ts';
import { calibrateZone, parseCalibrationRequest } from '../../estimate/calibrate.ts';
import type { CalibrationStore } from '../../estimate/calibration-store.ts';
import { NO_QUERY } from '../params.ts';
import type { RouteContext } from './context.ts';
import { adminOnly, idOf, jsonBody, rolesOnly } from './steps.ts';
import { ZONE_ID } from './zones.ts';
import type { RouteSpec } from './types.ts';

/** The request body: the schema documents it, parseCalibrationRequest judges it (with messages of its own). */
const CALIBRATION_REQUEST = jsonBody(
  z.strictObject({
    kind: z.enum(['present', 'passers']),
    radio: z.enum(['wifi', 'ble']).optional(),
    counts: z.array(z.strictObject({ from: z.number().int(), to: z.number().int(), people: z.number().nonnegative() })).min(1),
  }),
  { limit: '512kb', what: 'calibration', judgedBy: 'handler' },
);
const CalibrationSchema = z
  .object({
    id: z.string(),
    zoneId: z.string(),
    kind: z.enum(['present', 'passers']),
    radio: z.enum(['wifi', 'ble']),
    created: z.number().int().describe('when it was fitted, Unix seconds'),
  })
  .loose()
  .describe('the fitted calibration: model, parameters, points used, interval method, fit statistics');
const CalibrationListSchema = z.strictObject({ zoneId: z.string(), calibrations: z.array(CalibrationSchema) });

/** The zone of the request; one the caller may not read answers as one that does not exist. */
function zoneOf(ctx: RouteContext, req: Request, res: Response): { id: string; sensors: string[] } {
  const id = idOf(req);
  const zone = ctx.registry.zone(id);
  if (zone === undefined || !ctx.access.canReadZone(ctx.principalOf(res), id)) {
    throw new HttpError(404, 'zone_not_found', `no zone ${JSON.stringify(id.slice(0, 80))}; GET /api/v1/zones lists them`);
  }
  return { id, sensors: [...zone.sensors] };
}

function calibrationStore(ctx: RouteContext): CalibrationStore {
  if (ctx.options.calibrations === undefined) throw new HttpError(503, 'calibrations_unavailable', 'this aggregator keeps no calibration database');
  return ctx.options.calibrations;
}

const common = {
  path: '/api/v1/zones/:id/calibrations',
  tag: 'zones',
  auth: 'token' as const,
  query: NO_QUERY,
  pathParams: [ZONE_ID],
};

export const CALIBRATION_ROUTES: RouteSpec[] = [
  {
    ...common,
    method: 'get',
    operationId: 'listCalibrations',
    summary: "A zone's calibrations (people estimates from manual counts), oldest first",
    access: 'admin and privacy tokens',
    body: { kind: 'json', schema: CalibrationListSchema },
    errors: [400, 401, 403, 404, 503],
    guard: rolesOnly(['admin', 'privacy'], 'the calibrations of a zone'),
    handle: (ctx) => (req, res) => {
      const zone = zoneOf(ctx, req, res);
      res.json({ zoneId: zone.id, calibrations: calibrationStore(ctx).list(zone.id) });
    },
  },
  {
    ...common,
    method: 'post',
    operationId: 'addCalibration',
    summary:
      'Add manual counts of a zone (present: people at a moment; passers: people crossing in a period) and fit a calibration from its released minutes',
    access: 'admin tokens',
    requestBody: CALIBRATION_REQUEST,
    okStatus: 201,
    body: { kind: 'json', schema: CalibrationSchema },
    errors: [400, 401, 403, 404, 413, 415, 422, 503],
    // Role first: nobody else gets to have a body parsed.
    guard: adminOnly('adding a calibration'),
    handle: (ctx) => async (req: Request, res: Response) => {
      const { logger, release, now } = ctx;
      const zone = zoneOf(ctx, req, res);
      const calibrations = calibrationStore(ctx);
      const size = Number(req.headers['content-length'] ?? 0);
      const parsed = parseCalibrationRequest(req.body, now());
      if (!parsed.ok) {
        logger.info({ zoneId: zone.id, bytes: size, problems: parsed.problems.length }, 'calibration refused: invalid input');
        throw new HttpError(400, 'invalid_calibration', parsed.problems.slice(0, 20).join('; '));
      }
      const outcome = await calibrateZone(release, zone.id, zone.sensors, parsed.request, now());
      if (!outcome.ok) {
        logger.info({ zoneId: zone.id, kind: parsed.request.kind, counts: outcome.points.given, usable: outcome.points.used }, 'calibration refused: cannot fit');
        throw new HttpError(422, 'cannot_fit', `cannot fit a calibration: ${outcome.reason}`);
      }
      const saved = calibrations.add(outcome.calibration);
      logger.info({ zoneId: zone.id, calibrationId: saved.id, kind: saved.kind, radio: saved.radio, used: saved.points.used }, 'calibration added');
      res.status(201).json(saved);
    },
  },
];
