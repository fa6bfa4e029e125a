/**
 * Acknowledge after store survives a real crash: the aggregator runs as its own process (its bin, configured
 * through PASSANT_* variables) against a real in-process aedes broker, reads ahead with PUBACKs held, and is killed
 * with SIGKILL in the middle of a stream of counts messages. Started again with the same id (same persistent
 * session) and data dir, it must end with every published window stored exactly once, with its content.
 *
 * Batches wait `batchMaxDelayMs` (200 ms) before they are written, and the kill comes while at least 20 messages
 * are received and not yet stored: acknowledged on receipt (ackMode 'received'), those would be lost and this
 * test fails.
 */
import path from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { parseIngestMetrics, spawnAggregator } from '../../../bench/lib/aggregator-process.ts';
import { fetchMetrics, metricValue } from '@passant/test-helpers/metrics';
import type { AggregatorProcess } from '../../../bench/lib/aggregator-process.ts';
import { expectedWifiDevices, makeCountsLoad, minuteStartAgo } from '../../../bench/lib/counts-payloads.ts';
import { makeDataDir, removeDir } from '../helpers/aggregator.ts';
import { readCountsRows } from '@passant/test-helpers/store-file';
import { waitFor } from '@passant/test-helpers/wait';
import { startAedes } from '@passant/test-helpers/aedes-broker';

const SENSORS = 50;
const WINDOWS = 60;
const TOTAL = SENSORS * WINDOWS; // 3,000 messages
const CHUNK = 100;
const CHUNK_EVERY_MS = 50; // 2,000 messages/s, 1.5 s of publishing
const ID = 'crash-test';
const ENV = { PASSANT_INGEST_BATCH_MAX_DELAY_MS: '200' };

describe('ingest crash', () => {
  it('SIGKILL while PUBACKs are held, then a restart: every window stored exactly once', async () => {
    const broker = await startAedes();
    const dataDir = makeDataDir();
    const dbFile = path.join(dataDir, 'passant.db');
    const clientId = `passant-aggregator-${ID}`;
    let acksBeforeKill = 0;
    let killed = false;
    broker.aedes.on('ack', (_packet, client) => {
      if (client?.id === clientId && !killed) acksBeforeKill++;
    });
    const publisher = await mqtt.connectAsync(broker.url, { clientId: 'crash-publisher', reconnectPeriod: 0 });
    const procs: AggregatorProcess[] = [];
    let publishing: Promise<void> | undefined;
    try {
      const lastWindowStart = minuteStartAgo(5);
      const load = makeCountsLoad({ sensorCount: SENSORS, windowsPerSensor: WINDOWS, lastWindowStart, prefix: 'crash' });
      procs.push(await spawnAggregator({ id: ID, mqttUrl: broker.url, dataDir, logLevel: 'warn', env: ENV }));
      const first = procs[0]!;

      // Publish in paced chunks; kill the first aggregator once a third is stored, while the rest streams in.
      publishing = (async () => {
        for (let i = 0; i < load.length; i += CHUNK) {
          await Promise.all(load.slice(i, i + CHUNK).map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
          await new Promise((r) => setTimeout(r, CHUNK_EVERY_MS));
        }
      })();
      // Killed once a third is stored and messages are waiting for their batch, their PUBACKs held.
      const before = await waitFor(
        async () => {
          const text = await fetchMetrics(first.url, 2000).catch(() => '');
          const m = parseIngestMetrics(text);
          const unacked = metricValue(text, 'passant_ingest_unacked_messages');
          return m.stored >= TOTAL / 3 && unacked >= 20 ? { ...m, unacked } : undefined;
        },
        'a third of the messages stored and at least 20 unacknowledged',
        20_000,
      );
      first.kill('SIGKILL');
      killed = true;
      expect(await first.exited).toBe('SIGKILL');
      expect(before.stored).toBeLessThan(TOTAL); // mid-stream
      expect(before.storeWrites).toBeLessThan(before.stored / 5); // it was batching
      expect(acksBeforeKill).toBeGreaterThan(0);
      const rowsAtKill = readCountsRows(dbFile).length;
      // nothing acknowledged before it was stored: the broker got no more PUBACKs than there were rows
      expect(acksBeforeKill).toBeLessThanOrEqual(rowsAtKill);
      await publishing;

      procs.push(await spawnAggregator({ id: ID, mqttUrl: broker.url, dataDir, logLevel: 'warn', env: ENV }));
      // Rows are keyed by (sensor, window): a redelivered window cannot make a second row, so TOTAL rows is the end.
      await waitFor(() => readCountsRows(dbFile).length >= TOTAL, 'every window stored after the restart', 30_000);
      const rows = readCountsRows(dbFile);
      expect(rows).toHaveLength(TOTAL);
      const byKey = new Map(rows.map((r) => [`${r.sensor_id}@${r.window_start}`, r.wifi_devices]));
      for (let s = 0; s < SENSORS; s++) {
        for (let w = 0; w < WINDOWS; w++) {
          const sensorId = `crash-${String(s).padStart(5, '0')}`;
          const windowStart = lastWindowStart - (WINDOWS - 1 - w) * 60;
          expect(byKey.get(`${sensorId}@${windowStart}`), `${sensorId} ${windowStart}`).toBe(expectedWifiDevices(s, w));
        }
      }
      const after = await procs[1]!.metrics();
      expect(after.rejected).toBe(0);
      expect(after.stored).toBe(TOTAL - rowsAtKill);
    } finally {
      await publishing?.catch(() => undefined);
      for (const p of procs) await p.stop();
      await publisher.endAsync(true);
      await broker.close();
      removeDir(dataDir);
    }
  });
});
