import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type Database from 'better-sqlite3';
import { StoreError } from '../errors.ts';

const WAL_ATTEMPTS = 100;
const WAL_RETRY_MS = 50;

/**
 * Puts a database into WAL mode. Switching the journal mode needs a moment of exclusive access, and SQLite does
 * not wait for it through busy_timeout: when several aggregators open a new file at once, the switch answers
 * SQLITE_BUSY. It is retried (for up to 5 s); once one process has switched, the mode is stored in the file and
 * the others find it already set.
 */
export function setWalMode(db: Database.Database): void {
  for (let attempt = 1; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= WAL_ATTEMPTS) throw err;
      // A synchronous pause: opening a store is synchronous, and this happens only at start-up.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, WAL_RETRY_MS);
    }
  }
}

/**
 * Opens a small SQLite file of the aggregator's own (tokens, calibrations): created readable by the owner only, WAL,
 * a busy timeout, and its schema brought up to date under a write lock (two aggregators may open a new file at once).
 * `what` names it in errors ("the token database"). Errors are StoreErrors that say which file and why.
 */
export function openMigratedDatabase(file: string, migrations: readonly string[], what: string): Database.Database {
  let db: Database.Database;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600));
    db = new BetterSqlite3(file);
  } catch (err) {
    throw new StoreError(`cannot open ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    // busy_timeout first, and the version read under a write lock.
    db.pragma('busy_timeout = 5000');
    setWalMode(db);
    db.transaction(() => {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > migrations.length) throw new Error(`schema version ${version} is newer than this program knows (${migrations.length})`);
      for (let v = version; v < migrations.length; v++) db.exec(migrations[v]!);
      db.pragma(`user_version = ${migrations.length}`);
    }).immediate();
  } catch (err) {
    db.close();
    throw new StoreError(`cannot use ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
  return db;
}

/**
 * A small database of the aggregator's own (tokens, invitations, events, calibrations; see openMigratedDatabase):
 * its file, its connection, and a close that runs once. Each store adds its statements and methods.
 */
export abstract class OwnDatabase {
  readonly file: string;
  protected readonly db: Database.Database;
  private closed = false;

  protected constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
