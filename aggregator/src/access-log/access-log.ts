/**
 * The access log: who read what, for the privacy officer. Every API request made with a token is recorded with
 * the token's id and role (never the token), the route, the zone or site it named, the period it asked for and its
 * status. Anonymous requests are not recorded (there is no "who"; the rate limiter and /metrics count them). Kept in
 * its own SQLite file (`<data.dir>/access-log.db`) for `audit.accessLogDays`, then deleted (secure_delete on, so the
 * rows are overwritten, not only unlinked).
 *
 * The same file keeps the audit totals (counts messages stored, duplicates, refusals by reason, status messages)
 * across restarts: the aggregator adds its process's counters to the totals it found at start and writes them back
 * every minute and when it stops, so /api/v1/privacy/audit counts from the first start, not the last.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { NextFunction, Request, Response } from 'express';
import { setWalMode } from '../store/sqlite-wal.ts';

/** One recorded request. */
export interface AccessRecord {
  /** Unix seconds. */
  at: number;
  tokenId: string;
  role: string;
  method: string;
  /** The path as requested, without the query (it names the zone or site). */
  path: string;
  /** The zone or site the request named, if any. */
  targetKind: 'zone' | 'site' | null;
  targetId: string | null;
  /** The period asked for (Unix seconds), if any. */
  from: number | null;
  to: number | null;
  status: number;
}

export interface AccessQuery {
  from?: number;
  to?: number;
  tokenId?: string;
  /** Most rows, newest first (default 1000, at most 10,000). */
  limit?: number;
}

export interface AccessLogOptions {
  /** Rows older than this many days are deleted by prune(). */
  retentionDays: number;
  /** Now, Unix seconds. */
  now?: () => number;
}

const MAX_LIMIT = 10_000;
const DAY = 86_400;

interface Row {
  at: number;
  token_id: string;
  role: string;
  method: string;
  path: string;
  target_kind: string | null;
  target_id: string | null;
  from_t: number | null;
  to_t: number | null;
  status: number;
}

/** The zone or site a request path names: /api/v1/zones/{id}/..., /api/v1/sites/{id}/... */
export function targetOf(requestPath: string): { kind: 'zone' | 'site'; id: string } | null {
  const match = /^\/api\/v1\/(zones|sites)\/([^/?#]+)/.exec(requestPath);
  if (match === null) return null;
  let id: string;
  try {
    id = decodeURIComponent(match[2]!);
  } catch {
    return null;
  }
  return { kind: match[1] === 'zones' ? 'zone' : 'site', id: id.slice(0, 64) };
}

function timeParam(value: unknown): number | null {
  if (typeof value !== 'string' || !/^\d{1,12}$/.test(value)) return null;
  return Number(value);
}

export class AccessLog {
  private readonly db: Database.Database;
  private readonly now: () => number;
  readonly retentionDays: number;
  private pending: AccessRecord[] = [];
  private flushScheduled = false;

  private constructor(db: Database.Database, options: AccessLogOptions) {
    this.db = db;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.retentionDays = options.retentionDays;
  }

  static open(file: string, options: AccessLogOptions): AccessLog {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file, { timeout: 5000 });
    setWalMode(db);
    db.pragma('secure_delete = ON');
    db.exec(`CREATE TABLE IF NOT EXISTS access (
               at          INTEGER NOT NULL,
               token_id    TEXT    NOT NULL,
               role        TEXT    NOT NULL,
               method      TEXT    NOT NULL,
               path        TEXT    NOT NULL,
               target_kind TEXT,
               target_id   TEXT,
               from_t      INTEGER,
               to_t        INTEGER,
               status      INTEGER NOT NULL
             );
             CREATE INDEX IF NOT EXISTS access_by_time ON access (at);
             CREATE INDEX IF NOT EXISTS access_by_token ON access (token_id, at);
             CREATE TABLE IF NOT EXISTS audit_totals (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;`);
    return new AccessLog(db, options);
  }

  /** Records a request; written in a batch right after the current tick (many requests, one transaction). */
  record(entry: AccessRecord): void {
    this.pending.push(entry);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Writes what record() has buffered. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || !this.db.open) return;
    const rows = this.pending;
    this.pending = [];
    const insert = this.db.prepare(
      `INSERT INTO access (at, token_id, role, method, path, target_kind, target_id, from_t, to_t, status)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const r of rows) insert.run(r.at, r.tokenId, r.role, r.method, r.path, r.targetKind, r.targetId, r.from, r.to, r.status);
    })();
  }

  /** Recorded requests, newest first. */
  query(q: AccessQuery = {}): AccessRecord[] {
    this.flush();
    const limit = Math.min(MAX_LIMIT, Math.max(1, q.limit ?? 1000));
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.from !== undefined) {
      where.push('at >= ?');
      args.push(q.from);
    }
    if (q.to !== undefined) {
      where.push('at < ?');
      args.push(q.to);
    }
    if (q.tokenId !== undefined) {
      where.push('token_id = ?');
      args.push(q.tokenId);
    }
    const sql = `SELECT * FROM access ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, rowid DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, limit) as Row[]).map((r) => ({
      at: r.at,
      tokenId: r.token_id,
      role: r.role,
      method: r.method,
      path: r.path,
      targetKind: r.target_kind as AccessRecord['targetKind'],
      targetId: r.target_id,
      from: r.from_t,
      to: r.to_t,
      status: r.status,
    }));
  }

  /** The last recorded use (Unix seconds) of each token that has one. */
  lastUse(): Map<string, number> {
    this.flush();
    const rows = this.db.prepare('SELECT token_id, MAX(at) AS at FROM access GROUP BY token_id').all() as { token_id: string; at: number }[];
    return new Map(rows.map((r) => [r.token_id, r.at]));
  }

  /** Deletes rows older than retentionDays; returns how many. */
  prune(): number {
    this.flush();
    const cutoff = Math.floor(this.now()) - this.retentionDays * DAY;
    return this.db.prepare('DELETE FROM access WHERE at < ?').run(cutoff).changes;
  }

  /** The audit totals saved so far (empty on a first start). */
  totals(): Record<string, number> {
    const rows = this.db.prepare('SELECT key, value FROM audit_totals').all() as { key: string; value: number }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  /** Replaces the saved audit totals. */
  saveTotals(totals: Readonly<Record<string, number>>): void {
    const upsert = this.db.prepare('INSERT INTO audit_totals (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(totals)) upsert.run(key, value);
    })();
  }

  /**
   * Express middleware that records every request made with a token when its response is finished. The principal
   * is read from `res.locals.principal` as the API's authentication set it (`{ kind: 'token', token: { id, role } }`).
   */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      res.on('finish', () => {
        const principal = res.locals.principal as { kind: string; token?: { id: string; role: string } } | undefined;
        if (principal?.kind !== 'token' || principal.token === undefined) return;
        const requestPath = `${req.baseUrl}${req.path}`.slice(0, 256);
        const target = targetOf(requestPath);
        const query = req.query as Record<string, unknown>;
        this.record({
          at: Math.floor(this.now()),
          tokenId: principal.token.id,
          role: principal.token.role,
          method: req.method,
          path: requestPath,
          targetKind: target?.kind ?? null,
          targetId: target?.id ?? null,
          from: timeParam(query.from),
          to: timeParam(query.to),
          status: res.statusCode,
        });
      });
      next();
    };
  }

  close(): void {
    if (!this.db.open) return;
    this.flush();
    this.db.close();
  }
}

/** What the audit counts, as flat totals (`stored`, `duplicate`, `rejected:<reason>`, `statusAccepted`, `statusRejected`). */
export interface AuditCounterSource {
  ingestMessages: { get(labels: { result: string; reason: string }): number };
  statusMessages: { get(labels: { result: string; reason: string }): number };
}

/** This process's audit counters as flat totals. */
export function auditCounters(metrics: AuditCounterSource, reasons: readonly string[]): Record<string, number> {
  const m = metrics.ingestMessages;
  const s = metrics.statusMessages;
  const out: Record<string, number> = {
    stored: m.get({ result: 'stored', reason: 'none' }),
    duplicate: m.get({ result: 'duplicate', reason: 'none' }),
    statusAccepted: s.get({ result: 'accepted', reason: 'none' }) + s.get({ result: 'accepted', reason: 'cleared' }),
    statusRejected: reasons.reduce((sum, reason) => sum + s.get({ result: 'rejected', reason }), 0),
  };
  for (const reason of reasons) out[`rejected:${reason}`] = m.get({ result: 'rejected', reason });
  return out;
}

/** The sum of two sets of totals, key by key (`since` is not a count: the earlier one is kept). */
export function addTotals(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    out[key] = key === 'since' ? Math.min(out[key] ?? value, value) : (out[key] ?? 0) + value;
  }
  return out;
}
