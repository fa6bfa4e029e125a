/** Calendar buckets in local time: the pure functions, and the release layer's calendar series over a real store. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CountsMessage } from '@passant/shared';
import { Registry } from '../../src/registry.ts';
import { bucketStart, calendarBoundaries, isoLocal, isTimeZone, nextBucket, offsetAt } from '../../src/release/calendar.ts';
import { ReleaseLayer } from '../../src/release/release-layer.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { countsMessage } from '../helpers/messages.ts';

const AMS = 'Europe/Amsterdam';
const iso = (s: string) => Date.parse(s) / 1000;

describe('calendar', () => {
  it('a day in Europe/Amsterdam starts at 23:00Z in winter and 22:00Z in summer', () => {
    expect(bucketStart(iso('2024-01-15T12:00:00Z'), 'day', AMS)).toBe(iso('2024-01-14T23:00:00Z'));
    expect(bucketStart(iso('2024-07-15T12:00:00Z'), 'day', AMS)).toBe(iso('2024-07-14T22:00:00Z'));
    expect(bucketStart(iso('2024-01-14T23:30:00Z'), 'day', AMS)).toBe(iso('2024-01-14T23:00:00Z'));
    expect(offsetAt(iso('2024-01-15T12:00:00Z'), AMS)).toBe(3600);
    expect(offsetAt(iso('2024-07-15T12:00:00Z'), AMS)).toBe(7200);
  });

  it('has the 25-hour day in October and the 23-hour day in March', () => {
    const oct27 = bucketStart(iso('2024-10-27T12:00:00Z'), 'day', AMS);
    expect(oct27).toBe(iso('2024-10-26T22:00:00Z'));
    expect(nextBucket(oct27, 'day', AMS) - oct27).toBe(25 * 3600);
    const mar31 = bucketStart(iso('2024-03-31T12:00:00Z'), 'day', AMS);
    expect(mar31).toBe(iso('2024-03-30T23:00:00Z'));
    expect(nextBucket(mar31, 'day', AMS) - mar31).toBe(23 * 3600);
  });

  it('weeks start on Monday (ISO), months on the 1st, both local', () => {
    // 2024-10-27 is a Sunday: its week began on Monday 21 October (summer time)
    expect(bucketStart(iso('2024-10-27T12:00:00Z'), 'week', AMS)).toBe(iso('2024-10-20T22:00:00Z'));
    expect(nextBucket(iso('2024-10-20T22:00:00Z'), 'week', AMS)).toBe(iso('2024-10-27T23:00:00Z')); // 7 days + 1 hour
    expect(bucketStart(iso('2024-10-15T12:00:00Z'), 'month', AMS)).toBe(iso('2024-09-30T22:00:00Z'));
    expect(nextBucket(iso('2024-09-30T22:00:00Z'), 'month', AMS)).toBe(iso('2024-10-31T23:00:00Z'));
    expect(bucketStart(iso('2024-12-31T23:30:00Z'), 'month', AMS)).toBe(iso('2024-12-31T23:00:00Z')); // already January
  });

  it('boundaries cover the range; UTC and half-hour zones work too; names are checked', () => {
    expect(calendarBoundaries(iso('2024-01-01T05:00:00Z'), iso('2024-01-03T00:00:00Z'), 'day', 'UTC')).toEqual([
      iso('2024-01-01T00:00:00Z'),
      iso('2024-01-02T00:00:00Z'),
      iso('2024-01-03T00:00:00Z'),
    ]);
    expect(calendarBoundaries(10, 10, 'day', 'UTC')).toEqual([]);
    expect(bucketStart(iso('2024-01-15T12:00:00Z'), 'day', 'Asia/Kolkata')).toBe(iso('2024-01-14T18:30:00Z'));
    expect(isTimeZone('Europe/Amsterdam')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isoLocal(iso('2024-10-26T22:00:00Z'), AMS)).toBe('2024-10-27T00:00:00+02:00');
    expect(isoLocal(iso('2024-10-27T23:00:00Z'), AMS)).toBe('2024-10-28T00:00:00+01:00');
  });
});

describe('calendar series in the release layer', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-calendar-'));
    store = SqliteStore.open(path.join(dir, 'passant.db'));
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Every minute from `from` to `to`: 10 devices, except 2 (suppressed) in the first minute of every hour. */
  async function fill(from: number, to: number): Promise<void> {
    const messages: CountsMessage[] = [];
    for (let t = from; t < to; t += 60) messages.push(countsMessage('s1', t, t % 3600 === 0 ? 2 : 10));
    for (let i = 0; i < messages.length; i += 2000) await store.put(messages.slice(i, i + 2000), to + 3600);
  }

  it('day buckets follow Amsterdam days across the October change: the 25-hour day sums 25 hours of released cells', async () => {
    const from = iso('2024-10-25T22:00:00Z'); // Saturday 26 October 00:00 local
    const to = iso('2024-10-28T23:00:00Z'); // Tuesday 29 October 00:00 local
    await fill(from, to);
    const layer = new ReleaseLayer(store, new Registry([{ id: 'z', name: 'Z', sensors: ['s1'] }]), { k: 5, settleSeconds: 0, now: () => to + 7200 });
    await layer.settle();
    const series = await layer.series('z', { from, to, step: 'day', radio: 'wifi', timeZone: AMS });
    expect(series!.t).toEqual([iso('2024-10-25T22:00:00Z'), iso('2024-10-26T22:00:00Z'), iso('2024-10-27T23:00:00Z')]);
    expect(series!.minutes).toEqual([1440, 1500, 1440]);
    expect(series!.suppressed).toEqual([24, 25, 24]);
    expect(series!.released).toEqual([24 * 59, 25 * 59, 24 * 59]);
    expect(series!.devices).toEqual([24 * 59 * 10, 25 * 59 * 10, 24 * 59 * 10]);
    expect(series!.tz).toBe(AMS);
    // UTC days of the same range cut differently
    const utc = await layer.series('z', { from, to, step: 'day', radio: 'wifi', timeZone: 'UTC' });
    expect(utc!.t[0]).toBe(iso('2024-10-25T00:00:00Z'));
    // a month sums its days; a week its days too
    const month = await layer.series('z', { from, to, step: 'month', radio: 'wifi', timeZone: AMS });
    expect(month!.t).toEqual([iso('2024-09-30T22:00:00Z')]);
    expect(month!.devices).toEqual([series!.devices.reduce((a, b) => a! + b!, 0)]);
    expect(month!.minutes).toEqual([31 * 1440 + 60]);
    // minute data in a zone with half-hour offsets: read from minute cells, the same sums
    const kolkata = await layer.series('z', { from: iso('2024-10-26T18:30:00Z'), to: iso('2024-10-27T18:30:00Z'), step: 'day', radio: 'wifi', timeZone: 'Asia/Kolkata' });
    expect(kolkata!.t).toEqual([iso('2024-10-26T18:30:00Z')]);
    expect(kolkata!.suppressed).toEqual([24]);
    expect(kolkata!.devices).toEqual([24 * 59 * 10]);
  });

  it('a site as a set of zones sums only those zones', async () => {
    const from = iso('2024-10-26T22:00:00Z');
    await fill(from, from + 7200);
    await store.put([countsMessage('s2', from + 60, 50)], from + 9000);
    const layer = new ReleaseLayer(store, new Registry([{ id: 'z', name: 'Z', sensors: ['s1'] }, { id: 'y', name: 'Y', sensors: ['s2'] }]), {
      k: 5,
      settleSeconds: 0,
      now: () => from + 86_400,
    });
    await layer.settle();
    const only = await layer.series({ kind: 'zones', ids: ['z', 'gone'] }, { from, to: from + 7200, step: 3600, radio: 'wifi' });
    const both = await layer.series({ kind: 'zones', ids: ['z', 'y'] }, { from, to: from + 7200, step: 3600, radio: 'wifi' });
    expect(only!.devices).toEqual([590, 590]);
    expect(both!.devices).toEqual([640, 590]);
  });
});

describe('calendar steps over HTTP', () => {
  it('series and CSV in Amsterdam days across the October change; bad steps and zones are 400; compare keeps seconds', async () => {
    const { startAedes } = await import('@passant/test-helpers/aedes-broker');
    const { startTestAggregator, removeDir } = await import('../helpers/aggregator.ts');
    const broker = await startAedes();
    const from = iso('2024-10-25T22:00:00Z');
    const to = iso('2024-10-28T23:00:00Z');
    const agg = await startTestAggregator(broker.url, {
      zones: [{ id: 'z', name: 'Zone Z', sensors: ['s1'] }],
      auth: { public: { zones: 'all', sites: 'none' } },
      settleSeconds: 0,
      http: { rateLimitPerMinute: 0 },
    });
    try {
      const messages: CountsMessage[] = [];
      for (let t = from; t < to; t += 60) messages.push(countsMessage('s1', t, t % 3600 === 0 ? 2 : 10));
      for (let i = 0; i < messages.length; i += 2000) await agg.store.put(messages.slice(i, i + 2000), to + 3600);
      while ((await agg.release.settle()).length > 0);
      const get = (q: string) => fetch(`${agg.url}/api/v1/zones/z/${q}`);
      const res = await get(`series?from=${from}&to=${to}&step=day&tz=${encodeURIComponent(AMS)}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { t: number[]; devices: number[]; minutes: number[]; released: number[]; suppressed: number[]; tz: string };
      expect(body.t).toEqual([iso('2024-10-25T22:00:00Z'), iso('2024-10-26T22:00:00Z'), iso('2024-10-27T23:00:00Z')]);
      expect(body.minutes).toEqual([1440, 1500, 1440]);
      expect(body.devices[1]).toBe(25 * 59 * 10);
      expect(body.tz).toBe(AMS);
      // 86400 with a time zone is a local day too
      expect(((await (await get(`series?from=${from}&to=${to}&step=86400&tz=${encodeURIComponent(AMS)}`)).json()) as { t: number[] }).t).toEqual(body.t);
      const csv = await (await get(`series.csv?from=${from}&to=${to}&step=day&tz=${encodeURIComponent(AMS)}`)).text();
      expect(csv.split('\r\n')[2]).toBe(`z,Zone Z,wifi,2024-10-27T00:00:00+02:00,${iso('2024-10-26T22:00:00Z')},${25 * 59 * 10},25`);
      expect((await get(`series?step=day&tz=Mars%2FOlympus`)).status).toBe(400);
      expect((await get(`series?step=fortnight`)).status).toBe(400);
      expect((await get(`compare?step=day`)).status).toBe(400);
      expect((await get(`compare?tz=UTC`)).status).toBe(400);
    } finally {
      await agg.close();
      removeDir(agg.dataDir);
      await broker.close();
    }
  });
});
