/**
 * The embedded store: exact per-sensor counts per window in one SQLite file (better-sqlite3, WAL).
 * Writes are idempotent on (sensor_id, window_start): the first write wins. Only the release layer reads it
 * for output. Beside the raw windows (table `counts`) it holds the release layer's data (types.ts): the unsettled
 * queue, frozen cells, hour and day rollups (updated in the transaction that freezes the cells, so they never
 * disagree), a per-sensor activity tally (updated in the transaction that stores the windows) and a few meta
 * values.
 *
 * Size: over 400 lines because it implements the one Store interface (types.ts) whole, each method a short
 * transaction; splitting it would spread one schema's SQL over files that must change together.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CountsMessage } from '@passant/shared';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.ts';
import { setWalMode } from './sqlite-wal.ts';
import { ROLLUP_STEPS, rollupStart } from './types.ts';
import type {
  CellsReadOptions,
  DeleteResult,
  FrozenCell,
  PutResult,
  ReleaseStore,
  Rollup,
  RollupStep,
  SensorLastWindow,
  SensorStats,
  SensorWindow,
  WindowKey,
} from './types.ts';

/** Schema migrations; migration i brings user_version from i to i + 1. Append only, never edit a shipped one. */
export const MIGRATIONS: readonly string[] = [
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
  // 2: the release layer's data (issue 4): the unsettled queue, frozen cells, rollups, sensor activity, meta.
  `CREATE TABLE unsettled (
     window_start INTEGER NOT NULL,
     sensor_id    TEXT    NOT NULL,
     PRIMARY KEY (window_start, sensor_id)
   ) WITHOUT ROWID;
   CREATE TABLE cells (
     zone_id        TEXT    NOT NULL,
     window_start   INTEGER NOT NULL,
     sensors        TEXT    NOT NULL,
     wifi_devices   INTEGER NOT NULL,
     wifi_released  INTEGER NOT NULL,
     wifi_noise     INTEGER,
     ble_devices    INTEGER NOT NULL,
     ble_released   INTEGER NOT NULL,
     ble_noise      INTEGER,
     PRIMARY KEY (zone_id, window_start)
   ) WITHOUT ROWID;
   CREATE INDEX cells_by_window ON cells (window_start);
   CREATE TABLE rollups (
     zone_id          TEXT    NOT NULL,
     step             INTEGER NOT NULL,
     t                INTEGER NOT NULL,
     wifi_sum         INTEGER NOT NULL,
     wifi_released    INTEGER NOT NULL,
     wifi_suppressed  INTEGER NOT NULL,
     wifi_noise       INTEGER NOT NULL,
     wifi_noised      INTEGER NOT NULL,
     ble_sum          INTEGER NOT NULL,
     ble_released     INTEGER NOT NULL,
     ble_suppressed   INTEGER NOT NULL,
     ble_noise        INTEGER NOT NULL,
     ble_noised       INTEGER NOT NULL,
     closed           INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (zone_id, step, t)
   ) WITHOUT ROWID;
   CREATE TABLE sensors (
     sensor_id         TEXT    NOT NULL PRIMARY KEY,
     first_window      INTEGER NOT NULL,
     last_window       INTEGER NOT NULL,
     last_received_at  INTEGER NOT NULL,
     messages          INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE meta (
     key    TEXT NOT NULL PRIMARY KEY,
     value  TEXT NOT NULL
   ) WITHOUT ROWID;
   INSERT INTO unsettled (window_start, sensor_id) SELECT window_start, sensor_id FROM counts;
   INSERT INTO sensors (sensor_id, first_window, last_window, last_received_at, messages)
     SELECT sensor_id, MIN(window_start), MAX(window_start), MAX(received_at), COUNT(*) FROM counts GROUP BY sensor_id;`,
  // 3: counts keyed by (window_start, sensor_id). Sensors send window by window, so a batch of one minute's messages
  // from every sensor now lands at the end of the tree (a few pages per commit) instead of on one leaf page per
  // sensor; retention deletes a key prefix.
  `CREATE TABLE counts_by_window (
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
     PRIMARY KEY (window_start, sensor_id)
   ) WITHOUT ROWID;
   INSERT INTO counts_by_window SELECT * FROM counts ORDER BY window_start, sensor_id;
   DROP TABLE counts;
   ALTER TABLE counts_by_window RENAME TO counts;`,
  // 4: data minimisation. The RSSI histograms go (a signal trace of one device in a quiet minute): the aggregator
  // needs none of it. The sensors tally gains the seq of each sensor's latest window, which the ingest's seq rule
  // needs after the window itself is gone. With secure_delete on, the dropped table's pages are overwritten: the
  // histograms are gone from the file's bytes, not only from its tables (see migrate() for the WAL).
  `CREATE TABLE counts_v4 (
     sensor_id        TEXT    NOT NULL,
     window_start     INTEGER NOT NULL,
     window_seconds   INTEGER NOT NULL,
     seq              INTEGER NOT NULL,
     wifi_devices     INTEGER NOT NULL,
     wifi_randomized  INTEGER NOT NULL,
     wifi_frames      INTEGER NOT NULL,
     ble_devices      INTEGER NOT NULL,
     ble_randomized   INTEGER NOT NULL,
     ble_frames       INTEGER NOT NULL,
     rssi_floor       INTEGER,
     received_at      INTEGER NOT NULL,
     PRIMARY KEY (window_start, sensor_id)
   ) WITHOUT ROWID;
   INSERT INTO counts_v4
     SELECT sensor_id, window_start, window_seconds, seq, wifi_devices, wifi_randomized, wifi_frames,
            ble_devices, ble_randomized, ble_frames, rssi_floor, received_at
       FROM counts ORDER BY window_start, sensor_id;
   DROP TABLE counts;
   ALTER TABLE counts_v4 RENAME TO counts;
   ALTER TABLE sensors ADD COLUMN last_seq INTEGER;
   UPDATE sensors SET last_seq =
     (SELECT seq FROM counts WHERE counts.window_start = sensors.last_window AND counts.sensor_id = sensors.sensor_id);`,
];

/** The meta row the write probe of writeStatus() rewrites. */
const WRITE_PROBE_KEY = 'write-probe';

/** The first schema version without RSSI histograms. */
const NO_HISTOGRAM_VERSION = 4;

export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

/** Pages in the WAL before SQLite checkpoints on its own (its default is 1000); see `checkpoint()`. */
const WAL_AUTOCHECKPOINT_PAGES = 20_000;

interface CellRow {
  zone_id: string;
  window_start: number;
  sensors: string;
  wifi_devices: number;
  wifi_released: number;
  wifi_noise: number | null;
  ble_devices: number;
  ble_released: number;
  ble_noise: number | null;
}


function cellOf(r: CellRow): FrozenCell {
  return {
    zoneId: r.zone_id,
    windowStart: r.window_start,
    sensors: JSON.parse(r.sensors) as string[],
    wifi: { devices: r.wifi_devices, released: r.wifi_released === 1, noise: r.wifi_noise },
    ble: { devices: r.ble_devices, released: r.ble_released === 1, noise: r.ble_noise },
  };
}

/** A rollup from a row read as an array, in the column order of the rollups statement. */
function rollupOf(r: unknown[]): Rollup {
  const n = r as number[];
  return {
    zoneId: r[0] as string,
    step: n[1] as RollupStep,
    t: n[2]!,
    wifi: { sum: n[3]!, released: n[4]!, suppressed: n[5]!, noise: n[6]!, noised: n[7]! },
    ble: { sum: n[8]!, released: n[9]!, suppressed: n[10]!, noise: n[11]!, noised: n[12]! },
  };
}

/** The rollup increments of one radio of a cell: [sum, released, suppressed, noise, noised]. */
function increments(radio: FrozenCell['wifi']): [number, number, number, number, number] {
  if (!radio.released) return [0, 0, 1, 0, 0];
  return [radio.devices, 1, 0, radio.noise ?? 0, radio.noise === null ? 0 : 1];
}

export class SqliteStore implements ReleaseStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly insertMany: (messages: CountsMessage[], receivedAt: number) => PutResult[];
  private readonly freezeMany: (cells: FrozenCell[]) => boolean[];
  private readonly statements: {
    windows: Database.Statement<
      [string, number, number],
      {
        sensor_id: string;
        window_start: number;
        wifi_devices: number;
        ble_devices: number;
        wifi_randomized: number;
        ble_randomized: number;
        received_at: number;
      }
    >;
    windowKeys: Database.Statement<[string, number, number], { sensor_id: string; window_start: number }>;
    unsettled: Database.Statement<[number], { sensor_id: string; window_start: number }>;
    clearUnsettled: Database.Statement<[number, string]>;
    requeue: Database.Statement<[string, number, number]>;
    cellsOf: Database.Statement<[string, number, number], CellRow>;
    valuesOf: Database.Statement<[string, number, number], unknown[]>;
    cellsAll: Database.Statement<[number, number], CellRow>;
    rollups: Database.Statement<[string, number, number, number], unknown[]>;
    sensorStats: Database.Statement<[], { sensor_id: string; first_window: number; last_window: number; last_received_at: number; messages: number }>;
    getMeta: Database.Statement<[string], { value: string }>;
    closedHours: Database.Statement<[string, number, number], { t: number }>;
    setMeta: Database.Statement<[string, string]>;
    lastWindows: Database.Statement<[], { sensor_id: string; last_window: number; last_seq: number }>;
    deleteSettled: Database.Statement<[number]>;
  };
  private readonly deleteBefore: (t: number) => DeleteResult;
  private readonly clearMany: (keys: WindowKey[]) => void;
  private closed = false;
  /** Why the last failed write failed, until a write of counts succeeds (see writeStatus). */
  private lastWriteFailure: string | undefined;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
    const insert = db.prepare(
      `INSERT INTO counts (sensor_id, window_start, window_seconds, seq,
         wifi_devices, wifi_randomized, wifi_frames,
         ble_devices, ble_randomized, ble_frames, rssi_floor, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (sensor_id, window_start) DO NOTHING`,
    );
    const queue = db.prepare('INSERT INTO unsettled (window_start, sensor_id) VALUES (?, ?) ON CONFLICT DO NOTHING');
    const tally = db.prepare(
      `INSERT INTO sensors (sensor_id, first_window, last_window, last_received_at, messages, last_seq) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (sensor_id) DO UPDATE SET
         last_seq = CASE WHEN excluded.last_window > last_window OR last_seq IS NULL THEN excluded.last_seq ELSE last_seq END,
         first_window = MIN(first_window, excluded.first_window),
         last_window = MAX(last_window, excluded.last_window),
         last_received_at = MAX(last_received_at, excluded.last_received_at),
         messages = messages + excluded.messages`,
    );
    this.insertMany = db.transaction((messages: CountsMessage[], receivedAt: number): PutResult[] => {
      const perSensor = new Map<string, { first: number; last: number; lastSeq: number; n: number }>();
      const results = messages.map((m): PutResult => {
        const info = insert.run(
          m.sensorId,
          m.windowStart,
          m.windowSeconds,
          m.seq,
          m.wifi.devices,
          m.wifi.randomized,
          m.wifi.frames,
          m.ble.devices,
          m.ble.randomized,
          m.ble.frames,
          m.rssiFloor,
          receivedAt,
        );
        if (info.changes === 0) return 'duplicate';
        queue.run(m.windowStart, m.sensorId);
        const t = perSensor.get(m.sensorId);
        if (t === undefined) perSensor.set(m.sensorId, { first: m.windowStart, last: m.windowStart, lastSeq: m.seq, n: 1 });
        else {
          t.first = Math.min(t.first, m.windowStart);
          if (m.windowStart > t.last) {
            t.last = m.windowStart;
            t.lastSeq = m.seq;
          }
          t.n += 1;
        }
        return 'stored';
      });
      for (const [sensorId, t] of perSensor) tally.run(sensorId, t.first, t.last, receivedAt, t.n, t.lastSeq);
      return results;
    });

    const insertCell = db.prepare(
      `INSERT INTO cells (zone_id, window_start, sensors, wifi_devices, wifi_released, wifi_noise, ble_devices, ble_released, ble_noise)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (zone_id, window_start) DO NOTHING`,
    );
    const addRollup = db.prepare(
      `INSERT INTO rollups (zone_id, step, t,
         wifi_sum, wifi_released, wifi_suppressed, wifi_noise, wifi_noised,
         ble_sum, ble_released, ble_suppressed, ble_noise, ble_noised)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (zone_id, step, t) DO UPDATE SET
         wifi_sum = wifi_sum + excluded.wifi_sum, wifi_released = wifi_released + excluded.wifi_released,
         wifi_suppressed = wifi_suppressed + excluded.wifi_suppressed, wifi_noise = wifi_noise + excluded.wifi_noise,
         wifi_noised = wifi_noised + excluded.wifi_noised,
         ble_sum = ble_sum + excluded.ble_sum, ble_released = ble_released + excluded.ble_released,
         ble_suppressed = ble_suppressed + excluded.ble_suppressed, ble_noise = ble_noise + excluded.ble_noise,
         ble_noised = ble_noised + excluded.ble_noised`,
    );
    this.freezeMany = db.transaction((cells: FrozenCell[]): boolean[] => {
      // Increments are gathered per (zone, step, t), so a batch of a day's cells is a few upserts, not thousands.
      const pending = new Map<string, { zoneId: string; step: RollupStep; t: number; v: number[] }>();
      const results = cells.map((c) => {
        const info = insertCell.run(
          c.zoneId,
          c.windowStart,
          JSON.stringify(c.sensors),
          c.wifi.devices,
          c.wifi.released ? 1 : 0,
          c.wifi.noise,
          c.ble.devices,
          c.ble.released ? 1 : 0,
          c.ble.noise,
        );
        if (info.changes === 0) return false;
        const inc = [...increments(c.wifi), ...increments(c.ble)];
        for (const step of ROLLUP_STEPS) {
          const t = rollupStart(c.windowStart, step);
          const key = `${c.zoneId}\u0000${step}\u0000${t}`;
          const row = pending.get(key);
          if (row === undefined) pending.set(key, { zoneId: c.zoneId, step, t, v: inc });
          else row.v = row.v.map((x, i) => x + inc[i]!);
        }
        return true;
      });
      for (const r of pending.values()) addRollup.run(r.zoneId, r.step, r.t, ...r.v);
      return results;
    });

    const cellColumns = 'zone_id, window_start, sensors, wifi_devices, wifi_released, wifi_noise, ble_devices, ble_released, ble_noise';
    this.statements = {
      windows: db.prepare(
        `SELECT sensor_id, window_start, wifi_devices, ble_devices, wifi_randomized, ble_randomized, received_at FROM counts
          WHERE sensor_id IN (SELECT value FROM json_each(?)) AND window_start >= ? AND window_start < ?
          ORDER BY window_start, sensor_id`,
      ),
      // One statement whatever the number of sensors: the ids travel as one JSON array. The primary key
      // (window_start, sensor_id) serves the window range; the ids are a filter on it.
      windowKeys: db.prepare(
        `SELECT sensor_id, window_start FROM counts
          WHERE sensor_id IN (SELECT value FROM json_each(?)) AND window_start >= ? AND window_start < ?
          ORDER BY window_start, sensor_id`,
      ),
      unsettled: db.prepare('SELECT sensor_id, window_start FROM unsettled ORDER BY window_start, sensor_id LIMIT ?'),
      clearUnsettled: db.prepare('DELETE FROM unsettled WHERE window_start = ? AND sensor_id = ?'),
      requeue: db.prepare(
        `INSERT INTO unsettled (window_start, sensor_id)
           SELECT window_start, sensor_id FROM counts
            WHERE sensor_id IN (SELECT value FROM json_each(?)) AND window_start >= ? AND window_start < ?
         ON CONFLICT DO NOTHING`,
      ),
      cellsOf: db.prepare(
        `SELECT ${cellColumns} FROM cells
          WHERE zone_id IN (SELECT value FROM json_each(?)) AND window_start >= ? AND window_start < ?
          ORDER BY window_start, zone_id`,
      ),
      cellsAll: db.prepare(`SELECT ${cellColumns} FROM cells WHERE window_start >= ? AND window_start < ? ORDER BY window_start, zone_id`),
      // Series read values only: no sensor lists, rows as arrays.
      valuesOf: db
        .prepare<[string, number, number], unknown[]>(
          `SELECT zone_id, window_start, wifi_devices, wifi_released, wifi_noise, ble_devices, ble_released, ble_noise FROM cells
            WHERE zone_id IN (SELECT value FROM json_each(?)) AND window_start >= ? AND window_start < ?
            ORDER BY window_start, zone_id`,
        )
        .raw(true),
      // Rows as arrays: a year of hours reads several times faster than as objects.
      rollups: db
        .prepare<[string, number, number, number], unknown[]>(
          `SELECT zone_id, step, t, wifi_sum, wifi_released, wifi_suppressed, wifi_noise, wifi_noised,
                  ble_sum, ble_released, ble_suppressed, ble_noise, ble_noised
             FROM rollups WHERE zone_id = ? AND step = ? AND t >= ? AND t < ? ORDER BY t`,
        )
        .raw(true),
      sensorStats: db.prepare('SELECT sensor_id, first_window, last_window, last_received_at, messages FROM sensors ORDER BY sensor_id'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      closedHours: db.prepare('SELECT t FROM rollups WHERE zone_id = ? AND step = 3600 AND closed = 1 AND t >= ? AND t < ? ORDER BY t'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      lastWindows: db.prepare('SELECT sensor_id, last_window, last_seq FROM sensors WHERE last_seq IS NOT NULL'),
      // Settled rows only: a row still in the unsettled queue has no frozen cell yet.
      deleteSettled: db.prepare(
        `DELETE FROM counts WHERE window_start < ?
           AND NOT EXISTS (SELECT 1 FROM unsettled u WHERE u.window_start = counts.window_start AND u.sensor_id = counts.sensor_id)`,
      ),
    };
    const clear = this.statements.clearUnsettled;
    this.clearMany = db.transaction((keys: WindowKey[]) => {
      for (const k of keys) clear.run(k.windowStart, k.sensorId);
    });
    const delCounts = db.prepare('DELETE FROM counts WHERE window_start < ?');
    const delUnsettled = db.prepare('DELETE FROM unsettled WHERE window_start < ?');
    const delCells = db.prepare('DELETE FROM cells WHERE window_start < ?');
    const close = db.prepare('UPDATE rollups SET closed = 1 WHERE step = 3600 AND t < ? AND closed = 0');
    this.deleteBefore = db.transaction((t: number): DeleteResult => {
      delUnsettled.run(t);
      close.run(t);
      return { windows: delCounts.run(t).changes, cells: delCells.run(t).changes };
    });
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
      // busy_timeout first: several aggregators may open one file at the same moment.
      db.pragma('busy_timeout = 5000');
      setWalMode(db);
      // NORMAL in WAL mode: a commit survives a crash of this process (the case the MQTT ack waits for); a power
      // cut may lose the last commits, which FULL would keep at the price of an fsync per transaction.
      db.pragma('synchronous = NORMAL');
      // Checkpoints off the write path: SQLite's automatic one (every 1000 pages) ran inside the ingest's
      // transactions and took about half of their time; `checkpoint()` runs a passive one on a timer instead.
      // The automatic one stays as a backstop against a WAL growing without bound.
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      db.pragma('foreign_keys = ON');
      // Deleted rows are overwritten with zeros, not only unlinked: counts that retention deletes are gone from the
      // file's bytes (and, once the WAL is checkpointed and reused, from the WAL's).
      db.pragma('secure_delete = ON');
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
      const results = this.insertMany(messages, receivedAt);
      this.lastWriteFailure = undefined;
      return results;
    } catch (err) {
      this.lastWriteFailure = `writing counts failed: ${(err as Error).message}`;
      throw new StoreError(`SQLite write of ${messages.length} window(s) failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Null when the store can write, else why not: the last write that failed, until a later write of counts
   * succeeds (the ingest's writes are the ones that must not fail), and a probe that writes a meta row now (so a
   * store that cannot write is seen also while no counts arrive). SQLite's own words only: no value, no path.
   */
  async writeStatus(): Promise<string | null> {
    if (this.closed) return 'the store is closed';
    try {
      this.statements.setMeta.run(WRITE_PROBE_KEY, String(Date.now()));
    } catch (err) {
      return `the write probe failed: ${(err as Error).message}`;
    }
    return this.lastWriteFailure ?? null;
  }

  async sensorWindows(sensorIds: string[], from: number, to: number): Promise<SensorWindow[]> {
    this.assertOpen();
    if (sensorIds.length === 0 || to <= from) return [];
    return this.read(() =>
      this.statements.windows
        .all(JSON.stringify([...new Set(sensorIds)]), from, to)
        .map((r) => ({
          sensorId: r.sensor_id,
          windowStart: r.window_start,
          wifi: r.wifi_devices,
          ble: r.ble_devices,
          wifiRandomized: r.wifi_randomized,
          bleRandomized: r.ble_randomized,
          receivedAt: r.received_at,
        })),
    );
  }
  async windowKeys(sensorIds: string[], from: number, to: number): Promise<WindowKey[]> {
    this.assertOpen();
    if (sensorIds.length === 0 || to <= from) return [];
    return this.read(() =>
      this.statements.windowKeys.all(JSON.stringify([...new Set(sensorIds)]), from, to).map((r) => ({ sensorId: r.sensor_id, windowStart: r.window_start })),
    );
  }


  async unsettled(limit: number): Promise<WindowKey[]> {
    this.assertOpen();
    if (!(limit >= 1)) return [];
    return this.read(() =>
      this.statements.unsettled.all(Math.floor(limit)).map((r) => ({ sensorId: r.sensor_id, windowStart: r.window_start })),
    );
  }

  async clearUnsettled(keys: WindowKey[]): Promise<void> {
    this.assertOpen();
    if (keys.length === 0) return;
    this.write(`clearing ${keys.length} unsettled key(s)`, () => this.clearMany(keys));
  }

  async requeue(sensorIds: string[], from: number, to: number): Promise<number> {
    this.assertOpen();
    if (sensorIds.length === 0 || to <= from) return 0;
    return this.write('requeue', () => this.statements.requeue.run(JSON.stringify(sensorIds), from, to).changes);
  }

  async freeze(cells: FrozenCell[]): Promise<boolean[]> {
    this.assertOpen();
    if (cells.length === 0) return [];
    return this.write(`freezing ${cells.length} cell(s)`, () => this.freezeMany(cells));
  }

  async cells(zoneIds: string[] | null, from: number, to: number, options: CellsReadOptions = {}): Promise<FrozenCell[]> {
    this.assertOpen();
    if (to <= from || (zoneIds !== null && zoneIds.length === 0)) return [];
    if (options.sensors === false && zoneIds !== null) {
      return this.read(() =>
        this.statements.valuesOf.all(JSON.stringify(zoneIds), from, to).map((r) => ({
          zoneId: r[0] as string,
          windowStart: r[1] as number,
          sensors: [],
          wifi: { devices: r[2] as number, released: r[3] === 1, noise: r[4] as number | null },
          ble: { devices: r[5] as number, released: r[6] === 1, noise: r[7] as number | null },
        })),
      );
    }
    return this.read(() =>
      (zoneIds === null ? this.statements.cellsAll.all(from, to) : this.statements.cellsOf.all(JSON.stringify(zoneIds), from, to)).map(cellOf),
    );
  }

  async rollups(zoneId: string, step: RollupStep, from: number, to: number): Promise<Rollup[]> {
    this.assertOpen();
    if (!(ROLLUP_STEPS as readonly number[]).includes(step)) throw new StoreError(`rollup step must be one of ${ROLLUP_STEPS.join(', ')}, got ${String(step)}`);
    if (to <= from) return [];
    return this.read(() => this.statements.rollups.all(zoneId, step, from, to).map(rollupOf));
  }

  async deleteMinutesBefore(t: number): Promise<DeleteResult> {
    this.assertOpen();
    return this.write('retention delete', () => this.deleteBefore(t));
  }

  async closedHours(zoneId: string, from: number, to: number): Promise<number[]> {
    this.assertOpen();
    if (to <= from) return [];
    return this.read(() => this.statements.closedHours.all(zoneId, from, to).map((r) => r.t));
  }

  async sensorStats(): Promise<SensorStats[]> {
    this.assertOpen();
    return this.read(() =>
      this.statements.sensorStats.all().map((r) => ({
        sensorId: r.sensor_id,
        firstWindowStart: r.first_window,
        lastWindowStart: r.last_window,
        lastReceivedAt: r.last_received_at,
        messages: r.messages,
      })),
    );
  }

  async getMeta(key: string): Promise<string | undefined> {
    this.assertOpen();
    return this.read(() => this.statements.getMeta.get(key)?.value);
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.assertOpen();
    this.write('meta write', () => this.statements.setMeta.run(key, value));
  }

  async lastWindows(): Promise<SensorLastWindow[]> {
    this.assertOpen();
    return this.read(() =>
      this.statements.lastWindows.all().map((r) => ({ sensorId: r.sensor_id, windowStart: r.last_window, seq: r.last_seq })),
    );
  }

  async deleteSensorWindowsBefore(t: number): Promise<number> {
    this.assertOpen();
    return this.write('per-sensor retention delete', () => this.statements.deleteSettled.run(t).changes);
  }

  /**
   * Writes rollup rows as they are, replacing rows with the same key. Not part of CountsStore: for importing
   * history (and the query benchmark, which builds a year of rollups without a year of minute data).
   */
  importRollups(rows: Rollup[]): void {
    this.assertOpen();
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO rollups (zone_id, step, t,
         wifi_sum, wifi_released, wifi_suppressed, wifi_noise, wifi_noised,
         ble_sum, ble_released, ble_suppressed, ble_noise, ble_noised)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const r of rows) {
        insert.run(
          r.zoneId, r.step, r.t,
          r.wifi.sum, r.wifi.released, r.wifi.suppressed, r.wifi.noise, r.wifi.noised,
          r.ble.sum, r.ble.released, r.ble.suppressed, r.ble.noise, r.ble.noised,
        );
      }
    })();
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      return this.db.prepare('SELECT 1 AS one').get() !== undefined;
    } catch {
      return false;
    }
  }

  /**
   * A passive WAL checkpoint: copies committed pages into the database file without waiting for readers or
   * writers. The aggregator calls it on a timer, outside the ingest's transactions.
   */
  checkpoint(): void {
    if (this.closed) return;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // busy: the next one will do it
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

  private read<T>(run: () => T): T {
    try {
      return run();
    } catch (err) {
      throw new StoreError(`SQLite read failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private write<T>(what: string, run: () => T): T {
    try {
      return run();
    } catch (err) {
      this.lastWriteFailure = `${what} failed: ${(err as Error).message}`;
      throw new StoreError(`SQLite ${what} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('the SQLite store is closed');
  }
}

function migrate(db: Database.Database): void {
  const before = db.pragma('user_version', { simple: true }) as number;
  migrateInTransaction(db);
  if (before > 0 && before < NO_HISTOGRAM_VERSION) {
    // secure_delete (on before the migration) has overwritten the dropped histograms' pages with zeros; the WAL,
    // which may still hold older copies of them from before this start, is checkpointed and truncated.
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
}

function migrateInTransaction(db: Database.Database): void {
  // The version is read inside an IMMEDIATE transaction (a write lock), so two aggregators opening a new file at
  // the same moment cannot both see version 0 and both create the tables.
  const apply = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new StoreError(
        `the SQLite store has schema version ${current}, newer than this aggregator knows (${MIGRATIONS.length}): upgrade the aggregator`,
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  });
  apply.immediate();
}
