import { describe, expect, it } from 'vitest';
import {
  CountsMessageSchema,
  RSSI_BUCKETS,
  StatusMessageSchema,
  countsMessageJsonSchema,
  emptyRadioCounts,
  rssiBucket,
  type CountsMessage,
} from '../src/index.ts';

function valid(): CountsMessage {
  return {
    v: 1,
    sensorId: 's-001',
    windowStart: 1_700_000_040,
    windowSeconds: 60,
    seq: 7,
    wifi: { devices: 12, randomized: 9, frames: 40, rssiHistogram: [0, 1, 2, 3, 4, 5] },
    ble: emptyRadioCounts(),
    rssiFloor: null,
  };
}

/** Applies a change to a deep copy of a valid message. */
function variant(change: (m: Record<string, any>) => void): unknown {
  const m = structuredClone(valid()) as Record<string, any>;
  change(m);
  return m;
}

describe('CountsMessageSchema', () => {
  it('accepts a valid message and one with an RSSI floor', () => {
    expect(CountsMessageSchema.safeParse(valid()).success).toBe(true);
    expect(CountsMessageSchema.safeParse(variant((m) => (m.rssiFloor = -80))).success).toBe(true);
  });

  // Each kind of invalid message, with the path zod must name.
  const invalid: [string, (m: Record<string, any>) => void, string][] = [
    ['unknown top-level field (could carry an identifier)', (m) => (m.mac = 'aa:bb:cc:dd:ee:ff'), ''],
    ['unknown field inside a radio', (m) => (m.wifi.hashes = ['x']), 'wifi'],
    ['wrong version', (m) => (m.v = 2), 'v'],
    ['missing sensorId', (m) => delete m.sensorId, 'sensorId'],
    ['sensorId with capitals', (m) => (m.sensorId = 'Sensor-1'), 'sensorId'],
    ['sensorId with a slash', (m) => (m.sensorId = 'a/b'), 'sensorId'],
    ['window not aligned', (m) => (m.windowStart = 1_700_000_041), 'windowStart'],
    ['window length not allowed', (m) => (m.windowSeconds = 7), 'windowSeconds'],
    ['negative count', (m) => (m.wifi.frames = -1), 'wifi.frames'],
    ['fractional count', (m) => (m.wifi.devices = 1.5), 'wifi.devices'],
    ['huge count', (m) => (m.wifi.frames = 1e12), 'wifi.frames'],
    ['devices above frames', (m) => (m.wifi.devices = 41), 'wifi.devices'],
    ['randomized above devices', (m) => (m.wifi.randomized = 13), 'wifi.randomized'],
    ['count as string', (m) => (m.ble.devices = '3'), 'ble.devices'],
    ['histogram of the wrong length', (m) => (m.wifi.rssiHistogram = [1, 2]), 'wifi.rssiHistogram'],
    ['missing radio', (m) => delete m.ble, 'ble'],
    ['rssiFloor out of range', (m) => (m.rssiFloor = -500), 'rssiFloor'],
    ['seq negative', (m) => (m.seq = -1), 'seq'],
  ];
  it.each(invalid)('rejects %s', (_name, change, path) => {
    const r = CountsMessageSchema.safeParse(variant(change));
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toContain(path);
  });

  it('rejects non-objects and a __proto__ key without polluting Object.prototype', () => {
    for (const bad of [null, 42, 'x', [], undefined]) expect(CountsMessageSchema.safeParse(bad).success).toBe(false);
    const polluted = JSON.parse(JSON.stringify(valid()).replace('{', '{"__proto__":{"polluted":1},'));
    expect(CountsMessageSchema.safeParse(polluted).success).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('StatusMessageSchema', () => {
  it('accepts online with the counts schema and a bare offline will', () => {
    expect(
      StatusMessageSchema.safeParse({
        v: 1, state: 'online', role: 'sensor', id: 's-001', version: '0.1.0', startedAt: 1, radios: ['wifi'],
        countsSchema: countsMessageJsonSchema(),
      }).success,
    ).toBe(true);
    expect(StatusMessageSchema.safeParse({ v: 1, state: 'offline', role: 'sensor', id: 's-001' }).success).toBe(true);
  });
  it('rejects unknown states and fields', () => {
    expect(StatusMessageSchema.safeParse({ v: 1, state: 'maybe', role: 'sensor', id: 's' }).success).toBe(false);
    expect(StatusMessageSchema.safeParse({ v: 1, state: 'online', role: 'sensor', id: 's', ip: '10.0.0.1' }).success).toBe(false);
  });
});

describe('JSON Schema of the counts message', () => {
  it('is generated from zod, closed to unknown fields, and lists exactly the fields that leave a sensor', () => {
    const s = countsMessageJsonSchema() as any;
    expect(s.type).toBe('object');
    expect(s.additionalProperties).toBe(false);
    expect(Object.keys(s.properties).sort()).toEqual(
      ['ble', 'rssiFloor', 'sensorId', 'seq', 'v', 'wifi', 'windowSeconds', 'windowStart'].sort(),
    );
    expect(s.properties.wifi.additionalProperties).toBe(false);
    expect(Object.keys(s.properties.wifi.properties).sort()).toEqual(['devices', 'frames', 'randomized', 'rssiHistogram']);
  });
});

describe('rssiBucket', () => {
  it.each([
    [-120, 0], [-96, 0], [-95, 1], [-86, 1], [-85, 2], [-60, 4], [-55, 5], [-10, 5],
  ])('puts %d dBm in bucket %d', (rssi, bucket) => {
    expect(rssiBucket(rssi)).toBe(bucket);
    expect(bucket).toBeLessThan(RSSI_BUCKETS);
  });
});
