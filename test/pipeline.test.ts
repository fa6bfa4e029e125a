/**
 * The whole pipeline across programs: simulated sensors -> MQTT broker -> aggregator -> SQLite -> release
 * layer -> HTTP. The API's numbers must equal what the sensors published, summed per zone, with every
 * zone-minute suppressed where no sensor of the zone heard k devices beyond its static baseline; duplicates and redelivery never count twice; a bad message is rejected and
 * counted, and the next good one is stored. Run against the embedded aedes broker and against a real Mosquitto.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CountsMessageSchema, emptyRadioCounts, topics, windowStartOf, type CountsMessage, type Radio, type SeriesResponse,
} from '@passant/shared';
import { fetchMetrics, metricValue } from './helpers/metrics.ts';
import { releaseRuleOf } from './helpers/release-rule.ts';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';
import { startStack, type Stack } from './helpers/stack.ts';
import { requireTool } from './helpers/tools.ts';
import { waitFor } from './helpers/wait.ts';

const K = 5;
const ZONES = [
  { id: 'z-a', name: 'Zone A', sensors: ['s-1', 's-2'] },
  { id: 'z-b', name: 'Zone B', sensors: ['s-3'] },
];
/**
 * The compared range: the last whole day, so it holds both busy (released) and quiet (suppressed) minutes at any
 * hour. The sensors backfill two days: a sensor's static baseline is learnt from its quietest hours, and only a
 * history that holds a night gives the low baseline under which busy minutes are released. With one day, a run in
 * the morning had its night at the very end and hid nearly every minute before it.
 */
const COMPARED_HOURS = 24;
const BACKFILL_HOURS = 48;

async function getSeries(stack: Stack, zone: string, from: number, to: number, step: number, radio: Radio): Promise<SeriesResponse> {
  const res = await fetch(`${stack.baseUrl}/api/v1/zones/${zone}/series?from=${from}&to=${to}&step=${step}&radio=${radio}`);
  expect(res.status).toBe(200);
  return (await res.json()) as SeriesResponse;
}

/** What the release layer must give for a zone, computed independently from what the sensors published. */
function expectedSeries(published: Map<string, CountsMessage>, sensors: string[], radio: Radio, from: number, to: number, step: number): SeriesResponse {
  const released = releaseRuleOf(published, K);
  const out: SeriesResponse = { t: [], devices: [], suppressed: [] };
  for (let b = from; b < to; b += step) {
    let value: number | null = null;
    let suppressed = 0;
    for (let t = b; t < b + step; t += 60) {
      const msgs = sensors.map((s) => published.get(`${s}@${t}`)).filter((m) => m !== undefined);
      if (msgs.length === 0) continue; // no data: no cell
      const sum = msgs.reduce((n, m) => n + m[radio].devices, 0);
      if (!released(msgs, radio)) suppressed++;
      else value = (value ?? 0) + sum;
    }
    out.t.push(b);
    out.devices.push(value);
    out.suppressed.push(suppressed);
  }
  return out;
}

function pipelineSuite(name: string, brokerUrl: () => string | undefined) {
  describe(name, () => {
    let stack: Stack;
    let recorder: MqttClient;
    let tester: MqttClient;
    const published = new Map<string, CountsMessage>();
    let recording = true;
    let from = 0;
    let to = 0;

    beforeAll(async () => {
      const startMinute = windowStartOf(Date.now() / 1000);
      stack = await startStack({
        k: K,
        zones: ZONES,
        backfillHours: BACKFILL_HOURS,
        mqttUrl: brokerUrl(),
        // The test's own subscriber sees every byte the sensors publish, from before the first one.
        beforeSensors: async (url) => {
          recorder = await mqtt.connectAsync(url, { clientId: `recorder-${process.pid}`, clean: true, reconnectPeriod: 0 });
          recorder.on('message', (_topic, payload) => {
            if (recording === false) return; // from here on only the test's own (partly bad) messages
            const m = CountsMessageSchema.parse(JSON.parse(payload.toString('utf8')));
            published.set(`${m.sensorId}@${m.windowStart}`, m);
          });
          await recorder.subscribeAsync(topics.allSensorCounts(), { qos: 1 });
        },
      });
      tester = await mqtt.connectAsync(stack.mqttUrl, { clientId: `tester-${process.pid}`, reconnectPeriod: 0 });
      for (const agent of stack.agents) expect(await agent.drain(60_000)).toBe(true);
      // The last backfilled day: every minute before the stack started, for all three sensors.
      to = startMinute;
      from = to - COMPARED_HOURS * 3600;
      await waitFor(async () => {
        const metrics = await fetchMetrics(stack.baseUrl);
        return metricValue(metrics, 'passant_ingest_messages_total', { result: 'stored' }) >= published.size;
      }, 'the aggregator to store every published window', 30_000, 100);
      // Stored is not yet released: freeze every zone-minute that has settled (all its sensors reported) now,
      // instead of waiting for the release layer's own settle timer, which a loaded machine can delay.
      while ((await stack.aggregator.release.settle()).length > 0);
    });

    afterAll(async () => {
      await tester?.endAsync();
      await recorder?.endAsync();
      await stack?.close();
    });

    it('the sensors published a day of windows for every sensor', () => {
      for (const s of ZONES.flatMap((z) => z.sensors)) {
        for (let t = from; t < to; t += 60) expect(published.has(`${s}@${t}`), `${s}@${t}`).toBe(true);
      }
    });

    it.each(['wifi', 'ble'] as const)('per minute, %s: the API equals the published counts summed per zone, below k suppressed', async (radio) => {
      let releasedCells = 0;
      let suppressedCells = 0;
      for (const zone of ZONES) {
        const got = await getSeries(stack, zone.id, from, to, 60, radio);
        const want = expectedSeries(published, zone.sensors, radio, from, to, 60);
        expect(got).toMatchObject(want);
        releasedCells += want.devices.filter((d) => d !== null).length;
        suppressedCells += want.suppressed.reduce((a, b) => a + b, 0);
      }
      // The day holds both kinds, so this compares real suppression, not an all-null or all-number series.
      expect(releasedCells).toBeGreaterThan(100);
      if (radio === 'wifi') expect(suppressedCells).toBeGreaterThan(0);
    });

    it('per hour and per day: sums of released minutes, with the number of suppressed minutes', async () => {
      const hourFrom = Math.ceil(from / 3600) * 3600;
      const hourTo = Math.floor(to / 3600) * 3600;
      for (const zone of ZONES) {
        expect(await getSeries(stack, zone.id, hourFrom, hourTo, 3600, 'wifi')).toMatchObject(
          expectedSeries(published, zone.sensors, 'wifi', hourFrom, hourTo, 3600),
        );
      }
    });

    it('duplicates and redelivery do not count twice', async () => {
      const before = await getSeries(stack, 'z-a', from, to, 60, 'wifi');
      const metricsBefore = await fetchMetrics(stack.baseUrl);
      const dupBefore = metricValue(metricsBefore, 'passant_ingest_messages_total', { result: 'duplicate' });
      const storedBefore = metricValue(metricsBefore, 'passant_ingest_messages_total', { result: 'stored' });
      // Every window of zone A's sensors in the range again, as a broker redelivering or a sensor resending would.
      const again = [...published.values()].filter((m) => m.windowStart >= from && m.windowStart < to && m.sensorId !== 's-3');
      for (const m of again) await tester.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
      await waitFor(async () => {
        const metrics = await fetchMetrics(stack.baseUrl);
        return metricValue(metrics, 'passant_ingest_messages_total', { result: 'duplicate' }) >= dupBefore + again.length;
      }, 'the duplicates to be counted', 30_000, 100);
      const metricsAfter = await fetchMetrics(stack.baseUrl);
      expect(metricValue(metricsAfter, 'passant_ingest_messages_total', { result: 'duplicate' })).toBe(dupBefore + again.length);
      // Live windows may be stored meanwhile, but none of the resent ones.
      expect(metricValue(metricsAfter, 'passant_ingest_messages_total', { result: 'stored' }) - storedBefore).toBeLessThanOrEqual(6);
      expect(await getSeries(stack, 'z-a', from, to, 60, 'wifi')).toEqual(before);
    });

    it('an invalid message is rejected and counted by reason, and the next good one is stored', async () => {
      recording = false;
      const metricsBefore = await fetchMetrics(stack.baseUrl);
      const rejectedBefore = metricValue(metricsBefore, 'passant_ingest_messages_total', { result: 'rejected', reason: 'invalid_json' });
      const schemaBefore = metricValue(metricsBefore, 'passant_ingest_messages_total', { result: 'rejected', reason: 'invalid_schema' });
      await tester.publishAsync(topics.sensorCounts('s-3'), '{"v":1,"sensorId":"s-3",', { qos: 1 });
      const early = to - BACKFILL_HOURS * 3600 - 7200; // a minute nobody has reported yet (before the backfill)
      const bad = { ...goodMessage('s-3', early, 9), mac: 'aa:bb:cc:dd:ee:ff' };
      await tester.publishAsync(topics.sensorCounts('s-3'), JSON.stringify(bad), { qos: 1 });
      await tester.publishAsync(topics.sensorCounts('s-3'), JSON.stringify(goodMessage('s-3', early, 9)), { qos: 1 });
      // Stored, not released: a minute before the backfill has no static baseline for s-3 yet (a new sensor learns).
      await waitFor(async () => {
        const stored = await stack.aggregator.store.sensorWindows(['s-3'], early, early + 60);
        return stored.length === 1 && stored[0]!.wifi === 9;
      }, 'the good message after the bad ones to be stored', 30_000, 100);
      const metricsAfter = await fetchMetrics(stack.baseUrl);
      expect(metricValue(metricsAfter, 'passant_ingest_messages_total', { result: 'rejected', reason: 'invalid_json' })).toBe(rejectedBefore + 1);
      expect(metricValue(metricsAfter, 'passant_ingest_messages_total', { result: 'rejected', reason: 'invalid_schema' })).toBe(schemaBefore + 1);
      const health = await fetch(`${stack.baseUrl}/healthz`);
      expect(health.status).toBe(200);
    });
  });
}

function goodMessage(sensorId: string, windowStart: number, devices: number): CountsMessage {
  return CountsMessageSchema.parse({
    v: 1, sensorId, windowStart, windowSeconds: 60, seq: 1_000_000,
    wifi: { ...emptyRadioCounts(), devices, randomized: 0, frames: devices * 2 },
    ble: emptyRadioCounts(), rssiFloor: null,
  });
}

pipelineSuite('pipeline through the embedded aedes broker', () => undefined);

const hasMosquitto = requireTool('mosquitto', 'mosquitto');
describe.skipIf(!hasMosquitto)('with a real Mosquitto', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto({ config: 'max_queued_messages 100000' });
  });
  afterAll(async () => {
    await broker?.stop();
  });
  pipelineSuite('pipeline through Mosquitto', () => broker.url);
});
