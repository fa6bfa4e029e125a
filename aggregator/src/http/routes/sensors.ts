/** Sensor health (no counts): GET /api/v1/sensors and GET /api/v1/admin/unassigned-sensors. */
import type { SensorHealthListBody, UnassignedSensorBody } from '@passant/shared';
import { SensorHealthListSchema, UnassignedSensorListSchema } from '@passant/shared/api-schemas';
import { NO_QUERY } from '../params.ts';
import { sensorHealthReport } from '../sensor-health-report.ts';
import { adminOnly } from './steps.ts';
import type { RouteSpec } from './types.ts';

export const SENSOR_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/v1/sensors',
    operationId: 'listSensorHealth',
    summary: 'Health of every sensor in a zone: zone, online, last message, messages and missing minutes, and for admins its static baseline; never counts of people',
    tag: 'health',
    auth: 'token',
    access: 'admin and privacy tokens',
    query: NO_QUERY,
    body: { kind: 'json', schema: SensorHealthListSchema },
    errors: [400, 401, 403],
    guard: (ctx, _req, res) => ctx.requireAccess(res, (p) => ctx.access.canSeeHealth(p), 'sensor health', 'admin and privacy tokens'),
    handle: (ctx) => async (_req, res) => {
      const sensors: [string, string][] = [];
      for (const zone of ctx.registry.listZones()) for (const sensorId of ctx.registry.zone(zone.id)?.sensors ?? []) sensors.push([sensorId, zone.id]);
      const report = await sensorHealthReport({
        sensors,
        health: ctx.health,
        store: ctx.store,
        now: ctx.now(),
        windowSeconds: ctx.release.windowSeconds,
        activeUntil: ctx.options.sensorActiveUntil,
      });
      // An admin also sees each sensor's static baseline (the devices it always hears), as the release rule uses it.
      // (beside the report: its rows' type holds no number that comes from counts)
      if (ctx.access.isAdmin(ctx.principalOf(res))) {
        const baselines = await ctx.release.baseline(
          report.sensors.map((s) => s.sensorId),
          ctx.now(),
        );
        const body: SensorHealthListBody = { ...report, sensors: report.sensors.map((s) => ({ ...s, baseline: baselines.get(s.sensorId) ?? { wifi: null, ble: null } })) };
        res.json(body);
        return;
      }
      res.json(report);
    },
  },
  {
    method: 'get',
    path: '/api/v1/admin/unassigned-sensors',
    operationId: 'listUnassignedSensors',
    summary: 'Sensors that sent messages but are in no zone (stored, never released)',
    tag: 'health',
    auth: 'token',
    access: 'admin tokens',
    query: NO_QUERY,
    body: { kind: 'json', schema: UnassignedSensorListSchema },
    errors: [400, 401, 403],
    guard: adminOnly('the list of unassigned sensors'),
    handle: (ctx) => async (_req, res) => {
      const rows = new Map<string, UnassignedSensorBody>();
      for (const u of await ctx.registry.unassignedSensors()) {
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
      for (const h of ctx.health.list()) {
        if (ctx.registry.zoneOf(h.sensorId) !== undefined) continue;
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
    },
  },
];
