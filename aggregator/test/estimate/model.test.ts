import { describe, expect, it } from 'vitest';
import { estimateSeries, latestCalibration, zoneEstimate, type CalibrationForEstimate } from '../../src/estimate/estimate.ts';
import { fitCalibration, MIN_POINTS, periodPoint, predict, tQuantile975, type CalibrationPoint, type PeriodMinute } from '../../src/estimate/model.ts';
import { rng } from '../helpers/rng.ts';

/** A standard normal draw (Box-Muller) from a seeded uniform generator. */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * A world with a known truth: people in the zone per minute, each with on average `devicesPerPerson` radios (so the
 * true slope is 1 / devicesPerPerson), plus `baseline` static devices. Returns the head counts (one minute each) and
 * their minutes as the release layer would show them.
 */
function world(seed: number, counts: number, devicesPerPerson: number, baseline: number, hide: (i: number) => boolean = () => false) {
  const random = rng(seed);
  const points: CalibrationPoint[] = [];
  for (let i = 0; i < counts; i++) {
    const people = Math.round(5 + random() * 40);
    const moving = Math.max(0, Math.round(people * devicesPerPerson + normal(random) * 3));
    const minute: PeriodMinute = hide(i) ? { devices: null, suppressed: 1, baseline } : { devices: moving + baseline, suppressed: 0, baseline };
    points.push(periodPoint('present', { from: 1_700_000_000 + i * 900, to: 1_700_000_000 + i * 900, people }, [minute]));
  }
  return points;
}

describe('the t quantile', () => {
  it('matches the tables', () => {
    expect(tQuantile975(5)).toBeCloseTo(2.5706, 2);
    expect(tQuantile975(10)).toBeCloseTo(2.2281, 3);
    expect(tQuantile975(30)).toBeCloseTo(2.0423, 3);
    expect(tQuantile975(1000)).toBeCloseTo(1.9623, 3);
  });
});

describe('fitting people = a x (devices - baseline)', () => {
  it('recovers the true slope within its stated interval, and the interval covers about 95 % of new counts', () => {
    const truth = 1 / 1.6;
    let slopeInside = 0;
    let covered = 0;
    let predicted = 0;
    const trials = 200;
    for (let s = 0; s < trials; s++) {
      const fit = fitCalibration(world(1000 + s, 12, 1.6, 9));
      expect(fit.ok).toBe(true);
      if (!fit.ok) continue;
      const { a, aStdError, t } = fit.parameters;
      expect(fit.parameters.baseline).toBe(9);
      if (Math.abs(a - truth) <= t * aStdError) slopeInside++;
      // New counts from the same world: the prediction interval holds them about 95 % of the time.
      for (const p of world(5000 + s, 10, 1.6, 9)) {
        const pr = predict(fit.parameters, p.x!, 'present');
        predicted++;
        if (p.people >= pr.low && p.people <= pr.high) covered++;
      }
    }
    // 95 % intervals: with 200 trials the share lies in [0.91, 0.99] but by a 1-in-1000 chance.
    expect(slopeInside / trials).toBeGreaterThan(0.9);
    expect(covered / predicted).toBeGreaterThan(0.91);
    expect(covered / predicted).toBeLessThan(0.99);
  });

  it('refuses fewer than the minimum points and says how many it had', () => {
    const fit = fitCalibration(world(7, MIN_POINTS - 1, 1.6, 9));
    expect(fit.ok).toBe(false);
    if (!fit.ok) expect(fit.reason).toContain(`${MIN_POINTS - 1} usable counts; at least ${MIN_POINTS}`);
    expect(fitCalibration(world(7, MIN_POINTS, 1.6, 9)).ok).toBe(true);
  });

  it('uses only released minutes: counts whose minute is hidden are left out and counted', () => {
    const hidden = (i: number) => i % 4 === 0;
    const points = world(11, 16, 1.6, 9, hidden);
    const fit = fitCalibration(points);
    expect(fit.ok).toBe(true);
    expect(fit.usage).toEqual({ given: 16, used: 12, unusable: 4, minutesUsed: 12, minutesHidden: 4, minutesNoBaseline: 0 });
    // The same fit as from the released counts alone: the hidden ones changed nothing.
    const released = fitCalibration(points.filter((_, i) => !hidden(i)));
    expect(fit.ok && released.ok && fit.parameters.a).toBe(released.ok && released.parameters.a);
    // Too many hidden: refused, and the reason says why.
    const mostlyHidden = fitCalibration(world(11, 10, 1.6, 9, (i) => i % 2 === 0));
    expect(mostlyHidden.ok).toBe(false);
    if (!mostlyHidden.ok) expect(mostlyHidden.reason).toMatch(/5 of the 10 counts fell in periods with no released minute/);
  });

  it('a period mixes released and hidden minutes: x is the mean of the released ones; passers scale it to the period', () => {
    const minutes: PeriodMinute[] = [
      { devices: 20, suppressed: 0, baseline: 5 },
      { devices: null, suppressed: 1, baseline: 5 },
      { devices: 30, suppressed: 0, baseline: 5 },
      { devices: 12, suppressed: 0, baseline: null },
    ];
    const present = periodPoint('present', { from: 0, to: 240, people: 10 }, minutes);
    expect(present).toMatchObject({ x: 20, minutes: 4, minutesUsed: 2, minutesHidden: 1, minutesNoBaseline: 1, baseline: 5 });
    expect(periodPoint('passers', { from: 0, to: 240, people: 10 }, minutes).x).toBe(80);
  });

  it('refuses counts that do not rise with the devices', () => {
    // Most people when the zone held fewest moving devices: the fitted slope would be negative.
    const points = [-5, 1, 2, 3, 4, 5, 6].map((x, i) => periodPoint('present', { from: i, to: i, people: x < 0 ? 100 : 0 }, [{ devices: 10 + x, suppressed: 0, baseline: 10 }]));
    const fit = fitCalibration(points);
    if (!fit.ok) expect(fit.reason).toMatch(/do not rise with the devices/);
    expect(fit.ok).toBe(false);
  });
});

describe('estimating a released series', () => {
  const fit = fitCalibration(world(3, 20, 2, 8));
  if (!fit.ok) throw new Error('fit');
  const present: CalibrationForEstimate = { id: 'c1', kind: 'present', radio: 'wifi', created: 100, parameters: fit.parameters };

  it('gives people per bucket from released values only, null where hidden, with the reason', () => {
    // Minute buckets: 28 devices, baseline 8 -> 20 moving -> about 10 people; a hidden minute is null.
    const est = estimateSeries({ t: [0, 60, 120], devices: [28, null, 48], suppressed: [0, 1, 0], step: 60, radio: 'wifi' }, 8, present);
    expect(est.people[0]).toBeCloseTo(10, 0);
    expect(est.people[1]).toBeNull();
    expect(est.people[2]).toBeCloseTo(20, 0);
    expect(est.peopleLow[0]!).toBeLessThan(est.people[0]!);
    expect(est.peopleHigh[0]!).toBeGreaterThan(est.people[0]!);
    expect(est.passers).toEqual([null, null, null]);
    expect(est.estimate).toMatchObject({ kind: 'present', calibrationId: 'c1', reason: 'hidden_buckets' });
    // An hour with 10 suppressed minutes: the mean over its 50 released ones.
    const hour = estimateSeries({ t: [0], devices: [50 * 28], suppressed: [10], step: 3600, radio: 'wifi' }, 8, present);
    expect(hour.people[0]).toBe(est.people[0]);
    expect(hour.estimate.reason).toBe('ok');
  });

  it('says why when it cannot estimate at all', () => {
    const series = { t: [0], devices: [30], suppressed: [0], step: 60, radio: 'wifi' as const };
    expect(estimateSeries(series, 8, null).estimate.reason).toBe('not_calibrated');
    expect(estimateSeries({ ...series, radio: 'ble' }, 8, present).estimate.reason).toBe('other_radio');
    expect(estimateSeries(series, null, present).estimate.reason).toBe('baseline_unknown');
    expect(estimateSeries(series, null, present).people).toEqual([null]);
  });

  it('passers in a bucket scale with its length', () => {
    const passers: CalibrationForEstimate = { ...present, id: 'c2', kind: 'passers', parameters: { ...fit.parameters, a: 0.1, meanMinutes: 15 } };
    const est = estimateSeries({ t: [0, 3600], devices: [60 * 28, 60 * 28], suppressed: [0, 0], step: 3600, radio: 'wifi' }, [8, 8], passers);
    expect(est.passers[0]).toBeCloseTo(0.1 * 20 * 60, 5);
    expect(est.people).toEqual([null, null]);
    expect(est.estimate.kind).toBe('passers');
  });

  it('warns when the calibration is old or the baseline moved', () => {
    const series = { t: [0], devices: [30], suppressed: [0], step: 60, radio: 'wifi' as const };
    const fitted = present.parameters.baseline;
    expect(estimateSeries(series, 8, present, { now: present.created + 100 * 86_400, currentBaseline: fitted + 1 }).estimate.warnings).toEqual([]);
    expect(estimateSeries(series, 8, present, { now: present.created + 400 * 86_400 }).estimate.warnings).toEqual(['calibration_old']);
    expect(estimateSeries(series, 8, present, { currentBaseline: fitted + 6 }).estimate.warnings).toEqual(['baseline_moved']);
  });

  it('zoneEstimate applies the latest calibration of the radio with the baseline it was fitted with', () => {
    const older = { ...present, id: 'old', created: 10, parameters: { ...present.parameters, a: 5 } };
    const series = { t: [0], devices: [30], suppressed: [0], step: 60, radio: 'wifi' as const };
    const est = zoneEstimate({ list: (zone) => (zone === 'z' ? [older, present] : []) }, 'z', series);
    expect(est.estimate.calibrationId).toBe('c1');
    expect(est.people).toEqual(estimateSeries(series, present.parameters.baseline, present).people);
    expect(zoneEstimate({ list: () => [] }, 'z', series).estimate.reason).toBe('not_calibrated');
  });

  it('picks the latest calibration of the radio and kind', () => {
    const older = { ...present, id: 'a', created: 50 };
    const ble = { ...present, id: 'b', created: 500, radio: 'ble' as const };
    expect(latestCalibration([older, present, ble], 'wifi')?.id).toBe('c1');
    expect(latestCalibration([older, present, ble], 'wifi', 'passers')).toBeNull();
  });
});
