/**
 * Reading an aggregator's SQLite store file from a test, beside the aggregators that keep it open and write to it:
 * a separate read-only connection per read, waiting up to 2 s for a lock.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';

/** A row of the `counts` table: one sensor's window and its Wi-Fi devices. */
export interface CountsRow {
  sensor_id: string;
  window_start: number;
  wifi_devices: number;
}

/** Runs `read` on a read-only connection to the store file, closed afterwards. */
export function readStoreFile<T>(dbFile: string, read: (db: Database.Database) => T): T {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    return read(db);
  } finally {
    db.close();
  }
}

/** Every row of `counts`; none while the file does not exist yet. */
export function readCountsRows(dbFile: string): CountsRow[] {
  if (!fs.existsSync(dbFile)) return [];
  return readStoreFile(dbFile, (db) => db.prepare('SELECT sensor_id, window_start, wifi_devices FROM counts').all() as CountsRow[]);
}
