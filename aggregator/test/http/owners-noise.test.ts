/**
 * Two access details on a real server: viewer tokens tied to an owner label follow the configuration (also
 * after a reload), and with noise on, the public and the privacy officer get noisy values while admin tokens, and
 * viewer tokens for their own zones, get exact ones.
 */
import { topics } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';
import { readEvents } from '../helpers/events.ts';

const D = 1_699_920_000;
const ZONES = [
  { id: 'bakery', name: 'Bakery', owners: ['Jansen'], sensors: ['s1'] },
  { id: 'butcher', name: 'Butcher', owners: ['De Vries'], sensors: ['s2'] },
];

let broker: TestBroker;
let publisher: MqttClient;
let agg: TestAggregator;

async function get(path: string, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${agg.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  broker = await startAedes();
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'owners-publisher', reconnectPeriod: 0 });
  agg = await startTestAggregator(broker.url, {
    aggregator: { id: 'owners-noise' },
    k: 5,
    zones: ZONES,
    auth: { public: { zones: ['bakery'] } },
    noise: { enabled: true, epsilon: 0.5, key: 'a test noise key that is long enough to use' },
  });
  await agg.mqttReady;
  const messages = Array.from({ length: 30 }, (_, i) => countsMessage(i % 2 === 0 ? 's1' : 's2', D + 60 * Math.floor(i / 2), 20 + i));
  for (const m of messages) await publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
  await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === messages.length, 'messages stored');
});

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await publisher?.endAsync(true);
  await broker?.close();
});

describe('owner labels', () => {
  it('a viewer token tied to an owner reads the zones with that owner, as configured now', async () => {
    const token = agg.tokens.create({ role: 'viewer', owners: ['De Vries'] }).token;
    expect((await get('/api/v1/zones', token)).body.map((z: { id: string }) => z.id)).toEqual(['bakery', 'butcher']); // bakery is public
    expect((await get(`/api/v1/zones/butcher/series?from=${D}&to=${D + 60}`, token)).status).toBe(200);
    agg.registry.update([ZONES[0]!, { ...ZONES[1]!, owners: ['Someone else'] }]);
    try {
      expect((await get(`/api/v1/zones/butcher/series?from=${D}&to=${D + 60}`, token)).status).toBe(404);
      expect((await get('/api/v1/zones', token)).body.map((z: { id: string }) => z.id)).toEqual(['bakery']);
    } finally {
      agg.registry.update(ZONES);
    }
    expect((await get(`/api/v1/zones/butcher/series?from=${D}&to=${D + 60}`, token)).status).toBe(200);
  });
});

describe('noise', () => {
  it('public and privacy officer get noisy values (and say so); viewer and admin tokens get exact ones', async () => {
    const url = `/api/v1/zones/bakery/series?from=${D}&to=${D + 900}`;
    const admin = agg.tokens.create({ role: 'admin' }).token;
    const viewer = agg.tokens.create({ role: 'viewer', zones: ['bakery'] }).token;
    const privacy = agg.tokens.create({ role: 'privacy' }).token;
    const exact = (await get(url, admin)).body;
    expect(exact.noise).toBeUndefined();
    expect(exact.devices).toEqual(Array.from({ length: 15 }, (_, i) => 20 + 2 * i));
    expect((await get(url, viewer)).body).toEqual(exact);
    const open = (await get(url)).body;
    expect(open.noise).toEqual({ epsilon: 0.5, mechanism: 'geometric' });
    expect(open.devices).not.toEqual(exact.devices);
    // the same noise on every request, for the public and the privacy officer alike
    expect((await get(url)).body).toEqual(open);
    expect((await get(url, privacy)).body).toEqual(open);
    // compare and profile of the public carry the noise too; CSV says so in a header
    const compare = (await get(`/api/v1/zones/bakery/compare?from=${D}&to=${D + 900}`)).body;
    expect(compare.noise).toEqual({ epsilon: 0.5, mechanism: 'geometric' });
    expect(compare.current.devices).toEqual(open.devices);
    expect((await get(`/api/v1/zones/bakery/compare?from=${D}&to=${D + 900}`, admin)).body.noise).toBeUndefined();
    const csv = await fetch(`${agg.url}/api/v1/zones/bakery/series.csv?from=${D}&to=${D + 900}`);
    expect(csv.headers.get('x-passant-noise')).toBe('mechanism=geometric; epsilon=0.5');
    await csv.text();
    expect((await get('/api/v1/privacy')).body.noise).toEqual({ epsilon: 0.5, mechanism: 'geometric' });
  });

  it('live updates carry the same values as each caller\'s series: exact for the zone\'s viewer, open data for others', async () => {
    const viewer = agg.tokens.create({ role: 'viewer', zones: ['bakery'] }).token;
    const eventsUrl = `${agg.url}/api/v1/events?zone=bakery`;
    const minutes = Array.from({ length: 6 }, (_, i) => D + 3600 + 60 * i);
    const wifiOf = (events: any[]) => events.filter((e) => e.radio === 'wifi').map((e) => e.devices);
    const enough = (events: any[]) => wifiOf(events).length >= minutes.length;
    const [open, own] = await Promise.all([readEvents(eventsUrl, enough), readEvents(eventsUrl, enough, { token: viewer })]);
    try {
      for (const [i, t] of minutes.entries()) {
        const m = countsMessage('s1', t, 40 + i);
        await publisher.publishAsync(topics.sensorCounts('s1'), JSON.stringify(m), { qos: 1 });
      }
      await waitFor(() => open.ended && own.ended, 'both streams to see every new minute');
      const range = `from=${minutes[0]}&to=${minutes.at(-1)! + 60}`;
      expect(wifiOf(own.events)).toEqual(minutes.map((_, i) => 40 + i));
      expect(wifiOf(own.events)).toEqual((await get(`/api/v1/zones/bakery/series?${range}`, viewer)).body.devices);
      expect(wifiOf(open.events)).toEqual((await get(`/api/v1/zones/bakery/series?${range}`)).body.devices);
      expect(wifiOf(open.events)).not.toEqual(wifiOf(own.events));
    } finally {
      await open.stop();
      await own.stop();
    }
  });

  it('a viewer reads a public zone that is not on its token as the public does: with noise', async () => {
    const url = `/api/v1/zones/bakery/series?from=${D}&to=${D + 900}`;
    const butcherViewer = agg.tokens.create({ role: 'viewer', zones: ['butcher'] }).token;
    const open = (await get(url)).body;
    const asViewer = (await get(url, butcherViewer)).body;
    expect(asViewer.noise).toEqual({ epsilon: 0.5, mechanism: 'geometric' });
    expect(asViewer).toEqual(open);
    // its own zone stays exact
    const own = (await get(`/api/v1/zones/butcher/series?from=${D}&to=${D + 900}`, butcherViewer)).body;
    expect(own.noise).toBeUndefined();
    expect(own.devices).toEqual(Array.from({ length: 15 }, (_, i) => 21 + 2 * i));
  });
});
