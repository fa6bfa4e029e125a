/**
 * The embedded store: exact per-sensor counts per window in one SQLite file (better-sqlite3, WAL).
 * Writes are idempotent on (sensor_id, window_start): the first write wins. Only the release layer reads it
 * for output.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CountsMessage, Radio } from '@passant/shared';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.ts';
import type { CountsStore, PutResult, WindowSum } from './types.ts';

/** Schema migrations; migration i brings user_version from i to i + 1. Append only, never edit a shipped one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE counts (
     sensor_id        TEXT    NOT NULL,
     window_start     INTEGER NOT NULL,
     window_seconds   INTEGER NOT NULL,
     seq              INTEGER NOT NULL,
     wifi_devices     INTEGER NOT NULL,
     wifi_randomized  INTEGER NOT NULL,
     wifi_frames      INTEGER NOT NULL,
     wifi_rssi        TEXT    NOT NULL,
     ble_devices      INTEGER NOT NULL,
     ble_randomized   INTEGER NOT NULL,
     ble_frames       INTEGER NOT NULL,
     ble_rssi         TEXT    NOT NULL,
     rssi_floor       INTEGER,
     received_at      INTEGER NOT NULL,
     PRIMARY KEY (sensor_id, window_start)
   ) WITHOUT ROWID`,
];

export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

/** Column holding `devices` per radio; the only strings ever put into SQL text, chosen from this map. */
const DEVICES_COLUMN: Record<Radio, string> = { wifi: 'wifi_devices', ble: 'ble_devices' };

interface SumRow {
  window_start: number;
  devices: number;
  sensors: number;
}

export class SqliteStore implements CountsStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly insertMany: (messages: CountsMessage[], receivedAt: number) => PutResult[];
  private readonly sums: Record<Radio, Database.Statement<[string, number, number], SumRow>>;
  private closed = false;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
    this.insert = db.prepare(
      `INSERT INTO counts (sensor_id, window_start, window_seconds, seq,
         wifi_devices, wifi_randomized, wifi_frames, wifi_rssi,
         ble_devices, ble_randomized, ble_frames, ble_rssi, rssi_floor, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (sensor_id, window_start) DO NOTHING`,
    );
    this.insertMany = db.transaction((messages: CountsMessage[], receivedAt: number): PutResult[] =>
      messages.map((m) => {
        const info = this.insert.run(
          m.sensorId,
          m.windowStart,
          m.windowSeconds,
          m.seq,
          m.wifi.devices,
          m.wifi.randomized,
          m.wifi.frames,
          JSON.stringify(m.wifi.rssiHistogram),
          m.ble.devices,
          m.ble.randomized,
          m.ble.frames,
          JSON.stringify(m.ble.rssiHistogram),
          m.rssiFloor,
          receivedAt,
        );
        return info.changes === 0 ? 'duplicate' : 'stored';
      }),
    );
    // One statement whatever the number of sensors: the ids travel as one JSON array. The primary key
    // (sensor_id, window_start) serves the lookup: one range scan per sensor.
    const sumSql = (column: string) =>
      `SELECT window_start, SUM(${column}) AS devices, COUNT(*) AS sensors
         FROM counts
        WHERE sensor_id IN (SELECT value FROM json_each(?))
          AND window_start >= ? AND window_start < ?
        GROUP BY window_start
        ORDER BY window_start`;
    this.sums = {
      wifi: db.prepare<[string, number, number], SumRow>(sumSql(DEVICES_COLUMN.wifi)),
      ble: db.prepare<[string, number, number], SumRow>(sumSql(DEVICES_COLUMN.ble)),
    };
  }

  /** Opens (creating the folder and file when needed) and migrates the store at `file`. */
  static open(file: string): SqliteStore {
    const resolved = path.resolve(file);
    let db: Database.Database;
    try {
      fs.mkdirSync(path.dirname(resolved), { recursive: true });
      db = new Database(resolved);
    } catch (err) {
      throw new StoreError(`cannot open the SQLite store ${resolved}: ${(err as Error).message}`, { cause: err });
    }
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a commit survives a crash of this process (the case the MQTT ack waits for); a power
      // cut may lose the last commits, which FULL would keep at the price of an fsync per transaction.
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      migrate(db);
      return new SqliteStore(resolved, db);
    } catch (err) {
      db.close();
      if (err instanceof StoreError) throw err;
      throw new StoreError(`cannot prepare the SQLite store ${resolved}: ${(err as Error).message}`, { cause: err });
    }
  }

  async put(messages: CountsMessage[], receivedAt: number): Promise<PutResult[]> {
    this.assertOpen();
    if (messages.length === 0) return [];
    try {
      return this.insertMany(messages, receivedAt);
    } catch (err) {
      throw new StoreError(`SQLite write of ${messages.length} window(s) failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async sumByWindow(sensorIds: string[], radio: Radio, from: number, to: number): Promise<WindowSum[]> {
    this.assertOpen();
    const statement = this.sums[radio];
    if (statement === undefined) throw new StoreError(`unknown radio ${JSON.stringify(radio)}`);
    if (sensorIds.length === 0 || to <= from) return [];
    try {
      return statement
        .all(JSON.stringify(sensorIds), from, to)
        .map((r) => ({ windowStart: r.window_start, devices: r.devices, sensorCount: r.sensors }));
    } catch (err) {
      throw new StoreError(`SQLite read failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      return this.db.prepare('SELECT 1 AS one').get() !== undefined;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /** The schema version (PRAGMA user_version). */
  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('the SQLite store is closed');
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new StoreError(
      `the SQLite store has schema version ${current}, newer than this aggregator knows (${MIGRATIONS.length}): upgrade the aggregator`,
    );
  }
  const apply = db.transaction(() => {
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  });
  apply();
}
