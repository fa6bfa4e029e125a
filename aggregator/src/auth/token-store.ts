/**
 * API tokens: 32 random bytes, shown once when created, stored only as their SHA-256 (a token has 256 bits of
 * entropy, so a fast hash is enough: nobody can guess one to match a hash). Kept in their own SQLite file
 * (`<data.dir>/tokens.db` unless auth.tokensFile says otherwise) so that the counts store is never touched.
 * The running aggregator and the `token` command may open the file at the same time (WAL, busy timeout); a
 * revocation is seen by the next request, with no cache in between.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ID_PATTERN } from '@passant/shared';
import { TOKEN_ROLES } from '@passant/shared/api-schemas';
import type Database from 'better-sqlite3';
import { OwnDatabase, openMigratedDatabase } from '../store/sqlite-wal.ts';

/** The roles as the API documents them (@passant/shared/api-schemas). */
export const ROLES = TOKEN_ROLES;
/** viewer: only the zones (and sites) on the token; admin: everything; privacy: health, audit, privacy page. */
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** What is stored about a token (never the token itself). */
export interface TokenInfo {
  id: string;
  role: Role;
  /** A label for people ("shop 12"), or null. */
  name: string | null;
  /** Zones a viewer may read (empty for admin and privacy). */
  zones: string[];
  /** Sites a viewer may read (empty for admin and privacy). */
  sites: string[];
  /** Owner labels (config zones[].owners): a viewer also reads every zone with one of them, as configured now. */
  owners: string[];
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds, or null while the token is valid. */
  revokedAt: number | null;
  /** Unix seconds from which the token is no longer valid, or null: it does not expire. */
  expiresAt: number | null;
}

export interface CreateTokenInput {
  role: Role;
  zones?: readonly string[];
  sites?: readonly string[];
  owners?: readonly string[];
  name?: string | null;
  /** Unix seconds from which the token is no longer valid (default: never). */
  expiresAt?: number | null;
}

/** Every token starts with this, so that secret scanners and people recognise one. */
export const TOKEN_PREFIX = 'pst_';
const TOKEN_PATTERN = /^pst_[A-Za-z0-9_-]{43}$/;
const MAX_NAME_LENGTH = 100;
const MAX_SCOPE_IDS = 1000;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE tokens (
     id       TEXT    PRIMARY KEY,
     hash     TEXT    NOT NULL UNIQUE,
     role     TEXT    NOT NULL CHECK (role IN ('viewer', 'admin', 'privacy')),
     zones    TEXT    NOT NULL DEFAULT '[]',
     sites    TEXT    NOT NULL DEFAULT '[]',
     owners   TEXT    NOT NULL DEFAULT '[]',
     name     TEXT,
     created  INTEGER NOT NULL,
     revoked  INTEGER
   )`,
  `ALTER TABLE tokens ADD COLUMN expires INTEGER`,
];

const COLUMNS = 'id, role, zones, sites, owners, name, created, revoked, expires';

interface Row {
  id: string;
  role: string;
  zones: string;
  sites: string;
  owners: string;
  name: string | null;
  created: number;
  revoked: number | null;
  expires: number | null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function parseIds(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

function toInfo(row: Row): TokenInfo {
  return {
    id: row.id,
    role: isRole(row.role) ? row.role : 'viewer',
    name: row.name,
    zones: parseIds(row.zones),
    sites: parseIds(row.sites),
    owners: parseIds(row.owners),
    createdAt: row.created,
    revokedAt: row.revoked,
    expiresAt: row.expires,
  };
}

/** Problems of a token request, each a sentence; empty when it is fine. */
export function checkCreateInput(input: CreateTokenInput): string[] {
  const problems: string[] = [];
  const zones = input.zones ?? [];
  const sites = input.sites ?? [];
  const owners = input.owners ?? [];
  if (!isRole(input.role)) problems.push(`role must be one of ${ROLES.join(', ')}`);
  if (input.role === 'viewer' && zones.length === 0 && sites.length === 0 && owners.length === 0) {
    problems.push('a viewer token needs at least one --zone, --site or --owner: it can read only those');
  }
  if (input.role !== 'viewer' && (zones.length > 0 || sites.length > 0 || owners.length > 0)) {
    problems.push(`--zone, --site and --owner are for viewer tokens; a ${input.role} token is not limited to zones`);
  }
  for (const owner of owners) {
    if (owner.length === 0 || owner.length > 200 || /[\u0000-\u001f\u007f]/.test(owner)) {
      problems.push('an owner label must be 1 to 200 characters without control characters');
    }
  }
  for (const id of [...zones, ...sites]) {
    if (!ID_PATTERN.test(id)) problems.push(`${JSON.stringify(id.slice(0, 80))} is not a valid zone or site id`);
  }
  if (zones.length + sites.length + owners.length > MAX_SCOPE_IDS) problems.push(`at most ${MAX_SCOPE_IDS} zones and sites per token`);
  const name = input.name ?? null;
  if (name !== null && (name.length === 0 || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name))) {
    problems.push(`name must be 1 to ${MAX_NAME_LENGTH} characters without control characters`);
  }
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt !== null && (!Number.isInteger(expiresAt) || expiresAt <= 0)) problems.push('expiresAt must be a time in whole Unix seconds');
  return problems;
}

export class TokenStore extends OwnDatabase {
  private readonly byHash: Database.Statement<[string], Row>;
  private readonly byId: Database.Statement<[string], Row>;

  private constructor(file: string, db: Database.Database) {
    super(file, db);
    this.byHash = db.prepare(`SELECT ${COLUMNS} FROM tokens WHERE hash = ?`);
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM tokens WHERE id = ?`);
  }

  /** Opens (and creates, readable by the owner only) the token database. */
  static open(file: string): TokenStore {
    const db = openMigratedDatabase(file, MIGRATIONS, 'the token database');
    return new TokenStore(file, db);
  }

  /** Creates a token; the returned `token` is the only time the secret exists outside the caller's hands. */
  create(input: CreateTokenInput, now = Math.floor(Date.now() / 1000)): { token: string; info: TokenInfo } {
    const problems = checkCreateInput(input);
    if (problems.length > 0) throw new Error(problems.join('; '));
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const zones = [...new Set(input.role === 'viewer' ? (input.zones ?? []) : [])];
    const sites = [...new Set(input.role === 'viewer' ? (input.sites ?? []) : [])];
    const owners = [...new Set(input.role === 'viewer' ? (input.owners ?? []) : [])];
    const name = input.name ?? null;
    const expiresAt = input.expiresAt ?? null;
    for (let attempt = 0; ; attempt++) {
      const id = randomBytes(6).toString('hex');
      try {
        this.db
          .prepare('INSERT INTO tokens (id, hash, role, zones, sites, owners, name, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(id, hashToken(token), input.role, JSON.stringify(zones), JSON.stringify(sites), JSON.stringify(owners), name, now, expiresAt);
        return { token, info: { id, role: input.role, name, zones, sites, owners, createdAt: now, revokedAt: null, expiresAt } };
      } catch (err) {
        // An id collision (48 random bits) is retried; anything else is a real failure.
        if (attempt >= 3 || (err as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw err;
      }
    }
  }

  /** Every token, oldest first, without secrets. */
  list(): TokenInfo[] {
    return this.db.prepare<[], Row>(`SELECT ${COLUMNS} FROM tokens ORDER BY created, id`).all().map(toInfo);
  }

  get(id: string): TokenInfo | undefined {
    const row = this.byId.get(id);
    return row ? toInfo(row) : undefined;
  }

  revoke(id: string, now = Math.floor(Date.now() / 1000)): 'revoked' | 'already_revoked' | 'not_found' {
    const row = this.byId.get(id);
    if (!row) return 'not_found';
    if (row.revoked !== null) return 'already_revoked';
    this.db.prepare('UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL').run(now, id);
    return 'revoked';
  }

  /** The valid (not revoked, not expired) token this secret belongs to, or null. Malformed input never reaches SQL. */
  verify(token: string, now = Date.now() / 1000): TokenInfo | null {
    if (!TOKEN_PATTERN.test(token)) return null;
    const row = this.byHash.get(hashToken(token));
    if (!row || row.revoked !== null || (row.expires !== null && row.expires <= now)) return null;
    return toInfo(row);
  }

  /** True while the token exists, is not revoked and has not expired (open event streams check it). */
  isActive(id: string, now = Date.now() / 1000): boolean {
    const row = this.byId.get(id);
    return row !== undefined && row.revoked === null && (row.expires === null || row.expires > now);
  }
}
