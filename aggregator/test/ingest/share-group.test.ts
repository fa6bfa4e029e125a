/** Several aggregators share the counts through an MQTT shared subscription (real Mosquitto: aedes has no $share). */
import { topics } from '@passant/shared';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { requireTool } from '@passant/test-helpers/tools';
import { removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';
import { countsMessage, minuteAgo } from '../helpers/messages.ts';
import { startMosquitto } from '@passant/test-helpers/mosquitto';

const hasMosquitto = requireTool('mosquitto', 'mosquitto');

describe('shared subscription', () => {
  it.skipIf(!hasMosquitto)('two aggregators in one share group each take a part, every message exactly once', async () => {
    const broker = await startMosquitto();
    const stored = (a: { metrics: { ingestMessages: { get(l: Record<string, string>): number } } }) =>
      a.metrics.ingestMessages.get({ result: 'stored', reason: 'none' });
    const a = await startTestAggregator(broker.url, { aggregator: { id: 'share-a' }, mqtt: { shareGroup: 'passant' } });
    const b = await startTestAggregator(broker.url, { aggregator: { id: 'share-b' }, mqtt: { shareGroup: 'passant' } });
    const publisher = await mqtt.connectAsync(broker.url, { clientId: 'share-publisher', reconnectPeriod: 0 });
    try {
      await Promise.all([a.mqttReady, b.mqttReady]);
      expect(a.ingest.countsFilter).toBe('$share/passant/passant/sensors/+/counts');
      const t = minuteAgo(5);
      const n = 40;
      for (let i = 0; i < n; i++) {
        await publisher.publishAsync(topics.sensorCounts(`s${i}`), JSON.stringify(countsMessage(`s${i}`, t, 1)), { qos: 1 });
      }
      await waitFor(() => stored(a) + stored(b) === n, 'every message stored once', 15_000);
      expect(stored(a)).toBeGreaterThan(0);
      expect(stored(b)).toBeGreaterThan(0);
      // Markers until each aggregator has stored one: a member's messages arrive in order, so once it has a marker,
      // any second copy of the n meant for it would have arrived (and been counted) before.
      const markersOf = (agg: typeof a) => agg.health.list().filter((h) => h.sensorId.startsWith('m')).length;
      let markers = 0;
      while (markersOf(a) === 0 || markersOf(b) === 0) {
        if (markers >= 50) throw new Error('the $share group never gave both aggregators a marker');
        await publisher.publishAsync(topics.sensorCounts(`m${markers}`), JSON.stringify(countsMessage(`m${markers}`, t, 1)), { qos: 1 });
        markers++;
        await waitFor(() => stored(a) + stored(b) === n + markers, `marker ${markers} stored`, 15_000);
      }
      expect(stored(a) + stored(b)).toBe(n + markers);
      expect(a.metrics.ingestMessages.get({ result: 'duplicate', reason: 'none' }) + b.metrics.ingestMessages.get({ result: 'duplicate', reason: 'none' })).toBe(0);
    } finally {
      await publisher.endAsync(true);
      await a.close();
      await b.close();
      removeDir(a.dataDir);
      removeDir(b.dataDir);
      await broker.stop();
    }
  });
});
