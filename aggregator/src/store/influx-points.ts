/**
 * How a counts window is laid out in InfluxDB: one point per (sensor, window) in measurement `counts`, tag
 * `sensor`, timestamp = windowStart (second precision), integer fields:
 *
 *   wifi_devices, wifi_randomized, wifi_frames
 *   ble_devices,  ble_randomized,  ble_frames
 *   window_seconds, seq, received_at (Unix seconds), rssi_floor (absent when the message's is null)
 *
 * No RSSI histogram is written (a signal trace of one device in a quiet minute; the aggregator needs none of it).
 * The point's key (measurement + tag + timestamp) is the store's key (sensorId, windowStart). Through
 * VictoriaMetrics' InfluxDB endpoint the same point becomes the metrics `counts_wifi_devices{sensor="..."}` etc.
 */
import { Point } from '@influxdata/influxdb-client';
import { ID_PATTERN, RADIOS, type CountsMessage, type Radio } from '@passant/shared';
import type { FrozenCell, Rollup } from './types.ts';

export const MEASUREMENT = 'counts';
export const SENSOR_TAG = 'sensor';

/** Largest timestamp InfluxDB can hold (int64 nanoseconds), in seconds. */
export const MAX_INFLUX_SECONDS = 9_223_372_035;

export function devicesField(radio: Radio): string {
  return `${radio}_devices`;
}

/** Throws a clear error unless `id` is a valid sensor id; ids are put into InfluxQL, so this guards the queries. */
export function checkSensorId(id: unknown): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    const what = typeof id === 'string' ? `a string of length ${id.length}` : typeof id;
    throw new TypeError(`invalid sensor id (${what}): it must match ${ID_PATTERN}`);
  }
  return id;
}

/** Throws unless `t` is a whole number of seconds InfluxDB can store. */
export function checkSeconds(t: unknown, what: string): number {
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0 || t > MAX_INFLUX_SECONDS) {
    throw new TypeError(`${what} must be whole Unix seconds from 0 to ${MAX_INFLUX_SECONDS}, got ${String(t).slice(0, 40)}`);
  }
  return t;
}

/** The point that stores one window of one sensor. */
export function countsPoint(message: CountsMessage, receivedAt: number): Point {
  const point = new Point(MEASUREMENT)
    .tag(SENSOR_TAG, checkSensorId(message.sensorId))
    .timestamp(checkSeconds(message.windowStart, 'windowStart'))
    .intField('window_seconds', message.windowSeconds)
    .intField('seq', message.seq)
    .intField('received_at', receivedAt);
  if (message.rssiFloor !== null) point.intField('rssi_floor', message.rssiFloor);
  for (const radio of RADIOS) {
    const counts = message[radio];
    point
      .intField(devicesField(radio), counts.devices)
      .intField(`${radio}_randomized`, counts.randomized)
      .intField(`${radio}_frames`, counts.frames);
  }
  return point;
}

/** Line protocol of a point with its timestamp in seconds (`precision=s`). */
export function toLine(point: Point): string {
  const line = point.toLineProtocol({ convertTime: (t) => (typeof t === 'number' ? String(t) : undefined) });
  if (line === undefined) throw new Error('a counts point has no fields');
  return line;
}

/** RFC 3339 literal for a time in Unix seconds, as every InfluxQL dialect (1.x, 2.x, 3.x) reads it. */
export function timeLiteral(seconds: number): string {
  return `'${new Date(seconds * 1000).toISOString()}'`;
}

/** `"sensor" =~ /^(a|b)$/`: the points of exactly these sensors (valid ids only). */
export function sensorCondition(sensorIds: Iterable<string>): string {
  const ids = [...new Set(sensorIds)].map(checkSensorId);
  if (ids.length === 0) throw new Error('sensorCondition needs at least one sensor id');
  // One anchored regex instead of an OR per sensor: InfluxDB 1.6 took 54 ms to find a batch of 500 sensors'
  // points with 500 ORs, 5 ms with the regex. Ids match ^[a-z0-9][a-z0-9-]{0,63}$: no regex metacharacters.
  return `"${SENSOR_TAG}" =~ /^(${ids.join('|')})$/`;
}

/*
 * The release layer's data (types.ts), beside `counts`:
 *
 *   unsettled,sensor=<id>           q=1i                                               time = windowStart
 *   cells,zone=<id>                 sensors="[...]", wifi_devices, wifi_released (0/1), wifi_noise (absent: null),
 *                                   ble_devices, ble_released, ble_noise               time = windowStart
 *   rollups,zone=<id>,step=<3600|86400>  wifi_sum, wifi_released, wifi_suppressed, wifi_noise, wifi_noised, ble_...,
 *                                   closed (0/1: the hour's minutes were deleted by retention)
 *                                                                                      time = bucket start
 *   meta,key=<key>                  value="..."                                        time = 0
 */
export const UNSETTLED_MEASUREMENT = 'unsettled';
export const CELLS_MEASUREMENT = 'cells';
export const ROLLUPS_MEASUREMENT = 'rollups';
export const META_MEASUREMENT = 'meta';
export const ZONE_TAG = 'zone';

/** The unsettled-queue point of a stored window. */
export function unsettledPoint(sensorId: string, windowStart: number): Point {
  return new Point(UNSETTLED_MEASUREMENT).tag(SENSOR_TAG, checkSensorId(sensorId)).timestamp(checkSeconds(windowStart, 'windowStart')).intField('q', 1);
}

/** The point of a frozen cell. */
export function cellPoint(cell: FrozenCell): Point {
  const point = new Point(CELLS_MEASUREMENT)
    .tag(ZONE_TAG, checkSensorId(cell.zoneId))
    .timestamp(checkSeconds(cell.windowStart, 'windowStart'))
    .stringField('sensors', JSON.stringify(cell.sensors.map(checkSensorId)));
  for (const radio of RADIOS) {
    const r = cell[radio];
    point.intField(`${radio}_devices`, r.devices).intField(`${radio}_released`, r.released ? 1 : 0);
    if (r.noise !== null) point.intField(`${radio}_noise`, r.noise);
  }
  return point;
}

/** The point of a rollup row (written whole: it replaces the row of the same zone, step and t). */
export function rollupPoint(rollup: Rollup): Point {
  const point = new Point(ROLLUPS_MEASUREMENT)
    .tag(ZONE_TAG, checkSensorId(rollup.zoneId))
    .tag('step', String(rollup.step))
    .timestamp(checkSeconds(rollup.t, 'rollup t'));
  for (const radio of RADIOS) {
    const r = rollup[radio];
    point
      .intField(`${radio}_sum`, r.sum)
      .intField(`${radio}_released`, r.released)
      .intField(`${radio}_suppressed`, r.suppressed)
      .intField(`${radio}_noise`, r.noise)
      .intField(`${radio}_noised`, r.noised);
  }
  // 1 once retention deleted the minutes of the hour (deleteMinutesBefore writes it onto the point)
  point.intField('closed', 0);
  return point;
}

/** `("zone" = 'a' OR "zone" = 'b')` for valid zone ids. */
export function zoneCondition(zoneIds: Iterable<string>): string {
  const terms = [...new Set(zoneIds)].map((id) => `"${ZONE_TAG}" = '${checkSensorId(id)}'`);
  if (terms.length === 0) throw new Error('zoneCondition needs at least one zone id');
  return `(${terms.join(' OR ')})`;
}
