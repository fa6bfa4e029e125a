/**
 * Estimates and the index in every series output, over real HTTP (real SQLite file, aedes broker): generated data
 * with a known truth (people per minute; each person carries two devices, give or take one), a calibration made
 * through the real POST route from head counts of the truth, then series (minutes, hours, days, calendar days),
 * CSV and compare of a calibrated zone, an uncalibrated one and sites of both, with and without a reference.
 */
import { CompareSchema, SeriesSchema } from '@passant/shared/api-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { combineZoneEstimates, indexSeries } from '../../src/http/estimates.ts';
import { estimateSeries } from '../../src/estimate/estimate.ts';
import { removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';
import { rng } from '../helpers/rng.ts';

/** 2023-11-14T00:00:00Z, a Tuesday. */
const BASE = 1_699_920_000;
const HOURS = 6;
const MINUTES = HOURS * 60;
const random = rng(11);
/** People per minute in the calibrated zone: busy, with a quiet stretch (minutes 130-139) whose cells are hidden. */
const PEOPLE = Array.from({ length: MINUTES }, (_, i) => (i >= 130 && i < 140 ? 1 : 5 + Math.floor(random() * 25 * (1 + Math.sin(i / 40)))));
const DEVICES = PEOPLE.map((p) => 2 * p + (Math.floor(random() * 3) - 1));
/** The other zones: twice as busy (calibrated with passers) and uncalibrated. */
const DEVICES_B = PEOPLE.map((p) => 4 * p + 1);
const DEVICES_C = PEOPLE.map((p) => p + 6);

let broker: TestBroker;
let agg: TestAggregator;
let admin: string;
let now = BASE + MINUTES * 60 + 3600;
let calibrationId: string;

async function get(url: string, token = admin): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${agg.url}${url}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // CSV
  }
  return { status: res.status, body, text };
}

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${agg.url}${url}`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

beforeAll(async () => {
  broker = await startAedes();
  agg = await startTestAggregator(
    broker.url,
    {
      aggregator: { id: 'series-estimates' },
      k: 5,
      settleSeconds: 60,
      zones: [
        { id: 'calib', name: 'Calibrated', sensors: ['c1'] },
        { id: 'busy', name: 'Busy', sensors: ['b1'] },
        { id: 'plain', name: 'Plain', sensors: ['p1'] },
        { id: 'other', name: 'Other', sensors: ['o1'] },
        { id: 'lane', name: 'Lane', sensors: ['l1'] },
      ],
      sites: [
        { id: 'mixed', name: 'Calibrated and not', zones: ['other', 'plain'] },
        { id: 'pair', name: 'Two calibrated', zones: ['calib', 'busy'] },
      ],
      http: { rateLimitPerMinute: 0 },
      log: { level: 'warn' },
    },
    { now: () => now },
  );
  const messages = PEOPLE.flatMap((_, i) => [
    countsMessage('c1', BASE + 60 * i, DEVICES[i]),
    countsMessage('b1', BASE + 60 * i, DEVICES_B[i]),
    countsMessage('p1', BASE + 60 * i, DEVICES_C[i]),
    countsMessage('o1', BASE + 60 * i, DEVICES[i]),
    countsMessage('l1', BASE + 60 * i, DEVICES[i]),
  ]);
  for (let i = 0; i < messages.length; i += 300) await agg.store.put(messages.slice(i, i + 300), BASE + MINUTES * 60);
  await agg.release.settle();
  admin = agg.tokens.create({ role: 'admin' }).token;
  // head counts every 15 minutes of the first three hours: the truth
  const counts = Array.from({ length: 12 }, (_, j) => j * 15 + 3).map((m) => ({ from: BASE + m * 60 + 20, to: BASE + m * 60 + 20, people: PEOPLE[m]! }));
  const calibration = await post('/api/v1/zones/calib/calibrations', { kind: 'present', counts });
  expect(calibration.status).toBe(201);
  calibrationId = calibration.body.id;
  // busy: the same people every minute, counted as present too (a site sums zones of one kind)
  const busy = await post('/api/v1/zones/busy/calibrations', { kind: 'present', counts });
  expect(busy.status).toBe(201);
  expect((await post('/api/v1/zones/other/calibrations', { kind: 'present', counts })).status).toBe(201);
  // lane: passers, a clicker count per 15 minutes of the first three hours (each minute's people pass by: the truth)
  const clicks = Array.from({ length: 12 }, (_, j) => ({ from: BASE + j * 900, to: BASE + (j + 1) * 900, people: PEOPLE.slice(j * 15, j * 15 + 15).reduce((a, b) => a + b, 0) }));
  expect((await post('/api/v1/zones/lane/calibrations', { kind: 'passers', counts: clicks })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await broker?.close();
});

describe('series of a calibrated zone', () => {
  it('per hour: estimated people bracket the true mean per minute, with the calibration named', async () => {
    const { status, body } = await get(`/api/v1/zones/calib/series?from=${BASE}&to=${BASE + MINUTES * 60}&step=3600`);
    expect(status).toBe(200);
    expect(body.estimate).toMatchObject({ kind: 'present', calibrationId, calibratedAt: now, reason: 'ok', warnings: [] });
    expect(body.passers).toEqual(new Array(HOURS).fill(null));
    for (let h = 0; h < HOURS; h++) {
      const truth = mean(PEOPLE.slice(h * 60, h * 60 + 60));
      expect(body.peopleLow[h], `hour ${h}`).toBeLessThanOrEqual(truth);
      expect(body.peopleHigh[h], `hour ${h}`).toBeGreaterThanOrEqual(truth);
      expect(body.people[h]).toBeGreaterThan(body.peopleLow[h]);
      expect(Math.abs(body.people[h] - truth) / truth).toBeLessThan(0.25);
    }
  });

  it('per minute: null where the cell is hidden, never an estimate of a hidden cell; most minutes bracket the truth', async () => {
    const { body } = await get(`/api/v1/zones/calib/series?from=${BASE}&to=${BASE + MINUTES * 60}&step=60`);
    expect(body.estimate.reason).toBe('hidden_buckets');
    let inside = 0;
    for (let i = 0; i < MINUTES; i++) {
      if (body.devices[i] === null) {
        expect(body.people[i]).toBeNull();
        expect(body.peopleLow[i]).toBeNull();
        expect(body.peopleHigh[i]).toBeNull();
        continue;
      }
      if (body.peopleLow[i] <= PEOPLE[i]! && PEOPLE[i]! <= body.peopleHigh[i]) inside++;
    }
    const hidden = body.devices.filter((d: number | null) => d === null).length;
    expect(hidden).toBe(10);
    // a 95 % interval: at least 90 % of the released minutes
    expect(inside / (MINUTES - hidden)).toBeGreaterThan(0.9);
  });

  it('calendar days in a time zone, and days in seconds: the same estimates of the whole day', async () => {
    const days = await get(`/api/v1/zones/calib/series?from=${BASE}&to=${BASE + 3600}&step=day&tz=UTC`);
    const seconds = await get(`/api/v1/zones/calib/series?from=${BASE}&to=${BASE + 86_400}&step=86400`);
    expect(days.body.people).toHaveLength(1);
    expect(days.body.people[0]).not.toBeNull();
    expect(days.body.released).toEqual([MINUTES - 10]);
    expect(seconds.body.people).toEqual(days.body.people);
    expect(seconds.body.released).toBeUndefined();
    const truth = mean(PEOPLE);
    expect(days.body.peopleLow[0]).toBeLessThanOrEqual(truth);
    expect(days.body.peopleHigh[0]).toBeGreaterThanOrEqual(truth);
  });

  it('CSV: the estimate columns, named, empty where hidden', async () => {
    const { status, text } = await get(`/api/v1/zones/calib/series.csv?from=${BASE + 125 * 60}&to=${BASE + 145 * 60}&step=60`);
    expect(status).toBe(200);
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe('zone,name,radio,time,unix,devices,suppressed,estimated_people_mean_per_minute,estimated_people_low_95,estimated_people_high_95');
    const hidden = lines.slice(1).filter((l) => l.split(',')[5] === '');
    expect(hidden).toHaveLength(10);
    for (const line of hidden) expect(line.endsWith(',1,,,')).toBe(true);
    const json = await get(`/api/v1/zones/calib/series?from=${BASE + 125 * 60}&to=${BASE + 145 * 60}&step=60`);
    expect(lines[1]!.split(',').slice(7).map(Number)).toEqual([json.body.people[0], json.body.peopleLow[0], json.body.peopleHigh[0]]);
  });

  it('compare: the estimate fields per period', async () => {
    const { status, body } = await get(`/api/v1/zones/calib/compare?from=${BASE + 3 * 3600}&to=${BASE + 6 * 3600}&step=3600`);
    expect(status).toBe(200);
    expect(body.current.people).toHaveLength(3);
    expect(body.current.people.every((p: number | null) => p !== null)).toBe(true);
    expect(body.current.estimate).toMatchObject({ kind: 'present', calibrationId });
    // the period before: hours 0-2, with data; a week before: none, so null with the reason
    expect(body.previous.people.every((p: number | null) => p !== null)).toBe(true);
    expect(body.lastWeek.people).toEqual([null, null, null]);
    expect(body.lastWeek.estimate.reason).toBe('hidden_buckets');
  });
});

describe('passers', () => {
  it('per hour: estimated passers bracket the true passers of the hour; people are null', async () => {
    const { body } = await get(`/api/v1/zones/lane/series?from=${BASE}&to=${BASE + MINUTES * 60}&step=3600`);
    expect(body.estimate).toMatchObject({ kind: 'passers', reason: 'ok' });
    expect(body.people).toEqual(new Array(HOURS).fill(null));
    for (let h = 0; h < HOURS; h++) {
      const truth = PEOPLE.slice(h * 60, h * 60 + 60).reduce((a, b) => a + b, 0);
      expect(body.passersLow[h], `hour ${h}`).toBeLessThanOrEqual(truth);
      expect(body.passersHigh[h], `hour ${h}`).toBeGreaterThanOrEqual(truth);
      expect(Math.abs(body.passers[h] - truth) / truth).toBeLessThan(0.25);
    }
    const csv = await get(`/api/v1/zones/lane/series.csv?from=${BASE}&to=${BASE + 3600}&step=3600`);
    expect(csv.text.split('\r\n')[0]).toBe('zone,name,radio,time,unix,devices,suppressed,estimated_passers,estimated_passers_low_95,estimated_passers_high_95');
    // the exports people open carry them too, named as estimates, with the index when a reference is named; Dutch
    // Excel with a decimal comma
    const ref = `${BASE},${BASE + 3600}`;
    const json = await get(`/api/v1/zones/lane/series?from=${BASE}&to=${BASE + 7200}&step=3600&reference=${ref}`);
    const nl = await get(`/api/v1/zones/lane/series.csv?from=${BASE}&to=${BASE + 7200}&step=3600&reference=${ref}&format=csv-nl`);
    const [header, ...rows] = nl.text.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(header!.split(';').slice(-4)).toEqual([
      'geschat aantal passanten (een schatting uit een kalibratie)',
      'geschat aantal passanten: ondergrens (95 %)',
      'geschat aantal passanten: bovengrens (95 %)',
      'index (referentieperiode = 100)',
    ]);
    const cells = (line: string) => line.split(';').slice(-4).map((v) => (v === '' ? null : Number(v.replace(',', '.'))));
    expect(rows.map(cells)).toEqual(json.body.t.map((_: number, i: number) => [json.body.passers[i], json.body.passersLow[i], json.body.passersHigh[i], json.body.index[i]]));
    const en = await get(`/api/v1/zones/lane/series.csv?from=${BASE}&to=${BASE + 7200}&step=3600&format=csv`);
    expect(en.text.replace(/^\uFEFF/, '').split('\r\n')[0]!.split(',').slice(-3)).toEqual([
      'estimated passers (an estimate from a calibration)',
      'estimated passers: low end (95 %)',
      'estimated passers: high end (95 %)',
    ]);
  });

  it('per day: the passers of the minutes the sensor counted, hidden minutes as what they can hold', async () => {
    const { body } = await get(`/api/v1/zones/lane/series?from=${BASE}&to=${BASE + 86_400}&step=day&tz=UTC`);
    // the day has data for six hours only: the other 18 add nothing (as with devices), not a guess
    expect(body.minutes).toEqual([1440]);
    const truth = PEOPLE.reduce((a, b) => a + b, 0);
    expect(body.passersLow[0]).toBeLessThanOrEqual(truth);
    expect(body.passersHigh[0]).toBeGreaterThanOrEqual(truth);
    expect(Math.abs(body.passers[0] - truth) / truth).toBeLessThan(0.2);
  });
});

describe('zones and sites without a calibration', () => {
  it('an uncalibrated zone: every estimate null, with the reason; the CSV keeps its columns', async () => {
    const { body } = await get(`/api/v1/zones/plain/series?from=${BASE}&to=${BASE + 7200}&step=3600`);
    expect(body.devices.every((d: number | null) => d !== null)).toBe(true);
    for (const f of ['people', 'peopleLow', 'peopleHigh', 'passers', 'passersLow', 'passersHigh']) expect(body[f]).toEqual([null, null]);
    expect(body.estimate).toMatchObject({ kind: null, calibrationId: null, reason: 'not_calibrated' });
    const csv = await get(`/api/v1/zones/plain/series.csv?from=${BASE}&to=${BASE + 7200}&step=3600`);
    expect(csv.text.split('\r\n')[0]).toBe('zone,name,radio,time,unix,devices,suppressed');
  });

  it('the other radio: null, and says the calibration is for wifi', async () => {
    const { body } = await get(`/api/v1/zones/calib/series?from=${BASE}&to=${BASE + 7200}&step=3600&radio=ble`);
    expect(body.people).toEqual([null, null]);
    expect(body.estimate).toMatchObject({ reason: 'other_radio', calibrationId });
  });

  it('a site with an uncalibrated zone: null, naming the zone', async () => {
    const { body } = await get(`/api/v1/sites/mixed/series?from=${BASE}&to=${BASE + 7200}&step=3600`);
    expect(body.people).toEqual([null, null]);
    expect(body.estimate.reason).toBe('zone_not_calibrated');
    expect(body.estimate.message).toContain('plain');
    expect(body.estimate.zones).toEqual([
      expect.objectContaining({ zoneId: 'other', kind: 'present' }),
      expect.objectContaining({ zoneId: 'plain', kind: null, reason: 'not_calibrated' }),
    ]);
  });

  it('a site whose zones are all calibrated: the sum of the zones, hidden where any zone is', async () => {
    const range = `from=${BASE + 120 * 60}&to=${BASE + 150 * 60}&step=60`;
    const [site, a, b] = await Promise.all([get(`/api/v1/sites/pair/series?${range}`), get(`/api/v1/zones/calib/series?${range}`), get(`/api/v1/zones/busy/series?${range}`)]);
    expect(site.body.estimate).toMatchObject({ kind: 'present', calibrationId: null, reason: 'hidden_buckets' });
    for (let i = 0; i < 30; i++) {
      if (a.body.people[i] === null || b.body.people[i] === null) expect(site.body.people[i]).toBeNull();
      else {
        expect(site.body.people[i]).toBeCloseTo(a.body.people[i] + b.body.people[i], 5);
        expect(site.body.peopleLow[i]).toBeCloseTo(a.body.peopleLow[i] + b.body.peopleLow[i], 5);
      }
    }
    expect(site.body.devices).toEqual(a.body.devices.map((d: number | null, i: number) => (d === null && b.body.devices[i] === null ? null : (d ?? 0) + (b.body.devices[i] ?? 0))));
  });
});

describe('the index against a reference period', () => {
  it('is 100 over the reference itself, and the released-weighted mean of its minutes is 100', async () => {
    const ref = `${BASE + 3600},${BASE + 3 * 3600}`;
    const whole = await get(`/api/v1/zones/plain/series?from=${BASE + 3600}&to=${BASE + 3 * 3600}&step=7200&reference=${ref}`);
    expect(whole.status).toBe(400); // 7200 is no step
    const hours = await get(`/api/v1/zones/plain/series?from=${BASE + 3600}&to=${BASE + 3 * 3600}&step=3600&reference=${ref}`);
    expect(hours.body.reference).toMatchObject({ from: BASE + 3600, to: BASE + 3 * 3600, releasedCells: 120, reason: 'ok' });
    expect((hours.body.index[0] + hours.body.index[1]) / 2).toBeCloseTo(100, 1);
    const day = await get(`/api/v1/zones/calib/series?from=${BASE}&to=${BASE + 3600}&step=day&tz=UTC&reference=${BASE},${BASE + MINUTES * 60}`);
    expect(day.body.index).toEqual([100]);
  });

  it('follows the level: twice the people, about twice the index; null where nothing was released', async () => {
    const { body } = await get(`/api/v1/zones/calib/series?from=${BASE}&to=${BASE + MINUTES * 60}&step=60&reference=${BASE},${BASE + 3600}`);
    const refMean = mean(DEVICES.slice(0, 60));
    for (let i = 0; i < MINUTES; i++) {
      if (body.devices[i] === null) expect(body.index[i]).toBeNull();
      else expect(body.index[i]).toBeCloseTo((100 * DEVICES[i]!) / refMean, 1);
    }
  });

  it('a site: per released zone-minute; the CSV gets its column', async () => {
    const { body } = await get(`/api/v1/sites/mixed/series?from=${BASE}&to=${BASE + 7200}&step=3600&reference=${BASE},${BASE + 7200}`);
    expect(body.reference.releasedCells).toBe(240);
    expect((body.index[0] + body.index[1]) / 2).toBeCloseTo(100, 1);
    const csv = await get(`/api/v1/sites/mixed/series.csv?from=${BASE}&to=${BASE + 7200}&step=3600&reference=${BASE},${BASE + 7200}`);
    expect(csv.text.split('\r\n')[0]).toBe('site,name,radio,time,unix,devices,suppressed,index_reference_100');
    expect(Number(csv.text.split('\r\n')[1]!.split(',').at(-1))).toBe(body.index[0]);
  });

  it('a reference without released data: null, and says so', async () => {
    const { body } = await get(`/api/v1/zones/calib/series?from=${BASE}&to=${BASE + 7200}&step=3600&reference=${BASE - 7200},${BASE}`);
    expect(body.index).toEqual([null, null]);
    expect(body.reference).toMatchObject({ releasedCells: 0, reason: 'nothing_released' });
  });

  it('compare takes a reference too', async () => {
    const { body } = await get(`/api/v1/zones/calib/compare?from=${BASE + 3 * 3600}&to=${BASE + 6 * 3600}&step=3600&reference=${BASE},${BASE + 3 * 3600}`);
    expect(body.current.index).toHaveLength(3);
    expect(body.previous.index.reduce((s: number, v: number) => s + v, 0) / 3).toBeGreaterThan(95);
    expect(body.lastWeek.index).toEqual([null, null, null]);
  });

  it.each([
    ['1,2,3', /from,to/],
    ['abc', /from,to/],
    [`${BASE + 3600},${BASE}`, /end after it starts/],
    [`${BASE},${BASE + 30}`, /end after it starts/],
    [`${BASE},${BASE + 10 * 86_400 * 100}`, /future/],
    [`${BASE - 401 * 86_400},${BASE}`, /spans 401 days/],
  ])('reference=%s is a 400 that says why', async (reference, message) => {
    const { status, body } = await get(`/api/v1/zones/calib/series?from=${BASE}&to=${BASE + 3600}&reference=${reference}`);
    expect(status).toBe(400);
    // { error: { code, message } }, or a problem response (RFC 9457) with code and detail
    expect(body.code ?? body.error.code).toMatch(/invalid_reference|invalid_parameter/);
    expect(body.detail ?? body.error.message).toMatch(message);
  });
});

describe('the response schemas (the OpenAPI document is generated from them)', () => {
  it('every series and compare body here validates, estimates, index and reference included', async () => {
    const urls = [
      `/api/v1/zones/calib/series?from=${BASE}&to=${BASE + 7200}&step=60&reference=${BASE},${BASE + 7200}`,
      `/api/v1/zones/plain/series?from=${BASE}&to=${BASE + 7200}&step=3600`,
      `/api/v1/sites/pair/series?from=${BASE}&to=${BASE + 86_400}&step=day&tz=Europe/Amsterdam&reference=${BASE},${BASE + 7200}`,
      `/api/v1/sites/mixed/series?from=${BASE}&to=${BASE + 7200}&step=3600`,
      `/api/v1/zones/calib/series?from=${BASE}&to=${BASE + 7200}&step=3600&radio=ble`,
      `/api/v1/zones/calib/series?from=${BASE}&to=${BASE + 7200}&step=month&tz=UTC&reference=${BASE},${BASE + 7200}`,
      `/api/v1/sites/pair/series?from=${BASE}&to=${BASE + 7200}&step=week&tz=Europe/Amsterdam`,
    ];
    for (const url of urls) {
      const { status, body } = await get(url);
      expect(status, url).toBe(200);
      const result = SeriesSchema.safeParse(body);
      expect(result.success ? [] : result.error.issues.slice(0, 3), url).toEqual([]);
    }
    const compare = await get(`/api/v1/sites/pair/compare?from=${BASE + 3 * 3600}&to=${BASE + 6 * 3600}&step=3600&reference=${BASE},${BASE + 3600}`);
    const result = CompareSchema.safeParse(compare.body);
    expect(result.success ? [] : result.error.issues.slice(0, 3)).toEqual([]);
  });
});

describe('pure parts', () => {
  it('indexSeries: per released cell, null without released cells or reference', () => {
    expect(indexSeries([10, null, 30, 5], [1, 0, 2, 0], { devices: 40, released: 4 })).toEqual([100, null, 150, null]);
    expect(indexSeries([10], [1], { devices: null, released: 0 })).toEqual([null]);
    expect(indexSeries([10], [1], { devices: 0, released: 3 })).toEqual([null]);
  });

  it('combineZoneEstimates: sums where every zone has a value, else null with the reason', () => {
    const cal = (id: string, kind: 'present' | 'passers') => ({ id, kind, radio: 'wifi' as const, created: 0, parameters: { a: 0.5, aStdError: 0.01, residualSd: 1, df: 9, sumX2: 1000, t: 2.26, meanMinutes: 1, baseline: 0 } });
    const series = (devices: (number | null)[]) => ({ t: devices.map((_, i) => i * 60), devices, suppressed: devices.map((d) => (d === null ? 1 : 0)), step: 60, radio: 'wifi' as const });
    const a = estimateSeries(series([10, null, 20]), 0, cal('a', 'present'));
    const b = estimateSeries(series([4, 8, 6]), 0, cal('b', 'present'));
    const sum = combineZoneEstimates(3, [
      { zoneId: 'a', estimate: a },
      { zoneId: 'b', estimate: b },
    ]);
    expect(sum.people).toEqual([7, null, 13]);
    expect(sum.estimate.reason).toBe('hidden_buckets');
    const mixed = combineZoneEstimates(3, [
      { zoneId: 'a', estimate: a },
      { zoneId: 'b', estimate: estimateSeries(series([4, 8, 6]), 0, cal('b', 'passers')) },
    ]);
    expect(mixed.people).toEqual([null, null, null]);
    expect(mixed.passers).toEqual([null, null, null]);
    expect(mixed.estimate.reason).toBe('mixed_kinds');
  });
});
