/**
 * Calibration with the static baseline on (the aggregator's default): a zone whose sensor always hears 12 fixed
 * devices, people with two devices each by day. Fitted on released minutes minus the baseline the release layer
 * learnt from the nights, the slope is the truth (1/2); a fit that forgot the baseline would not be.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CountsMessage } from '@passant/shared';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { estimateSeries } from '../../src/estimate/estimate.ts';
import { makeDataDir, removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';
import { rng } from '../helpers/rng.ts';

const DAY = 86_400;
const HOUR = 3600;
const STATIC = 12;
/** Two whole days before the calibration day, so the baseline is known (12 hours of history at least). */
const BASE = Math.floor(Date.now() / 1000 / DAY) * DAY - 3 * DAY;
const CAL_DAY = BASE + 2 * DAY;

const random = rng(7);
/** People in the zone at minute t: nobody at night, 5-35 by day (08-20 UTC). */
function peopleAt(t: number): number {
  const hour = Math.floor((t % DAY) / HOUR);
  return hour >= 8 && hour < 20 ? 5 + Math.floor(random() * 31) : 0;
}

let broker: TestBroker;
let agg: TestAggregator;
const people = new Map<number, number>();

beforeAll(async () => {
  broker = await startAedes();
  const now = CAL_DAY + 20 * HOUR;
  agg = await startTestAggregator(
    broker.url,
    { aggregator: { id: 'calibration-baseline' }, k: 5, zones: [{ id: 'hall', name: 'Hall', sensors: ['s1'] }], baseline: { enabled: true }, log: { level: 'warn' } },
    { dataDir: makeDataDir(), now: () => now },
  );
  const messages: CountsMessage[] = [];
  for (let t = BASE; t < CAL_DAY + 20 * HOUR; t += 60) {
    const p = peopleAt(t);
    people.set(t, p);
    // The fixed devices, one of them now and then quiet; two devices a person.
    messages.push(countsMessage('s1', t, STATIC - (random() < 0.1 ? 1 : 0) + 2 * p));
  }
  for (let i = 0; i < messages.length; i += 500) await agg.store.put(messages.slice(i, i + 500), now - 60);
  while ((await agg.release.settle()).length > 0);
}, 120_000);

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await broker?.close();
});

describe('calibration with the static baseline', () => {
  it('subtracts the baseline the release layer learnt: the slope is 1/2 and the calibration keeps the baseline', async () => {
    const admin = agg.tokens.create({ role: 'admin' }).token;
    const counts = Array.from({ length: 16 }, (_, i) => CAL_DAY + 9 * HOUR + i * 15 * 60).map((t) => ({ from: t, to: t, people: people.get(t)! }));
    const res = await fetch(`${agg.url}/api/v1/zones/hall/calibrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'present', counts }),
    });
    const c = (await res.json()) as any;
    expect(res.status, JSON.stringify(c)).toBe(201);
    expect(c.parameters.baseline).toBe(STATIC);
    expect(Math.abs(c.parameters.a - 0.5)).toBeLessThan(0.01);
    expect(c.points).toMatchObject({ given: 16, used: 16, minutesNoBaseline: 0 });

    // The estimate of the day's released hours is the truth within the interval (the last hour may not have settled).
    const series = (await agg.release.series('hall', { from: CAL_DAY + 8 * HOUR, to: CAL_DAY + 19 * HOUR, step: HOUR, radio: 'wifi' }))!;
    const est = estimateSeries({ ...series, step: HOUR, radio: 'wifi' }, c.parameters.baseline, c);
    expect(est.estimate.reason).toBe('ok');
    for (let i = 0; i < series.t.length; i++) {
      let sum = 0;
      for (let m = 0; m < 60; m++) sum += people.get(series.t[i]! + m * 60)!;
      expect(est.peopleLow[i]!).toBeLessThanOrEqual(sum / 60);
      expect(est.peopleHigh[i]!).toBeGreaterThanOrEqual(sum / 60);
      expect(Math.abs(est.people[i]! - sum / 60)).toBeLessThan(0.5);
    }
  });
});
