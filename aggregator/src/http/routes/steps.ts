/**
 * Steps of the route table that routes declare rather than write: who may call a route (`rolesOnly`, `adminOnly`
 * as its guard) and the JSON body it takes (`jsonBody` as its requestBody). mountRoutes (index.ts) runs them before
 * the route's handlers, and the OpenAPI document lists the body from the same schema. With them, what handlers
 * share: the `:id` of the path (`idOf`), the 401 of a list when nothing is public (`nothingPublic`).
 */
import express from 'express';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { ApiErrorCode } from '@passant/shared';
import type { z } from 'zod';
import { roleOf } from '../../auth/access.ts';
import type { Role } from '../../auth/token-store.ts';
import { HttpError } from '../../errors.ts';
import type { RouteContext } from './context.ts';
import type { RouteSpec } from './types.ts';

/** The guard of a route for tokens of `roles` only: 401 without a token, 403 with a token of another role. */
export function rolesOnly(roles: readonly Role[], what: string): NonNullable<RouteSpec['guard']> {
  const allowed = new Set<string>(roles);
  return (ctx, _req, res) => ctx.requireAccess(res, (p) => allowed.has(roleOf(p) ?? ''), what, `${roles.join(' and ')} tokens`);
}

/** The guard of a route for admin tokens only. */
export function adminOnly(what: string): NonNullable<RouteSpec['guard']> {
  return rolesOnly(['admin'], what);
}

/** The `:id` of a route's path. */
export function idOf(req: { params: unknown }): string {
  return String((req.params as Record<string, string>).id);
}

/** The answer to a caller without a token where no zone (or site) is public: what it asks for needs one. */
export function nothingPublic(kind: 'zone' | 'site'): HttpError {
  return new HttpError(401, 'authentication_required', `no ${kind} is public here: send a token (Authorization: Bearer <token>)`);
}

/** The JSON body a route takes (RouteSpec.requestBody); make one with `jsonBody`. */
export interface JsonBody<S extends z.ZodType = z.ZodType> {
  /** What the body is: the OpenAPI document's request body, and (judgedBy 'schema') its check. */
  schema: S;
  /** The largest body accepted (express.json's limit: '64kb'); larger is a 413. */
  limit: string;
  /** What a refusal's log line names: `${what} refused: invalid input`. */
  what: string;
  /** The problem code of a body the schema refuses. */
  invalidCode: ApiErrorCode;
  /**
   * 'schema': the step checks the body and the handlers read it typed with `bodyOf`; 'handler': the route's own
   * parser judges `req.body`, with messages of its own (the schema then documents it only).
   */
  judgedBy: 'schema' | 'handler';
}

/** Declares a route's JSON body: the schema, the size limit, and how a refusal is named. */
export function jsonBody<S extends z.ZodType>(
  schema: S,
  options: { limit: string; what: string; invalidCode?: ApiErrorCode; judgedBy?: JsonBody['judgedBy'] },
): JsonBody<S> {
  return { schema, limit: options.limit, what: options.what, invalidCode: options.invalidCode ?? 'invalid_body', judgedBy: options.judgedBy ?? 'schema' };
}

/** A zod refusal as one sentence per problem, with where it is. */
export function zodProblems(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
}

/**
 * The body step of a route: a 415 for another media type, a clear 400 (invalid_json) or 413 (payload_too_large) for
 * bad or large JSON, then (judgedBy 'schema') the schema's check: a 400 with the spec's code, logged with the body's
 * size only (never its content: a name, a code).
 */
export function bodySteps(ctx: RouteContext, spec: JsonBody): (RequestHandler | ErrorRequestHandler)[] {
  return [
    (req: Request, _res: Response, next: NextFunction) => {
      if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as JSON (Content-Type: application/json)');
      next();
    },
    express.json({ limit: spec.limit, strict: false }),
    (err: unknown, _req: Request, _res: Response, next: NextFunction) => {
      const e = err as { type?: string };
      if (e.type === 'entity.parse.failed') next(new HttpError(400, 'invalid_json', 'the body is not valid JSON'));
      else if (e.type === 'entity.too.large') next(new HttpError(413, 'payload_too_large', `the body may be at most ${spec.limit}`));
      else next(err);
    },
    (req: Request, res: Response, next: NextFunction) => {
      if (spec.judgedBy === 'schema') {
        const parsed = spec.schema.safeParse(req.body);
        if (!parsed.success) {
          ctx.logger.info({ bytes: Number(req.headers['content-length'] ?? 0) }, `${spec.what} refused: invalid input`);
          throw new HttpError(400, spec.invalidCode, zodProblems(parsed.error));
        }
        res.locals.body = parsed.data;
      }
      res.locals.bodySpec = spec;
      next();
    },
  ];
}

/** The body of a request as the route's body step checked it (the route must declare `spec` as its requestBody). */
export function bodyOf<S extends z.ZodType>(res: Response, spec: JsonBody<S>): z.output<S> {
  if (res.locals.bodySpec !== spec || spec.judgedBy !== 'schema') throw new Error(`bodyOf: the route does not check this body (${spec.what})`);
  return res.locals.body as z.output<S>;
}
