/**
 * Several aggregators (README "Several aggregators and InfluxDB"): two aggregator processes read one MQTT shared subscription
 * ($share/<group>/passant/sensors/+/counts) from a real Mosquitto and write one SQLite file. One is killed with
 * SIGKILL in the middle of a steady stream and started again with the same id; in the end every published window
 * is stored exactly once.
 *
 * Mosquitto 2.0 and a killed member: its persistent session (clean: false) stays a member of the share group, so
 * Mosquitto keeps giving it its turn and queues those messages, together with the ones in flight (sent, not
 * acknowledged), for that session; it does not hand them to the other member (eclipse-mosquitto/mosquitto#1747,
 * #2662). They arrive when the same client id reconnects. So the test restarts the killed aggregator with the same
 * id, and checks that the restarted one received messages. Messages that the killed one had stored but not yet
 * acknowledged come again and are counted as duplicates, not stored twice (idempotent writes).
 *
 * The sensors are in zones, so both processes also run the release layer's settle job on the shared file. With a
 * settle time longer than the test, a zone-minute is frozen only once every sensor of the zone has reported it
 * (the killed aggregator's share comes after its restart), so every cell must end up frozen exactly once with the
 * sum of all its sensors, and the hour and day rollups must equal the sums of the frozen cells (a cell counted
 * into the rollups by both processes would break that).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { topics, type StatusMessage } from '@passant/shared';
import { spawnAggregator, type AggregatorProcess, type IngestMetrics } from '../bench/lib/aggregator-process.ts';
import { expectedWifiDevices, makeCountsLoad, minuteStartAgo, sensorIdOf } from '../bench/lib/counts-payloads.ts';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';
import { requireTool } from './helpers/tools.ts';
import { readCountsRows, readStoreFile, type CountsRow } from './helpers/store-file.ts';
import { fetchMetrics, metricValue } from './helpers/metrics.ts';
import { waitFor } from './helpers/wait.ts';

const hasMosquitto = requireTool('mosquitto', 'mosquitto');

const SENSORS = 100;
const WINDOWS_PER_SENSOR = 30;
const TOTAL = SENSORS * WINDOWS_PER_SENSOR; // 3,000 messages
const PACE_PER_TICK = 5;
const TICK_MS = 10; // 500 messages/s, about 6 s of publishing
const KILL_AT = TOTAL / 2;
/** Messages published at once just before the kill, and how long after them the kill comes. */
const KILL_BURST = 100;
const KILL_BURST_LEAD_MS = 10;
const STORE_WAIT_MS = 25_000;
const SHARE_GROUP = 'passant-ingest';
const PREFIX = 'two-agg';
const ZONES = 10; // 10 sensors each
const SETTLE_WAIT_MS = 20_000;

interface CellRow {
  zone_id: string;
  window_start: number;
  sensors: string;
  wifi_devices: number;
  wifi_released: number;
}

interface RollupRow {
  zone_id: string;
  step: number;
  t: number;
  wifi_sum: number;
  wifi_released: number;
  wifi_suppressed: number;
}

function zoneOfSensorIndex(s: number): string {
  return `zone-${Math.floor(s / (SENSORS / ZONES))}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until the aggregator has received and stored every counts message Mosquitto routed to it (call it once
 * the publisher has every PUBACK, so that every message's route is decided). A sensor status published now reaches
 * it through its own (not shared) status subscription, behind those counts messages in the one queue Mosquitto
 * keeps for the client: once the aggregator has counted that status, it has received all of them; once it holds
 * no PUBACK, all of them are stored. A missed deadline fails the test.
 */
async function waitUntilIdle(agg: AggregatorProcess, publisher: mqtt.MqttClient, sensorId: string): Promise<void> {
  const metric = async (name: string, labels: Record<string, string> = {}) => metricValue(await fetchMetrics(agg.url, 2000), name, labels);
  const statuses = () => metric('passant_ingest_status_messages_total', { result: 'accepted' });
  const before = await statuses();
  const status: StatusMessage = { v: 1, state: 'online', role: 'sensor', id: sensorId };
  await publisher.publishAsync(topics.sensorStatus(sensorId), JSON.stringify(status), { qos: 1 });
  await waitFor(async () => (await statuses()) > before, `${agg.id} to receive the status published after the stream`, 10_000);
  await waitFor(async () => (await metric('passant_ingest_unacked_messages')) === 0, `${agg.id} to store what it received`, 10_000);
}

// Not on test/helpers/stack.ts: two aggregator processes on one store file, one SIGKILLed, where the fixture runs one in process.
describe('two aggregators on one shared subscription', () => {
  it.skipIf(!hasMosquitto)(
    'store every window exactly once when one is SIGKILLed midway and restarted',
    async () => {
      const started = Date.now();
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-two-agg-'));
      const dbFile = path.join(dataDir, 'passant.db');
      let broker: MosquittoBroker | undefined;
      let publisher: mqtt.MqttClient | undefined;
      const aggregators: AggregatorProcess[] = [];
      try {
        broker = await startMosquitto({
          persistence: false,
          config: ['max_queued_messages 100000', 'max_inflight_messages 100'].join('\n'),
        });
        const configFile = path.join(dataDir, 'config.json');
        const zones = Array.from({ length: ZONES }, (_, z) => ({
          id: `zone-${z}`,
          name: `Zone ${z}`,
          sensors: Array.from({ length: SENSORS / ZONES }, (_, i) => sensorIdOf(PREFIX, z * (SENSORS / ZONES) + i)),
        }));
        fs.writeFileSync(configFile, JSON.stringify({ zones, settleSeconds: 3600 }));
        const common = { mqttUrl: broker.url, dataDir, shareGroup: SHARE_GROUP, logLevel: 'warn', env: { PASSANT_CONFIG: configFile } };
        // One after the other: the first creates the schema, so the second opens a migrated file.
        const a = await spawnAggregator({ ...common, id: 'agg-a' });
        aggregators.push(a);
        const b = await spawnAggregator({ ...common, id: 'agg-b' });
        aggregators.push(b);

        const load = makeCountsLoad({ sensorCount: SENSORS, windowsPerSensor: WINDOWS_PER_SENSOR, lastWindowStart: minuteStartAgo(5), prefix: PREFIX });
        expect(load).toHaveLength(TOTAL);
        publisher = await mqtt.connectAsync(broker.url, { clientId: 'two-agg-publisher', clean: true, reconnectPeriod: 0 });

        let beforeKill: { a: IngestMetrics; b: IngestMetrics } | undefined;
        let aAtKill: IngestMetrics | undefined;
        const acks: Promise<unknown>[] = [];
        const publish = (from: number, to: number) => {
          for (const m of load.slice(from, to)) acks.push(publisher!.publishAsync(m.topic, m.payload, { qos: 1 }));
        };
        const t0 = performance.now();
        for (let i = 0; i < TOTAL; ) {
          if (i === KILL_AT) {
            beforeKill = { a: await a.metrics(), b: await b.metrics() };
            // A burst just before the kill, so that messages are in flight to B (sent, not acknowledged) when it dies.
            publish(i, i + KILL_BURST);
            i += KILL_BURST;
            await sleep(KILL_BURST_LEAD_MS);
            b.kill('SIGKILL');
            await b.exited;
            aAtKill = await a.metrics();
          }
          publish(i, i + PACE_PER_TICK);
          i += PACE_PER_TICK;
          // A steady pace on an absolute schedule: a slow step is caught up, not added to the total time.
          const wait = t0 + (i / PACE_PER_TICK) * TICK_MS - performance.now();
          if (wait > 0) await sleep(wait);
        }
        await Promise.all(acks); // the broker has every message (QoS 1 PUBACK)
        // Restarted only when the survivor is idle, so that what reaches the restarted one is what Mosquitto kept
        // for its session while it was away.
        await waitUntilIdle(a, publisher, sensorIdOf(PREFIX, 0));
        const rowsBeforeRestart = readCountsRows(dbFile).length;
        const b2 = await spawnAggregator({ ...common, id: 'agg-b' });
        aggregators.push(b2);

        // Wait, bounded, until the store holds them all.
        const deadline = Date.now() + STORE_WAIT_MS;
        let rows = readCountsRows(dbFile);
        while (rows.length < TOTAL && Date.now() < deadline) {
          await sleep(200);
          rows = readCountsRows(dbFile);
        }
        const finalA = await a.metrics();
        const finalB2 = await b2.metrics();
        const context = JSON.stringify({ rows: rows.length, rowsBeforeRestart, beforeKill, aAtKill, finalA, finalB2 });
        console.info(`two aggregators: ${context} in ${Date.now() - started} ms`);

        // Both aggregators had taken a share of the stream before the kill.
        expect(beforeKill!.a.stored, context).toBeGreaterThan(0);
        expect(beforeKill!.b.stored, context).toBeGreaterThan(0);
        // The survivor went on storing while the other was down.
        expect(finalA.stored, context).toBeGreaterThan(aAtKill!.stored);
        // The load was split: the survivor never received the whole stream, and never a message twice (it never
        // disconnected, and no other member's message is handed to it).
        expect(finalA.stored + finalA.duplicate, context).toBeLessThan(TOTAL * 0.8);
        expect(finalA.duplicate, context).toBe(0);
        // The restarted aggregator received what Mosquitto had kept for its session (its share of the second
        // half, plus what was in flight at the kill), and stored what was new in it.
        expect(finalB2.stored, context).toBeGreaterThan(0);
        expect(rowsBeforeRestart + finalB2.stored, context).toBe(TOTAL);
        // Nothing was rejected and no write failed, with two processes writing one SQLite file.
        for (const m of [finalA, finalB2]) {
          expect(m.rejected, context).toBe(0);
          expect(m.storeWriteErrors, context).toBe(0);
        }

        // Every published window is stored exactly once, with the content that was sent.
        expect(rows.length, context).toBe(TOTAL);
        const byKey = new Map<string, CountsRow>();
        for (const row of rows) byKey.set(`${row.sensor_id} ${row.window_start}`, row);
        expect(byKey.size).toBe(TOTAL);
        const lastWindowStart = load[load.length - 1]!.windowStart;
        for (let s = 0; s < SENSORS; s++) {
          for (let w = 0; w < WINDOWS_PER_SENSOR; w++) {
            const windowStart = lastWindowStart - (WINDOWS_PER_SENSOR - 1 - w) * 60;
            const row = byKey.get(`${sensorIdOf(PREFIX, s)} ${windowStart}`);
            expect(row?.wifi_devices, `${sensorIdOf(PREFIX, s)} ${windowStart}`).toBe(expectedWifiDevices(s, w));
          }
        }
        // Each message was written once, or written once and then seen again as a duplicate (redelivery).
        expect(finalA.stored + finalB2.stored, context).toBeLessThanOrEqual(TOTAL);

        // Both settle jobs (every 5 s) work through the unsettled queue of the shared file.
        const settleDeadline = Date.now() + SETTLE_WAIT_MS;
        let unsettled = readStoreFile(dbFile, (db) => (db.prepare('SELECT COUNT(*) AS n FROM unsettled').get() as { n: number }).n);
        while (unsettled > 0 && Date.now() < settleDeadline) {
          await sleep(250);
          unsettled = readStoreFile(dbFile, (db) => (db.prepare('SELECT COUNT(*) AS n FROM unsettled').get() as { n: number }).n);
        }
        expect(unsettled, 'unsettled windows left').toBe(0);
        const { cells, rollups } = readStoreFile(dbFile, (db) => ({
          cells: db.prepare('SELECT zone_id, window_start, sensors, wifi_devices, wifi_released FROM cells').all() as CellRow[],
          rollups: db.prepare('SELECT zone_id, step, t, wifi_sum, wifi_released, wifi_suppressed FROM rollups').all() as RollupRow[],
        }));
        // Every zone-minute frozen once, as the sum of the stored windows of the sensors it names.
        expect(cells.length, 'frozen cells').toBe(ZONES * WINDOWS_PER_SENSOR);
        for (const cell of cells) {
          const sensors = JSON.parse(cell.sensors) as string[];
          expect(sensors, `${cell.zone_id} ${cell.window_start}`).toEqual(zones.find((z) => z.id === cell.zone_id)!.sensors);
          const sum = sensors.reduce((acc, id) => acc + (byKey.get(`${id} ${cell.window_start}`)?.wifi_devices ?? NaN), 0);
          expect(cell.wifi_devices, `${cell.zone_id} ${cell.window_start}`).toBe(sum);
          for (const id of sensors) {
            expect(zoneOfSensorIndex(Number(id.slice(PREFIX.length + 1))), id).toBe(cell.zone_id);
          }
        }
        // Hour and day rollups: exactly the sums of the frozen cells, none counted twice.
        const expected = new Map<string, { sum: number; released: number; suppressed: number }>();
        for (const cell of cells) {
          for (const step of [3600, 86_400]) {
            const key = `${cell.zone_id} ${step} ${Math.floor(cell.window_start / step) * step}`;
            const e = expected.get(key) ?? { sum: 0, released: 0, suppressed: 0 };
            if (cell.wifi_released === 1) {
              e.sum += cell.wifi_devices;
              e.released++;
            } else e.suppressed++;
            expected.set(key, e);
          }
        }
        expect(rollups.length, 'rollup rows').toBe(expected.size);
        for (const r of rollups) {
          const key = `${r.zone_id} ${r.step} ${r.t}`;
          expect({ sum: r.wifi_sum, released: r.wifi_released, suppressed: r.wifi_suppressed }, key).toEqual(expected.get(key));
        }
        console.info(`two aggregators: ${cells.length} cells frozen, ${rollups.length} rollup rows, after ${Date.now() - started} ms`);
        expect(Date.now() - started).toBeLessThan(60_000);
      } finally {
        await publisher?.endAsync(true).catch(() => undefined);
        await Promise.all(aggregators.map((agg) => agg.stop()));
        await broker?.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
