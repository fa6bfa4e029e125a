/**
 * Any two periods compared, on a real server (SQLite file, in-process aedes broker, counts over MQTT): local days in
 * Europe/Amsterdam across the change to winter time (a 25-hour day), totals and change, hidden shares and the caveat,
 * a site's zones ranked, and a caller who may read only some of a site's zones sees only those.
 */
import { topics } from '@passant/shared';
import type { ComparePeriodsBody, CountsMessage } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hiddenCaveat, rankZones } from '../../src/http/compare-periods.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';

const TZ = 'Europe/Amsterdam';
/** Monday 2024-10-21 00:00 in Amsterdam (2024-10-20T22:00Z, summer time). */
const P0 = 1_729_461_600;
/** Monday 2024-10-28 00:00 in Amsterdam (2024-10-27T23:00Z, winter time): the week holds the 25-hour Sunday. */
const P1 = 1_730_070_000;
/** Monday 2024-10-14 00:00 in Amsterdam. */
const A0 = 1_728_856_800;
/** 2024-11-05T10:00Z: an hour for the caveat. */
const X = 1_730_800_800;

const ZONES = [
  { id: 'front', name: 'Shop front', sensors: ['s1', 's2'] },
  { id: 'back', name: 'Back street', sensors: ['s3'] },
];
const SITES = [{ id: 'town', name: 'Town', zones: ['front', 'back'] }];

let broker: TestBroker;
let publisher: MqttClient;
let agg: TestAggregator;
let partial: TestAggregator;
let admin: string;

async function getJson(server: TestAggregator, path: string, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}

const messages: CountsMessage[] = [
  // the period (local week of 21 October)
  // (s2 reports its minutes too: a cell is released once every sensor of its zone has reported it)
  countsMessage('s1', P0 + 30 * 60, 10), // Monday 00:30 local, still Sunday in UTC
  countsMessage('s2', P0 + 30 * 60, 0),
  countsMessage('s1', 1_730_068_200, 8), // Sunday 27 October 23:30 local (22:30Z): the 25th hour's day
  countsMessage('s2', 1_730_068_200, 0),
  countsMessage('s3', P0 + 3600, 6),
  countsMessage('s3', P0 + 3660, 2), // suppressed
  // the week before
  countsMessage('s1', A0 + 3600, 5),
  countsMessage('s2', A0 + 3600, 5),
  countsMessage('s3', A0 + 7200, 7),
  // an hour with 4 hidden minutes of 60 against the same hour a day before with none
  ...[0, 1, 2, 3].map((m) => countsMessage('s3', X + m * 60, 2)),
  countsMessage('s3', X + 10 * 60, 6),
  countsMessage('s3', X - 86_400 + 10 * 60, 7),
];

beforeAll(async () => {
  broker = await startAedes();
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'compare-periods-publisher', reconnectPeriod: 0 });
  const config = { k: 5, zones: ZONES, sites: SITES, http: { maxSeriesRangeDays: 400, rateLimitPerMinute: 0 } };
  agg = await startTestAggregator(broker.url, { ...config, aggregator: { id: 'compare-periods' }, auth: { public: { zones: 'all', sites: 'all' } } });
  // a second aggregator on the same broker whose public reads only the front zone (and the site, as far as front goes)
  partial = await startTestAggregator(broker.url, { ...config, aggregator: { id: 'compare-periods-partial' }, auth: { public: { zones: ['front'], sites: ['town'] } } });
  admin = agg.tokens.create({ role: 'admin' }).token;
  await Promise.all([agg.mqttReady, partial.mqttReady]);
  for (const m of messages) await publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
  for (const a of [agg, partial]) await waitFor(() => a.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === messages.length, 'messages stored');
});

afterAll(async () => {
  for (const a of [agg, partial]) {
    await a?.close();
    if (a) removeDir(a.dataDir);
  }
  await publisher?.endAsync(true);
  await broker?.close();
});

const week = `from=${P0}&to=${P1}&againstFrom=${A0}&againstTo=${P0}&step=day&tz=${encodeURIComponent(TZ)}`;

describe('compare-periods', () => {
  it('local days in Amsterdam, the 25-hour Sunday included: aligned by offset, totals and change', async () => {
    const { status, body } = (await getJson(agg, `/api/v1/zones/front/compare-periods?${week}`)) as { status: number; body: ComparePeriodsBody };
    expect(status).toBe(200);
    expect(body.step).toBe('day');
    expect(body.tz).toBe(TZ);
    expect(body.offset).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(body.period.from).toBe(P0);
    expect(body.period.to).toBe(P1);
    expect(body.period.t[0]).toBe(P0); // 22:00Z: the local midnight, not the UTC day
    expect(body.period.minutes).toEqual([1440, 1440, 1440, 1440, 1440, 1440, 1500]);
    expect(body.period.devices).toEqual([10, null, null, null, null, null, 8]);
    expect(body.against.devices).toEqual([10, null, null, null, null, null, null]);
    expect(body.period.total).toBe(18);
    expect(body.against.total).toBe(10);
    expect(body.change).toBe(80);
    expect(body.period.zoneMinutes).toBe(7 * 1440 + 60);
    expect(body.caveat).toBeNull();
    // the same buckets as the series route gives
    const series = await getJson(agg, `/api/v1/zones/front/series?from=${P0}&to=${P1}&step=day&tz=${encodeURIComponent(TZ)}`);
    expect(series.body.devices).toEqual(body.period.devices);
    expect(series.body.t).toEqual(body.period.t);
  });

  it('a site: the sum of its zones, and each zone side by side, ranked, with the values of its own comparison', async () => {
    const { status, body } = (await getJson(agg, `/api/v1/sites/town/compare-periods?${week}`, admin)) as { status: number; body: ComparePeriodsBody };
    expect(status).toBe(200);
    expect(body.period.total).toBe(24);
    expect(body.against.total).toBe(17);
    expect(body.change).toBe(41.18);
    expect(body.period.suppressedCells).toBe(1);
    expect(body.period.zoneMinutes).toBe(2 * (7 * 1440 + 60));
    expect(body.zones!.map((z) => [z.id, z.period.total, z.against.total, z.change])).toEqual([
      ['front', 18, 10, 80],
      ['back', 6, 7, -14.29],
    ]);
    const back = (await getJson(agg, `/api/v1/zones/back/compare-periods?${week}`)).body as ComparePeriodsBody;
    expect(body.zones![1]!.period).toEqual({ total: back.period.total, suppressedCells: back.period.suppressedCells, hiddenShare: back.period.hiddenShare });
  });

  it('a caller who may read only some zones of a site compares only those', async () => {
    const site = (await getJson(partial, `/api/v1/sites/town/compare-periods?${week}`)).body as ComparePeriodsBody;
    expect(site.zones!.map((z) => z.id)).toEqual(['front']);
    expect(site.period.total).toBe(18);
    expect(site.period.suppressedCells).toBe(0); // back's hidden minute is not shown either
    expect(site.period.zoneMinutes).toBe(7 * 1440 + 60);
    expect((await getJson(partial, `/api/v1/zones/back/compare-periods?${week}`)).status).toBe(401);
  });

  it('the caveat: one side hides clearly more of its minutes', async () => {
    const { body } = (await getJson(agg, `/api/v1/zones/back/compare-periods?from=${X}&to=${X + 3600}&againstFrom=${X - 86_400}&againstTo=${X - 86_400 + 3600}&step=60`)) as {
      body: ComparePeriodsBody;
    };
    expect(body.offset.slice(0, 3)).toEqual([0, 60, 120]);
    expect(body.period.suppressedCells).toBe(4);
    expect(body.period.hiddenShare).toBe(0.0667);
    expect(body.against.hiddenShare).toBe(0);
    expect(body.caveat).toEqual({ moreHidden: 'period', difference: 0.0667 });
    expect(body.period.total).toBe(6);
    expect(body.against.total).toBe(7);
    expect(body.change).toBe(-14.29);
  });

  it('without againstFrom and againstTo: the period of the same length just before', async () => {
    const { body } = (await getJson(agg, `/api/v1/zones/back/compare-periods?from=${X}&to=${X + 3600}&step=3600`)) as { body: ComparePeriodsBody };
    expect(body.against.from).toBe(X - 3600);
    expect(body.against.to).toBe(X);
  });

  it.each([
    [`from=${X}&to=${X + 60}&againstFrom=${X}`, 'invalid_parameter'],
    [`from=${X}&to=${X + 60}&againstFrom=${X + 60}&againstTo=${X}`, 'invalid_range'],
    [`step=day&tz=Mars/Olympus`, 'invalid_time_zone'],
    [`step=fortnight`, 'invalid_step'],
    [`against_from=1`, 'unknown_parameter'],
  ])('%s is a 400 %s', async (query, code) => {
    const { status, body } = await getJson(agg, `/api/v1/zones/front/compare-periods?${query}`);
    expect(status).toBe(400);
    expect(body.code ?? body.error?.code).toBe(code); // a problem (RFC 9457) or { error: { code } }
  });
});

describe('pure parts', () => {
  it('caveat from 5 percentage points on', () => {
    expect(hiddenCaveat(0.1, 0.06)).toBeNull();
    expect(hiddenCaveat(0.02, 0.07)).toEqual({ moreHidden: 'against', difference: 0.05 });
    expect(hiddenCaveat(null, 0.5)).toBeNull();
  });
  it('zones ranked by period total, null last', () => {
    const z = (id: string, total: number | null) => ({ id, period: { total } });
    expect(rankZones([z('a', null), z('b', 3), z('c', 9), z('d', 3)]).map((x) => x.id)).toEqual(['c', 'b', 'd', 'a']);
  });
});
