/** Comparison, hour-of-week profile and CSV on a real server with data published over MQTT. */
import { topics } from '@passant/shared';
import type { CountsMessage } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hourOfWeek, WEEK_SECONDS } from '../../src/http/compare.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';

/** 2023-11-14T00:00:00Z, a Tuesday. */
const D = 1_699_920_000;
/** The last complete hour. */
const H = Math.floor(Date.now() / 3_600_000) * 3600 - 3600;
const ZONES = [
  { id: 'front', name: 'Shop front', sensors: ['s1', 's2'] },
  { id: 'back', name: 'Back street', sensors: ['s3'] },
];
const SITES = [{ id: 'town', name: 'Town, "centre"', zones: ['front', 'back'] }];

let broker: TestBroker;
let publisher: MqttClient;
let agg: TestAggregator;

async function getJson(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${agg.url}${path}`);
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  broker = await startAedes();
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'compare-publisher', reconnectPeriod: 0 });
  agg = await startTestAggregator(broker.url, {
    k: 5,
    zones: ZONES,
    sites: SITES,
    aggregator: { id: 'compare-test' },
    auth: { public: { zones: 'all', sites: 'all' } },
    http: { maxSeriesRangeDays: 60 },
  });
  await agg.mqttReady;
  const messages: CountsMessage[] = [
    // current hour [D, D+3600): 7 released (s1 alone hears k), one suppressed minute (2)
    countsMessage('s1', D, 5),
    countsMessage('s2', D, 2),
    countsMessage('s1', D + 60, 1),
    countsMessage('s2', D + 60, 1),
    // the hour before: 10
    countsMessage('s1', D - 3600, 5),
    countsMessage('s2', D - 3600, 5),
    // a week before: 20
    countsMessage('s1', D - WEEK_SECONDS, 10),
    countsMessage('s2', D - WEEK_SECONDS, 10),
    // back street, same current hour: 6
    countsMessage('s3', D, 6),
    // the profile: the last complete hour and the same hour 1 and 2 weeks before
    countsMessage('s1', H, 6),
    countsMessage('s2', H, 2),
    countsMessage('s1', H - WEEK_SECONDS + 120, 6),
    countsMessage('s2', H - WEEK_SECONDS + 120, 6),
    countsMessage('s1', H - 2 * WEEK_SECONDS, 1),
    countsMessage('s2', H - 2 * WEEK_SECONDS, 1),
  ];
  for (const m of messages) await publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
  await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === messages.length, 'messages stored');
});

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await publisher?.endAsync(true);
  await broker?.close();
});

describe('compare', () => {
  it('the period against the one before and the same hour a week earlier, from released values only', async () => {
    const { status, body } = await getJson(`/api/v1/zones/front/compare?from=${D}&to=${D + 3600}&step=3600`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      step: 3600,
      radio: 'wifi',
      current: { from: D, to: D + 3600, t: [D], devices: [7], suppressed: [1], total: 7, suppressedCells: 1 },
      previous: { from: D - 3600, to: D, t: [D - 3600], devices: [10], suppressed: [0], total: 10, suppressedCells: 0, change: -30 },
      lastWeek: { from: D - WEEK_SECONDS, to: D - WEEK_SECONDS + 3600, t: [D - WEEK_SECONDS], devices: [20], suppressed: [0], total: 20, suppressedCells: 0, change: -65 },
    });
  });

  it('minute steps, sites, empty periods (change null), and a period starting at 0', async () => {
    const minutes = await getJson(`/api/v1/zones/front/compare?from=${D}&to=${D + 120}`);
    expect(minutes.body.current).toMatchObject({ devices: [7, null], suppressed: [0, 1], total: 7 });
    expect(minutes.body.previous).toMatchObject({ total: null, change: null });
    const site = await getJson(`/api/v1/sites/town/compare?from=${D}&to=${D + 3600}&step=3600`);
    expect(site.body.current).toMatchObject({ total: 13, suppressedCells: 1 });
    expect(site.body.previous.change).toBe(30);
    const zero = await getJson('/api/v1/zones/front/compare?from=0&to=86400&step=86400');
    expect(zero.status).toBe(200);
    expect(zero.body.previous.from).toBe(-86400);
  });

  it.each([
    [`from=${D + 60}&to=${D}`, 'invalid_range'],
    ['step=5', 'invalid_step'],
    [`from=${D - 86400 * 61}&to=${D}&step=86400`, 'range_too_long'],
    ['period=week', 'unknown_parameter'],
  ])('400 for %s', async (query, code) => {
    const { status, body } = await getJson(`/api/v1/zones/front/compare?${query}`);
    expect(status).toBe(400);
    expect(body.code).toBe(code);
  });
});

describe('profile', () => {
  it('each of the 168 hours: mean of the released hourly values over the last weeks, null where none', async () => {
    const { status, body } = await getJson('/api/v1/zones/front/profile?weeks=4');
    expect(status).toBe(200);
    expect(body.weeks).toBe(4);
    expect(body.tz).toBe('UTC');
    expect(body.to).toBe(H + 3600);
    expect(body.from).toBe(H + 3600 - 4 * WEEK_SECONDS);
    const slot = hourOfWeek(H);
    expect(body.mean[slot]).toBe(10);
    expect(body.hours[slot]).toBe(2);
    expect(body.suppressed[slot]).toBe(1);
    expect(body.mean.filter((m: number | null) => m !== null)).toHaveLength(1);
    expect(body.mean).toHaveLength(168);
  });

  it('one week holds only the last hour; a time zone moves the slot', async () => {
    const one = await getJson('/api/v1/zones/front/profile?weeks=1');
    expect(one.body.mean[hourOfWeek(H)]).toBe(8);
    const ams = await getJson('/api/v1/zones/front/profile?tz=Europe/Amsterdam');
    expect(ams.body.tz).toBe('Europe/Amsterdam');
    expect(ams.body.mean[hourOfWeek(H, 'Europe/Amsterdam')]).toBe(10);
    expect(hourOfWeek(H, 'Europe/Amsterdam')).not.toBe(hourOfWeek(H));
    const ble = await getJson('/api/v1/sites/town/profile?radio=ble');
    expect(ble.body.mean.every((m: number | null) => m === null)).toBe(true);
  });

  it.each([
    ['weeks=0', 'invalid_parameter'],
    ['weeks=53', 'invalid_parameter'],
    ['weeks=four', 'invalid_parameter'],
    ['weeks=9', 'range_too_long'],
    ['tz=Mars/Olympus', 'invalid_time_zone'],
    ['tz=../../etc/passwd', 'invalid_time_zone'],
    ['tz=UTC&tz=UTC', 'invalid_parameter'],
    ['radio=lora', 'invalid_radio'],
    ['from=1', 'unknown_parameter'],
  ])('400 for %s', async (query, code) => {
    const { status, body } = await getJson(`/api/v1/zones/front/profile?${query}`);
    expect(status).toBe(400);
    expect(body.code).toBe(code);
  });
});

describe('CSV', () => {
  it('a site series as a download, with the name quoted', async () => {
    const res = await fetch(`${agg.url}/api/v1/sites/town/series.csv?from=${D}&to=${D + 7200}&step=3600`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="passant-site-town-wifi-${D}-${D + 7200}-3600.csv"`);
    expect(await res.text()).toBe(
      'site,name,radio,time,unix,devices,suppressed\r\n' +
        `town,"Town, ""centre""",wifi,2023-11-14T00:00:00Z,${D},13,1\r\n` +
        `town,"Town, ""centre""",wifi,2023-11-14T01:00:00Z,${D + 3600},,0\r\n`,
    );
  });

  it('the same checks as the JSON series: 400 for bad parameters, 404 for an unknown zone', async () => {
    const bad = await fetch(`${agg.url}/api/v1/zones/front/series.csv?step=7`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/json/);
    expect(bad.headers.get('content-disposition')).toBeNull();
    await bad.text();
    const missing = await fetch(`${agg.url}/api/v1/zones/nowhere/series.csv`);
    expect(missing.status).toBe(404);
    await missing.text();
  });
});
