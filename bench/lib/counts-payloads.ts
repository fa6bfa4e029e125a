/**
 * Valid counts messages for load tests and benchmarks: `sensorCount` simulated sensors, each with
 * `windowsPerSensor` consecutive 60 s windows ending at `lastWindowStart`, so every (sensor, window) key is
 * distinct. The device counts follow from the key (`expectedWifiDevices`), so a reader can check that what was
 * stored is what was sent. Messages are interleaved window by window (every sensor's window 0, then window 1 ...),
 * the order real sensors send in.
 */
import { CountsMessageSchema, RSSI_BUCKETS, topics } from '@passant/shared';
import type { CountsMessage } from '@passant/shared';

export const BENCH_WINDOW_SECONDS = 60;

export interface CountsLoadOptions {
  sensorCount: number;
  windowsPerSensor: number;
  /** Start of the newest window (a multiple of 60); must not be in the future beyond the aggregator's tolerance. */
  lastWindowStart: number;
  /** Sensor id prefix (ids are `<prefix>-<n>`, n zero-padded to 5 digits). */
  prefix?: string;
}

export interface EncodedCounts {
  topic: string;
  payload: Buffer;
  sensorId: string;
  windowStart: number;
}

export function sensorIdOf(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(5, '0')}`;
}

/** Wi-Fi device count of a (sensor index, window index) key: deterministic, so a reader can check content. */
export function expectedWifiDevices(sensorIndex: number, windowIndex: number): number {
  return (sensorIndex * 7 + windowIndex * 13) % 97;
}

/** One valid counts message (checked against the shared schema by `makeCountsLoad`). */
export function benchCountsMessage(sensorId: string, windowStart: number, wifiDevices: number, seq: number): CountsMessage {
  const radio = (devices: number) => {
    const rssiHistogram = new Array<number>(RSSI_BUCKETS).fill(0);
    rssiHistogram[2] = devices * 3;
    return { devices, randomized: Math.floor(devices / 2), frames: devices * 3, rssiHistogram };
  };
  return {
    v: 1,
    sensorId,
    windowStart,
    windowSeconds: BENCH_WINDOW_SECONDS,
    seq,
    wifi: radio(wifiDevices),
    ble: radio(wifiDevices % 11),
    rssiFloor: -90,
  };
}

/** Every message of the load, encoded (topic and JSON payload), interleaved window by window. */
export function makeCountsLoad(options: CountsLoadOptions): EncodedCounts[] {
  const { sensorCount, windowsPerSensor, lastWindowStart } = options;
  const prefix = options.prefix ?? 'load';
  if (lastWindowStart % BENCH_WINDOW_SECONDS !== 0) throw new Error('lastWindowStart must be a multiple of 60');
  const sensorIds = Array.from({ length: sensorCount }, (_, i) => sensorIdOf(prefix, i));
  const out: EncodedCounts[] = [];
  for (let w = 0; w < windowsPerSensor; w++) {
    const windowStart = lastWindowStart - (windowsPerSensor - 1 - w) * BENCH_WINDOW_SECONDS;
    for (let s = 0; s < sensorCount; s++) {
      const sensorId = sensorIds[s]!;
      const message = benchCountsMessage(sensorId, windowStart, expectedWifiDevices(s, w), w);
      // The first message of each sensor is checked against the contract; the rest share its shape.
      if (w === 0) CountsMessageSchema.parse(message);
      out.push({ topic: topics.sensorCounts(sensorId), payload: Buffer.from(JSON.stringify(message)), sensorId, windowStart });
    }
  }
  return out;
}

/** Start of the current minute minus `minutes` minutes. */
export function minuteStartAgo(minutes: number, nowMs = Date.now()): number {
  return Math.floor(nowMs / 60_000) * 60 - minutes * 60;
}
