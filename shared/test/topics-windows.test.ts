import { describe, expect, it } from 'vitest';
import {
  assertValidId, isAligned, isValidId, parseTopic, topics, windowCount, windowRange, windowStartOf, windowStartOfMs,
} from '../src/index.ts';

describe('ids', () => {
  it.each(['s-001', 'a', '0abc', 'x'.repeat(64)])('accepts %s', (id) => expect(isValidId(id)).toBe(true));
  it.each(['', '-a', 'A', 'a/b', 'a+b', '#', 'x'.repeat(65), 'a b', 'é'])('rejects %j', (id) => {
    expect(isValidId(id)).toBe(false);
    expect(() => assertValidId(id, 'sensor id')).toThrow(/sensor id .* is not valid/);
  });
});

describe('topics', () => {
  it('builds and parses the sensor and aggregator topics', () => {
    expect(topics.sensorCounts('s-1')).toBe('passant/sensors/s-1/counts');
    expect(topics.sensorStatus('s-1')).toBe('passant/sensors/s-1/status');
    expect(topics.aggregatorStatus('agg-1')).toBe('passant/aggregators/agg-1/status');
    expect(parseTopic('passant/sensors/s-1/counts')).toEqual({ kind: 'sensor', sensorId: 's-1', channel: 'counts' });
    expect(parseTopic('passant/sensors/s-1/status')).toEqual({ kind: 'sensor', sensorId: 's-1', channel: 'status' });
    expect(parseTopic('passant/aggregators/a/status')).toEqual({ kind: 'aggregator', instanceId: 'a', channel: 'status' });
    expect(topics.shared('aggs', topics.allSensorCounts())).toBe('$share/aggs/passant/sensors/+/counts');
  });
  it.each([
    'passant/sensors/S-1/counts', 'passant/sensors/s-1/other', 'passant/sensors/s-1', 'other/sensors/s-1/counts',
    'passant/sensors/s-1/counts/extra', 'passant/sensors/+/counts', 'passant/aggregators/a/counts', '',
  ])('parses %j as not a Passant topic', (t) => expect(parseTopic(t)).toBeNull());
  it('refuses to build a topic from a bad id (no wildcard injection)', () => {
    expect(() => topics.sensorCounts('+')).toThrow();
    expect(() => topics.sensorCounts('a/#')).toThrow();
  });
});

describe('windows', () => {
  it('aligns to the clock', () => {
    expect(windowStartOf(119.9)).toBe(60);
    expect(windowStartOf(120)).toBe(120);
    expect(windowStartOf(3599, 3600)).toBe(0);
    expect(windowStartOfMs(61_500)).toBe(60);
    expect(isAligned(120)).toBe(true);
    expect(isAligned(121)).toBe(false);
    expect(isAligned(120.5)).toBe(false);
  });
  it('enumerates window ranges with an exclusive end', () => {
    expect(windowRange(60, 240)).toEqual([60, 120, 180]);
    expect(windowRange(61, 240)).toEqual([60, 120, 180]);
    expect(windowRange(240, 240)).toEqual([]);
    expect(windowCount(60, 240)).toBe(3);
    expect(windowCount(240, 60)).toBe(0);
  });
});
