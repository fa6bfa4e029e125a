/**
 * Sensors that expire (transparency.sensors[].activeUntil): windows after the sensor's last active day are refused at
 * the door as sensor_expired and stored nowhere; windows up to the end of that day are stored. Through a real broker
 * (aedes) into a real aggregator on SQLite.
 */
import mqtt from 'mqtt';
import { topics } from '@passant/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endOfActiveDay, sensorExpiries } from '../../src/ingest/sensor-expiry.ts';
import { validateCounts } from '../../src/ingest/validate-counts.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';
import { removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';

const DAY = 86_400;
/** Yesterday (UTC) as YYYY-MM-DD: the expired sensor's last active day. */
const today = Math.floor(Date.now() / 1000 / DAY) * DAY;
const yesterday = new Date((today - DAY) * 1000).toISOString().slice(0, 10);

describe('sensor expiry', () => {
  it('a day names its end: the next midnight (UTC)', () => {
    expect(endOfActiveDay('2024-10-27')).toBe(Date.parse('2024-10-28T00:00:00Z') / 1000);
    expect(sensorExpiries([{ id: 'a', activeUntil: '2024-10-27' }, { id: 'b' }])).toEqual(new Map([['a', Date.parse('2024-10-28T00:00:00Z') / 1000]]));
  });

  it('the door refuses a window that ends after the last active day', () => {
    const end = endOfActiveDay('2024-10-27');
    const opts = { now: end + DAY, maxFutureSeconds: 120, activeUntil: (id: string) => (id === 's1' ? end : undefined) };
    const topic = 'passant/sensors/s1/counts';
    expect(validateCounts(topic, JSON.stringify(countsMessage('s1', end - 60, 5)), opts).ok).toBe(true);
    const late = validateCounts(topic, JSON.stringify(countsMessage('s1', end, 5)), opts);
    expect(!late.ok && late.reason).toBe('sensor_expired');
    expect(validateCounts('passant/sensors/s2/counts', JSON.stringify(countsMessage('s2', end, 5)), opts).ok).toBe(true);
  });

  describe('in a running aggregator', () => {
    let broker: TestBroker;
    let agg: TestAggregator;
    beforeAll(async () => {
      broker = await startAedes();
      agg = await startTestAggregator(broker.url, {
        zones: [{ id: 'z', name: 'Z', sensors: ['old', 'new'] }],
        transparency: { sensors: [{ id: 'old', lat: 52.37, lon: 4.89, activeUntil: yesterday }] },
      });
      await agg.mqttReady;
    });
    afterAll(async () => {
      await agg?.close();
      if (agg) removeDir(agg.dataDir);
      await broker?.close();
    });

    it("stores nothing of an expired sensor's windows after its last day, and counts them by reason", async () => {
      const client = await mqtt.connectAsync(broker.url, { clientId: 'expiry-test', reconnectPeriod: 0 });
      try {
        const lastDay = today - 120; // yesterday 23:58: still active
        const after = today + 60;
        const messages = [countsMessage('old', lastDay, 7), countsMessage('old', after, 7), countsMessage('new', after, 7)];
        for (const m of messages) await client.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
        await waitFor(
          () => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) + agg.metrics.ingestMessages.get({ result: 'rejected', reason: 'sensor_expired' }) === 3,
          'all three handled',
          15_000,
        );
        expect(agg.metrics.ingestMessages.get({ result: 'rejected', reason: 'sensor_expired' })).toBe(1);
        const stored = await agg.store.sensorWindows(['old', 'new'], lastDay, after + 60);
        expect(stored.map((w) => `${w.sensorId}@${w.windowStart}`).sort()).toEqual([`new@${after}`, `old@${lastDay}`]);
      } finally {
        await client.endAsync();
      }
    });

    it('sensor health shows the expired sensor as ended, with its last day', async () => {
      const { token } = agg.tokens.create({ role: 'admin', name: 'expiry' });
      const res = await fetch(`${agg.url}/api/v1/sensors`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { sensors: { sensorId: string; ended: boolean; activeUntil: string | null }[] };
      const rows = Object.fromEntries(body.sensors.map((s) => [s.sensorId, [s.ended, s.activeUntil]]));
      expect(rows).toEqual({ old: [true, yesterday], new: [false, null] });
    });
  });
});
