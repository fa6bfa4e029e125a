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
import {
  CreatedInvitationSchema,
  CreatedTokenSchema,
  InvitationListSchema,
  TokenInfoSchema,
  TokenListSchema,
} from '@passant/shared/api-schemas';
import { z } from 'zod';
import { HttpError } from '../errors.ts';
import { NO_QUERY } from '../http/params.ts';
import type { RouteContext } from '../http/routes/context.ts';
import { adminOnly, bodyOf, idOf, jsonBody } from '../http/routes/steps.ts';
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
const ids = z.array(z.string()).max(1000).optional();
/** Whom a token or an invitation is for: a name, and the zones, sites and owner labels a viewer reads. */
const scopeFields = { name: z.string().max(100).nullable().optional(), zones: ids, sites: ids, owners: ids };

const NEW_TOKEN = jsonBody(
  z.strictObject({
    role: z.enum(ROLES),
    ...scopeFields,
    expiresAt: z.number().int().positive().nullable().optional().describe('Unix seconds from which the token is refused (default: never)'),
  }),
  { limit: MAX_BODY, what: 'token' },
);
const NEW_INVITATION = jsonBody(
  z.strictObject({
    ...scopeFields,
    validDays: z.number().int().min(1).max(MAX_INVITATION_DAYS).optional().describe(`days the link works (default ${DEFAULT_INVITATION_DAYS})`),
    tokenExpiresAt: z.number().int().positive().nullable().optional().describe('Unix seconds from which the viewer token is refused (default: never)'),
  }),
  { limit: MAX_BODY, what: 'invitation' },
);
const REDEEM = jsonBody(z.strictObject({ code: z.string().max(200) }), { limit: '4kb', what: 'invitation code' });

function tokenStore(ctx: RouteContext): TokenStore {
  if (ctx.tokens === undefined) throw new HttpError(503, 'tokens_unavailable', 'this aggregator keeps no token database');
  return ctx.tokens;
}

function invitationStore(ctx: RouteContext): InvitationStore {
  if (ctx.options.invitations === undefined) throw new HttpError(503, 'invitations_unavailable', 'this aggregator keeps no invitations database');
  return ctx.options.invitations;
}

/** The name and scope of a body, with their defaults (no name, nothing). */
function scopeOf(body: { name?: string | null; zones?: string[]; sites?: string[]; owners?: string[] }) {
  return { name: body.name ?? null, zones: body.zones ?? [], sites: body.sites ?? [], owners: body.owners ?? [] };
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

/** What `make` makes, unless there are `problems`; a refusal of either (or of the store) is a 400 invalid_body. */
function made<T>(problems: string[], make: () => T): T {
  if (problems.length > 0) throw new HttpError(400, 'invalid_body', problems.join('; '));
  try {
    return make();
  } catch (err) {
    throw new HttpError(400, 'invalid_body', (err as Error).message);
  }
}

const admin = { auth: 'token' as const, access: 'admin tokens', tag: 'admin', query: NO_QUERY };
/** An admin's POST that makes something (201), with a JSON body. */
const adminCreates = { ...admin, method: 'post' as const, okStatus: 201, errors: [400, 401, 403, 413, 415, 503] };

export const ADMIN_ROUTES: RouteSpec[] = [
  {
    ...admin,
    method: 'get',
    path: '/api/v1/tokens',
    operationId: 'listTokens',
    summary: 'Every API token (never its secret), oldest first, with its last recorded use',
    body: { kind: 'json', schema: TokenListSchema },
    errors: [400, 401, 403, 503],
    guard: adminOnly('the token list'),
    handle: (ctx) => (_req, res) => {
      const used = ctx.options.accessLog?.lastUse() ?? new Map<string, number>();
      res.json({ tokens: tokenStore(ctx).list().map((info) => ({ ...info, lastUsedAt: used.get(info.id) ?? null })) });
    },
  },
  {
    ...adminCreates,
    path: '/api/v1/tokens',
    operationId: 'createToken',
    summary: 'Create an API token; its secret is in this answer only',
    requestBody: NEW_TOKEN,
    body: { kind: 'json', schema: CreatedTokenSchema },
    guard: adminOnly('creating a token'),
    handle: (ctx) => (_req, res) => {
      const body = bodyOf(res, NEW_TOKEN);
      const input = { role: body.role, ...scopeOf(body), expiresAt: body.expiresAt ?? null };
      const store = tokenStore(ctx);
      const problems = [...(input.role === 'viewer' ? unknownScope(ctx, input) : [])];
      if (input.expiresAt !== null && input.expiresAt <= ctx.now()) problems.push('expiresAt is in the past');
      const token = made(problems, () => store.create(input, Math.floor(ctx.now())));
      ctx.logger.info({ tokenId: token.info.id, role: token.info.role }, 'token created');
      res.status(201).json({ ...token.info, token: token.token });
    },
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
    guard: adminOnly('revoking a token'),
    handle: (ctx) => (req, res) => {
      const id = idOf(req);
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
    guard: adminOnly('the invitation list'),
    handle: (ctx) => (_req, res) => {
      res.json({ invitations: invitationStore(ctx).list() });
    },
  },
  {
    ...adminCreates,
    path: '/api/v1/invitations',
    operationId: 'createInvitation',
    summary: 'Invite someone: a one-time code (in this answer only) that becomes a viewer token for the zones, sites and owner labels given',
    requestBody: NEW_INVITATION,
    body: { kind: 'json', schema: CreatedInvitationSchema },
    guard: adminOnly('inviting'),
    handle: (ctx) => (_req, res) => {
      const body = bodyOf(res, NEW_INVITATION);
      const store = invitationStore(ctx);
      const input = {
        ...scopeOf(body),
        validSeconds: (body.validDays ?? DEFAULT_INVITATION_DAYS) * 86_400,
        tokenExpiresAt: body.tokenExpiresAt ?? null,
      };
      const invitation = made(unknownScope(ctx, input), () => store.create(input, ctx.now()));
      ctx.logger.info({ invitationId: invitation.invitation.id, expiresAt: invitation.invitation.expiresAt }, 'invitation created');
      res.status(201).json({ ...invitation.invitation, code: invitation.code });
    },
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
    requestBody: REDEEM,
    okStatus: 201,
    body: { kind: 'json', schema: CreatedTokenSchema },
    errors: [400, 404, 410, 413, 415, 503],
    handle: (ctx) => (_req, res) => {
      const body = bodyOf(res, REDEEM);
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
  },
];
