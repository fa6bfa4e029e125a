/**
 * One entry of the route table: everything about a route, declared once. The express routes (routes/index.ts),
 * the input validation (the query schema, params.ts; the JSON body, steps.ts) and the OpenAPI document (openapi.ts)
 * are made from it.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import type { ParamSpec, QuerySchema } from '../params.ts';
import type { RouteContext } from './context.ts';
import type { JsonBody } from './steps.ts';

/** What a route answers with on success; what zod cannot say (CSV, event streams, pages) is named here. */
export type Body = { kind: 'json'; schema: z.ZodType } | { kind: 'csv' } | { kind: 'sse' } | { kind: 'text'; mediaType: string };

export type HttpMethod = 'get' | 'post' | 'delete';

export interface RouteSpec {
  method: HttpMethod;
  /** The express path, whole (`/api/v1/zones/:id/series`); `:id` is `{id}` in the document. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** 'public': never needs a token; 'public-configurable': auth.public decides; 'token': a token with a role. */
  auth: 'public' | 'public-configurable' | 'token';
  /** Who may call it, in words (the document's description and x-access, the README). */
  access: string;
  /**
   * The accepted query parameters: any other is a 400 (unknown_parameter), a repeated one too, and a value the
   * schema refuses. A list of documented parameters (routes whose own parser judges the values) is checked for
   * names and repetition only.
   */
  query: QuerySchema | readonly ParamSpec[];
  /** Any query is let through unchecked (the dashboard's page, whose links may carry the page's own state). */
  anyQuery?: true;
  /** Old query names still accepted: old -> new (the document lists the new names only). */
  queryAliases?: Readonly<Record<string, string>>;
  pathParams?: { name: string; description: string }[];
  /**
   * The JSON body a POST takes (steps.ts `jsonBody`): parsed and checked after the guard and the query, before the
   * handlers, which read it with `bodyOf`; the document lists its schema.
   */
  requestBody?: JsonBody;
  /** The success status (default 200; a POST that creates: 201). */
  okStatus?: number;
  body: Body;
  /** Error statuses the route can answer with (besides 429 and 500, which any API route can). */
  errors: number[];
  /**
   * Whether the OpenAPI document lists it (default true). The document describes the versioned API under
   * /api/v1; the operational routes at the root (the dashboard page, /healthz, /metrics) answer probes, scrapers
   * and browsers with bodies of their own (a 503 of /healthz is its health report, not a problem) and are listed
   * in the README's route table only.
   */
  documented?: boolean;
  /**
   * Who may call it, checked before the query (throws 401, 403 or 404): a caller without access learns nothing
   * from how its parameters are judged.
   */
  guard?: (ctx: RouteContext, req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1]) => void;
  /** The handlers, given the app's context; they run after the guard, the query check and the body step. */
  handle: (ctx: RouteContext) => RequestHandler | (RequestHandler | ErrorRequestHandler)[];
}
