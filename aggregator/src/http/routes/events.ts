/**
 * GET /api/v1/events: Server-Sent Events, each newly released zone-minute of the zones the caller may read, checked
 * against the caller's rights as they are at every event.
 */
import type { Response } from 'express';
import { ANONYMOUS, type Principal } from '../../auth/access.ts';
import { HttpError } from '../../errors.ts';
import type { ReleasedCell } from '../../release/release-layer.ts';
import { EVENTS_ALIASES, EVENTS_QUERY } from '../params.ts';
import { nothingPublic } from './steps.ts';
import { ZONE_ACCESS } from './zones.ts';
import type { RouteSpec } from './types.ts';

export const EVENT_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/v1/events',
    operationId: 'streamEvents',
    summary: 'Server-Sent Events: each newly released zone-minute ({ zoneId, radio, t, devices, suppressed }) of the zones the caller may read',
    tag: 'zones',
    auth: 'public-configurable',
    access: `${ZONE_ACCESS}. Every event is checked against the caller's rights as they are now: a revoked token's stream ends, and so does a ?zone= stream whose zone it may no longer read. At most http.maxEventClientsPerClient streams per client (429), http.maxEventClients in all (503)`,
    query: EVENTS_QUERY,
    queryAliases: EVENTS_ALIASES,
    body: { kind: 'sse' },
    errors: [400, 401, 404, 503],
    handle: (ctx) => (req, res: Response) => {
      const { registry, access, live, metrics, tokens, eventStreams, streamsOfClient, options } = ctx;
      const maxEventClientsPerClient = options.maxEventClientsPerClient ?? 10;
      const principal = ctx.principalOf(res);
      const zone = (req.query as Record<string, string | undefined>).zone;
      if (zone !== undefined) ctx.readable(res, 'zone', zone);
      else if (!access.mayReadAnyZone(principal)) {
        throw nothingPublic('zone');
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
      // Cache-Control no-transform keeps the compression middleware off this stream (app.ts); flush in case it ever is not.
      (res as Response & { flush?: () => void }).flush?.();
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
    },
  },
];
