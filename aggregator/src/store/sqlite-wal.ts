import type Database from 'better-sqlite3';

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
