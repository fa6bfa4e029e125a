/**
 * The embedded broker of `npm start` (aedes) takes under passant/ only Passant's own topics, as the production
 * ACL does. A publish to passant/sensors//counts used to make aedes 1.2 drop the aggregator's connection.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountsMessageSchema, emptyRadioCounts, topics, windowStartOf } from '@passant/shared';
import { fetchMetrics, metricValue } from './helpers/metrics.ts';
import { startStack, type Stack } from './helpers/stack.ts';
import { waitFor } from './helpers/wait.ts';

describe('the demo stack\'s embedded broker', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ backfillHours: 0, zones: [{ id: 'z1', name: 'Zone 1', sensors: ['s-1'] }] });
    await stack.aggregator.mqttReady;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('refuses malformed Passant topics without disturbing the aggregator, and passes good messages on', async () => {
    const connectsBefore = metricValue(await fetchMetrics(stack.baseUrl), 'passant_mqtt_connects_total');
    for (const topic of ['passant/sensors//counts', 'passant/sensors/s-1/other', 'passant/sensors/S-1/counts']) {
      const bad = await mqtt.connectAsync(stack.mqttUrl, { reconnectPeriod: 0 });
      const closed = new Promise<boolean>((resolve) => bad.once('close', () => resolve(true)));
      bad.publish(topic, '{}', { qos: 1 });
      // The broker closes a client that publishes where it may not.
      expect(await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]), topic).toBe(true);
      await bad.endAsync(true);
    }
    const good = await mqtt.connectAsync(stack.mqttUrl, { reconnectPeriod: 0 });
    const windowStart = windowStartOf(Date.now() / 1000) - 600;
    const message = CountsMessageSchema.parse({
      v: 1, sensorId: 's-1', windowStart, windowSeconds: 60, seq: 1,
      wifi: { ...emptyRadioCounts(), devices: 7, frames: 9 }, ble: emptyRadioCounts(), rssiFloor: null,
    });
    await good.publishAsync(topics.sensorCounts('s-1'), JSON.stringify(message), { qos: 1 });
    await good.endAsync();
    await waitFor(
      async () => metricValue(await fetchMetrics(stack.baseUrl), 'passant_ingest_messages_total', { result: 'stored' }) >= 1,
      'the good message to be stored',
    );
    const metrics = await fetchMetrics(stack.baseUrl);
    expect(metricValue(metrics, 'passant_mqtt_connects_total')).toBe(connectsBefore);
    expect(metricValue(metrics, 'passant_mqtt_connected')).toBe(1);
    // Refused at the broker: the aggregator never saw them.
    expect(metricValue(metrics, 'passant_ingest_messages_total', { result: 'rejected' })).toBe(0);
  });
});
