/**
 * Events (named periods) in the API:
 *
 *   GET    /marked-periods        anyone who may read one of an event's zones or sites sees it, with only the zones
 *                                 and sites it may read; an event of nothing it may read is not shown (not a 403)
 *   POST   /marked-periods        (admin) { name, from, to, zones?, sites?, note? } -> 201 the event
 *   DELETE /marked-periods/{id}   (admin) -> the deleted event
 *
 * (GET /events is the live-update stream, hence the name.) An event holds no count: a name, a period and what it is
 * about. Without an events database the routes answer 503.
 */
import { MarkedPeriodListSchema, MarkedPeriodSchema } from '@passant/shared/api-schemas';
import { z } from 'zod';
import type { Principal } from '../auth/access.ts';
import { HttpError } from '../errors.ts';
import { NO_QUERY, unix } from '../http/params.ts';
import type { RouteContext } from '../http/routes/context.ts';
import { adminOnly, bodyOf, idOf, jsonBody, nothingPublic } from '../http/routes/steps.ts';
import type { RouteSpec } from '../http/routes/types.ts';
import { checkNewEvent, MAX_EVENT_NAME, MAX_EVENT_NOTE, type EventStore, type MarkedEvent } from './event-store.ts';

declare module '../http/app.ts' {
  interface HttpAppOptions {
    /** Events (named periods of zones and sites); without it the event routes answer 503. */
    events?: EventStore;
  }
}

export const MARKED_PERIODS_QUERY = z.object({
  zone: z.string().optional().describe('only events about this zone (directly, or through a site it is in)').meta({ example: 'front' }),
  site: z.string().optional().describe('only events about this site (directly, or through one of its zones)').meta({ example: 'town' }),
  from: unix('from', 'only events that end after this time, Unix seconds', '1699920000'),
  to: unix('to', 'only events that start before this time, Unix seconds', '1900000000'),
});

const NEW_EVENT = jsonBody(
  z.strictObject({
    name: z.string().min(1).max(MAX_EVENT_NAME),
    from: z.number().int().nonnegative().describe('start, Unix seconds'),
    to: z.number().int().positive().describe('end (exclusive), Unix seconds'),
    zones: z.array(z.string()).optional(),
    sites: z.array(z.string()).optional(),
    note: z.string().max(MAX_EVENT_NOTE).nullable().optional(),
  }),
  { limit: '64kb', what: 'event', invalidCode: 'invalid_event' },
);

function eventStore(ctx: RouteContext): EventStore {
  if (ctx.options.events === undefined) throw new HttpError(503, 'events_unavailable', 'this aggregator keeps no events database');
  return ctx.options.events;
}

/**
 * An event as `principal` sees it: only the zones and sites it may read (that exist); undefined when that leaves
 * nothing, so an event about a hidden zone is, for this caller, not there at all.
 */
export function visibleEvent(ctx: RouteContext, principal: Principal, event: MarkedEvent): MarkedEvent | undefined {
  const { registry, access } = ctx;
  const zones = event.zones.filter((id) => registry.zone(id) !== undefined && access.canReadZone(principal, id));
  const sites = event.sites.filter((id) => registry.site(id) !== undefined && access.canReadSite(principal, id));
  if (zones.length === 0 && sites.length === 0) return undefined;
  return { ...event, zones, sites };
}

/** Whether a visible event is about a zone: named, or through a site it is in. */
function aboutZone(ctx: RouteContext, event: MarkedEvent, zoneId: string): boolean {
  return event.zones.includes(zoneId) || event.sites.some((s) => ctx.registry.site(s)?.zones.includes(zoneId) === true);
}

function aboutSite(ctx: RouteContext, event: MarkedEvent, siteId: string): boolean {
  const zones = ctx.registry.site(siteId)?.zones ?? [];
  return event.sites.includes(siteId) || event.zones.some((z) => zones.includes(z));
}

export const MARKED_PERIOD_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/v1/marked-periods',
    operationId: 'listMarkedPeriods',
    summary: 'Events: named periods an admin marked for zones and sites (a market, street works), by start; no counts',
    tag: 'events',
    auth: 'public-configurable',
    access:
      'anyone, for the events of the zones and sites it may read (each listed with only those); an event of nothing the caller may read is not listed',
    query: MARKED_PERIODS_QUERY,
    body: { kind: 'json', schema: MarkedPeriodListSchema },
    errors: [400, 401, 404, 503],
    handle: (ctx) => (req, res) => {
      const principal = ctx.principalOf(res);
      const q = req.query as z.infer<typeof MARKED_PERIODS_QUERY>;
      if (!ctx.access.mayReadAnyZone(principal) && !ctx.access.mayReadAnySite(principal)) {
        throw nothingPublic('zone');
      }
      // A zone or site the caller may not read answers as elsewhere: 401 without a token, 404 with one.
      if (q.zone !== undefined) ctx.readable(res, 'zone', q.zone);
      if (q.site !== undefined) ctx.readable(res, 'site', q.site);
      const range = { ...(q.from === undefined ? {} : { from: Number(q.from) }), ...(q.to === undefined ? {} : { to: Number(q.to) }) };
      const events = eventStore(ctx)
        .list(range)
        .flatMap((e) => visibleEvent(ctx, principal, e) ?? [])
        .filter((e) => (q.zone === undefined || aboutZone(ctx, e, q.zone)) && (q.site === undefined || aboutSite(ctx, e, q.site)));
      res.json({ events });
    },
  },
  {
    method: 'post',
    path: '/api/v1/marked-periods',
    operationId: 'addMarkedPeriod',
    summary: 'Mark an event: a named period of zones and sites, with an optional note',
    tag: 'events',
    auth: 'token',
    access: 'admin tokens',
    query: NO_QUERY,
    requestBody: NEW_EVENT,
    okStatus: 201,
    body: { kind: 'json', schema: MarkedPeriodSchema },
    errors: [400, 401, 403, 413, 415, 503],
    guard: adminOnly('marking an event'),
    handle: (ctx) => (req, res) => {
      const store = eventStore(ctx);
      const body = bodyOf(res, NEW_EVENT);
      const input = { ...body, zones: body.zones ?? [], sites: body.sites ?? [], note: body.note ?? null };
      const problems = checkNewEvent(input, { zone: (id) => ctx.registry.zone(id) !== undefined, site: (id) => ctx.registry.site(id) !== undefined });
      if (problems.length > 0) {
        ctx.logger.info({ bytes: Number(req.headers['content-length'] ?? 0), problems: problems.length }, 'event refused: invalid input');
        throw new HttpError(400, 'invalid_event', problems.join('; '));
      }
      const event = store.add(input, ctx.now());
      ctx.logger.info({ eventId: event.id, zones: event.zones.length, sites: event.sites.length }, 'event marked');
      res.status(201).json(event);
    },
  },
  {
    method: 'delete',
    path: '/api/v1/marked-periods/:id',
    operationId: 'deleteMarkedPeriod',
    summary: 'Delete an event',
    tag: 'events',
    auth: 'token',
    access: 'admin tokens',
    query: NO_QUERY,
    pathParams: [{ name: 'id', description: 'the event id' }],
    body: { kind: 'json', schema: MarkedPeriodSchema },
    errors: [400, 401, 403, 404, 503],
    guard: adminOnly('deleting an event'),
    handle: (ctx) => (req, res) => {
      const id = idOf(req);
      const store = eventStore(ctx);
      const event = store.get(id);
      if (event === undefined || !store.remove(id)) throw new HttpError(404, 'event_not_found', `no event ${JSON.stringify(id.slice(0, 80))}; GET /api/v1/marked-periods lists them`);
      ctx.logger.info({ eventId: id }, 'event deleted');
      res.json(event);
    },
  },
];
