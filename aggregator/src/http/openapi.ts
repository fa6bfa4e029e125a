/**
 * The OpenAPI 3.1 document of the HTTP API, served at /api/v1/openapi.json. Routes are listed once here (path,
 * who may call it, query parameters from params.ts, response schemas from @passant/shared (api-schemas.ts) through
 * `z.toJSONSchema`); a test checks that every route express serves is in it and the other way round, that the
 * documented parameters are the accepted ones, and that real responses match the documented schemas.
 */
import { z } from 'zod';
import {
  AuditSchema,
  CompareSchema,
  ComparePeriodsSchema,
  ErrorSchema,
  HealthzSchema,
  MeSchema,
  PrivacyInfoSchema,
  ProfileSchema,
  SensorHealthListSchema,
  SeriesSchema,
  SiteListSchema,
  UnassignedSensorListSchema,
  ZoneListSchema,
} from '@passant/shared/api-schemas';
import { ACCESS_LOG_PARAMS, COMPARE_PARAMS, EVENTS_PARAMS, PROFILE_PARAMS, SERIES_PARAMS } from './params.ts';
import type { ParamSpec } from './params.ts';
import { COMPARE_PERIODS_PARAMS } from './compare-periods.ts';

type JsonSchema = Record<string, unknown>;

export interface OpenApiParameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required: boolean;
  description: string;
  schema: JsonSchema;
  example?: string;
}

export interface OpenApiMediaType {
  schema: JsonSchema;
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, OpenApiMediaType>;
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  /** [] means no token is needed; otherwise the bearer token. */
  security: Record<string, string[]>[];
  /** Who may call it (roles), in words; also in `description`. */
  'x-access': string;
  parameters: OpenApiParameter[];
  requestBody?: { required: boolean; content: Record<string, OpenApiMediaType> };
  responses: Record<string, OpenApiResponse>;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  jsonSchemaDialect: string;
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>;
  components: {
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
  };
}

/** What a route answers with 200. */
type Body = { kind: 'json'; schema: z.ZodType } | { kind: 'csv' } | { kind: 'sse' } | { kind: 'text'; mediaType: string };

export type HttpMethod = 'get' | 'post';

/** One documented route; `path` is the express path (`:id`), turned into `{id}` for the document. */
export interface RouteDoc {
  path: string;
  /** Default 'get'. */
  method?: HttpMethod;
  /** The JSON body a POST takes. */
  requestBody?: z.ZodType;
  /** The success status (default 200; a POST that creates: 201). */
  okStatus?: number;
  operationId: string;
  summary: string;
  tag: string;
  /** 'public': never needs a token; 'public-configurable': auth.public decides; 'token': a token with a role. */
  auth: 'public' | 'public-configurable' | 'token';
  access: string;
  params: readonly ParamSpec[];
  pathParams?: { name: string; description: string }[];
  body: Body;
  /** Error statuses the route can answer with (besides 429 and 500, which any API route can). */
  errors: number[];
  /** Error statuses whose body is not the usual `{ error: { code, message } }`. */
  errorBodies?: Record<number, { description: string; body: Body }>;
}

/** The calibration routes' bodies (aggregator/src/http/calibration-routes.ts), for the document. */
const CalibrationRequestSchema = z.strictObject({
  kind: z.enum(['present', 'passers']),
  radio: z.enum(['wifi', 'ble']).optional(),
  counts: z.array(z.strictObject({ from: z.number().int(), to: z.number().int(), people: z.number().nonnegative() })).min(1),
});
const CalibrationSchema = z
  .object({
    id: z.string(),
    zoneId: z.string(),
    kind: z.enum(['present', 'passers']),
    radio: z.enum(['wifi', 'ble']),
    createdAt: z.number().int(),
  })
  .loose()
  .describe('the fitted calibration: model, parameters, points used, interval method, fit statistics');
const CalibrationListSchema = z.strictObject({ zoneId: z.string(), calibrations: z.array(CalibrationSchema) });
const AccessLogSchema = z.strictObject({
  retentionDays: z.number().int(),
  entries: z.array(
    z.strictObject({
      at: z.number().int(),
      tokenId: z.string(),
      role: z.string(),
      method: z.string(),
      path: z.string(),
      targetKind: z.enum(['zone', 'site']).nullable(),
      targetId: z.string().nullable(),
      from: z.number().int().nullable(),
      to: z.number().int().nullable(),
      status: z.number().int(),
    }),
  ),
});

const ZONE_ID = { name: 'id', description: 'zone id' };
const SITE_ID = { name: 'id', description: 'site id' };
const ZONE_ACCESS =
  'the zones auth.public makes public; viewer tokens: their zones, the zones of their owner labels and of the sites on the token too; admin: all. Others: 401 without a token, 404 with one';
const SITE_ACCESS =
  'the sites auth.public makes public; viewer tokens: the sites on the token too; admin: all. Others: 401 without a token, 404 with one. A site counts only the zones the caller may read';

function seriesRoutes(kind: 'zone' | 'site'): RouteDoc[] {
  const Kind = kind === 'zone' ? 'Zone' : 'Site';
  const pathParams = [kind === 'zone' ? ZONE_ID : SITE_ID];
  const access = kind === 'zone' ? ZONE_ACCESS : SITE_ACCESS;
  const common = { tag: `${kind}s`, auth: 'public-configurable' as const, access, pathParams };
  const of = kind === 'zone' ? 'a zone' : 'a site (the sum of the released cells of those of its zones the caller may read)';
  return [
    {
      ...common,
      path: `/api/v1/${kind}s/:id/series`,
      operationId: `get${Kind}Series`,
      summary: `Released series of ${of}: buckets of step seconds, suppressed cells counted, never shown`,
      params: SERIES_PARAMS,
      body: { kind: 'json', schema: SeriesSchema },
      errors: [400, 401, 404],
    },
    {
      ...common,
      path: `/api/v1/${kind}s/:id/series.csv`,
      operationId: `get${Kind}SeriesCsv`,
      summary: `The same series as CSV (${kind}, name, radio, time, unix, devices, suppressed), as a download`,
      params: SERIES_PARAMS,
      body: { kind: 'csv' },
      errors: [400, 401, 404],
    },
    {
      ...common,
      path: `/api/v1/${kind}s/:id/compare`,
      operationId: `compare${Kind}`,
      summary: 'The period against the one before it and against the same days a week earlier, from released series only',
      params: COMPARE_PARAMS,
      body: { kind: 'json', schema: CompareSchema },
      errors: [400, 401, 404],
    },
    {
      ...common,
      path: `/api/v1/${kind}s/:id/compare-periods`,
      operationId: `compare${Kind}Periods`,
      summary:
        'Any two periods (from..to against againstFrom..againstTo) in the same step, aligned by offset: totals, change in %, hidden-minute share per side with a caveat when they differ; a site also per readable zone, ranked',
      params: COMPARE_PERIODS_PARAMS,
      body: { kind: 'json', schema: ComparePeriodsSchema },
      errors: [400, 401, 404],
    },
    {
      ...common,
      path: `/api/v1/${kind}s/:id/profile`,
      operationId: `get${Kind}Profile`,
      summary: 'Hour-of-week profile: the mean released hourly value of each of the 168 hours over the last weeks',
      params: PROFILE_PARAMS,
      body: { kind: 'json', schema: ProfileSchema },
      errors: [400, 401, 404],
    },
  ];
}

/** Every route the server serves (static dashboard files aside). */
export const ROUTES: readonly RouteDoc[] = [
  {
    path: '/',
    operationId: 'getDashboard',
    summary: 'The dashboard (index.html; its other files are served by name); 503 with a hint when it is not built',
    tag: 'operations',
    auth: 'public',
    access: 'anyone (the page reads the API with the caller’s access)',
    params: [],
    body: { kind: 'text', mediaType: 'text/html' },
    errors: [503],
    errorBodies: { 503: { description: 'the dashboard is not built (run npm run build)', body: { kind: 'text', mediaType: 'text/plain' } } },
  },
  {
    path: '/healthz',
    operationId: 'getHealth',
    summary: 'Liveness and readiness: 200 while the store answers and the counts subscription is in place, else 503',
    tag: 'operations',
    auth: 'public',
    access: 'anyone (no counts); rate limited per client address, in buckets apart from the API',
    params: [],
    body: { kind: 'json', schema: HealthzSchema },
    errors: [400, 429, 503],
    errorBodies: { 503: { description: 'the store does not answer or MQTT is disconnected', body: { kind: 'json', schema: HealthzSchema } } },
  },
  {
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics (text format 0.0.4): ingest results, store latency, HTTP requests; nothing per zone, no counts of people',
    tag: 'operations',
    auth: 'public-configurable',
    access: 'admin and privacy tokens; anyone when auth.public.metrics is true',
    params: [],
    body: { kind: 'text', mediaType: 'text/plain' },
    errors: [400, 401, 403, 429],
  },
  {
    path: '/api/v1/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    tag: 'meta',
    auth: 'public',
    access: 'anyone',
    params: [],
    body: { kind: 'json', schema: z.record(z.string(), z.unknown()) },
    errors: [400],
  },
  {
    path: '/api/v1/me',
    operationId: 'getMe',
    summary: 'Who the caller is (role, token id and name) and which zones and sites it may read',
    tag: 'meta',
    auth: 'public',
    access: 'anyone',
    params: [],
    body: { kind: 'json', schema: MeSchema },
    errors: [400, 401],
  },
  {
    path: '/api/v1/zones',
    operationId: 'listZones',
    summary: 'The zones the caller may read (401 without a token when no zone is public)',
    tag: 'zones',
    auth: 'public-configurable',
    access: ZONE_ACCESS,
    params: [],
    body: { kind: 'json', schema: ZoneListSchema },
    errors: [400, 401],
  },
  ...seriesRoutes('zone'),
  {
    path: '/api/v1/sites',
    operationId: 'listSites',
    summary: 'The sites the caller may read, with name, coordinates and zones (401 without a token when no site is public)',
    tag: 'sites',
    auth: 'public-configurable',
    access: SITE_ACCESS,
    params: [],
    body: { kind: 'json', schema: SiteListSchema },
    errors: [400, 401],
  },
  ...seriesRoutes('site'),
  {
    path: '/api/v1/sensors',
    operationId: 'listSensorHealth',
    summary: 'Health of every sensor in a zone: zone, online, last message, messages and missing minutes; never counts',
    tag: 'health',
    auth: 'token',
    access: 'admin and privacy tokens',
    params: [],
    body: { kind: 'json', schema: SensorHealthListSchema },
    errors: [400, 401, 403],
  },
  {
    path: '/api/v1/admin/unassigned-sensors',
    operationId: 'listUnassignedSensors',
    summary: 'Sensors that sent messages but are in no zone (stored, never released)',
    tag: 'health',
    auth: 'token',
    access: 'admin tokens',
    params: [],
    body: { kind: 'json', schema: UnassignedSensorListSchema },
    errors: [400, 401, 403],
  },
  {
    path: '/api/v1/privacy',
    operationId: 'getPrivacyInfo',
    summary: 'The privacy page: k, settle time, retention, suppressed share, public access, the counts message schema',
    tag: 'privacy',
    auth: 'public-configurable',
    access: 'anyone while auth.public.privacyPage is true (the default); else admin and privacy tokens',
    params: [],
    body: { kind: 'json', schema: PrivacyInfoSchema },
    errors: [400, 401, 403],
  },
  {
    path: '/api/v1/privacy/audit',
    operationId: 'getAudit',
    summary: 'Audit data: counts messages stored, duplicate and rejected by reason, status messages, tokens by role',
    tag: 'privacy',
    auth: 'token',
    access: 'admin and privacy tokens',
    params: [],
    body: { kind: 'json', schema: AuditSchema },
    errors: [400, 401, 403],
  },
  {
    path: '/api/v1/privacy/access-log',
    operationId: 'getAccessLog',
    summary: 'The access log: who read what (token id and role, route, zone or site, period asked for, status), newest first',
    tag: 'privacy',
    auth: 'token',
    access: 'privacy tokens (the privacy officer); admin tokens too',
    params: ACCESS_LOG_PARAMS,
    body: { kind: 'json', schema: AccessLogSchema },
    errors: [400, 401, 403, 503],
  },
  {
    path: '/api/v1/zones/:id/calibrations',
    operationId: 'listCalibrations',
    summary: "A zone's calibrations (people estimates from manual counts), oldest first",
    tag: 'zones',
    auth: 'token',
    access: 'admin and privacy tokens',
    params: [],
    pathParams: [ZONE_ID],
    body: { kind: 'json', schema: CalibrationListSchema },
    errors: [400, 401, 403, 404, 503],
  },
  {
    path: '/api/v1/zones/:id/calibrations',
    method: 'post',
    operationId: 'addCalibration',
    summary: 'Add manual counts of a zone (present: people at a moment; passers: people crossing in a period) and fit a calibration from its released minutes',
    tag: 'zones',
    auth: 'token',
    access: 'admin tokens',
    params: [],
    pathParams: [ZONE_ID],
    requestBody: CalibrationRequestSchema,
    okStatus: 201,
    body: { kind: 'json', schema: CalibrationSchema },
    errors: [400, 401, 403, 404, 413, 415, 422, 503],
  },
  {
    path: '/api/v1/events',
    operationId: 'streamEvents',
    summary: 'Server-Sent Events: each newly released zone-minute ({ zoneId, radio, t, devices, suppressed }) of the zones the caller may read',
    tag: 'zones',
    auth: 'public-configurable',
    access: `${ZONE_ACCESS}. Every event is checked against the caller's rights as they are now: a revoked token's stream ends, and so does a ?zone= stream whose zone it may no longer read. At most http.maxEventClientsPerClient streams per client (429), http.maxEventClients in all (503)`,
    params: EVENTS_PARAMS,
    body: { kind: 'sse' },
    errors: [400, 401, 404, 503],
  },
];

const STATUS_TEXT: Record<number, string> = {
  400: 'a parameter is missing, repeated, unknown or out of range',
  401: 'a token is needed, or the token is unknown, revoked or malformed (WWW-Authenticate: Bearer)',
  403: "the token's role may not call this",
  404: 'no such zone or site, or the caller may not read it',
  429: 'too many requests (weighed by the cells they read), or too many live-update connections of this client: wait Retry-After seconds',
  500: 'internal error (details only in the aggregator log)',
  503: 'not ready (healthz), or too many live-update connections',
};

/** express `/zones/:id/series` -> OpenAPI `/zones/{id}/series`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function okResponse(body: Body, description = 'OK'): OpenApiResponse {
  switch (body.kind) {
    case 'json':
      return { description, content: { 'application/json': { schema: jsonSchemaOf(body.schema) } } };
    case 'csv':
      return {
        description: 'OK: a CSV file (RFC 4180, CRLF); text cells that could be read as a formula start with an apostrophe',
        headers: { 'Content-Disposition': { description: 'attachment; filename="passant-....csv"', schema: { type: 'string' } } },
        content: { 'text/csv': { schema: { type: 'string' } } },
      };
    case 'sse':
      return { description: 'OK: an event stream; `data:` lines hold one released cell as JSON', content: { 'text/event-stream': { schema: { type: 'string' } } } };
    case 'text':
      return { description, content: { [body.mediaType]: { schema: { type: 'string' } } } };
  }
}

function errorResponse(status: number): OpenApiResponse {
  const response: OpenApiResponse = {
    description: STATUS_TEXT[status] ?? 'error',
    content: { 'application/json': { schema: jsonSchemaOf(ErrorSchema) } },
  };
  if (status === 429) response.headers = { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } };
  if (status === 401) response.headers = { 'WWW-Authenticate': { description: 'Bearer realm="passant"', schema: { type: 'string' } } };
  return response;
}

/** The document; `version` is the aggregator's package version. */
export function buildOpenApiDocument(version: string): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of ROUTES) {
    const isApi = route.path.startsWith('/api/');
    const statuses = [...new Set([...route.errors, ...(isApi ? [429, 500] : [500])])].sort();
    const responses: Record<string, OpenApiResponse> = { [String(route.okStatus ?? 200)]: okResponse(route.body) };
    for (const status of statuses) {
      const special = route.errorBodies?.[status];
      responses[String(status)] = special ? okResponse(special.body, special.description) : errorResponse(status);
    }
    const parameters: OpenApiParameter[] = [
      ...(route.pathParams ?? []).map((p) => ({ name: p.name, in: 'path' as const, required: true, description: p.description, schema: { type: 'string' } })),
      ...route.params.map((p) => {
        const parameter: OpenApiParameter = { name: p.name, in: 'query', required: false, description: p.description, schema: p.schema };
        if (p.example !== '') parameter.example = p.example;
        return parameter;
      }),
    ];
    const method = route.method ?? 'get';
    const operation: OpenApiOperation = {
        operationId: route.operationId,
        summary: route.summary,
        description: `${route.summary}.\n\nWho may call it: ${route.access}.`,
        tags: [route.tag],
        security: route.auth === 'token' ? [{ bearer: [] }] : route.auth === 'public' ? [{}] : [{}, { bearer: [] }],
        'x-access': route.access,
        parameters,
        responses,
    };
    if (route.requestBody !== undefined) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchemaOf(route.requestBody) } } };
    }
    paths[openApiPath(route.path)] = { ...paths[openApiPath(route.path)], [method]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Passant aggregator API',
      version,
      description:
        'Released foot-traffic counts (zone-minutes below k are suppressed, never shown), CSV export, comparisons, hour-of-week profiles, live updates, sensor health and the privacy page. Times are Unix seconds. Exact per-sensor counts never leave the aggregator.',
    },
    servers: [{ url: '/' }],
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [
      { name: 'zones', description: 'counting areas' },
      { name: 'sites', description: 'groups of zones' },
      { name: 'health', description: 'sensor health (no counts)' },
      { name: 'privacy', description: 'the privacy page and audit data (no counts)' },
      { name: 'meta', description: 'this document and the caller' },
      { name: 'operations', description: 'health check and metrics' },
    ],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'an API token made with `passant-aggregator token create` (pst_...), sent as Authorization: Bearer <token>',
        },
      },
    },
  };
}

/** The routes as a Markdown table (path, query parameters, who may call it, what it answers), for the README. */
export function apiRoutesMarkdown(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = ['| route | query parameters | who may call it | answer |', '| --- | --- | --- | --- |'];
  for (const route of ROUTES) {
    const params = route.params.map((p) => `\`${p.name}\``).join(', ') || '—';
    lines.push(`| \`${(route.method ?? 'get').toUpperCase()} ${route.path}\` | ${params} | ${esc(route.access)} | ${esc(route.summary)} |`);
  }
  return lines.join('\n');
}
