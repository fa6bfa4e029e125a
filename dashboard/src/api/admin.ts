/** Tokens and invitations (tokens-page.ts, invitation.ts): admin only, except redeeming an invitation. */
import type { CreatedInvitationBody, CreatedTokenBody, InvitationBody, TokenInfoBody, TokenListBody, TokenRole } from '@passant/shared';
import { isNullableTime, isRecord, isStringList, isTime } from './checks.ts';
import { bad, getJson, sendJson } from './http.ts';

// The shapes are the API's own (`@passant/shared`, api-schemas.ts, types only): a renamed or retyped field breaks
// this build (tokenInfoOf, invitationInfoOf), not the page.

export type { TokenRole };

/** Every role, in the API's order; the record makes the compiler check that none is missing or extra. */
const ROLE_SET: Record<TokenRole, true> = { viewer: true, admin: true, privacy: true };
export const TOKEN_ROLES = Object.keys(ROLE_SET) as readonly TokenRole[];

/** An API token as `GET /api/v1/tokens` lists it: never its secret. Times in Unix seconds. */
export type TokenInfo = TokenInfoBody;

/** A listed token, with its last recorded request (the access log), or null. */
export type TokenListItem = TokenListBody['tokens'][number];

/** A token just made (`POST /api/v1/tokens`, or an invitation redeemed): the secret is in this answer only. */
export type CreatedToken = CreatedTokenBody;

/** What the tokens page asks for: a token's role, name and scope, and when it expires (null: never). */
export type NewToken = Pick<TokenInfo, 'role' | 'name' | 'zones' | 'sites' | 'owners' | 'expiresAt'>;

/** An invitation as `GET /api/v1/invitations` lists it: never its code. `expiresAt`: from when the code is refused. */
export type InvitationInfo = InvitationBody;

/** An invitation just made: the one-time code is in this answer only. */
export type CreatedInvitation = CreatedInvitationBody;

/** What the tokens page asks for: whom an invitation is for, and for how many days the link works. */
export type NewInvitation = Pick<InvitationInfo, 'name' | 'zones' | 'sites' | 'owners'> & { validDays: number };

function isTokenInfo(value: unknown): value is TokenInfo {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    (TOKEN_ROLES as readonly unknown[]).includes(value.role) &&
    (value.name === null || typeof value.name === 'string') &&
    isStringList(value.zones) &&
    isStringList(value.sites) &&
    isStringList(value.owners) &&
    isTime(value.createdAt) &&
    isNullableTime(value.revokedAt) &&
    isNullableTime(value.expiresAt)
  );
}

function tokenInfoOf(value: TokenInfo): TokenInfo {
  const { id, role, name, zones, sites, owners, createdAt, revokedAt, expiresAt } = value;
  return { id, role, name, zones: [...zones], sites: [...sites], owners: [...owners], createdAt, revokedAt, expiresAt };
}

export function isCreatedToken(value: unknown): value is CreatedToken {
  return isTokenInfo(value) && typeof (value as unknown as Record<string, unknown>).token === 'string' && (value as CreatedToken).token !== '';
}

function isInvitationInfo(value: unknown): value is InvitationInfo {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    (value.name === null || typeof value.name === 'string') &&
    isStringList(value.zones) &&
    isStringList(value.sites) &&
    isStringList(value.owners) &&
    isTime(value.createdAt) &&
    isTime(value.expiresAt) &&
    isNullableTime(value.tokenExpiresAt) &&
    isNullableTime(value.usedAt) &&
    (value.tokenId === null || typeof value.tokenId === 'string')
  );
}

function invitationInfoOf(value: InvitationInfo): InvitationInfo {
  const { id, name, zones, sites, owners, createdAt, expiresAt, tokenExpiresAt, usedAt, tokenId } = value;
  return { id, name, zones: [...zones], sites: [...sites], owners: [...owners], createdAt, expiresAt, tokenExpiresAt, usedAt, tokenId };
}

/** Every token (admin), oldest first, with its last recorded use; never a secret. */
export async function fetchTokens(): Promise<TokenListItem[]> {
  const body = await getJson('api/v1/tokens');
  if (!isRecord(body) || !Array.isArray(body.tokens)) throw bad('{tokens[]}');
  return body.tokens.map((item: unknown) => {
    if (!isTokenInfo(item)) throw bad('a list of tokens {id, role, name, zones, ...}');
    const lastUsedAt = (item as unknown as Record<string, unknown>).lastUsedAt;
    if (!(lastUsedAt === null || (typeof lastUsedAt === 'number' && Number.isFinite(lastUsedAt)))) throw bad('a token with lastUsedAt');
    return { ...tokenInfoOf(item), lastUsedAt: lastUsedAt === null ? null : Math.floor(lastUsedAt) };
  });
}

/** Makes a token (admin); the answer holds its secret, shown once. A refusal (400) carries the server's reason. */
export async function createToken(input: NewToken): Promise<CreatedToken> {
  const body = await sendJson('POST', 'api/v1/tokens', {
    role: input.role,
    ...(input.name === null ? {} : { name: input.name }),
    ...(input.role === 'viewer' ? { zones: input.zones, sites: input.sites, owners: input.owners } : {}),
    ...(input.expiresAt === null ? {} : { expiresAt: input.expiresAt }),
  });
  if (!isCreatedToken(body)) throw bad('a new token {id, token, role, ...}');
  return { ...tokenInfoOf(body), token: body.token };
}

/** Revokes a token (admin); resolves to it as it is now. */
export async function revokeToken(id: string): Promise<TokenInfo> {
  const body = await sendJson('DELETE', `api/v1/tokens/${encodeURIComponent(id)}`, undefined);
  if (!isTokenInfo(body)) throw bad('the revoked token {id, revokedAt, ...}');
  return tokenInfoOf(body);
}

/** Every invitation (admin), newest first; never a code. */
export async function fetchInvitations(): Promise<InvitationInfo[]> {
  const body = await getJson('api/v1/invitations');
  if (!isRecord(body) || !Array.isArray(body.invitations) || !body.invitations.every(isInvitationInfo)) throw bad('{invitations[]}');
  return body.invitations.map(invitationInfoOf);
}

/** Makes an invitation (admin); the answer holds its one-time code. */
export async function createInvitation(input: NewInvitation): Promise<CreatedInvitation> {
  const body = await sendJson('POST', 'api/v1/invitations', {
    ...(input.name === null ? {} : { name: input.name }),
    zones: input.zones,
    sites: input.sites,
    owners: input.owners,
    validDays: input.validDays,
  });
  if (!isInvitationInfo(body) || typeof (body as unknown as Record<string, unknown>).code !== 'string') throw bad('a new invitation {id, code, ...}');
  return { ...invitationInfoOf(body), code: (body as CreatedInvitation).code };
}

/**
 * Uses an invitation code (anyone; sent without a token): resolves to the viewer token it became. A used or
 * expired code is refused with 410 (`invitation_used`, `invitation_expired`), an unknown one with 404.
 */
export async function redeemInvitation(code: string): Promise<CreatedToken> {
  const body = await sendJson('POST', 'api/v1/invitations/redeem', { code }, null);
  if (!isCreatedToken(body)) throw bad('a new token {id, token, role, ...}');
  return { ...tokenInfoOf(body), token: body.token };
}

/** The invitation code in a page address's fragment (`#invite=inv_...`), or null. */
export function invitationCodeOf(hash: string): string | null {
  const match = /^#?invite=([A-Za-z0-9_-]{1,200})$/.exec(hash);
  return match ? match[1]! : null;
}
