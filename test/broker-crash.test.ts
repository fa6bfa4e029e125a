/**
 * A broker crash loses no counts. A real Mosquitto with the production ACL and the production persistence
 * trade-off (saved every 60 s, not per message), the aggregator away: a sensor publishes an hour of windows, the
 * broker acknowledges them (PUBACK) and queues them for the aggregator's persistent session, then Mosquitto is
 * killed with SIGKILL before it saved them. Everything restarts: the sensor, which kept every window in its outbox
 * because no aggregator had reported it stored, sends them again, and each is stored exactly once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { topics } from '@passant/shared';
import { parseConfig, startAggregator, type RunningAggregator } from '@passant/aggregator';
import { startAgent, type Agent } from '@passant/sensor-agent';
import { metricValue } from './helpers/metrics.ts';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';
import { requireTool } from './helpers/tools.ts';
import { waitFor } from './helpers/wait.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const hasMosquitto = requireTool('mosquitto', 'mosquitto');
const PASSWORDS = { aggregator: 'agg-pw-crash', 's-001': 's001-pw-crash', 's-002': 's002-pw-crash' };

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.skipIf(!hasMosquitto)('a Mosquitto crash while the aggregator is away', () => {
  // Not on test/helpers/stack.ts: the aggregator is stopped and started again and the broker killed between, an
  // order of its own that the fixture (one aggregator for its whole life) cannot give.
  it('loses no window: every window is stored exactly once after everything restarts', { timeout: 120_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-broker-crash-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const broker: MosquittoBroker = await startMosquitto({
      persistence: true,
      passwords: PASSWORDS,
      acl: fs.readFileSync(path.join(REPO_ROOT, 'deploy/mosquitto/acl'), 'utf8'),
      // As deploy/mosquitto/mosquitto.conf: saved every 60 s, queues raised.
      config: 'autosave_interval 60\nmax_queued_messages 100000\nmax_inflight_messages 100',
    });
    cleanups.push(() => broker.stop());

    const aggregatorConfig = () =>
      parseConfig({
        aggregator: { id: 'crash-test' },
        mqtt: { url: broker.url, username: 'aggregator', password: PASSWORDS.aggregator, reconnectPeriodMs: 200 },
        http: { port: 0, host: '127.0.0.1' },
        data: { dir: path.join(dir, 'aggregator') },
        log: { level: 'silent', statsIntervalSeconds: 0 },
        zones: [{ id: 'z1', name: 'Zone 1', sensors: ['s-001'] }],
      });
    let aggregator: RunningAggregator | null = null;
    cleanups.push(() => aggregator?.close());

    // 1. The aggregator subscribes once (its persistent session), then goes away.
    aggregator = await startAggregator(aggregatorConfig());
    await aggregator.mqttReady;
    await aggregator.close();
    aggregator = null;

    // 2. The sensor counts an hour (backfill) and hands every window to the broker, which acknowledges them.
    const agent: Agent = await startAgent({
      sensorId: 's-001',
      mqtt: { url: broker.url, username: 's-001', password: PASSWORDS['s-001'], reconnectPeriodMs: 200 },
      outbox: { path: path.join(dir, 'sensor', 'outbox.sqlite') },
      delivery: { retryInitialMs: 1000, retryMaxMs: 2000 },
      source: { kind: 'simulator', simulator: { backfillHours: 1, seed: 7 } },
      log: { level: 'silent', statsIntervalSeconds: 0 },
    });
    cleanups.push(() => agent.close());
    const windows = agent.stats().publisher.enqueued;
    expect(windows).toBeGreaterThanOrEqual(60);
    await waitFor(() => agent.stats().publisher.published >= windows, 'the broker to acknowledge every window', 30_000);

    // 3. The broker crashes before its next save: the queued windows (and the aggregator's session) are gone.
    await broker.stop({ keepDir: true, signal: 'SIGKILL' });
    await broker.start();

    // 4. The aggregator comes back; the sensor reconnects and sends again what nobody reported stored.
    aggregator = await startAggregator(aggregatorConfig());
    await aggregator.mqttReady;
    expect(await agent.drain(60_000)).toBe(true);

    // The aggregator's own metrics (the /metrics route's text, read in process: no token needed).
    const metrics = aggregator.metrics;
    let text = '';
    await waitFor(async () => {
      text = await metrics.render();
      return metricValue(text, 'passant_ingest_messages_total', { result: 'stored' }) >= windows;
    }, 'every window stored', 15_000);
    // Exactly once: as many first-time stores as windows; every further copy counted as a duplicate.
    expect(metricValue(text, 'passant_ingest_messages_total', { result: 'stored' })).toBe(windows);
    expect(metricValue(text, 'passant_ingest_messages_total', { result: 'rejected' })).toBe(0);
    expect(agent.stats().publisher.stored).toBe(windows);
    expect(agent.stats().publisher.queued).toBe(0);
    expect(agent.stats().publisher.resent).toBeGreaterThanOrEqual(windows);
  });

  it('the production ACL: only an aggregator writes stored acknowledgements, and a sensor reads only its own', { timeout: 60_000 }, async () => {
    const broker = await startMosquitto({ passwords: PASSWORDS, acl: fs.readFileSync(path.join(REPO_ROOT, 'deploy/mosquitto/acl'), 'utf8') });
    cleanups.push(() => broker.stop());
    const login = async (user: keyof typeof PASSWORDS): Promise<MqttClient> => {
      const c = await mqtt.connectAsync(broker.url, { clientId: user, username: user, password: PASSWORDS[user], reconnectPeriod: 0 });
      cleanups.push(() => c.endAsync(true));
      return c;
    };
    const got = (c: MqttClient) => {
      const list: { topic: string; payload: string }[] = [];
      c.on('message', (topic, payload) => list.push({ topic, payload: payload.toString('utf8') }));
      return list;
    };
    const s1 = await login('s-001');
    const s1Got = got(s1);
    await s1.subscribeAsync(topics.sensorStored('s-001'), { qos: 1 });
    const s2 = await login('s-002');
    const s2Got = got(s2);
    await s2.subscribeAsync([topics.sensorStored('s-002'), topics.sensorStored('s-001'), 'passant/sensors/+/stored'], { qos: 1 });

    // A sensor forging acknowledgements (which would make another sensor, or itself, forget unstored counts):
    // the broker drops them (MQTT 3.1.1 still answers PUBACK).
    const forged = JSON.stringify({ v: 1, seqs: [0, 1, 2] });
    await s2.publishAsync(topics.sensorStored('s-001'), forged, { qos: 1 });
    await s2.publishAsync(topics.sensorStored('s-002'), forged, { qos: 1 });
    await s1.publishAsync(topics.sensorStored('s-001'), forged, { qos: 1 });

    const agg = await login('aggregator');
    await agg.publishAsync(topics.sensorStored('s-001'), JSON.stringify({ v: 1, seqs: [7] }), { qos: 1 });
    await agg.publishAsync(topics.sensorStored('s-002'), JSON.stringify({ v: 1, seqs: [9] }), { qos: 1 });
    await waitFor(() => s1Got.length > 0 && s2Got.length > 0, 'the aggregator\'s acknowledgements', 15_000);
    // Each sensor got exactly its own, from the aggregator: nothing forged, nothing of the other sensor.
    await waitFor(() => s2Got.some((m) => m.payload.includes('[9]')), 's-002\'s acknowledgement', 15_000);
    expect(s1Got).toEqual([{ topic: topics.sensorStored('s-001'), payload: JSON.stringify({ v: 1, seqs: [7] }) }]);
    expect(s2Got.map((m) => m.topic)).toEqual(s2Got.map(() => topics.sensorStored('s-002')));
    expect(s2Got.every((m) => m.payload === JSON.stringify({ v: 1, seqs: [9] }))).toBe(true);
  });
});
