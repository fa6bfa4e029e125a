/**
 * Invitations: a one-time link an admin sends to a shop owner. Its code (32 random bytes) is stored only as its
 * SHA-256; used once, it becomes a viewer token for the zones, sites and owner labels the admin chose, and is then
 * spent: a second use is refused, as is one after it expired (default 7 days). Kept in their own SQLite file
 * (`<data.dir>/invitations.db`, readable by the owner only).
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { OwnDatabase, openMigratedDatabase } from '../store/sqlite-wal.ts';
import type { TokenInfo, TokenStore } from './token-store.ts';
import { checkCreateInput } from './token-store.ts';

export interface Invitation {
  id: string;
  /** A label for people (who it is for), or null; the token made from it gets the same name. */
  name: string | null;
  zones: string[];
  sites: string[];
  owners: string[];
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds from which the code is refused. */
  expiresAt: number;
  /** When the token of the invitation expires (null: never). */
  tokenExpiresAt: number | null;
  /** Unix seconds when it was used, or null. */
  usedAt: number | null;
  /** The token it became, once used. */
  tokenId: string | null;
}

export interface NewInvitation {
  name: string | null;
  zones: string[];
  sites: string[];
  owners: string[];
  /** Seconds the code stays valid. */
  validSeconds: number;
  tokenExpiresAt: number | null;
}

export const INVITATION_PREFIX = 'inv_';
const CODE_PATTERN = /^inv_[A-Za-z0-9_-]{43}$/;
export const DEFAULT_INVITATION_DAYS = 7;
export const MAX_INVITATION_DAYS = 30;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE invitations (
     id        TEXT    PRIMARY KEY,
     hash      TEXT    NOT NULL UNIQUE,
     name      TEXT,
     zones     TEXT    NOT NULL DEFAULT '[]',
     sites     TEXT    NOT NULL DEFAULT '[]',
     owners    TEXT    NOT NULL DEFAULT '[]',
     created   INTEGER NOT NULL,
     expires   INTEGER NOT NULL,
     token_expires INTEGER,
     used      INTEGER,
     token_id  TEXT
   )`,
];

interface Row {
  id: string;
  name: string | null;
  zones: string;
  sites: string;
  owners: string;
  created: number;
  expires: number;
  token_expires: number | null;
  used: number | null;
  token_id: string | null;
}

const COLUMNS = 'id, name, zones, sites, owners, created, expires, token_expires, used, token_id';

function ids(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

function toInvitation(row: Row): Invitation {
  return {
    id: row.id,
    name: row.name,
    zones: ids(row.zones),
    sites: ids(row.sites),
    owners: ids(row.owners),
    createdAt: row.created,
    expiresAt: row.expires,
    tokenExpiresAt: row.token_expires,
    usedAt: row.used,
    tokenId: row.token_id,
  };
}

function hashCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

/** Problems of a new invitation, each a sentence (empty: fine); the scope is judged as a viewer token's. */
export function checkNewInvitation(input: NewInvitation): string[] {
  const problems = checkCreateInput({ role: 'viewer', zones: input.zones, sites: input.sites, owners: input.owners, name: input.name, expiresAt: input.tokenExpiresAt });
  if (!Number.isInteger(input.validSeconds) || input.validSeconds < 60 || input.validSeconds > MAX_INVITATION_DAYS * 86_400) {
    problems.push(`an invitation is valid for 1 to ${MAX_INVITATION_DAYS} days`);
  }
  return problems;
}

export type RedeemOutcome =
  | { ok: true; token: string; info: TokenInfo }
  | { ok: false; reason: 'unknown' | 'used' | 'expired' };

export class InvitationStore extends OwnDatabase {

  static open(file: string): InvitationStore {
    return new InvitationStore(file, openMigratedDatabase(file, MIGRATIONS, 'the invitations database'));
  }

  /** Makes an invitation; the returned `code` is the only time it exists outside the caller's hands. */
  create(input: NewInvitation, now = Date.now() / 1000): { code: string; invitation: Invitation } {
    const problems = checkNewInvitation(input);
    if (problems.length > 0) throw new Error(problems.join('; '));
    const code = `${INVITATION_PREFIX}${randomBytes(32).toString('base64url')}`;
    const created = Math.floor(now);
    const zones = [...new Set(input.zones)];
    const sites = [...new Set(input.sites)];
    const owners = [...new Set(input.owners)];
    for (let attempt = 0; ; attempt++) {
      const id = randomBytes(6).toString('hex');
      try {
        this.db
          .prepare('INSERT INTO invitations (id, hash, name, zones, sites, owners, created, expires, token_expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(id, hashCode(code), input.name, JSON.stringify(zones), JSON.stringify(sites), JSON.stringify(owners), created, created + input.validSeconds, input.tokenExpiresAt);
        return { code, invitation: this.get(id)! };
      } catch (err) {
        if (attempt >= 3 || (err as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw err;
      }
    }
  }

  get(id: string): Invitation | undefined {
    const row = this.db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM invitations WHERE id = ?`).get(id);
    return row ? toInvitation(row) : undefined;
  }

  /** Every invitation, newest first, without codes. */
  list(): Invitation[] {
    return this.db.prepare<[], Row>(`SELECT ${COLUMNS} FROM invitations ORDER BY created DESC, id`).all().map(toInvitation);
  }

  /**
   * Spends a code: marks it used (at most once, whoever races for it) and makes its viewer token in `tokens`.
   * Malformed input never reaches SQL.
   */
  redeem(code: string, tokens: TokenStore, now = Date.now() / 1000): RedeemOutcome {
    if (!CODE_PATTERN.test(code)) return { ok: false, reason: 'unknown' };
    const hash = hashCode(code);
    const row = this.db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM invitations WHERE hash = ?`).get(hash);
    if (row === undefined) return { ok: false, reason: 'unknown' };
    if (row.used !== null) return { ok: false, reason: 'used' };
    if (row.expires <= now) return { ok: false, reason: 'expired' };
    const at = Math.floor(now);
    // Only one caller turns the row from unused to used.
    if (this.db.prepare('UPDATE invitations SET used = ? WHERE id = ? AND used IS NULL').run(at, row.id).changes !== 1) return { ok: false, reason: 'used' };
    let made: { token: string; info: TokenInfo };
    try {
      made = tokens.create({ role: 'viewer', zones: ids(row.zones), sites: ids(row.sites), owners: ids(row.owners), name: row.name, expiresAt: row.token_expires }, at);
    } catch (err) {
      // No token: the invitation is not spent.
      this.db.prepare('UPDATE invitations SET used = NULL WHERE id = ?').run(row.id);
      throw err;
    }
    this.db.prepare('UPDATE invitations SET token_id = ? WHERE id = ?').run(made.info.id, row.id);
    return { ok: true, ...made };
  }
}

/** The invitations database of a data folder. */
export function invitationsFileOf(dataDir: string): string {
  return path.join(dataDir, 'invitations.db');
}
