/**
 * The InfluxDB store: exact per-sensor counts in InfluxDB, for deployments where several aggregators share one
 * store (DESIGN.md section 8). Layout in influx-points.ts, connection in influx-http.ts.
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
 */
import type { Logger } from 'pino';
import { WINDOW_SECONDS_ALLOWED, type CountsMessage, type Radio } from '@passant/shared';
import type { CountsStore, PutResult, WindowSum } from './types.ts';
import { InfluxConfigSchema, type InfluxConfig, type InfluxConfigInput } from './influx-config.ts';
import { InfluxHttp, InfluxStoreError, type InfluxSeries } from './influx-http.ts';
import {
  MAX_INFLUX_SECONDS,
  MEASUREMENT,
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

/**
 * `GROUP BY time(...)` bucket of sumByWindow: the greatest common divisor of the allowed window lengths (5 s), so
 * every windowStart of every sensor is a bucket start and each bucket holds exactly one windowStart: the sum is
 * per window even when sensors use different window lengths. Measured on InfluxDB 1.6 (10 sensors, a week of
 * 60 s windows, 5 sensors summed): as fast as time(60s) (about 60 ms), and 5 times less to transfer than
 * selecting the raw points and summing here (165 kB against 790 kB).
 */
const SUM_BUCKET_SECONDS = WINDOW_SECONDS_ALLOWED.reduce<number>((a, b) => gcd(a, b), 0);

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export interface InfluxStoreOptions {
  /** Child logger for the store; debug lines carry only numbers. */
  logger?: Logger;
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

export class InfluxStore implements CountsStore {
  private readonly http: InfluxHttp;
  private readonly logger: Logger | undefined;
  /** Tail of the chain that runs put() calls one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

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
    this.queue = run.catch(() => undefined);
    return run;
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
        lines.push(toLine(countsPoint(m, receivedAt)));
      }
    }
    await this.http.write(lines);
    this.logger?.debug({ stored: lines.length, duplicates: messages.length - lines.length }, 'put');
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
      const series = await this.http.query(
        `SELECT "seq" FROM "${MEASUREMENT}" WHERE ${sensorCondition(c.sensors)} ` +
          `AND time >= ${timeLiteral(c.from)} AND time <= ${timeLiteral(c.to)} GROUP BY "${SENSOR_TAG}"`,
      );
      for (const s of series) {
        const sensor = s.tags?.[SENSOR_TAG];
        if (sensor === undefined) throw new InfluxStoreError(`InfluxQL answer has a series without the ${SENSOR_TAG} tag`);
        const timeIndex = s.columns.indexOf('time');
        for (const row of s.values) found.add(keyOf(sensor, numberAt(row, timeIndex, 'time')));
      }
    }
    return found;
  }

  async sumByWindow(sensorIds: string[], radio: Radio, from: number, to: number): Promise<WindowSum[]> {
    this.checkOpen();
    for (const id of sensorIds) checkSensorId(id);
    if (radio !== 'wifi' && radio !== 'ble') throw new TypeError(`radio must be wifi or ble, got ${String(radio).slice(0, 20)}`);
    if (!Number.isFinite(from) || !Number.isFinite(to)) throw new TypeError('from and to must be finite numbers of seconds');
    // Nothing is stored outside [0, MAX_INFLUX_SECONDS]; clamping keeps the time literals valid.
    const lower = Math.max(0, Math.ceil(from));
    const upper = Math.min(MAX_INFLUX_SECONDS + 1, Math.ceil(to));
    if (sensorIds.length === 0 || lower >= upper) return [];
    const field = devicesField(radio);
    // count(): the sensors with a point in the window (one point per sensor and windowStart).
    const series: InfluxSeries[] = await this.http.query(
      `SELECT sum("${field}"), count("${field}") FROM "${MEASUREMENT}" WHERE ${sensorCondition(sensorIds)} ` +
        `AND time >= ${timeLiteral(lower)} AND time < ${timeLiteral(upper)} ` +
        `GROUP BY time(${SUM_BUCKET_SECONDS}s) fill(none)`,
    );
    const sums: WindowSum[] = [];
    for (const s of series) {
      const timeIndex = s.columns.indexOf('time');
      const sumIndex = s.columns.indexOf('sum');
      const countIndex = s.columns.indexOf('count');
      for (const row of s.values) {
        sums.push({
          windowStart: numberAt(row, timeIndex, 'time'),
          devices: numberAt(row, sumIndex, 'sum'),
          sensorCount: numberAt(row, countIndex, 'count'),
        });
      }
    }
    return sums.sort((a, b) => a.windowStart - b.windowStart);
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
