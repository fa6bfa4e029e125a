/** What the SQLite store does beyond the shared contract (sqlite-store.contract.test.ts): file, WAL, migrations, columns. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION, SqliteStore, StoreError } from '../../src/index.ts';
import { MIGRATIONS } from '../../src/store/sqlite-store.ts';
import { countsMessage } from '../helpers/messages.ts';
import { sumByWindow } from './sums.ts';

const T = 1_700_000_040;
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-sqlite-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore', () => {
  it('creates its folder and file, in WAL mode, at the current schema version', async () => {
    const file = path.join(dir, 'nested', 'deeper', 'passant.db');
    const store = SqliteStore.open(file);
    try {
      expect(fs.existsSync(file)).toBe(true);
      expect(store.schemaVersion()).toBe(SQLITE_SCHEMA_VERSION);
      expect(SQLITE_SCHEMA_VERSION).toBeGreaterThanOrEqual(1);
      const raw = new Database(file, { readonly: true });
      try {
        expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(raw.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      } finally {
        raw.close();
      }
    } finally {
      await store.close();
    }
  });

  it('keeps every field of a window but the RSSI histograms, with received_at', async () => {
    const file = path.join(dir, 'passant.db');
    const store = SqliteStore.open(file);
    const message = countsMessage('s1', T, 6, 2);
    await store.put([message], T + 61);
    await store.close();
    const raw = new Database(file, { readonly: true });
    try {
      const row = raw.prepare('SELECT * FROM counts').get() as Record<string, unknown>;
      expect(row).toEqual({
        sensor_id: 's1',
        window_start: T,
        window_seconds: 60,
        seq: message.seq,
        wifi_devices: 6,
        wifi_randomized: 3,
        wifi_frames: 18,
        ble_devices: 2,
        ble_randomized: 1,
        ble_frames: 6,
        rssi_floor: -90,
        received_at: T + 61,
      });
    } finally {
      raw.close();
    }
  });

  it('reports how many of the asked sensors have a row per window', async () => {
    const store = SqliteStore.open(path.join(dir, 'passant.db'));
    try {
      await store.put([countsMessage('a', T, 1), countsMessage('b', T, 2), countsMessage('c', T, 4), countsMessage('a', T + 60, 3)], T + 120);
      expect(await sumByWindow(store, ['a', 'b'], 'wifi', T, T + 120)).toEqual([
        { windowStart: T, devices: 3, sensorCount: 2 },
        { windowStart: T + 60, devices: 3, sensorCount: 1 },
      ]);
    } finally {
      await store.close();
    }
  });

  it('reads a window range and deletes old windows with the primary key, not a table scan', async () => {
    const file = path.join(dir, 'passant.db');
    const store = SqliteStore.open(file);
    await store.close();
    const raw = new Database(file, { readonly: true });
    try {
      const plan = (sql: string, ...args: unknown[]) =>
        (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((p) => p.detail).join('\n');
      expect(
        plan(
          `SELECT window_start, SUM(wifi_devices), COUNT(*) FROM counts
            WHERE sensor_id IN (SELECT value FROM json_each(?)) AND window_start >= ? AND window_start < ?
            GROUP BY window_start ORDER BY window_start`,
          '["a"]',
          0,
          60,
        ),
      ).toMatch(/SEARCH counts USING PRIMARY KEY \(window_start>\? AND window_start<\?\)/);
      expect(plan('DELETE FROM counts WHERE window_start < ?', 60)).toMatch(/SEARCH counts USING PRIMARY KEY \(window_start<\?\)/);
    } finally {
      raw.close();
    }
  });

  it('migrates a version 2 file (counts keyed by sensor first) without losing or changing a row', async () => {
    const file = path.join(dir, 'passant.db');
    const raw = new Database(file);
    raw.exec(MIGRATIONS[0]!);
    raw.exec(MIGRATIONS[1]!);
    raw.pragma('user_version = 2');
    const insert = raw.prepare(
      `INSERT INTO counts VALUES (?, ?, 60, ?, ?, 0, ?, '[0,0,0,0,0,0]', ?, 0, ?, '[0,0,0,0,0,0]', NULL, ?)`,
    );
    const rows: [string, number, number, number, number, number, number, number][] = [];
    for (const sensor of ['b', 'a', 'c']) {
      for (let w = 0; w < 5; w++) rows.push([sensor, T + w * 60, w, w + 1, 3 * (w + 1), w % 3, w % 3, T + 500]);
    }
    for (const r of rows) insert.run(...r);
    // Every column but the RSSI histograms, which migration 4 drops.
    const before = (raw.prepare('SELECT * FROM counts ORDER BY window_start, sensor_id').all() as Record<string, unknown>[]).map(
      ({ wifi_rssi: _w, ble_rssi: _b, ...rest }) => rest,
    );
    raw.close();

    const store = SqliteStore.open(file);
    try {
      expect(store.schemaVersion()).toBe(SQLITE_SCHEMA_VERSION);
      const windows = await store.sensorWindows(['a', 'b'], T + 60, T + 180);
      expect(windows.map((w) => [w.sensorId, w.windowStart])).toEqual([
        ['a', T + 60],
        ['b', T + 60],
        ['a', T + 120],
        ['b', T + 120],
      ]);
      // A window stored before the migration is still a duplicate after it.
      expect(await store.put([countsMessage('c', T, 9)], T + 600)).toEqual(['duplicate']);
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    try {
      expect(after.prepare('SELECT * FROM counts ORDER BY window_start, sensor_id').all()).toEqual(before);
    } finally {
      after.close();
    }
  });

  it('migrating a version 3 file drops the RSSI histograms from its bytes, keeps every other column, and the seq of each sensor\'s last window', async () => {
    const file = path.join(dir, 'passant.db');
    const raw = new Database(file);
    raw.pragma('journal_mode = WAL');
    for (let v = 0; v < 3; v++) raw.exec(MIGRATIONS[v]!);
    raw.pragma('user_version = 3');
    const insert = raw.prepare(`INSERT INTO counts VALUES (?, ?, 60, ?, 5, 2, 15, ?, 1, 0, 3, ?, NULL, ?)`);
    const tally = raw.prepare('INSERT INTO sensors VALUES (?, ?, ?, ?, ?)');
    // A histogram no other column can hold: its JSON text is what is looked for in the file afterwards.
    const trace = (i: number) => `[${[0, 1, 2, 3, 4, 5].map((b) => 7_340_000 + i * 10 + b).join(',')}]`;
    for (let i = 0; i < 50; i++) insert.run('s1', T + i * 60, 100 + i, trace(i), trace(i + 1000), T + 3600);
    tally.run('s1', T, T + 49 * 60, T + 3600, 50);
    raw.close();
    expect(fs.readFileSync(file).includes(trace(7))).toBe(true);

    const store = SqliteStore.open(file);
    try {
      expect((await store.sensorWindows(['s1'], T, T + 3600)).length).toBe(50);
      expect(await store.lastWindows()).toEqual([{ sensorId: 's1', windowStart: T + 49 * 60, seq: 149 }]);
    } finally {
      await store.close();
    }
    const bytes = Buffer.concat([file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
    for (let i = 0; i < 50; i++) {
      expect(bytes.includes(trace(i))).toBe(false);
      expect(bytes.includes(trace(i + 1000))).toBe(false);
    }
    const after = new Database(file, { readonly: true });
    try {
      const columns = (after.prepare('PRAGMA table_info(counts)').all() as { name: string }[]).map((c) => c.name);
      expect(columns.filter((c) => c.endsWith('_rssi'))).toEqual([]);
    } finally {
      after.close();
    }
  });

  it('retention deletes physically (secure_delete): a deleted window\'s values are not in the file\'s bytes afterwards', async () => {
    const file = path.join(dir, 'passant.db');
    const store = SqliteStore.open(file);
    // Frame counts no other row or column holds, as the 6-byte big-endian integers SQLite stores them as.
    const marker = (i: number) => 0x5ec2_e7d0_0000 + i;
    const bytesOf = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(n));
      return b.subarray(2);
    };
    try {
      const old = Array.from({ length: 40 }, (_, i) => {
        const m = countsMessage('s1', T + i * 60, 5, 1);
        m.wifi.frames = marker(i);
        return m;
      });
      await store.put(old, T + 3000);
      await store.put([countsMessage('s1', T + 7200, 5, 1)], T + 7300);
      store.checkpoint();
      await store.clearUnsettled(old.map((m) => ({ sensorId: m.sensorId, windowStart: m.windowStart })));
      expect(await store.deleteSensorWindowsBefore(T + 3600)).toBe(40);
    } finally {
      await store.close(); // checkpoints the WAL into the file and removes it
    }
    const bytes = Buffer.concat([file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
    const found = Array.from({ length: 40 }, (_, i) => i).filter((i) => bytes.includes(bytesOf(marker(i))));
    expect(found).toEqual([]);
  });

  it('refuses a file from a newer schema version with a clear error', () => {
    const file = path.join(dir, 'passant.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => SqliteStore.open(file)).toThrow(StoreError);
    expect(() => SqliteStore.open(file)).toThrow(/newer than this aggregator knows/);
  });

  it('refuses a path it cannot create, with a StoreError naming it', () => {
    const blocker = path.join(dir, 'file');
    fs.writeFileSync(blocker, 'x');
    expect(() => SqliteStore.open(path.join(blocker, 'passant.db'))).toThrow(/cannot open the SQLite store .*file\/passant\.db/);
  });

  it('writes 20,000 windows in batches of 500 quickly', async () => {
    const store = SqliteStore.open(path.join(dir, 'passant.db'));
    try {
      const started = performance.now();
      for (let b = 0; b < 40; b++) {
        const batch = Array.from({ length: 500 }, (_, i) => countsMessage(`s${i % 100}`, T + (b * 5 + Math.floor(i / 100)) * 60, i % 9));
        const results = await store.put(batch, T);
        expect(results.every((r) => r === 'stored')).toBe(true);
      }
      const ms = performance.now() - started;
      // Generous bound for a shared 2-core machine; typical is well under a second.
      expect(ms).toBeLessThan(10_000);
    } finally {
      await store.close();
    }
  });
});
