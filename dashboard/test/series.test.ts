import { describe, expect, it } from 'vitest';
import {
  MAX_BUCKETS,
  RANGES,
  densify,
  emptySeries,
  hasReleasedData,
  isRangeId,
  mergeBucket,
  perMinute,
  summarize,
  trimToWindow,
  windowAt,
  type Series,
} from '../src/series.ts';

const T0 = 1_700_000_040; // a multiple of 60
const series = (t: number[], devices: (number | null)[], suppressed = t.map(() => 0)): Series => ({ t, devices, suppressed });

describe('windowAt', () => {
  it.each([
    ['2h', T0 + 15, { from: T0 + 60 - 7200, to: T0 + 60, step: 60 }],
    ['24h', T0, { from: T0 + 60 - 86400, to: T0 + 60, step: 60 }],
    ['7d', 1_699_999_200 + 1800, { from: 1_699_999_200 + 3600 - 7 * 86400, to: 1_699_999_200 + 3600, step: 3600 }],
  ] as const)('%s at %i ends with the bucket that holds now', (range, now, expected) => {
    expect(windowAt(now, RANGES[range])).toEqual(expected);
  });

  it('knows its range ids', () => {
    expect(isRangeId('24h')).toBe(true);
    expect(isRangeId('1y')).toBe(false);
    expect(isRangeId(undefined)).toBe(false);
  });
});

describe('densify', () => {
  it('fills absent buckets with gaps and keeps the suppressed counts', () => {
    const s = series([T0, T0 + 120], [7, null], [0, 1]);
    expect(densify(s, { from: T0 - 60, to: T0 + 180, step: 60 })).toEqual(
      series([T0 - 60, T0, T0 + 60, T0 + 120], [null, 7, null, null], [0, 0, 0, 1]),
    );
  });

  it('drops buckets outside the window and times not on the step', () => {
    const s = series([T0 - 600, T0, T0 + 30, T0 + 60], [1, 2, 3, 4]);
    expect(densify(s, { from: T0, to: T0 + 120, step: 60 })).toEqual(series([T0, T0 + 60], [2, 4]));
  });

  it('keeps the most recent MAX_BUCKETS buckets of an overlong window', () => {
    const out = densify(emptySeries(), { from: 0, to: (MAX_BUCKETS + 10) * 60, step: 60 });
    expect(out.t).toHaveLength(MAX_BUCKETS);
    expect(out.t[0]).toBe(600);
    expect(out.devices.every((d) => d === null)).toBe(true);
  });

  it('gives an empty series for an empty window', () => {
    expect(densify(series([T0], [5]), { from: T0, to: T0, step: 60 })).toEqual(emptySeries());
  });
});

describe('mergeBucket', () => {
  const base = series([T0, T0 + 60], [6, 8]);

  it('appends the next minute', () => {
    expect(mergeBucket(base, { t: T0 + 120, devices: 9, suppressed: 0 }, 60)).toEqual(series([T0, T0 + 60, T0 + 120], [6, 8, 9]));
  });

  it('puts gaps (never zeros) in skipped minutes', () => {
    const out = mergeBucket(base, { t: T0 + 240, devices: 5, suppressed: 0 }, 60);
    expect(out).toEqual(series([T0, T0 + 60, T0 + 120, T0 + 180, T0 + 240], [6, 8, null, null, 5]));
  });

  it('replaces a minute that is released again', () => {
    const out = mergeBucket(base, { t: T0, devices: null, suppressed: 1 }, 60);
    expect(out).toEqual(series([T0, T0 + 60], [null, 8], [1, 0]));
  });

  it('inserts an earlier minute in order', () => {
    const s = series([T0, T0 + 120], [6, 8]);
    expect(mergeBucket(s, { t: T0 + 60, devices: 7, suppressed: 0 }, 60)).toEqual(series([T0, T0 + 60, T0 + 120], [6, 7, 8]));
    expect(mergeBucket(s, { t: T0 - 60, devices: 5, suppressed: 0 }, 60).t).toEqual([T0 - 60, T0, T0 + 120]);
  });

  it('starts an empty series', () => {
    expect(mergeBucket(emptySeries(), { t: T0, devices: null, suppressed: 1 }, 60)).toEqual(series([T0], [null], [1]));
  });

  it('ignores a bucket that is not on the step', () => {
    expect(mergeBucket(base, { t: T0 + 90, devices: 9, suppressed: 0 }, 60)).toBe(base);
    expect(mergeBucket(base, { t: T0 + 60.5, devices: 9, suppressed: 0 }, 60)).toBe(base);
  });

  it('does not change its input', () => {
    const copy = structuredClone(base);
    mergeBucket(base, { t: T0 + 600, devices: 9, suppressed: 0 }, 60);
    mergeBucket(base, { t: T0, devices: 1, suppressed: 1 }, 60);
    expect(base).toEqual(copy);
  });

  it('restarts after a gap longer than MAX_BUCKETS instead of filling it', () => {
    const out = mergeBucket(base, { t: T0 + 60 + (MAX_BUCKETS + 1) * 60, devices: 9, suppressed: 0 }, 60);
    expect(out).toEqual(series([T0 + 60 + (MAX_BUCKETS + 1) * 60], [9]));
  });

  it('keeps at most MAX_BUCKETS buckets', () => {
    const full = densify(emptySeries(), { from: T0, to: T0 + MAX_BUCKETS * 60, step: 60 });
    const out = mergeBucket(full, { t: T0 + MAX_BUCKETS * 60, devices: 9, suppressed: 0 }, 60);
    expect(out.t).toHaveLength(MAX_BUCKETS);
    expect(out.t[0]).toBe(T0 + 60);
    expect(out.devices.at(-1)).toBe(9);
  });
});

describe('trimToWindow', () => {
  it('keeps from <= t < to', () => {
    const s = series([T0, T0 + 60, T0 + 120, T0 + 180], [1, null, 3, 4], [0, 1, 0, 0]);
    expect(trimToWindow(s, { from: T0 + 60, to: T0 + 180 })).toEqual(series([T0 + 60, T0 + 120], [null, 3], [1, 0]));
    expect(trimToWindow(s, { from: T0 + 600, to: T0 + 900 })).toEqual(emptySeries());
  });
});

describe('perMinute', () => {
  it('leaves minutes as they are', () => {
    expect(perMinute(series([T0, T0 + 60], [3, null]), 60, T0 + 600)).toEqual([3, null]);
  });

  it('divides a complete hour by 60 and the hour under way by the minutes gone', () => {
    const h = 1_699_999_200;
    const s = series([h, h + 3600], [600, 90]);
    expect(perMinute(s, 3600, h + 3600 + 30 * 60)).toEqual([10, 3]);
    expect(perMinute(s, 3600, h + 3600 + 10)).toEqual([10, 90]); // less than a minute gone: divided by 1
    expect(perMinute(series([h], [null]), 3600, h + 7200)).toEqual([null]);
  });
});

describe('summarize', () => {
  it('gives the latest and busiest released minute and the hidden minutes', () => {
    const s = series([T0, T0 + 60, T0 + 120, T0 + 180], [12, 30, null, 9], [0, 0, 1, 0]);
    expect(summarize(s, { from: T0, to: T0 + 7200, step: 60 }, T0 + 240)).toEqual({
      latest: { t: T0 + 180, value: 9 },
      peak: { t: T0 + 60, value: 30 },
      hiddenMinutes: 1,
      totalMinutes: 120,
    });
  });

  it('has no latest or peak when everything is hidden', () => {
    const s = series([T0, T0 + 60], [null, null], [1, 1]);
    const out = summarize(s, { from: T0, to: T0 + 120, step: 60 }, T0 + 120);
    expect(out).toEqual({ latest: null, peak: null, hiddenMinutes: 2, totalMinutes: 2 });
    expect(hasReleasedData(s)).toBe(false);
    expect(hasReleasedData(series([T0], [0]))).toBe(true);
  });

  it('counts hidden minutes inside hours, in devices per minute', () => {
    const h = 1_699_999_200;
    const s = series([h, h + 3600], [1200, null], [10, 60]);
    const out = summarize(s, { from: h, to: h + 7200, step: 3600 }, h + 7200);
    expect(out.hiddenMinutes).toBe(70);
    expect(out.peak).toEqual({ t: h, value: 20 });
    expect(out.totalMinutes).toBe(120);
  });
});
