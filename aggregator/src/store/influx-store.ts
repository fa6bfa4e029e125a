/**
 * The InfluxDB store: exact per-sensor counts in InfluxDB, for deployments where several aggregators share one
 * store. Layout in influx-points.ts, connection in influx-http.ts.
 *
 * Idempotency. InfluxDB has no conditional write: a point with the same measurement, tags and timestamp
 * overwrites the old one (last write wins), while the store contract says the first write wins and a repeat is
 * reported as 'duplicate'. So put() first asks which of the batch's keys (sensor, windowStart) exist, with one
 * InfluxQL query per batch (one per cluster of windows more than an hour apart, normally one), and writes only the
 * new ones. Within one store instance put() calls run one after another, so one aggregator is exact.
 *
 * The race we accept: two aggregators that put the same key at the same moment (between one's check and its
 * write) both see it absent, both write and both report 'stored'; InfluxDB keeps the last. When both carry the
 * same window (an MQTT redelivery of one message: the usual case) only `received_at` can differ, the counts are
 * the same. Only two different messages for one (sensor, window) that reach two aggregators within that moment
 * can end with the later one kept; the sensor sends one message per window, so this takes a sensor bug on top
 * of the race. A put() that fails part-way may have written some points; when the caller retries, those come
 * back as 'duplicate' with the same content.
 *
 * Size: over 400 lines because it implements the one Store interface (types.ts) whole; the point layout and the
 * HTTP connection are already in their own files.
 */
import { Point } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import { WINDOW_SECONDS_ALLOWED, type CountsMessage, type Radio } from '@passant/shared';
import { addToRollup, emptyRollupRadio, ROLLUP_STEPS, rollupStart } from './types.ts';
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
import { InfluxConfigSchema, type InfluxConfig, type InfluxConfigInput } from './influx-config.ts';
import { InfluxHttp, InfluxStoreError, type InfluxSeries } from './influx-http.ts';
import {
  CELLS_MEASUREMENT,
  cellPoint,
  MAX_INFLUX_SECONDS,
  MEASUREMENT,
  META_MEASUREMENT,
  ROLLUPS_MEASUREMENT,
  rollupPoint,
  UNSETTLED_MEASUREMENT,
  unsettledPoint,
  ZONE_TAG,
  zoneCondition,
  SENSOR_TAG,
  checkSeconds,
  checkSensorId,
  countsPoint,
  devicesField,
  sensorCondition,
  timeLiteral,
  toLine,
} from './influx-points.ts';

export { InfluxStoreError } from './influx-http.ts';

/** Windows of one batch further apart than this are checked with separate queries, so no query scans a long gap. */
const CLUSTER_GAP_SECONDS = 3600;

export interface InfluxStoreOptions {
  /** Child logger for the store; debug lines carry only numbers. */
  logger?: Logger;
}

/** Rows one InfluxQL answer may hold: InfluxDB 1.x marks answers above 10,000 rows partial. */
const ROWS_PER_QUERY = 9000;

/** [from, to) clamped to what InfluxDB can store, or null when empty. */
function clampRange(from: number, to: number): [number, number] | null {
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new TypeError('from and to must be finite numbers of seconds');
  const lower = Math.max(0, Math.ceil(from));
  const upper = Math.min(MAX_INFLUX_SECONDS + 1, Math.ceil(to));
  return lower < upper ? [lower, upper] : null;
}

/** Index of a column by name; throws when the answer lacks it. */
function columnsOf(columns: string[]): (name: string) => number {
  return (name) => {
    const i = columns.indexOf(name);
    if (i < 0) throw new InfluxStoreError(`InfluxQL answer has no column ${name}`);
    return i;
  };
}

function stringAt(row: unknown[], index: number, what: string): string {
  const value = row[index];
  if (typeof value !== 'string') throw new InfluxStoreError(`InfluxQL answer has a ${what} that is not a string (${typeof value})`);
  return value;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function keyOf(sensorId: string, windowStart: number): string {
  return `${sensorId} ${windowStart}`;
}

function numberAt(row: unknown[], index: number, what: string): number {
  const value = row[index];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InfluxStoreError(`InfluxQL answer has a ${what} that is not a number (${typeof value})`);
  }
  return value;
}

export class InfluxStore implements ReleaseStore {
  private readonly http: InfluxHttp;
  private readonly logger: Logger | undefined;
  /** Tail of the chain that runs put() calls one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /**
   * A window is stamped with its received-at time when its batch starts, and other aggregators see it once the
   * HTTP write returns: a few milliseconds, seconds under load. 10 s of margin (see ReleaseStore).
   */
  readonly writeVisibilitySeconds = 10;
  /** The last put() failed; cleared by the next that succeeds. */
  private lastWriteFailed = false;

  private constructor(readonly config: InfluxConfig, options: InfluxStoreOptions) {
    this.http = new InfluxHttp(config);
    this.logger = options.logger;
  }

  /**
   * A store on the InfluxDB server that `config` names. Opens no connection (use ping() to check one); the
   * database or bucket must exist. Throws when the settings are invalid, listing every problem.
   */
  static open(config: InfluxConfigInput, options: InfluxStoreOptions = {}): InfluxStore {
    const parsed = InfluxConfigSchema.safeParse(config);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new TypeError(`invalid InfluxDB store settings:\n  ${problems.join('\n  ')}`);
    }
    return new InfluxStore(parsed.data, options);
  }

  async put(messages: CountsMessage[], receivedAt: number): Promise<PutResult[]> {
    this.checkOpen();
    checkSeconds(receivedAt, 'receivedAt');
    // Check every message before anything is written, so a bad one cannot leave half a batch behind.
    for (const m of messages) {
      checkSensorId(m.sensorId);
      checkSeconds(m.windowStart, 'windowStart');
    }
    const run = this.queue.then(() => this.putInOrder(messages, receivedAt));
    this.queue = run.then(
      () => {
        this.lastWriteFailed = false;
      },
      () => {
        this.lastWriteFailed = true;
      },
    );
    return run;
  }

  /** Null while the last write of counts succeeded (ping() tells whether the server answers at all). */
  async writeStatus(): Promise<string | null> {
    if (this.closed) return 'the store is closed';
    return this.lastWriteFailed ? 'the last write of counts to InfluxDB failed (the log says why)' : null;
  }

  private async putInOrder(messages: CountsMessage[], receivedAt: number): Promise<PutResult[]> {
    if (messages.length === 0) return [];
    const existing = await this.existingKeys(messages);
    const results: PutResult[] = [];
    const lines: string[] = [];
    for (const m of messages) {
      const key = keyOf(m.sensorId, m.windowStart);
      if (existing.has(key)) {
        results.push('duplicate');
      } else {
        existing.add(key); // a repeat later in the same batch is a duplicate of this one
        results.push('stored');
        lines.push(toLine(countsPoint(m, receivedAt)), toLine(unsettledPoint(m.sensorId, m.windowStart)));
      }
    }
    await this.http.write(lines);
    this.logger?.debug({ stored: lines.length / 2, duplicates: messages.length - lines.length / 2 }, 'put');
    return results;
  }

  /** Keys "sensor windowStart" of the batch that the store already holds. */
  private async existingKeys(messages: CountsMessage[]): Promise<Set<string>> {
    const byTime = [...messages].sort((a, b) => a.windowStart - b.windowStart);
    const clusters: { sensors: Set<string>; from: number; to: number }[] = [];
    for (const m of byTime) {
      const last = clusters.at(-1);
      if (last !== undefined && m.windowStart - last.to <= CLUSTER_GAP_SECONDS) {
        last.sensors.add(m.sensorId);
        last.to = m.windowStart;
      } else {
        clusters.push({ sensors: new Set([m.sensorId]), from: m.windowStart, to: m.windowStart });
      }
    }
    const found = new Set<string>();
    for (const c of clusters) {
      // The tag selected as a column: one series of [time, sensor] rows instead of a series per sensor.
      const series = await this.http.query(
        `SELECT "seq", "${SENSOR_TAG}" FROM "${MEASUREMENT}" WHERE ${sensorCondition(c.sensors)} ` +
          `AND time >= ${timeLiteral(c.from)} AND time <= ${timeLiteral(c.to)}`,
      );
      for (const s of series) {
        const timeIndex = s.columns.indexOf('time');
        const sensorIndex = s.columns.indexOf(SENSOR_TAG);
        if (sensorIndex < 0) throw new InfluxStoreError(`InfluxQL answer has no ${SENSOR_TAG} column`);
        for (const row of s.values) found.add(keyOf(String(row[sensorIndex]), numberAt(row, timeIndex, 'time')));
      }
    }
    return found;
  }

  async sensorWindows(sensorIds: string[], from: number, to: number): Promise<SensorWindow[]> {
    this.checkOpen();
    for (const id of sensorIds) checkSensorId(id);
    const ids = [...new Set(sensorIds)];
    const range = clampRange(from, to);
    if (ids.length === 0 || range === null) return [];
    const out: SensorWindow[] = [];
    await this.sliced(range, 60 * Math.max(1, Math.floor(ROWS_PER_QUERY / ids.length)), async (lower, upper) => {
      const series = await this.http.query(
        `SELECT "wifi_devices", "ble_devices", "wifi_randomized", "ble_randomized", "received_at", "${SENSOR_TAG}" FROM "${MEASUREMENT}" WHERE ${sensorCondition(ids)} ` +
          `AND time >= ${timeLiteral(lower)} AND time < ${timeLiteral(upper)}`,
      );
      for (const s of series) {
        const col = columnsOf(s.columns);
        for (const row of s.values) {
          // A point being written while this reads can show some of its fields before the others (InfluxDB 1.x
          // makes a write visible field by field): such a row is not there yet (writeVisibilitySeconds covers it).
          if (row[col('ble_devices')] === null || row[col('wifi_devices')] === null || row[col('received_at')] === null) continue;
          out.push({
            sensorId: stringAt(row, col('sensor'), 'sensor'),
            windowStart: numberAt(row, col('time'), 'time'),
            wifi: numberAt(row, col('wifi_devices'), 'wifi_devices'),
            ble: numberAt(row, col('ble_devices'), 'ble_devices'),
            wifiRandomized: numberAt(row, col('wifi_randomized'), 'wifi_randomized'),
            bleRandomized: numberAt(row, col('ble_randomized'), 'ble_randomized'),
            receivedAt: numberAt(row, col('received_at'), 'received_at'),
          });
        }
      }
    });
    return out.sort((a, b) => a.windowStart - b.windowStart || compare(a.sensorId, b.sensorId));
  }
  async windowKeys(sensorIds: string[], from: number, to: number): Promise<WindowKey[]> {
    this.checkOpen();
    for (const id of sensorIds) checkSensorId(id);
    const ids = [...new Set(sensorIds)];
    const range = clampRange(from, to);
    if (ids.length === 0 || range === null) return [];
    const out: WindowKey[] = [];
    await this.sliced(range, 60 * Math.max(1, Math.floor(ROWS_PER_QUERY / ids.length)), async (lower, upper) => {
      // InfluxQL selects at least one field: received_at, not a count.
      const series = await this.http.query(
        `SELECT "received_at", "${SENSOR_TAG}" FROM "${MEASUREMENT}" WHERE ${sensorCondition(ids)} ` +
          `AND time >= ${timeLiteral(lower)} AND time < ${timeLiteral(upper)}`,
      );
      for (const s of series) {
        const col = columnsOf(s.columns);
        for (const row of s.values) {
          if (row[col('received_at')] === null) continue;
          out.push({ sensorId: stringAt(row, col('sensor'), 'sensor'), windowStart: numberAt(row, col('time'), 'time') });
        }
      }
    });
    return out.sort((a, b) => a.windowStart - b.windowStart || compare(a.sensorId, b.sensorId));
  }


  async unsettled(limit: number): Promise<WindowKey[]> {
    this.checkOpen();
    if (!(limit >= 1)) return [];
    const series = await this.http.query(
      `SELECT "q", "${SENSOR_TAG}" FROM "${UNSETTLED_MEASUREMENT}" LIMIT ${Math.min(Math.floor(limit), ROWS_PER_QUERY)}`,
    );
    const keys: WindowKey[] = [];
    for (const s of series) {
      const col = columnsOf(s.columns);
      for (const row of s.values) keys.push({ sensorId: stringAt(row, col('sensor'), 'sensor'), windowStart: numberAt(row, col('time'), 'time') });
    }
    return keys.sort((a, b) => a.windowStart - b.windowStart || compare(a.sensorId, b.sensorId));
  }

  async clearUnsettled(keys: WindowKey[]): Promise<void> {
    this.checkOpen();
    for (const k of keys) {
      checkSensorId(k.sensorId);
      checkSeconds(k.windowStart, 'windowStart');
    }
    if (keys.length === 0) return;
    if (this.config.apiVersion === 'v2') {
      // /api/v2/delete predicates have no OR: one request per key.
      for (const k of keys) {
        const at = new Date(k.windowStart * 1000).toISOString();
        await this.http.deleteV2(at, at, `_measurement="${UNSETTLED_MEASUREMENT}" AND ${SENSOR_TAG}="${k.sensorId}"`);
      }
      return;
    }
    const byWindow = new Map<number, string[]>();
    for (const k of keys) byWindow.set(k.windowStart, [...(byWindow.get(k.windowStart) ?? []), k.sensorId]);
    const statements: string[] = [];
    for (const [windowStart, sensors] of byWindow) {
      for (let i = 0; i < sensors.length; i += 50) {
        statements.push(
          `DELETE FROM "${UNSETTLED_MEASUREMENT}" WHERE time = ${timeLiteral(windowStart)} AND ${sensorCondition(sensors.slice(i, i + 50))}`,
        );
      }
    }
    await this.http.exec(statements);
  }

  async requeue(sensorIds: string[], from: number, to: number): Promise<number> {
    this.checkOpen();
    const windows = await this.sensorWindows(sensorIds, from, to);
    await this.http.write(windows.map((w) => toLine(unsettledPoint(w.sensorId, w.windowStart))));
    return windows.length;
  }

  async freeze(cells: FrozenCell[]): Promise<boolean[]> {
    this.checkOpen();
    for (const c of cells) {
      checkSensorId(c.zoneId);
      checkSeconds(c.windowStart, 'windowStart');
      c.sensors.forEach(checkSensorId);
    }
    const run = this.queue.then(() => this.freezeInOrder(cells));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Writes the cells not frozen yet, then recomputes the rollups they touch: each hour from its cells, each day
   * from its hours. Recomputing (not adding) keeps the rollups right when an earlier freeze stopped between
   * its cells and its rollups: the next freeze in that hour puts it right.
   */
  private async freezeInOrder(cells: FrozenCell[]): Promise<boolean[]> {
    if (cells.length === 0) return [];
    const times = cells.map((c) => c.windowStart);
    const existing = new Set(
      (await this.readCells([...new Set(cells.map((c) => c.zoneId))], Math.min(...times), Math.max(...times) + 1)).map((c) => `${c.zoneId} ${c.windowStart}`),
    );
    const results: boolean[] = [];
    const lines: string[] = [];
    const hours = new Map<string, Set<number>>();
    for (const c of cells) {
      const key = `${c.zoneId} ${c.windowStart}`;
      if (existing.has(key)) {
        results.push(false);
        continue;
      }
      existing.add(key);
      results.push(true);
      lines.push(toLine(cellPoint(c)));
      const set = hours.get(c.zoneId) ?? new Set<number>();
      set.add(rollupStart(c.windowStart, 3600));
      hours.set(c.zoneId, set);
    }
    await this.http.write(lines);
    const rollupLines: string[] = [];
    for (const [zoneId, hourSet] of hours) {
      const sorted = [...hourSet].sort((a, b) => a - b);
      const zoneCells = await this.readCells([zoneId], sorted[0]!, sorted.at(-1)! + 3600);
      const hourRows = new Map<number, Rollup>();
      for (const c of zoneCells) {
        const t = rollupStart(c.windowStart, 3600);
        if (!hourSet.has(t)) continue;
        const row = hourRows.get(t) ?? { zoneId, step: 3600 as const, t, wifi: emptyRollupRadio(), ble: emptyRollupRadio() };
        addToRollup(row.wifi, c.wifi);
        addToRollup(row.ble, c.ble);
        hourRows.set(t, row);
      }
      for (const row of hourRows.values()) rollupLines.push(toLine(rollupPoint(row)));
      await this.http.write(rollupLines.splice(0));
      const days = [...new Set(sorted.map((t) => rollupStart(t, 86_400)))];
      for (const day of days) {
        const hourly = await this.rollups(zoneId, 3600, day, day + 86_400);
        const dayRow: Rollup = { zoneId, step: 86_400, t: day, wifi: emptyRollupRadio(), ble: emptyRollupRadio() };
        for (const h of hourly) {
          for (const radio of ['wifi', 'ble'] as const) {
            for (const f of ['sum', 'released', 'suppressed', 'noise', 'noised'] as const) dayRow[radio][f] += h[radio][f];
          }
        }
        rollupLines.push(toLine(rollupPoint(dayRow)));
      }
      await this.http.write(rollupLines.splice(0));
    }
    this.logger?.debug({ frozen: lines.length, existing: cells.length - lines.length }, 'freeze');
    return results;
  }

  async cells(zoneIds: string[] | null, from: number, to: number, options: CellsReadOptions = {}): Promise<FrozenCell[]> {
    this.checkOpen();
    return this.readCells(zoneIds, from, to, options.sensors !== false);
  }

  private async readCells(zoneIds: string[] | null, from: number, to: number, withSensors = true): Promise<FrozenCell[]> {
    zoneIds?.forEach(checkSensorId);
    const range = clampRange(from, to);
    if (range === null || (zoneIds !== null && zoneIds.length === 0)) return [];
    const zones = zoneIds === null ? null : [...new Set(zoneIds)];
    const out: FrozenCell[] = [];
    const where = zones === null ? '' : `${zoneCondition(zones)} AND `;
    await this.sliced(range, 60 * Math.max(1, Math.floor(ROWS_PER_QUERY / (zones?.length ?? 20))), async (lower, upper) => {
      const series = await this.http.query(
        `SELECT * FROM "${CELLS_MEASUREMENT}" WHERE ${where}time >= ${timeLiteral(lower)} AND time < ${timeLiteral(upper)}`,
      );
      for (const s of series) {
        const col = columnsOf(s.columns);
        const radio = (row: unknown[], r: 'wifi' | 'ble') => {
          // absent when no cell of the answer has noise
          const noiseIndex = s.columns.indexOf(`${r}_noise`);
          const noise = noiseIndex < 0 ? null : row[noiseIndex];
          return {
            devices: numberAt(row, col(`${r}_devices`), `${r}_devices`),
            released: numberAt(row, col(`${r}_released`), `${r}_released`) === 1,
            noise: typeof noise === 'number' ? noise : null,
          };
        };
        for (const row of s.values) {
          // A cell being written while this reads can show some fields before the others (see sensorWindows).
          if (['sensors', 'wifi_devices', 'wifi_released', 'ble_devices', 'ble_released'].some((c) => row[col(c)] === null)) continue;
          out.push({
            zoneId: stringAt(row, col(ZONE_TAG), ZONE_TAG),
            windowStart: numberAt(row, col('time'), 'time'),
            sensors: withSensors ? (JSON.parse(stringAt(row, col('sensors'), 'sensors')) as string[]) : [],
            wifi: radio(row, 'wifi'),
            ble: radio(row, 'ble'),
          });
        }
      }
    });
    return out.sort((a, b) => a.windowStart - b.windowStart || compare(a.zoneId, b.zoneId));
  }

  async rollups(zoneId: string, step: RollupStep, from: number, to: number): Promise<Rollup[]> {
    this.checkOpen();
    checkSensorId(zoneId);
    if (!(ROLLUP_STEPS as readonly number[]).includes(step)) throw new TypeError(`rollup step must be one of ${ROLLUP_STEPS.join(', ')}, got ${String(step)}`);
    const range = clampRange(from, to);
    if (range === null) return [];
    const out: Rollup[] = [];
    await this.sliced(range, step * ROWS_PER_QUERY, async (lower, upper) => {
      const series = await this.http.query(
        `SELECT * FROM "${ROLLUPS_MEASUREMENT}" WHERE "${ZONE_TAG}" = '${zoneId}' AND "step" = '${step}' ` +
          `AND time >= ${timeLiteral(lower)} AND time < ${timeLiteral(upper)}`,
      );
      for (const s of series) {
        const col = columnsOf(s.columns);
        const radio = (row: unknown[], r: 'wifi' | 'ble') => ({
          sum: numberAt(row, col(`${r}_sum`), `${r}_sum`),
          released: numberAt(row, col(`${r}_released`), `${r}_released`),
          suppressed: numberAt(row, col(`${r}_suppressed`), `${r}_suppressed`),
          noise: numberAt(row, col(`${r}_noise`), `${r}_noise`),
          noised: numberAt(row, col(`${r}_noised`), `${r}_noised`),
        });
        for (const row of s.values) out.push({ zoneId, step, t: numberAt(row, col('time'), 'time'), wifi: radio(row, 'wifi'), ble: radio(row, 'ble') });
      }
    });
    return out.sort((a, b) => a.t - b.t);
  }

  /** Deletes with InfluxQL DELETE (v1) or /api/v2/delete (v2). Counts are not reported by InfluxDB: -1. */
  async deleteMinutesBefore(t: number): Promise<DeleteResult> {
    this.checkOpen();
    const upper = Math.min(MAX_INFLUX_SECONDS, Math.floor(t));
    if (upper <= 0) return { windows: 0, cells: 0 };
    // Close the hour rollups whose minutes go: a field written onto the existing points (InfluxDB merges fields).
    const open = await this.http.query(
      `SELECT "closed", "${ZONE_TAG}" FROM "${ROLLUPS_MEASUREMENT}" WHERE "step" = '3600' AND "closed" = 0 AND time < ${timeLiteral(upper)}`,
    );
    const closeLines: string[] = [];
    for (const s of open) {
      const col = columnsOf(s.columns);
      for (const row of s.values) {
        const zone = stringAt(row, col(ZONE_TAG), ZONE_TAG);
        closeLines.push(toLine(new Point(ROLLUPS_MEASUREMENT).tag(ZONE_TAG, checkSensorId(zone)).tag('step', '3600').timestamp(numberAt(row, col('time'), 'time')).intField('closed', 1)));
      }
    }
    await this.http.write(closeLines);
    const measurements = [MEASUREMENT, UNSETTLED_MEASUREMENT, CELLS_MEASUREMENT];
    if (this.config.apiVersion === 'v2') {
      const stop = new Date((upper - 1) * 1000).toISOString();
      for (const m of measurements) await this.http.deleteV2('1970-01-01T00:00:00Z', stop, `_measurement="${m}"`);
    } else {
      await this.http.exec(measurements.map((m) => `DELETE FROM "${m}" WHERE time < ${timeLiteral(upper)}`));
    }
    return { windows: -1, cells: -1 };
  }

  /**
   * InfluxDB cannot delete "where not in the unsettled queue": deletes the windows before `t` and before the oldest
   * unsettled window, so no unsettled window goes. Counts are not reported: -1.
   */
  async deleteSensorWindowsBefore(t: number): Promise<number> {
    this.checkOpen();
    let upper = Math.min(MAX_INFLUX_SECONDS, Math.floor(t));
    const oldest = await this.http.query(`SELECT first("q") FROM "${UNSETTLED_MEASUREMENT}"`);
    const row = oldest[0]?.values[0];
    if (row !== undefined) upper = Math.min(upper, numberAt(row, columnsOf(oldest[0]!.columns)('time'), 'time'));
    if (upper <= 0) return 0;
    if (this.config.apiVersion === 'v2') {
      await this.http.deleteV2('1970-01-01T00:00:00Z', new Date((upper - 1) * 1000).toISOString(), `_measurement="${MEASUREMENT}"`);
    } else {
      await this.http.exec([`DELETE FROM "${MEASUREMENT}" WHERE time < ${timeLiteral(upper)}`]);
    }
    return -1;
  }

  /** Each sensor's latest stored window and its seq (of the windows still held). */
  async lastWindows(): Promise<SensorLastWindow[]> {
    this.checkOpen();
    const out: SensorLastWindow[] = [];
    for (const s of await this.http.query(`SELECT last("seq") FROM "${MEASUREMENT}" GROUP BY "${SENSOR_TAG}"`)) {
      const sensorId = s.tags?.[SENSOR_TAG];
      if (sensorId === undefined) continue;
      const col = columnsOf(s.columns);
      for (const row of s.values) out.push({ sensorId, windowStart: numberAt(row, col('time'), 'time'), seq: numberAt(row, col('last'), 'last') });
    }
    return out;
  }

  async closedHours(zoneId: string, from: number, to: number): Promise<number[]> {
    this.checkOpen();
    checkSensorId(zoneId);
    const range = clampRange(from, to);
    if (range === null) return [];
    const out: number[] = [];
    await this.sliced(range, 3600 * ROWS_PER_QUERY, async (lower, upper) => {
      const series = await this.http.query(
        `SELECT "closed" FROM "${ROLLUPS_MEASUREMENT}" WHERE "${ZONE_TAG}" = '${zoneId}' AND "step" = '3600' AND "closed" = 1 ` +
          `AND time >= ${timeLiteral(lower)} AND time < ${timeLiteral(upper)}`,
      );
      for (const s of series) {
        const col = columnsOf(s.columns);
        for (const row of s.values) out.push(numberAt(row, col('time'), 'time'));
      }
    });
    return out.sort((a, b) => a - b);
  }

  /** From the stored windows (InfluxDB keeps no separate tally): first and last window of the retained data. */
  async sensorStats(): Promise<SensorStats[]> {
    this.checkOpen();
    const stats = new Map<string, SensorStats>();
    const entry = (sensorId: string) => {
      let e = stats.get(sensorId);
      if (e === undefined) {
        e = { sensorId, firstWindowStart: 0, lastWindowStart: 0, lastReceivedAt: 0, messages: 0 };
        stats.set(sensorId, e);
      }
      return e;
    };
    const bySensor = async (select: string, apply: (e: SensorStats, row: unknown[], col: (name: string) => number) => void) => {
      for (const s of await this.http.query(`SELECT ${select} FROM "${MEASUREMENT}" GROUP BY "${SENSOR_TAG}"`)) {
        const sensor = s.tags?.[SENSOR_TAG];
        if (sensor === undefined) continue;
        const col = columnsOf(s.columns);
        for (const row of s.values) apply(entry(sensor), row, col);
      }
    };
    await bySensor('count("seq") AS "messages", max("received_at") AS "received"', (e, row, col) => {
      e.messages = numberAt(row, col('messages'), 'messages');
      e.lastReceivedAt = numberAt(row, col('received'), 'received');
    });
    await bySensor('first("seq")', (e, row, col) => {
      e.firstWindowStart = numberAt(row, col('time'), 'time');
    });
    await bySensor('last("seq")', (e, row, col) => {
      e.lastWindowStart = numberAt(row, col('time'), 'time');
    });
    return [...stats.values()].sort((a, b) => compare(a.sensorId, b.sensorId));
  }

  async getMeta(key: string): Promise<string | undefined> {
    this.checkOpen();
    checkSensorId(key);
    const series = await this.http.query(`SELECT "value" FROM "${META_MEASUREMENT}" WHERE "key" = '${key}'`);
    const row = series[0]?.values[0];
    if (row === undefined) return undefined;
    return stringAt(row, columnsOf(series[0]!.columns)('value'), 'value');
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.checkOpen();
    checkSensorId(key);
    await this.http.write([toLine(new Point(META_MEASUREMENT).tag('key', key).stringField('value', value).timestamp(0))]);
  }

  /**
   * Runs `query` over [range) in slices of at most `sliceSeconds`, so no answer passes the server's row limit;
   * a slice that still comes back partial is split in two (down to one minute).
   */
  private async sliced(range: [number, number], sliceSeconds: number, query: (lower: number, upper: number) => Promise<void>): Promise<void> {
    const [from, to] = range;
    let slice = Math.max(60, sliceSeconds);
    for (let lower = from; lower < to; ) {
      const upper = Math.min(to, lower + slice);
      try {
        await query(lower, upper);
        lower = upper;
      } catch (err) {
        if (!(err instanceof InfluxStoreError) || !err.partial || slice <= 60) throw err;
        slice = Math.max(60, Math.floor(slice / 2));
      }
    }
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    return this.http.ping();
  }

  /** Waits for running put() calls; later calls fail. Holds no connection, so there is nothing else to release. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }

  private checkOpen(): void {
    if (this.closed) throw new InfluxStoreError('the InfluxDB store is closed');
  }
}
