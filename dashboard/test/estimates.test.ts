import { describe, expect, it } from 'vitest';
import {
  ESTIMATE_MESSAGES,
  chartColumns,
  estimateState,
  estimatedBuckets,
  latestEstimate,
  parseEstimate,
  perMinuteFactor,
  type EstimateMessageKey,
} from '../src/estimates.ts';

const base = { t: [0, 60, 120], devices: [10, null, 12], suppressed: [0, 1, 0] };

describe('parseEstimate', () => {
  it('is null for a response without estimate fields (an older aggregator)', () => {
    expect(parseEstimate(base)).toBeNull();
    expect(parseEstimate(null)).toBeNull();
    expect(parseEstimate({ ...base, t: [0, 'x', 120], estimate: { reason: 'ok' } })).toBeNull();
  });

  it('reads people present with their interval, by bucket start, and the calibration facts', () => {
    const e = parseEstimate({
      ...base,
      people: [5, null, 6],
      peopleLow: [3, null, 4],
      peopleHigh: [7, null, 8],
      passers: [null, null, null],
      passersLow: [null, null, null],
      passersHigh: [null, null, null],
      estimate: { kind: 'present', calibrationId: 'abc', reason: 'hidden_buckets', calibratedAt: 1_700_000_000, message: 'x', warnings: ['baseline_moved', 'nonsense'] },
    });
    expect(e).not.toBeNull();
    expect(e!.unit).toBe('people');
    expect([...e!.byT]).toEqual([
      [0, { value: 5, low: 3, high: 7 }],
      [120, { value: 6, low: 4, high: 8 }],
    ]);
    expect(e!.info).toMatchObject({ kind: 'present', calibrationId: 'abc', calibratedAt: 1_700_000_000, warnings: ['baseline_moved'], points: null });
    expect(estimateState(e)).toBe('calibrated');
    expect(latestEstimate([0, 60, 120], e)).toEqual({ t: 120, point: { value: 6, low: 4, high: 8 } });
    expect(estimatedBuckets([0, 60, 120, 180], e)).toBe(2);
  });

  it('reads passers and puts them per minute on an hourly chart', () => {
    const e = parseEstimate({ t: [0, 3600], devices: [600, 1200], suppressed: [0, 0], passers: [120, 240], passersLow: [60, 180], passersHigh: [180, 300], estimate: { kind: 'passers', calibrationId: 'p', reason: 'ok' } });
    expect(e!.unit).toBe('passers');
    expect(perMinuteFactor('passers', 3600)).toBeCloseTo(1 / 60);
    expect(chartColumns([0, 3600, 7200], e, 3600)).toEqual({ value: [2, 4, null], low: [1, 3, null], high: [3, 5, null] });
  });

  it('keeps a bound the response lacks or gives on the wrong side as the value itself, and drops non-numbers', () => {
    const e = parseEstimate({ ...base, people: [5, 'x', 6], peopleLow: [9, null, null], estimate: { kind: 'present', reason: 'ok' } });
    expect([...e!.byT]).toEqual([
      [0, { value: 5, low: 5, high: 5 }],
      [120, { value: 6, low: 6, high: 6 }],
    ]);
  });

  it.each([
    ['not_calibrated', 'uncalibrated'],
    ['other_radio', 'otherRadio'],
    ['baseline_unknown', 'learning'],
    ['zone_not_calibrated', 'siteIncomplete'],
    ['mixed_kinds', 'siteMixed'],
    ['something_new', 'unavailable'],
  ])('reason %s without values is the state %s', (reason, expected) => {
    const e = parseEstimate({ ...base, people: [null, null, null], estimate: { kind: null, calibrationId: null, reason } });
    expect(estimateState(e)).toBe(expected);
    expect(e!.byT.size).toBe(0);
  });
});

describe('estimate messages', () => {
  it('has every key in both languages with the same placeholders', () => {
    const keys = Object.keys(ESTIMATE_MESSAGES.en).sort();
    expect(Object.keys(ESTIMATE_MESSAGES.nl).sort()).toEqual(keys);
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of keys as EstimateMessageKey[]) {
      expect(ESTIMATE_MESSAGES.nl[key].trim(), key).not.toBe('');
      expect(placeholders(ESTIMATE_MESSAGES.nl[key]), key).toEqual(placeholders(ESTIMATE_MESSAGES.en[key]));
    }
    expect(ESTIMATE_MESSAGES.nl.estPeople).toBe('Geschatte personen');
  });
});
