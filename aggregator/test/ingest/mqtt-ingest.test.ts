/** MQTT ingest against a real in-process aedes broker on port 0 and a real SQLite file. */
import path from 'node:path';
import { topics } from '@passant/shared';
import type { CountsMessage, Radio } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, SqliteStore } from '../../src/index.ts';
import type { PutResult, ReleaseStore } from '../../src/index.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { makeDataDir, removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage, minuteAgo } from '../helpers/messages.ts';
import { storeWith } from '../helpers/store-double.ts';
import { sumByWindow } from '../store/sums.ts';

let broker: TestBroker;
let publisher: MqttClient;
const toClose: (() => Promise<void>)[] = [];

beforeEach(async () => {
  broker = await startAedes();
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'test-publisher', reconnectPeriod: 0 });
});
afterEach(async () => {
  for (const close of toClose.splice(0).reverse()) await close();
  await publisher.endAsync(true);
  await broker.close();
});

async function aggregator(...args: Parameters<typeof startTestAggregator>): Promise<TestAggregator> {
  const agg = await startTestAggregator(...args);
  toClose.push(async () => {
    await agg.close();
    removeDir(agg.dataDir);
  });
  await agg.mqttReady;
  return agg;
}

function publishCounts(message: CountsMessage, sensorId = message.sensorId) {
  return publisher.publishAsync(topics.sensorCounts(sensorId), JSON.stringify(message), { qos: 1 });
}

const ingested = (agg: TestAggregator, result: string, reason = 'none') => agg.metrics.ingestMessages.get({ result, reason });
const sum = (store: ReleaseStore, sensors: string[], t: number, radio: Radio = 'wifi') => sumByWindow(store, sensors, radio, t, t + 60);

describe('MQTT ingest', () => {
  it('stores a good message; a duplicate is not counted twice', async () => {
    const agg = await aggregator(broker.url);
    const t = minuteAgo(5);
    await publishCounts(countsMessage('s1', t, 7, 3));
    await waitFor(() => ingested(agg, 'stored') === 1, 'stored');
    expect(await sum(agg.store, ['s1'], t)).toEqual([{ windowStart: t, devices: 7, sensorCount: 1 }]);
    expect(await sum(agg.store, ['s1'], t, 'ble')).toEqual([{ windowStart: t, devices: 3, sensorCount: 1 }]);

    // the same window again (a redelivery, or a sensor resending): duplicate, first write wins
    await publishCounts(countsMessage('s1', t, 9, 3));
    await waitFor(() => ingested(agg, 'duplicate') === 1, 'duplicate');
    expect(ingested(agg, 'stored')).toBe(1);
    expect(await sum(agg.store, ['s1'], t)).toEqual([{ windowStart: t, devices: 7, sensorCount: 1 }]);
    const text = await agg.metrics.render();
    expect(text).toContain('passant_ingest_messages_total{result="stored",reason="none"} 1');
    expect(text).toContain('passant_ingest_messages_total{result="duplicate",reason="none"} 1');
  });

  it('rejects invalid messages by reason, logs reason and size only, and goes on storing good ones', async () => {
    const agg = await aggregator(broker.url);
    const t = minuteAgo(3);
    const canary = 'de:ad:be:ef:00:42';
    await publisher.publishAsync(topics.sensorCounts('s1'), '{not json', { qos: 1 });
    await publisher.publishAsync(topics.sensorCounts('s1'), JSON.stringify({ ...countsMessage('s1', t, 5), mac: canary }), { qos: 1 });
    await publisher.publishAsync(topics.sensorCounts('s1'), `{"__proto__":{"polluted":"${canary}"}}`, { qos: 1 });
    await publishCounts(countsMessage('s2', t, 5), 's1'); // topic says s1, payload s2
    await publishCounts({ ...countsMessage('s1', t, 5), windowSeconds: 30 });
    await publishCounts(countsMessage('s1', minuteAgo(-10), 5));
    await publisher.publishAsync(topics.sensorCounts('s1'), Buffer.alloc(20_000, 0x20), { qos: 1 });
    await publishCounts(countsMessage('s1', t, 6));

    await waitFor(() => ingested(agg, 'stored') === 1, 'the good message after the bad ones');
    expect(ingested(agg, 'rejected', 'invalid_json')).toBe(1);
    expect(ingested(agg, 'rejected', 'invalid_schema')).toBe(2);
    expect(ingested(agg, 'rejected', 'sensor_mismatch')).toBe(1);
    expect(ingested(agg, 'rejected', 'unsupported_window')).toBe(1);
    expect(ingested(agg, 'rejected', 'future_window')).toBe(1);
    expect(ingested(agg, 'rejected', 'payload_too_large')).toBe(1);
    expect(await sum(agg.store, ['s1', 's2'], t)).toEqual([{ windowStart: t, devices: 6, sensorCount: 1 }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    const logs = agg.logText();
    expect(logs).toContain('"reason":"invalid_json"');
    expect(logs).toMatch(/"reason":"sensor_mismatch","bytes":\d+/);
    expect(logs.toLowerCase()).not.toContain(canary);
    expect(logs).not.toContain('deadbeef0042');
    expect(logs).not.toContain('{not json');
  });

  it('tracks sensor status (retained) for health, and counts from sensors in no zone are stored', async () => {
    await publisher.publishAsync(
      topics.sensorStatus('s9'),
      JSON.stringify({ v: 1, state: 'online', role: 'sensor', id: 's9', version: '1.2.3', startedAt: 1_700_000_000 }),
      { qos: 1, retain: true },
    );
    const agg = await aggregator(broker.url, { zones: [{ id: 'z', name: 'Z', sensors: ['s1'] }] });
    await waitFor(() => agg.health.get('s9')?.state === 'online', 'retained online status');
    expect(agg.health.get('s9')).toMatchObject({ sensorId: 's9', state: 'online', version: '1.2.3', startedAt: 1_700_000_000 });

    await publisher.publishAsync(topics.sensorStatus('s9'), JSON.stringify({ v: 1, state: 'offline', role: 'sensor', id: 's9' }), { qos: 1, retain: true });
    await waitFor(() => agg.health.get('s9')?.state === 'offline', 'offline status');

    const t = minuteAgo(2);
    await publishCounts(countsMessage('s9', t, 4));
    await waitFor(() => ingested(agg, 'stored') === 1, 'unassigned sensor stored');
    expect(agg.health.get('s9')).toMatchObject({ countsMessages: 1 });
    expect(await sum(agg.store, ['s9'], t)).toHaveLength(1);
    expect(await agg.metrics.render()).toMatch(/passant_sensors\{state="offline"\} 1/);

    await publisher.publishAsync(topics.sensorStatus('s9'), JSON.stringify({ v: 1, state: 'online', role: 'sensor', id: 'other' }), { qos: 1 });
    await waitFor(() => agg.metrics.statusMessages.get({ result: 'rejected', reason: 'sensor_mismatch' }) === 1, 'rejected status');
    expect(agg.health.get('s9')?.state).toBe('offline');
  });

  it('publishes a retained online status with a last will, and offline on close', async () => {
    const watcher = await mqtt.connectAsync(broker.url, { clientId: 'watcher', reconnectPeriod: 0 });
    toClose.push(() => watcher.endAsync(true));
    const seen: { state: string; id: string; role: string }[] = [];
    watcher.on('message', (_t, payload) => seen.push(JSON.parse(payload.toString())));
    await watcher.subscribeAsync(topics.aggregatorStatus('status-test'), { qos: 1 });
    const agg = await startTestAggregator(broker.url, { aggregator: { id: 'status-test' } });
    await agg.mqttReady;
    await waitFor(() => seen.some((s) => s.state === 'online'), 'online status');
    expect(seen[0]).toMatchObject({ v: 1, state: 'online', role: 'aggregator', id: 'status-test' });
    expect(broker.aedes.connectedClients).toBeGreaterThanOrEqual(3);
    await agg.close();
    removeDir(agg.dataDir);
    await waitFor(() => seen.some((s) => s.state === 'offline'), 'offline status');

    // a late subscriber gets the retained offline status
    const late = await mqtt.connectAsync(broker.url, { clientId: 'late', reconnectPeriod: 0 });
    toClose.push(() => late.endAsync(true));
    const retained = new Promise<{ state: string }>((resolve) => late.on('message', (_t, p) => resolve(JSON.parse(p.toString()))));
    await late.subscribeAsync(topics.aggregatorStatus('status-test'), { qos: 1 });
    expect(await retained).toMatchObject({ state: 'offline' });
  });

  it('keeps its session: counts published while it is stopped are stored when it comes back', async () => {
    const dataDir = makeDataDir();
    toClose.push(async () => removeDir(dataDir));
    const first = await startTestAggregator(broker.url, { aggregator: { id: 'persist' } }, { dataDir });
    await first.mqttReady;
    await first.close();
    const t = minuteAgo(4);
    await publishCounts(countsMessage('s1', t, 11));
    await publishCounts(countsMessage('s2', t, 12));
    const second = await startTestAggregator(broker.url, { aggregator: { id: 'persist' } }, { dataDir });
    toClose.push(() => second.close());
    await waitFor(() => ingested(second, 'stored') === 2, 'messages queued at the broker');
    expect(await sum(second.store, ['s1', 's2'], t)).toEqual([{ windowStart: t, devices: 23, sensorCount: 2 }]);
  });

  it('the seq rule holds across a restart (the last windows come from the store) and forgets a window older than the per-sensor retention', async () => {
    const dataDir = makeDataDir();
    toClose.push(async () => removeDir(dataDir));
    const first = await startTestAggregator(broker.url, { aggregator: { id: 'seq' } }, { dataDir });
    await first.mqttReady;
    const t = minuteAgo(30);
    const old = minuteAgo(60 * 60); // older than retention.sensorWindowHours (48 h)
    await publishCounts({ ...countsMessage('s1', t, 5), seq: 500 });
    await publishCounts({ ...countsMessage('s2', old, 5), seq: 900 });
    await waitFor(() => ingested(first, 'stored') === 2, 'the first windows');
    await first.close();

    const second = await startTestAggregator(broker.url, { aggregator: { id: 'seq' } }, { dataDir });
    toClose.push(() => second.close());
    await second.mqttReady;
    await publishCounts({ ...countsMessage('s1', t + 60, 5), seq: 499 }); // newer window, smaller seq
    await publishCounts({ ...countsMessage('s1', t - 60, 5), seq: 500 }); // the seq of another window
    await publishCounts({ ...countsMessage('s2', minuteAgo(5), 5), seq: 3 }); // a seq that started again, 60 h later
    await publishCounts({ ...countsMessage('s1', t + 120, 5), seq: 501 });
    await waitFor(() => ingested(second, 'stored') === 2, 'the plausible windows');
    expect(ingested(second, 'rejected', 'seq_not_following')).toBe(1);
    expect(ingested(second, 'rejected', 'seq_reused')).toBe(1);
    // (s2's old window may be gone by now: settled and older than the per-sensor retention)
    expect((await second.store.sensorWindows(['s1', 's2'], minuteAgo(120), minuteAgo(0) + 60)).map((w) => [w.sensorId, w.windowStart])).toEqual([
      ['s1', t],
      ['s1', t + 120],
      ['s2', minuteAgo(5)],
    ]);
    expect(second.logText()).not.toMatch(/"seq":\s*(499|500|501)/);
  });

  it('acknowledges only after the store write: a failed write is redelivered and stored', async () => {
    const dataDir = makeDataDir();
    toClose.push(async () => removeDir(dataDir));
    const real = SqliteStore.open(path.join(dataDir, 'passant.db'));
    let failures = 1;
    const flaky = storeWith(real, {
      async put(messages: CountsMessage[], receivedAt: number): Promise<PutResult[]> {
        if (failures > 0) {
          failures--;
          throw new Error('disk on fire');
        }
        return real.put(messages, receivedAt);
      },
    });
    const agg = await aggregator(broker.url, { aggregator: { id: 'flaky' }, ingest: { storeRetryDelayMs: 200 } }, { dataDir, store: flaky });
    const t = minuteAgo(6);
    await publishCounts(countsMessage('s1', t, 8));
    await waitFor(() => agg.metrics.storeWriteErrors.get() === 1, 'the failed write');
    await waitFor(() => ingested(agg, 'stored') === 1, 'the redelivered message stored', 15_000);
    expect(await sum(agg.store, ['s1'], t)).toEqual([{ windowStart: t, devices: 8, sensorCount: 1 }]);
    expect(agg.metrics.mqttConnects.get()).toBeGreaterThanOrEqual(2);
    expect(agg.logText()).toContain('store write failed; the message is not acknowledged');
  });

  it('a crash before the write means redelivery, not loss', async () => {
    const dataDir = makeDataDir();
    toClose.push(async () => removeDir(dataDir));
    // A store whose writes never finish: the process "dies" while the message is in flight.
    const stuck = storeWith(new MemoryStore(), { put: () => new Promise<PutResult[]>(() => undefined) });
    const first = await startTestAggregator(broker.url, { aggregator: { id: 'crashy' } }, { dataDir, store: stuck });
    await first.mqttReady;
    const t = minuteAgo(7);
    await publishCounts(countsMessage('s1', t, 9));
    await waitFor(() => first.health.get('s1')?.countsMessages === 1, 'message received');
    // crash: the connection drops without a PUBACK and without a clean shutdown
    await first.ingest.client.endAsync(true);
    await first.close();

    const second = await aggregator(broker.url, { aggregator: { id: 'crashy' } }, { dataDir });
    await waitFor(() => ingested(second, 'stored') === 1, 'redelivered message');
    expect(await sum(second.store, ['s1'], t)).toEqual([{ windowStart: t, devices: 9, sensorCount: 1 }]);
  });

  it('acknowledges after the store commit and still batches: 2,000 messages in few transactions', async () => {
    const dataDir = makeDataDir();
    toClose.push(async () => removeDir(dataDir));
    const real = SqliteStore.open(path.join(dataDir, 'passant.db'));
    const key = (sensorId: string, windowStart: number) => `${sensorId}@${windowStart}`;
    const committed = new Set<string>();
    const batchSizes: number[] = [];
    const recording = storeWith(real, {
      async put(messages: CountsMessage[], receivedAt: number): Promise<PutResult[]> {
        batchSizes.push(messages.length);
        const results = await real.put(messages, receivedAt);
        for (const m of messages) committed.add(key(m.sensorId, m.windowStart));
        return results;
      },
    });
    // Every PUBACK the broker gets from the aggregator must be for a message already committed.
    let acks = 0;
    const early: string[] = [];
    broker.aedes.on('ack', (packet, client) => {
      if (client?.id !== 'passant-aggregator-batching' || !packet || !('payload' in packet)) return;
      const m = JSON.parse(String(packet.payload)) as CountsMessage;
      acks++;
      if (!committed.has(key(m.sensorId, m.windowStart))) early.push(key(m.sensorId, m.windowStart));
    });
    const agg = await aggregator(broker.url, { aggregator: { id: 'batching' }, ingest: { batchMaxSize: 100 } }, { dataDir, store: recording });
    const t = minuteAgo(40);
    const n = 2000;
    await Promise.all(Array.from({ length: n }, (_, i) => publishCounts(countsMessage(`b${i}`, t, 1))));
    await waitFor(() => ingested(agg, 'stored') === n, 'all stored');
    await waitFor(() => acks === n, 'every PUBACK at the broker');
    expect(early).toEqual([]);
    expect(batchSizes.reduce((a, b) => a + b, 0)).toBe(n);
    expect(batchSizes.length).toBeLessThan(n / 10);
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(100);
    expect(agg.metrics.storeBatchMessages.observations).toBe(batchSizes.length);
    expect(await agg.metrics.render()).toContain(`passant_store_batch_messages_count ${batchSizes.length}`);
    expect(await agg.metrics.render()).toContain('passant_ingest_unacked_messages 0');
    expect(agg.logText()).not.toContain('acknowledging one message at a time');
  });

  it('stops reading at twice batchMaxSize unacknowledged messages while the store is slow', async () => {
    const dataDir = makeDataDir();
    toClose.push(async () => removeDir(dataDir));
    const real = SqliteStore.open(path.join(dataDir, 'passant.db'));
    let agg: TestAggregator | undefined;
    let mostUnacked = 0;
    const slow = storeWith(real, {
      async put(messages: CountsMessage[], receivedAt: number): Promise<PutResult[]> {
        mostUnacked = Math.max(mostUnacked, agg?.ingest.unacked ?? 0);
        await new Promise((r) => setTimeout(r, 30));
        mostUnacked = Math.max(mostUnacked, agg?.ingest.unacked ?? 0);
        return real.put(messages, receivedAt);
      },
    });
    agg = await aggregator(broker.url, { aggregator: { id: 'bounded' }, ingest: { batchMaxSize: 10 } }, { dataDir, store: slow });
    const t = minuteAgo(41);
    const n = 300;
    await Promise.all(Array.from({ length: n }, (_, i) => publishCounts(countsMessage(`u${i}`, t, 1))));
    await waitFor(() => ingested(agg, 'stored') === n, 'all stored', 20_000);
    expect(mostUnacked).toBeGreaterThan(10); // it did read ahead of the store
    expect(mostUnacked).toBeLessThanOrEqual(20);
  });

  it("ackMode 'received' batches writes: many messages in few transactions", async () => {
    const agg = await aggregator(broker.url, { ingest: { ackMode: 'received', batchMaxDelayMs: 20 } });
    const t = minuteAgo(30);
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => publishCounts(countsMessage(`s${i}`, t, 1))));
    await waitFor(() => ingested(agg, 'stored') === n, 'all stored');
    expect(agg.metrics.storeWriteSeconds.observations).toBeLessThan(n / 4);
    expect(await sum(agg.store, Array.from({ length: n }, (_, i) => `s${i}`), t)).toEqual([{ windowStart: t, devices: n, sensorCount: n }]);
  });
});

describe('a subscription the broker refuses', () => {
  it('shows on /healthz (503, not-subscribed), is retried while connected, and counts flow once the broker grants it', async () => {
    // Mosquitto 2.0 grants a subscription its ACL denies (and then delivers nothing); aedes can refuse it (SUBACK 0x80).
    let allow = false;
    broker.aedes.authorizeSubscribe = (_client, sub, callback) => callback(null, allow || !sub.topic.startsWith('passant/sensors/') ? sub : null);
    const agg = await startTestAggregator(broker.url);
    toClose.push(async () => {
      await agg.close();
      removeDir(agg.dataDir);
    });
    const healthz = async () => {
      const res = await fetch(`${agg.url}/healthz`);
      return { status: res.status, body: (await res.json()) as { status: string; mqtt: string } };
    };
    let last = await healthz();
    await waitFor(async () => (last = await healthz()).body.mqtt === 'not-subscribed', 'the refused subscription on /healthz');
    expect(last).toMatchObject({ status: 503, body: { status: 'unavailable', mqtt: 'not-subscribed' } });
    const connects = agg.metrics.mqttConnects.get();

    allow = true;
    await agg.mqttReady;
    await waitFor(async () => (last = await healthz()).status === 200, '/healthz 200 once the subscription is granted');
    expect(last.body).toMatchObject({ status: 'ok', mqtt: 'connected' });
    expect(agg.metrics.mqttConnects.get()).toBe(connects); // retried on the same connection

    const t = minuteAgo(3);
    await publishCounts(countsMessage('s1', t, 8));
    await waitFor(() => ingested(agg, 'stored') === 1, 'stored');
  });
});
