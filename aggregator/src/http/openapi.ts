/**
 * The OpenAPI 3.1 document of the HTTP API, served at /api/v1/openapi.json, made from the route table (routes/):
 * paths, who may call each route, query parameters from their zod schemas (params.ts), response schemas from
 * @passant/shared (api-schemas.ts) through `z.toJSONSchema`. Nothing here lists a route by hand.
 *
 * It follows the Dutch government's API Design Rules (the ADR linter runs on it in the tests): the server URL holds
 * the major version (/api/v1; NGSI-LD routes are under /ngsi-ld/v1, named per path), errors are problem details
 * (RFC 9457, application/problem+json), every success carries an API-Version header, info.contact names who runs
 * the aggregator (transparency.controller), paths are kebab-case and query keys camelCase.
 */
import { z } from 'zod';
import { ProblemSchema } from '@passant/shared/api-schemas';
import { ROUTE_TABLE, EXTERNAL_ROUTES } from './routes/index.ts';
import type { Body, HttpMethod, RouteSpec } from './routes/types.ts';
import { paramSpecs, type ParamSpec } from './params.ts';

export type { Body, HttpMethod } from './routes/types.ts';

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

export type OpenApiPathItem = Partial<Record<HttpMethod, OpenApiOperation>> & { servers?: { url: string; description?: string }[] };

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; contact: { name?: string; email?: string; url?: string } };
  servers: { url: string; description?: string }[];
  jsonSchemaDialect: string;
  tags: { name: string; description: string }[];
  paths: Record<string, OpenApiPathItem>;
  components: {
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
  };
}

/**
 * A route as documented: the table's entries (RouteSpec) and routes that other modules mount with routers of their
 * own (EXTERNAL_ROUTES: the open-data feed, NGSI-LD) alike. `path` is the express path (`:id`).
 */
export interface RouteDoc {
  path: string;
  /** Default 'get'. */
  method?: HttpMethod;
  requestBody?: z.ZodType;
  okStatus?: number;
  operationId: string;
  summary: string;
  tag: string;
  auth: 'public' | 'public-configurable' | 'token';
  access: string;
  params: readonly ParamSpec[];
  pathParams?: { name: string; description: string }[];
  body: Body;
  errors: number[];
  /** Error statuses whose body is not a problem (default: none). */
  errorBodies?: Record<number, { description: string; body: Body }>;
  /** In the OpenAPI document (default true); see RouteSpec.documented. */
  documented?: boolean;
}

function docOf(spec: RouteSpec): RouteDoc {
  const { handle: _handle, guard: _guard, query, queryAliases: _aliases, anyQuery: _any, requestBody, ...rest } = spec;
  return {
    ...rest,
    ...(requestBody === undefined ? {} : { requestBody: requestBody.schema }),
    params: Array.isArray(query) ? (query as readonly ParamSpec[]) : paramSpecs(query as never),
  };
}

/** Every route the server serves (static dashboard files aside), in the order it matches them. */
export const ROUTES: readonly RouteDoc[] = [...ROUTE_TABLE.map(docOf), ...EXTERNAL_ROUTES];

/** The servers of the document: the API's, and the NGSI-LD API's (which is named on each of its paths). */
export const API_BASE = '/api/v1';
const BASES = [API_BASE, '/ngsi-ld/v1'] as const;

/** Problem details (RFC 9457), the body of every error (its codes: API_ERROR_CODES in @passant/shared). */
export { ProblemSchema };

const STATUS_TEXT: Record<number, string> = {
  400: 'a parameter is missing, repeated, unknown or out of range',
  401: 'a token is needed, or the token is unknown, revoked or malformed (WWW-Authenticate: Bearer)',
  403: "the token's role may not call this",
  404: 'no such zone or site, or the caller may not read it',
  429: 'too many requests (weighed by the cells they read), or too many live-update connections of this client: wait Retry-After seconds',
  500: 'internal error (details only in the aggregator log)',
  503: 'not ready, or too many live-update connections',
};

const API_VERSION_HEADER = { description: 'the full version of the API (semantic versioning), on every response', schema: { type: 'string' } };

/** express `/zones/:id/series` -> OpenAPI `/zones/{id}/series`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** The document's server of an express path, and the path relative to it. */
export function serverAndPath(expressPath: string): { server: string; path: string } {
  const base = BASES.find((b) => expressPath.startsWith(`${b}/`));
  if (base === undefined) return { server: '/', path: openApiPath(expressPath) };
  return { server: base, path: openApiPath(expressPath.slice(base.length)) };
}

export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function okResponse(body: Body, description = 'OK'): OpenApiResponse {
  const headers = { 'API-Version': API_VERSION_HEADER };
  switch (body.kind) {
    case 'json':
      return { description, headers, content: { 'application/json': { schema: jsonSchemaOf(body.schema) } } };
    case 'csv':
      return {
        description: 'OK: a CSV file (RFC 4180, CRLF); text cells that could be read as a formula start with an apostrophe',
        headers: { ...headers, 'Content-Disposition': { description: 'attachment; filename="passant-....csv"', schema: { type: 'string' } } },
        content: { 'text/csv': { schema: { type: 'string' } } },
      };
    case 'sse':
      return {
        description: 'OK: an event stream; `data:` lines hold one released cell as JSON',
        headers,
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      };
    case 'text':
      return { description, headers, content: { [body.mediaType]: { schema: { type: 'string' } } } };
  }
}

function errorResponse(status: number): OpenApiResponse {
  const response: OpenApiResponse = {
    description: STATUS_TEXT[status] ?? 'error',
    headers: { 'API-Version': API_VERSION_HEADER },
    content: { 'application/problem+json': { schema: jsonSchemaOf(ProblemSchema) } },
  };
  if (status === 429) response.headers!['Retry-After'] = { description: 'seconds to wait', schema: { type: 'integer' } };
  if (status === 401) response.headers!['WWW-Authenticate'] = { description: 'Bearer realm="passant"', schema: { type: 'string' } };
  return response;
}

/** Who runs this aggregator, for info.contact (transparency.controller). */
export interface ApiContact {
  name?: string;
  email?: string;
  url?: string;
}

/** The document; `version` is the aggregator's package version. */
export function buildOpenApiDocument(version: string, contact: ApiContact = {}): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of ROUTES) {
    if (route.documented === false) continue;
    const { server, path } = serverAndPath(route.path);
    const statuses = [...new Set([...route.errors, 429, 500])].sort();
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
    const item: OpenApiPathItem = { ...paths[path], [method]: operation };
    if (server !== API_BASE) item.servers = [{ url: server }];
    paths[path] = item;
  }
  const info: OpenApiDocument['info'] = {
    title: 'Passant aggregator API',
    version,
    description:
      'Released foot-traffic counts (zone-minutes below k are suppressed, never shown), CSV export, comparisons, hour-of-week profiles, live updates, sensor health and the privacy page. Times are Unix seconds. Exact per-sensor counts never leave the aggregator. Errors are problem details (RFC 9457) whose `code` says the reason. The health check (/healthz), the Prometheus metrics (/metrics) and the dashboard (/) are at the root, outside this versioned API.',
    contact: {
      name: contact.name ?? 'the organisation running this aggregator (transparency.controller.name is not set)',
      ...(contact.email !== undefined ? { email: contact.email } : {}),
      ...(contact.url !== undefined ? { url: contact.url } : {}),
    },
  };
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: API_BASE, description: 'this aggregator, version 1 of its API' }],
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [
      { name: 'zones', description: 'counting areas' },
      { name: 'sites', description: 'groups of zones' },
      { name: 'health', description: 'sensor health (no counts)' },
      { name: 'privacy', description: 'the privacy page and audit data (no counts)' },
      { name: 'meta', description: 'this document and the caller' },
      { name: 'events', description: 'named periods marked by an admin (a market, street works; no counts)' },
      { name: 'admin', description: 'API tokens and invitations (admin tokens only)' },
      { name: 'open-data', description: 'the open-data feed of the public zones (DCAT description, hourly and daily, JSON and CSV)' },
      { name: 'ngsi-ld', description: 'FIWARE NGSI-LD CrowdFlowObserved entities of the public zones' },
    ].filter((tag) => ROUTES.some((r) => r.tag === tag.name && r.documented !== false)),
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
