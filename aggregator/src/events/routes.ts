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
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Principal } from '../auth/access.ts';
import { roleOf } from '../auth/access.ts';
import { HttpError } from '../errors.ts';
import type { RouteContext } from '../http/routes/context.ts';
import type { RouteSpec } from '../http/routes/types.ts';
import { checkNewEvent, MAX_EVENT_NAME, MAX_EVENT_NOTE, type EventStore, type MarkedEvent } from './event-store.ts';

declare module '../http/app.ts' {
  interface HttpAppOptions {
    /** Events (named periods of zones and sites); without it the event routes answer 503. */
    events?: EventStore;
  }
}

const MAX_BODY = '64kb';

const unix = (name: string, description: string, example: string) =>
  z
    .string()
    .regex(/^\d{1,12}$/, { error: (issue) => `${name} must be a time in whole Unix seconds (digits only), got ${JSON.stringify(String(issue.input).slice(0, 40))}` })
    .optional()
    .describe(description)
    .meta({ example });

export const MARKED_PERIODS_QUERY = z.object({
  zone: z.string().optional().describe('only events about this zone (directly, or through a site it is in)').meta({ example: 'front' }),
  site: z.string().optional().describe('only events about this site (directly, or through one of its zones)').meta({ example: 'town' }),
  from: unix('from', 'only events that end after this time, Unix seconds', '1699920000'),
  to: unix('to', 'only events that start before this time, Unix seconds', '1900000000'),
});

export const MarkedEventSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  from: z.number().int().describe('start, Unix seconds'),
  to: z.number().int().describe('end (exclusive), Unix seconds'),
  zones: z.array(z.string()).describe('the zones it is about that the caller may read'),
  sites: z.array(z.string()).describe('the sites it is about that the caller may read'),
  note: z.string().nullable(),
  createdAt: z.number().int(),
});
const MarkedEventListSchema = z.strictObject({ events: z.array(MarkedEventSchema) });

export const NewEventSchema = z.strictObject({
  name: z.string().min(1).max(MAX_EVENT_NAME),
  from: z.number().int().nonnegative().describe('start, Unix seconds'),
  to: z.number().int().positive().describe('end (exclusive), Unix seconds'),
  zones: z.array(z.string()).optional(),
  sites: z.array(z.string()).optional(),
  note: z.string().max(MAX_EVENT_NOTE).nullable().optional(),
});

/** The JSON body of an admin's POST: a 415 for another type, a clear 400 / 413 for bad or large JSON. */
export function jsonBody(limit: string): (RequestHandler | ((err: unknown, req: Request, res: Response, next: NextFunction) => void))[] {
  return [
    (req: Request, _res: Response, next: NextFunction) => {
      if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as JSON (Content-Type: application/json)');
      next();
    },
    express.json({ limit, strict: false }),
    (err: unknown, _req: Request, _res: Response, next: NextFunction) => {
      const e = err as { type?: string };
      if (e.type === 'entity.parse.failed') next(new HttpError(400, 'invalid_json', 'the body is not valid JSON'));
      else if (e.type === 'entity.too.large') next(new HttpError(413, 'payload_too_large', `the body may be at most ${limit}`));
      else next(err);
    },
  ];
}

/** A zod refusal as one sentence per problem, with where it is. */
export function zodProblems(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
}

export function requireAdmin(ctx: RouteContext, res: Response, what: string): void {
  ctx.requireAccess(res, (p) => roleOf(p) === 'admin', what, 'admin tokens');
}

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
    body: { kind: 'json', schema: MarkedEventListSchema },
    errors: [400, 401, 404, 503],
    handle: (ctx) => (req, res) => {
      const principal = ctx.principalOf(res);
      const q = req.query as z.infer<typeof MARKED_PERIODS_QUERY>;
      if (!ctx.access.mayReadAnyZone(principal) && !ctx.access.mayReadAnySite(principal)) {
        throw new HttpError(401, 'authentication_required', 'no zone is public here: send a token (Authorization: Bearer <token>)');
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
    query: z.object({}),
    requestBody: NewEventSchema,
    okStatus: 201,
    body: { kind: 'json', schema: MarkedEventSchema },
    errors: [400, 401, 403, 413, 415, 503],
    guard: (ctx, _req, res) => requireAdmin(ctx, res, 'marking an event'),
    handle: (ctx) => [
      ...jsonBody(MAX_BODY),
      (req: Request, res: Response) => {
        const store = eventStore(ctx);
        const parsed = NewEventSchema.safeParse(req.body);
        const size = Number(req.headers['content-length'] ?? 0);
        if (!parsed.success) {
          ctx.logger.info({ bytes: size }, 'event refused: invalid input');
          throw new HttpError(400, 'invalid_event', zodProblems(parsed.error));
        }
        const input = { ...parsed.data, zones: parsed.data.zones ?? [], sites: parsed.data.sites ?? [], note: parsed.data.note ?? null };
        const problems = checkNewEvent(input, { zone: (id) => ctx.registry.zone(id) !== undefined, site: (id) => ctx.registry.site(id) !== undefined });
        if (problems.length > 0) {
          ctx.logger.info({ bytes: size, problems: problems.length }, 'event refused: invalid input');
          throw new HttpError(400, 'invalid_event', problems.join('; '));
        }
        const event = store.add(input, ctx.now());
        ctx.logger.info({ eventId: event.id, zones: event.zones.length, sites: event.sites.length }, 'event marked');
        res.status(201).json(event);
      },
    ],
  },
  {
    method: 'delete',
    path: '/api/v1/marked-periods/:id',
    operationId: 'deleteMarkedPeriod',
    summary: 'Delete an event',
    tag: 'events',
    auth: 'token',
    access: 'admin tokens',
    query: z.object({}),
    pathParams: [{ name: 'id', description: 'the event id' }],
    body: { kind: 'json', schema: MarkedEventSchema },
    errors: [400, 401, 403, 404, 503],
    guard: (ctx, _req, res) => requireAdmin(ctx, res, 'deleting an event'),
    handle: (ctx) => (req, res) => {
      const id = String((req.params as Record<string, string>).id);
      const store = eventStore(ctx);
      const event = store.get(id);
      if (event === undefined || !store.remove(id)) throw new HttpError(404, 'event_not_found', `no event ${JSON.stringify(id.slice(0, 80))}; GET /api/v1/marked-periods lists them`);
      ctx.logger.info({ eventId: id }, 'event deleted');
      res.json(event);
    },
  },
];
