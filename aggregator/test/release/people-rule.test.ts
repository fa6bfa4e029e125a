/**
 * The release rule about people, not radios: the static baseline (static-baseline.ts), the rule on moving
 * devices (release-series.ts), and, end to end, an attacker who follows one phone at night between two
 * neighbouring zones whose sensors hear static devices all night.
 *
 * The end-to-end test builds two worlds that differ only in where one phone is during ten night minutes (zone A
 * then B, or B then A), runs a real aggregator (SQLite file, HTTP) on each, and reads every GET route of the API
 * (from its OpenAPI document) for every zone and the site, both radios, minute, hour and day steps, as the public
 * and as an admin. Every response must be the same byte for byte in both worlds: nothing tells which zone the
 * phone was in at any minute. Against the same data with the baseline turned off (the rule before: devices >= k)
 * the worlds differ, so the test is not vacuous.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CountsMessage } from '@passant/shared';
import { Registry } from '../../src/registry.ts';
import { noiseFor } from '../../src/release/noise.ts';
import { ReleaseLayer } from '../../src/release/release-layer.ts';
import { movingDevices, releasedByPeopleRule } from '../../src/release/release-series.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { baselineAt, hourBuckets, quantile, type BaselineOptions } from '../../src/release/static-baseline.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { makeDataDir, removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';
import { rng } from '../helpers/rng.ts';

const HOUR = 3600;
const DAY = 86_400;
/** 2023-11-14T00:00:00Z */
const BASE = 1_699_920_000;
const OPTIONS: BaselineOptions = { historyHours: 48, quietHours: 4, quantile: 0.9, minHistoryHours: 12 };

describe('static baseline', () => {
  it('quantile: nearest rank', () => {
    expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([5, 1, 3, 2, 4], 0.9)).toBe(5);
    expect(quantile([5, 1, 3, 2, 4], 0.2)).toBe(1);
    expect(quantile([7], 0.9)).toBe(7);
    expect(() => quantile([], 0.5)).toThrow(RangeError);
  });

  it('is a high quantile of the quietest hours of the history before the hour, from counts alone', () => {
    const random = rng(7);
    const minutes: { windowStart: number; value: number }[] = [];
    for (let t = BASE; t < BASE + 2 * DAY; t += 60) {
      const hourOfDay = Math.floor((t % DAY) / HOUR);
      const statics = 8 + Math.floor(random() * 5); // 8..12: PCs that probe now and then
      const people = hourOfDay >= 8 && hourOfDay < 20 ? 10 + Math.floor(random() * 30) : random() < 0.05 ? 1 : 0;
      minutes.push({ windowStart: t, value: statics + people });
    }
    const buckets = hourBuckets(minutes);
    const b = baselineAt(buckets, BASE + 2 * DAY, OPTIONS);
    // the night level: statics (up to 12) plus the odd passer-by, never the day's crowd
    expect(b).not.toBeNull();
    expect(b!).toBeGreaterThanOrEqual(11);
    expect(b!).toBeLessThanOrEqual(13);
    // only the history before the hour counts: at the start there is none
    expect(baselineAt(buckets, BASE, OPTIONS)).toBeNull();
    // fewer usable hours than minHistoryHours: unknown
    expect(baselineAt(buckets, BASE + 11 * HOUR, OPTIONS)).toBeNull();
    expect(baselineAt(buckets, BASE + 12 * HOUR, OPTIONS)).not.toBeNull();
  });

  it('does not take an hour the sensor was mostly offline for a quiet one', () => {
    const minutes: { windowStart: number; value: number }[] = [];
    for (let t = BASE; t < BASE + DAY; t += 60) {
      const hour = Math.floor((t - BASE) / HOUR);
      if (hour === 3 && (t / 60) % 60 >= 5) continue; // offline: 5 minutes of 0 reported, then nothing
      minutes.push({ windowStart: t, value: hour === 3 ? 0 : 10 });
    }
    expect(baselineAt(hourBuckets(minutes), BASE + DAY, { ...OPTIONS, quietHours: 1 })).toBe(10);
  });
});

describe('the rule on moving devices', () => {
  it('counts the devices beyond the baseline, and a device two sensors hear once', () => {
    expect(movingDevices([{ devices: 13, baseline: 12 }])).toBe(1);
    expect(movingDevices([{ devices: 3, baseline: 0 }, { devices: 4, baseline: 0 }])).toBe(4);
    expect(movingDevices([{ devices: 2, baseline: 10 }])).toBe(0);
    // two sensors that each hear 3 moving devices: maybe the same 3 people
    expect(releasedByPeopleRule([{ devices: 3, baseline: 0 }, { devices: 3, baseline: 0 }], 5)).toBe(false);
    expect(releasedByPeopleRule([{ devices: 17, baseline: 12 }, { devices: 3, baseline: 0 }], 5)).toBe(true);
    expect(releasedByPeopleRule([{ devices: 16, baseline: 12 }], 5)).toBe(false);
    // no baseline yet (a new sensor still learning): nothing of it can be shown to be moving
    expect(releasedByPeopleRule([{ devices: 50, baseline: null }], 5)).toBe(false);
    expect(releasedByPeopleRule([{ devices: 50, baseline: null }, { devices: 17, baseline: 12 }], 5)).toBe(true);
    // the baseline turned off: 0 for every sensor
    expect(releasedByPeopleRule([{ devices: 5, baseline: 0 }], 5)).toBe(true);
  });
});

// ------------------------------------------------------------------ following one phone

/** Night minutes (hour 1 of the third day) where the phone walks: A for 10 minutes, then B (or the other way). */
const WALK_FROM = BASE + 2 * DAY + HOUR;
const WALK_MINUTES = 20;

/** Two days of history and a third day, for sensors sa (zone a) and sb (zone b); the phone's path per world. */
function world(order: 'ab' | 'ba'): CountsMessage[] {
  const random = rng(1234); // the same statics and crowds in both worlds
  const messages: CountsMessage[] = [];
  for (let t = BASE; t < BASE + 3 * DAY; t += 60) {
    const hourOfDay = Math.floor((t % DAY) / HOUR);
    for (const sensor of ['sa', 'sb']) {
      const statics = 8 + Math.floor(random() * 5);
      const crowd = hourOfDay >= 8 && hourOfDay < 20 ? 6 + Math.floor(random() * 30) : 0;
      let phone = 0;
      const i = (t - WALK_FROM) / 60;
      if (i >= 0 && i < WALK_MINUTES) {
        const first = order === 'ab' ? 'sa' : 'sb';
        phone = (i < WALK_MINUTES / 2) === (sensor === first) ? 1 : 0;
      }
      messages.push(countsMessage(sensor, t, statics + crowd + phone, statics + crowd + phone));
    }
  }
  return messages;
}

interface OpenApi {
  servers?: { url: string }[];
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }> & { servers?: { url: string }[] }>;
}

let broker: TestBroker;
beforeAll(async () => {
  broker = await startAedes();
});
afterAll(async () => {
  await broker?.close();
});

/** Every response of every zone and site route, for the public and an admin, in a fixed order. */
async function outputs(order: 'ab' | 'ba', baseline: boolean): Promise<{ responses: Map<string, string>; nightReleased: number; dayReleased: number }> {
  const dataDir = makeDataDir();
  let now = BASE + 3 * DAY + HOUR;
  const agg = await startTestAggregator(
    broker.url,
    {
      aggregator: { id: `follow-${order}` },
      k: 5,
      zones: [
        { id: 'a', name: 'A', sensors: ['sa'] },
        { id: 'b', name: 'B', sensors: ['sb'] },
      ],
      sites: [{ id: 'street', name: 'Street', zones: ['a', 'b'] }],
      baseline: { enabled: baseline },
      auth: { public: { zones: 'all', sites: 'all' } },
      http: { rateLimitPerMinute: 0 },
      log: { level: 'warn' },
    },
    { dataDir, now: () => now },
  );
  try {
    const messages = world(order);
    for (let i = 0; i < messages.length; i += 500) await agg.store.put(messages.slice(i, i + 500), now - 60);
    now += 600;
    while ((await agg.release.settle()).length > 0);
    const { token } = agg.tokens.create({ role: 'admin', name: 'follower' });
    // both zones calibrated (head counts of the third day's released minutes), so estimates are outputs too
    for (const zone of ['a', 'b']) {
      for (const radio of ['wifi', 'ble']) {
        const day = BASE + 2 * DAY + 10 * HOUR;
        const series = (await (await fetch(`${agg.url}/api/v1/zones/${zone}/series?from=${day}&to=${day + HOUR}&step=60&radio=${radio}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          t: number[];
          devices: (number | null)[];
        };
        const counts = series.t.flatMap((t, i) => (series.devices[i] === null ? [] : [{ from: t, to: t, people: Math.round(series.devices[i]! / 2) }])).slice(0, 10);
        if (baseline && counts.length < 6) throw new Error(`zone ${zone}: too few released minutes to calibrate`);
        await fetch(`${agg.url}/api/v1/zones/${zone}/calibrations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ kind: 'present', radio, counts }),
        });
      }
    }
    // the index's reference: the third day, 10 to 16 h
    const reference = `${BASE + 2 * DAY + 10 * HOUR},${BASE + 2 * DAY + 16 * HOUR}`;
    const doc = (await (await fetch(`${agg.url}/api/v1/openapi.json`)).json()) as OpenApi;
    const responses = new Map<string, string>();
    const night = WALK_FROM - HOUR;
    const ranges: [number, number, number][] = [
      [60, night, night + 5 * HOUR],
      [3600, night, night + 5 * HOUR],
      [86_400, BASE, BASE + 3 * DAY],
    ];
    // a path is relative to its own or the document's server (/api/v1)
    for (const [route, ops] of Object.entries(doc.paths).map(([p, item]) => [`${item.servers?.[0]?.url ?? doc.servers?.[0]?.url ?? ''}${p}`, item] as const)) {
      if (ops.get === undefined || route === '/api/v1/events') continue;
      const kind = route.startsWith('/api/v1/zones/{id}') ? ['a', 'b'] : route.startsWith('/api/v1/sites/{id}') ? ['street'] : null;
      if (kind === null) continue;
      const names = new Set((ops.get.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
      for (const id of kind) {
        const base = route.replace('{id}', id);
        const urls: string[] = [];
        if (route.endsWith('/profile')) urls.push(`${base}?weeks=1&tz=UTC&radio=wifi`, `${base}?weeks=1&tz=UTC&radio=ble`);
        else if (!names.has('from') || !names.has('step')) urls.push(base);
        else {
          for (const radio of ['wifi', 'ble']) for (const [step, from, to] of ranges) urls.push(`${base}?from=${from}&to=${to}&step=${step}&radio=${radio}`);
          if (names.has('reference')) for (const [step, from, to] of ranges) urls.push(`${base}?from=${from}&to=${to}&step=${step}&radio=wifi&reference=${reference}`);
        }
        for (const url of urls) {
          for (const [who, headers] of [
            ['public', {}],
            ['admin', { authorization: `Bearer ${token}` }],
          ] as const) {
            const res = await fetch(`${agg.url}${url}`, { headers });
            // Series, CSV, comparisons and profiles answer 200; role routes (calibrations) may refuse the public.
            if (/\/(series|series\.csv|compare|profile)$/.test(url.split('?')[0]!)) expect(res.status, `${who} GET ${url}`).toBe(200);
            // calibration ids are random: the same calibration has another id in the other world
            responses.set(`${who} ${url}`, `${res.status} ${(await res.text()).replace(/"(id|calibrationId)":"[0-9a-f]{12}"/g, '"$1":"…"')}`);
          }
        }
      }
    }
    // how much the rule hides: released minutes at night (00-05) and by day (10-16) of the third day, zone a, wifi
    const cells = await agg.store.cells(['a'], BASE + 2 * DAY, BASE + 3 * DAY);
    const hourOf = (t: number) => Math.floor((t % DAY) / HOUR);
    const nightReleased = cells.filter((c) => hourOf(c.windowStart) < 5 && c.wifi.released).length;
    const dayReleased = cells.filter((c) => hourOf(c.windowStart) >= 10 && hourOf(c.windowStart) < 16 && c.wifi.released).length;
    return { responses, nightReleased, dayReleased };
  } finally {
    await agg.close();
    removeDir(dataDir);
  }
}

describe('an attacker following one phone at night between two zones with static devices', () => {
  it('cannot tell from any response which zone the phone was in; by day the zones are still shown', async () => {
    const ab = await outputs('ab', true);
    const ba = await outputs('ba', true);
    expect(ab.responses.size).toBeGreaterThan(20);
    // estimates and the index were there to compare: numbers, not only nulls
    expect([...ab.responses.values()].some((v) => /"people":\[[^\]]*\d/.test(v))).toBe(true);
    expect([...ab.responses.values()].some((v) => /"index":\[[^\]]*\d/.test(v))).toBe(true);
    const differing = [...ab.responses.keys()].filter((k) => ab.responses.get(k) !== ba.responses.get(k));
    expect(differing).toEqual([]);
    // the night is hidden, the day is not: of the 360 minutes from 10 to 16 h, all but the few with a crowd of
    // fewer than k beyond the statics are shown
    expect(ab.nightReleased).toBe(0);
    expect(ab.dayReleased).toBeGreaterThan(0.9 * 360);
  });

  it('the rule before (devices >= k, no baseline) shows the phone: the test is not vacuous', async () => {
    const ab = await outputs('ab', false);
    const ba = await outputs('ba', false);
    const differing = [...ab.responses.keys()].filter((k) => ab.responses.get(k) !== ba.responses.get(k));
    expect(differing.length).toBeGreaterThan(0);
    expect(ab.nightReleased).toBe(300);
  });
});

describe('noise sensitivity', () => {
  it("is the zone's sensors times the devices one person may carry, and the noise is drawn with epsilon over it", async () => {
    const dir = makeDataDir();
    const store = SqliteStore.open(`${dir}/passant.db`);
    try {
      const registry = new Registry([
        { id: 'one', name: 'One', sensors: ['s1'] },
        { id: 'three', name: 'Three', sensors: ['t1', 't2', 't3'] },
      ]);
      const key = Buffer.from('n'.repeat(40));
      const layer = new ReleaseLayer(store, registry, { k: 5, settleSeconds: 0, now: () => BASE + DAY, noise: { epsilon: 1, key }, devicesPerPerson: 2 });
      expect(layer.sensitivity('one')).toBe(2);
      expect(layer.sensitivity('three')).toBe(6);
      const messages: CountsMessage[] = [];
      for (let i = 0; i < 200; i++) {
        messages.push(countsMessage('s1', BASE + i * 60, 20), countsMessage('t1', BASE + i * 60, 20), countsMessage('t2', BASE + i * 60, 1), countsMessage('t3', BASE + i * 60, 1));
      }
      await store.put(messages, BASE + 3600);
      await layer.settle();
      const cells = await store.cells(null, BASE, BASE + 200 * 60);
      for (const c of cells) {
        const epsilon = 1 / (c.zoneId === 'three' ? 6 : 2);
        expect(c.wifi.noise).toBe(noiseFor({ epsilon, key }, ['cell', c.zoneId, c.windowStart, 'wifi', 60]));
      }
      // more sensors, more noise: the spread of the three-sensor zone's noise is clearly larger
      const spread = (zone: string) => {
        const n = cells.filter((c) => c.zoneId === zone).map((c) => c.wifi.noise!);
        const mean = n.reduce((a, b) => a + b, 0) / n.length;
        return Math.sqrt(n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length);
      };
      expect(spread('three')).toBeGreaterThan(2 * spread('one'));
    } finally {
      await store.close();
      removeDir(dir);
    }
  });
});
