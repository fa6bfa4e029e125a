import { MAX_PAYLOAD_BYTES } from '@passant/shared';
import { describe, expect, it } from 'vitest';
import { validateCounts, validateSensorStatus } from '../../src/index.ts';
import { countsMessage } from '../helpers/messages.ts';

const NOW = 1_700_000_100;
const T = 1_700_000_040;
const opts = { now: NOW, maxFutureSeconds: 120, minWindowStart: T - 60 };
const topic = 'passant/sensors/s1/counts';
const good = () => countsMessage('s1', T, 5, 1);

describe('validateCounts', () => {
  it('accepts a valid message and returns it', () => {
    const message = good();
    const verdict = validateCounts(topic, Buffer.from(JSON.stringify(message)), opts);
    expect(verdict).toEqual({ ok: true, message });
  });

  it.each([
    { name: 'a topic that is not a counts topic', topic: 'passant/sensors/s1/status', payload: JSON.stringify(good()), reason: 'invalid_topic' },
    { name: 'a topic with an invalid id', topic: 'passant/sensors/S1/counts', payload: JSON.stringify(good()), reason: 'invalid_topic' },
    { name: 'a foreign topic', topic: 'other/sensors/s1/counts', payload: JSON.stringify(good()), reason: 'invalid_topic' },
    { name: 'too large a payload', topic, payload: 'x'.repeat(MAX_PAYLOAD_BYTES + 1), reason: 'payload_too_large' },
    { name: 'not JSON', topic, payload: '{"v":1,', reason: 'invalid_json' },
    { name: 'invalid UTF-8', topic, payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), reason: 'invalid_json' },
    { name: 'JSON that is not an object', topic, payload: '[1,2]', reason: 'invalid_schema' },
    { name: 'an unknown field', topic, payload: JSON.stringify({ ...good(), mac: 'aa:bb:cc:dd:ee:ff' }), reason: 'invalid_schema' },
    { name: 'a missing field', topic, payload: JSON.stringify({ ...good(), seq: undefined }), reason: 'invalid_schema' },
    { name: 'randomized above devices', topic, payload: JSON.stringify({ ...good(), wifi: { ...good().wifi, randomized: 99 } }), reason: 'randomized_above_devices' },
    { name: 'devices above frames', topic, payload: JSON.stringify({ ...good(), ble: { ...good().ble, devices: 4, frames: 3 } }), reason: 'devices_above_frames' },
    { name: 'a window older than the earliest start', topic, payload: JSON.stringify({ ...good(), windowStart: T - 3600 }), reason: 'window_too_old' },
    { name: 'a window of 1970', topic, payload: JSON.stringify({ ...good(), windowStart: 0 }), reason: 'window_too_old' },
    { name: 'an unaligned window', topic, payload: JSON.stringify({ ...good(), windowStart: T + 1 }), reason: 'invalid_schema' },
    { name: 'another sensor in the payload', topic: 'passant/sensors/s2/counts', payload: JSON.stringify(good()), reason: 'sensor_mismatch' },
    { name: 'a 10-second window', topic, payload: JSON.stringify({ ...good(), windowSeconds: 10 }), reason: 'unsupported_window' },
    { name: 'a window far in the future', topic, payload: JSON.stringify({ ...good(), windowStart: T + 600 }), reason: 'future_window' },
  ])('rejects $name as $reason', ({ topic: t, payload, reason }) => {
    const verdict = validateCounts(t, typeof payload === 'string' ? Buffer.from(payload) : payload, opts);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toBe(reason);
  });

  it('accepts a window starting up to maxFutureSeconds ahead (clock skew)', () => {
    const message = { ...good(), windowStart: T + 120 }; // NOW + 80
    expect(validateCounts(topic, JSON.stringify(message), opts).ok).toBe(true);
  });

  it('a __proto__ key is rejected and pollutes nothing', () => {
    const payload = `{"__proto__":{"polluted":true},${JSON.stringify(good()).slice(1)}`;
    const verdict = validateCounts(topic, Buffer.from(payload), opts);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toBe('invalid_schema');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    const nested = JSON.stringify(good()).replace('"wifi":{', '"wifi":{"__proto__":{"polluted":true},');
    expect(validateCounts(topic, nested, opts).ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('schema issues carry codes and schema paths, never the values', () => {
    const verdict = validateCounts(topic, JSON.stringify({ ...good(), sensorId: 'AA:BB:CC:DD:EE:FF' }), opts);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.issues).toEqual([{ code: 'invalid_format', path: 'sensorId' }]);
      expect(JSON.stringify(verdict)).not.toMatch(/AA:BB/i);
    }
  });
});

describe('validateSensorStatus', () => {
  const status = { v: 1, state: 'online', role: 'sensor', id: 's1', version: '0.1.0', startedAt: T };
  it('accepts a sensor status for the topic sensor', () => {
    expect(validateSensorStatus('s1', JSON.stringify(status))).toEqual({ ok: true, message: status });
  });
  it('rejects another id, an aggregator role, junk', () => {
    expect(validateSensorStatus('s2', JSON.stringify(status))).toMatchObject({ ok: false, reason: 'sensor_mismatch' });
    expect(validateSensorStatus('s1', JSON.stringify({ ...status, role: 'aggregator' }))).toMatchObject({ ok: false, reason: 'sensor_mismatch' });
    expect(validateSensorStatus('s1', 'online')).toMatchObject({ ok: false, reason: 'invalid_json' });
    expect(validateSensorStatus('s1', JSON.stringify({ ...status, extra: 1 }))).toMatchObject({ ok: false, reason: 'invalid_schema' });
  });
});
