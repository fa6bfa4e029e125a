/**
 * Tokens and invitations in the API (what `passant-aggregator token` does, for the dashboard's admin page):
 *
 *   GET    /tokens                (admin) every token without secrets, with its last recorded use
 *   POST   /tokens                (admin) { role, name?, zones?, sites?, owners?, expiresAt? } -> 201 with the secret,
 *                                  shown only in this answer
 *   DELETE /tokens/{id}           (admin) revokes it (the next request with it is refused)
 *   GET    /invitations           (admin) every invitation, newest first, without codes
 *   POST   /invitations           (admin) { name?, zones?, sites?, owners?, validDays?, tokenExpiresAt? } -> 201 with
 *                                  the one-time code, shown only in this answer
 *   POST   /invitations/redeem    (anyone) { code } -> 201 a viewer token; a used, expired or unknown code: 410 / 404
 *
 * Neither a secret nor a code is ever logged or stored: only their SHA-256.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { HttpError } from '../errors.ts';
import { jsonBody, requireAdmin, zodProblems } from '../events/routes.ts';
import type { RouteContext } from '../http/routes/context.ts';
import type { RouteSpec } from '../http/routes/types.ts';
import { DEFAULT_INVITATION_DAYS, type InvitationStore, MAX_INVITATION_DAYS } from './invitations.ts';
import { ROLES, type TokenStore } from './token-store.ts';

declare module '../http/app.ts' {
  interface HttpAppOptions {
    /** Invitation links; without it the invitation routes answer 503. */
    invitations?: InvitationStore;
  }
}

const MAX_BODY = '64kb';
const NO_QUERY = z.object({});
const ids = z.array(z.string()).max(1000).optional();

const TokenInfoSchema = z.strictObject({
  id: z.string(),
  role: z.enum(ROLES),
  name: z.string().nullable(),
  zones: z.array(z.string()),
  sites: z.array(z.string()),
  owners: z.array(z.string()),
  createdAt: z.number().int(),
  revokedAt: z.number().int().nullable(),
  expiresAt: z.number().int().nullable(),
});
const TokenListSchema = z.strictObject({
  tokens: z.array(TokenInfoSchema.extend({ lastUsedAt: z.number().nullable().describe('last recorded request (access log), Unix seconds') })),
});
const CreatedTokenSchema = TokenInfoSchema.extend({ token: z.string().describe('the secret: shown only in this answer') });
const NewTokenSchema = z.strictObject({
  role: z.enum(ROLES),
  name: z.string().max(100).nullable().optional(),
  zones: ids,
  sites: ids,
  owners: ids,
  expiresAt: z.number().int().positive().nullable().optional().describe('Unix seconds from which the token is refused (default: never)'),
});

const InvitationSchema = z.strictObject({
  id: z.string(),
  name: z.string().nullable(),
  zones: z.array(z.string()),
  sites: z.array(z.string()),
  owners: z.array(z.string()),
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  tokenExpiresAt: z.number().int().nullable(),
  usedAt: z.number().int().nullable(),
  tokenId: z.string().nullable(),
});
const InvitationListSchema = z.strictObject({ invitations: z.array(InvitationSchema) });
const CreatedInvitationSchema = InvitationSchema.extend({ code: z.string().describe('the one-time code: shown only in this answer') });
const NewInvitationSchema = z.strictObject({
  name: z.string().max(100).nullable().optional(),
  zones: ids,
  sites: ids,
  owners: ids,
  validDays: z.number().int().min(1).max(MAX_INVITATION_DAYS).optional().describe(`days the link works (default ${DEFAULT_INVITATION_DAYS})`),
  tokenExpiresAt: z.number().int().positive().nullable().optional().describe("Unix seconds from which the viewer token is refused (default: never)"),
});
const RedeemSchema = z.strictObject({ code: z.string().max(200) });

function tokenStore(ctx: RouteContext): TokenStore {
  if (ctx.tokens === undefined) throw new HttpError(503, 'tokens_unavailable', 'this aggregator keeps no token database');
  return ctx.tokens;
}

function invitationStore(ctx: RouteContext): InvitationStore {
  if (ctx.options.invitations === undefined) throw new HttpError(503, 'invitations_unavailable', 'this aggregator keeps no invitations database');
  return ctx.options.invitations;
}

/** The body, checked by `schema`; a refusal logs its size only (never its content: a name, a code). */
function parseBody<T extends z.ZodType>(ctx: RouteContext, req: Request, schema: T, what: string): z.infer<T> {
  const parsed = schema.safeParse(req.body);
  if (!parsed.success) {
    ctx.logger.info({ bytes: Number(req.headers['content-length'] ?? 0) }, `${what} refused: invalid input`);
    throw new HttpError(400, 'invalid_body', zodProblems(parsed.error));
  }
  return parsed.data;
}

/** Zones, sites and owner labels that the configuration does not have, as problems. */
function unknownScope(ctx: RouteContext, scope: { zones: string[]; sites: string[]; owners: string[] }): string[] {
  const { registry } = ctx;
  const problems: string[] = [];
  for (const id of scope.zones) if (registry.zone(id) === undefined) problems.push(`no zone ${JSON.stringify(id.slice(0, 80))}`);
  for (const id of scope.sites) if (registry.site(id) === undefined) problems.push(`no site ${JSON.stringify(id.slice(0, 80))}`);
  const labels = new Set(registry.allZones().flatMap((z) => z.owners ?? []));
  for (const owner of scope.owners) if (!labels.has(owner)) problems.push(`no zone has owner ${JSON.stringify(owner.slice(0, 80))}`);
  return problems;
}

const admin = { auth: 'token' as const, access: 'admin tokens', tag: 'admin', query: NO_QUERY };

export const ADMIN_ROUTES: RouteSpec[] = [
  {
    ...admin,
    method: 'get',
    path: '/api/v1/tokens',
    operationId: 'listTokens',
    summary: 'Every API token (never its secret), oldest first, with its last recorded use',
    body: { kind: 'json', schema: TokenListSchema },
    errors: [400, 401, 403, 503],
    guard: (ctx, _req, res) => requireAdmin(ctx, res, 'the token list'),
    handle: (ctx) => (_req, res) => {
      const used = ctx.options.accessLog?.lastUse() ?? new Map<string, number>();
      res.json({ tokens: tokenStore(ctx).list().map((info) => ({ ...info, lastUsedAt: used.get(info.id) ?? null })) });
    },
  },
  {
    ...admin,
    method: 'post',
    path: '/api/v1/tokens',
    operationId: 'createToken',
    summary: 'Create an API token; its secret is in this answer only',
    requestBody: NewTokenSchema,
    okStatus: 201,
    body: { kind: 'json', schema: CreatedTokenSchema },
    errors: [400, 401, 403, 413, 415, 503],
    guard: (ctx, _req, res) => requireAdmin(ctx, res, 'creating a token'),
    handle: (ctx) => [
      ...jsonBody(MAX_BODY),
      (req: Request, res: Response) => {
        const body = parseBody(ctx, req, NewTokenSchema, 'token');
        const input = { role: body.role, name: body.name ?? null, zones: body.zones ?? [], sites: body.sites ?? [], owners: body.owners ?? [], expiresAt: body.expiresAt ?? null };
        const store = tokenStore(ctx);
        const problems = [...(input.role === 'viewer' ? unknownScope(ctx, input) : [])];
        if (input.expiresAt !== null && input.expiresAt <= ctx.now()) problems.push('expiresAt is in the past');
        if (problems.length > 0) throw new HttpError(400, 'invalid_body', problems.join('; '));
        let made;
        try {
          made = store.create(input, Math.floor(ctx.now()));
        } catch (err) {
          throw new HttpError(400, 'invalid_body', (err as Error).message);
        }
        ctx.logger.info({ tokenId: made.info.id, role: made.info.role }, 'token created');
        res.status(201).json({ ...made.info, token: made.token });
      },
    ],
  },
  {
    ...admin,
    method: 'delete',
    path: '/api/v1/tokens/:id',
    operationId: 'revokeToken',
    summary: 'Revoke an API token: the next request with it is refused, its open event streams end',
    pathParams: [{ name: 'id', description: 'the token id' }],
    body: { kind: 'json', schema: TokenInfoSchema },
    errors: [400, 401, 403, 404, 503],
    guard: (ctx, _req, res) => requireAdmin(ctx, res, 'revoking a token'),
    handle: (ctx) => (req, res) => {
      const id = String((req.params as Record<string, string>).id);
      const store = tokenStore(ctx);
      const result = store.revoke(id, Math.floor(ctx.now()));
      if (result === 'not_found') throw new HttpError(404, 'token_not_found', `no token ${JSON.stringify(id.slice(0, 80))}; GET /api/v1/tokens lists them`);
      if (result === 'revoked') ctx.logger.info({ tokenId: id }, 'token revoked');
      res.json(store.get(id));
    },
  },
  {
    ...admin,
    method: 'get',
    path: '/api/v1/invitations',
    operationId: 'listInvitations',
    summary: 'Every invitation (never its code), newest first: whom for, until when, used when and as which token',
    body: { kind: 'json', schema: InvitationListSchema },
    errors: [400, 401, 403, 503],
    guard: (ctx, _req, res) => requireAdmin(ctx, res, 'the invitation list'),
    handle: (ctx) => (_req, res) => {
      res.json({ invitations: invitationStore(ctx).list() });
    },
  },
  {
    ...admin,
    method: 'post',
    path: '/api/v1/invitations',
    operationId: 'createInvitation',
    summary: 'Invite someone: a one-time code (in this answer only) that becomes a viewer token for the zones, sites and owner labels given',
    requestBody: NewInvitationSchema,
    okStatus: 201,
    body: { kind: 'json', schema: CreatedInvitationSchema },
    errors: [400, 401, 403, 413, 415, 503],
    guard: (ctx, _req, res) => requireAdmin(ctx, res, 'inviting'),
    handle: (ctx) => [
      ...jsonBody(MAX_BODY),
      (req: Request, res: Response) => {
        const body = parseBody(ctx, req, NewInvitationSchema, 'invitation');
        const store = invitationStore(ctx);
        const input = {
          name: body.name ?? null,
          zones: body.zones ?? [],
          sites: body.sites ?? [],
          owners: body.owners ?? [],
          validSeconds: (body.validDays ?? DEFAULT_INVITATION_DAYS) * 86_400,
          tokenExpiresAt: body.tokenExpiresAt ?? null,
        };
        const problems = unknownScope(ctx, input);
        if (problems.length > 0) throw new HttpError(400, 'invalid_body', problems.join('; '));
        let made;
        try {
          made = store.create(input, ctx.now());
        } catch (err) {
          throw new HttpError(400, 'invalid_body', (err as Error).message);
        }
        ctx.logger.info({ invitationId: made.invitation.id, expiresAt: made.invitation.expiresAt }, 'invitation created');
        res.status(201).json({ ...made.invitation, code: made.code });
      },
    ],
  },
  {
    method: 'post',
    path: '/api/v1/invitations/redeem',
    operationId: 'redeemInvitation',
    summary: 'Use an invitation once: its code becomes a viewer token (in this answer only); a used or expired code is refused (410)',
    tag: 'admin',
    auth: 'public',
    access: 'anyone with the code',
    query: NO_QUERY,
    requestBody: RedeemSchema,
    okStatus: 201,
    body: { kind: 'json', schema: CreatedTokenSchema },
    errors: [400, 404, 410, 413, 415, 503],
    handle: (ctx) => [
      ...jsonBody('4kb'),
      (req: Request, res: Response) => {
        const body = parseBody(ctx, req, RedeemSchema, 'invitation code');
        const outcome = invitationStore(ctx).redeem(body.code.trim(), tokenStore(ctx), ctx.now());
        if (!outcome.ok) {
          ctx.logger.info({ reason: outcome.reason }, 'invitation refused');
          if (outcome.reason === 'used') throw new HttpError(410, 'invitation_used', 'this invitation was used already; each one signs in once. Ask whoever sent it for a new one');
          if (outcome.reason === 'expired') throw new HttpError(410, 'invitation_expired', 'this invitation has expired; ask whoever sent it for a new one');
          throw new HttpError(404, 'invitation_not_found', 'no such invitation; check that the whole link was copied');
        }
        ctx.logger.info({ tokenId: outcome.info.id }, 'invitation used');
        res.status(201).json({ ...outcome.info, token: outcome.token });
      },
    ],
  },
];
