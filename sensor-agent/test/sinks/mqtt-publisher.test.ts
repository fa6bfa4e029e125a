import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { CountsMessageSchema, StatusMessageSchema, emptyRadioCounts, topics } from '@passant/shared';
import type { DeliverySettings } from '../../src/sinks/mqtt-publisher.ts';
import type { WindowCounts } from '../../src/pipeline/types.ts';
import { MqttPublisher, type MqttPublisherSettings } from '../../src/sinks/mqtt-publisher.ts';
import { Outbox } from '../../src/sinks/outbox.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { freePort } from '@passant/test-helpers/tools';
import { waitFor } from '@passant/test-helpers/wait';

const cleanups: (() => Promise<void> | void)[] = [];
/** Brokers close last, after their clients. */
const brokers: TestBroker[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const b of brokers.splice(0)) await b.close();
});

function settings(url: string, over: Partial<MqttPublisherSettings> = {}): MqttPublisherSettings {
  return {
    url,
    rejectUnauthorized: true,
    topicBase: 'passant',
    reconnectPeriodMs: 100,
    connectTimeoutMs: 2000,
    keepaliveSeconds: 30,
    maxInFlight: 5,
    ...over,
  };
}

function windowAt(windowStart: number, devices = 3): WindowCounts {
  const wifi = { ...emptyRadioCounts(), devices, randomized: Math.min(1, devices), frames: devices * 2 };
  return { windowStart, windowSeconds: 60, wifi, ble: emptyRadioCounts(), rssiFloor: null };
}

function startPublisher(
  url: string,
  outbox: Outbox,
  over: Partial<MqttPublisherSettings> = {},
  extra: { delivery?: DeliverySettings; sendRssiHistogram?: boolean } = {},
): MqttPublisher {
  const p = MqttPublisher.start({ sensorId: 's-1', windowSeconds: 60, radios: ['wifi', 'ble'], mqtt: settings(url, over), outbox, version: '9.9.9', ...extra });
  cleanups.push(() => p.close(2000));
  return p;
}

function memoryOutbox(maxMessages = 100): Outbox {
  const o = Outbox.open({ path: ':memory:', maxMessages });
  cleanups.push(() => o.close());
  return o;
}

async function broker(port = 0): Promise<TestBroker> {
  const b = await startAedes(port);
  brokers.push(b);
  return b;
}

/** A subscriber on `filter` that records what it gets (topic, payload, retain flag). */
async function subscriber(url: string, filter = '#') {
  const client: MqttClient = await mqtt.connectAsync(url, { clientId: `sub-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  cleanups.push(() => client.endAsync(true));
  const got: { topic: string; payload: string; retain: boolean; qos: number }[] = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString('utf8'), retain: packet.retain, qos: packet.qos }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

const COUNTS = topics.sensorCounts('s-1');
const STATUS = topics.sensorStatus('s-1');
const STORED = topics.sensorStored('s-1');

/**
 * The aggregator's side of the delivery protocol, played by a plain client: it publishes `{ v: 1, seqs }` on the
 * sensor's stored topic, as aggregator/src/ingest/delivery-acks.ts does after a store commit.
 */
async function acknowledge(url: string, seqs: number[], topic = STORED): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId: `ack-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  await c.publishAsync(topic, JSON.stringify({ v: 1, seqs }), { qos: 1 });
  await c.endAsync();
}

const countsSeqs = (b: TestBroker): number[] => b.published.filter((p) => p.topic === COUNTS).map((p) => JSON.parse(p.payload.toString('utf8')).seq);

describe('MqttPublisher with an in-process broker', () => {
  it('publishes valid counts with QoS 1, not retained, seq in order; status online then offline, retained', async () => {
    const b = await broker();
    const sub = await subscriber(b.url);
    const outbox = memoryOutbox();
    const pub = startPublisher(b.url, outbox);
    expect(await pub.waitConnected(5000)).toBe(true);
    for (let i = 0; i < 12; i++) pub.onWindow(windowAt(1_700_000_040 + i * 60, i));
    expect(await pub.sent(5000)).toBe(true);
    // The broker's PUBACK frees nothing: the rows wait for the aggregator's stored acknowledgement.
    expect(outbox.size).toBe(12);
    await waitFor(() => pub.subscribed, 'the subscription to the stored topic', 15_000);
    await acknowledge(b.url, [...Array(12).keys()]);
    expect(await pub.drain(5000)).toBe(true);
    expect(outbox.size).toBe(0);

    await waitFor(() => b.published.filter((p) => p.topic === COUNTS).length >= 12, 'twelve counts messages at the broker', 15_000);
    const counts = b.published.filter((p) => p.topic === COUNTS);
    expect(counts).toHaveLength(12);
    for (const [i, p] of counts.entries()) {
      expect(p.qos).toBe(1);
      expect(p.retain).toBe(false);
      expect(p.clientId).toBe('passant-sensor-s-1');
      const m = CountsMessageSchema.parse(JSON.parse(p.payload.toString('utf8')));
      expect(m).toMatchObject({ v: 1, sensorId: 's-1', seq: i, windowStart: 1_700_000_040 + i * 60 });
      expect(m.wifi.devices).toBe(i);
    }
    await waitFor(() => sub.got.filter((g) => g.topic === COUNTS).length === 12, 'twelve counts messages at the subscriber', 15_000);
    expect(sub.got.filter((g) => g.topic === COUNTS).map((g) => JSON.parse(g.payload).seq)).toEqual([...Array(12).keys()]);

    const online = b.published.find((p) => p.topic === STATUS)!;
    expect(online).toMatchObject({ qos: 1, retain: true });
    const status = StatusMessageSchema.parse(JSON.parse(online.payload.toString('utf8')));
    expect(status).toMatchObject({ state: 'online', role: 'sensor', id: 's-1', version: '9.9.9', windowSeconds: 60, radios: ['wifi', 'ble'] });
    expect(status.countsSchema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(pub.stats()).toMatchObject({ enqueued: 12, published: 12, stored: 12, queued: 0, awaitingStore: 0, invalid: 0, connected: true });

    await pub.close(2000);
    const offline = b.published.filter((p) => p.topic === STATUS).at(-1)!;
    expect(offline).toMatchObject({ qos: 1, retain: true });
    expect(JSON.parse(offline.payload.toString('utf8'))).toMatchObject({ state: 'offline', id: 's-1' });
    // A late subscriber finds the retained offline status.
    const late = await subscriber(b.url, STATUS);
    await waitFor(() => late.got.length > 0, 'the retained status', 15_000);
    expect(late.got[0]).toMatchObject({ retain: true });
    expect(JSON.parse(late.got[0]!.payload).state).toBe('offline');
  });

  it('the last will marks the sensor offline when its connection dies', async () => {
    const b = await broker();
    const outbox = memoryOutbox();
    const pub = startPublisher(b.url, outbox, { reconnectPeriodMs: 60_000 });
    expect(await pub.waitConnected(5000)).toBe(true);
    const watcher = await subscriber(b.url, STATUS);
    await waitFor(() => watcher.got.some((g) => JSON.parse(g.payload).state === 'online'), 'the online status', 15_000);
    // Kill the connection without DISCONNECT, as a crash or a pulled cable would.
    pub.mqttClient.stream.destroy();
    await waitFor(() => watcher.got.some((g) => JSON.parse(g.payload).state === 'offline'), 'the last will', 15_000);
    const offline = watcher.got.find((g) => JSON.parse(g.payload).state === 'offline')!;
    expect(StatusMessageSchema.parse(JSON.parse(offline.payload))).toMatchObject({ state: 'offline', role: 'sensor', id: 's-1' });
    const late = await subscriber(b.url, STATUS);
    await waitFor(() => late.got.length > 0, 'the retained status', 15_000);
    expect(late.got[0]!.retain).toBe(true);
    expect(JSON.parse(late.got[0]!.payload).state).toBe('offline');
  });

  it('keeps windows in the outbox while the broker is away and sends them in order when it comes', async () => {
    const port = await freePort();
    const outbox = memoryOutbox();
    const pub = startPublisher(`mqtt://127.0.0.1:${port}`, outbox);
    for (let i = 0; i < 30; i++) pub.onWindow(windowAt(1_700_000_040 + i * 60));
    await pub.flush();
    expect(outbox.size).toBe(30);
    expect(pub.stats()).toMatchObject({ connected: false, queued: 30, published: 0 });

    const b = await broker(port);
    expect(await pub.waitConnected(5000)).toBe(true);
    pub.onWindow(windowAt(1_700_000_040 + 30 * 60));
    expect(await pub.sent(5000)).toBe(true);
    // The broker's record of what it took may trail the acknowledgements the client saw by a moment.
    await waitFor(() => countsSeqs(b).length >= 31, 'the 31 windows at the broker', 15_000);
    expect(countsSeqs(b)).toEqual([...Array(31).keys()]);
    expect(outbox.size).toBe(31);
    await waitFor(() => pub.subscribed, 'the subscription to the stored topic', 15_000);
    await acknowledge(b.url, [...Array(31).keys()]);
    expect(await pub.drain(5000)).toBe(true);
    expect(outbox.size).toBe(0);
  });

  it('refuses a window the schema refuses: nothing leaves, no seq is used', async () => {
    const b = await broker();
    const outbox = memoryOutbox();
    const pub = startPublisher(b.url, outbox);
    expect(await pub.waitConnected(5000)).toBe(true);
    const bad = windowAt(1_700_000_040);
    bad.wifi = { ...bad.wifi, devices: 50, frames: 2 }; // devices > frames
    pub.onWindow(bad);
    pub.onWindow({ ...windowAt(1_700_000_041) }); // not aligned to the window
    pub.onWindow(windowAt(1_700_000_100));
    expect(await pub.sent(5000)).toBe(true);
    const counts = b.published.filter((p) => p.topic === COUNTS).map((p) => JSON.parse(p.payload.toString('utf8')));
    expect(counts).toHaveLength(1);
    expect(counts[0]).toMatchObject({ seq: 0, windowStart: 1_700_000_100 });
    expect(pub.stats().invalid).toBe(2);
  });

  it('sends again, with a growing wait, what the broker took but no aggregator reported stored; frees exactly the seqs reported', async () => {
    const b = await broker();
    const outbox = memoryOutbox();
    const pub = startPublisher(b.url, outbox, {}, { delivery: { retryInitialMs: 300, retryMaxMs: 600 } });
    expect(await pub.waitConnected(5000)).toBe(true);
    await waitFor(() => pub.subscribed, 'the subscription to the stored topic', 15_000);
    for (let i = 0; i < 3; i++) pub.onWindow(windowAt(1_700_000_040 + i * 60, i));
    expect(await pub.sent(5000)).toBe(true);
    // Seq 1 is stored; 0 and 2 were lost after the PUBACK (as by a broker crash): they come again, and again.
    await acknowledge(b.url, [1]);
    await waitFor(() => outbox.size === 2, 'seq 1 freed', 15_000);
    await waitFor(() => [0, 2].every((seq) => countsSeqs(b).filter((s) => s === seq).length >= 3), 'seqs 0 and 2 sent twice more', 15_000);
    expect(countsSeqs(b).filter((s) => s === 1)).toHaveLength(1);
    expect(pub.stats().resent).toBeGreaterThanOrEqual(4);
    await acknowledge(b.url, [0, 2]);
    expect(await pub.drain(5000)).toBe(true);
    // Once stored, nothing is sent again: the next copy would have come within the longest wait (600 ms).
    const sentSoFar = countsSeqs(b).length;
    pub.onWindow(windowAt(1_700_000_040 + 3 * 60, 3));
    await waitFor(() => countsSeqs(b).filter((s) => s === 3).length >= 2, 'the new window sent twice (not acknowledged)', 15_000);
    expect(countsSeqs(b).slice(sentSoFar).every((s) => s === 3)).toBe(true);
    expect(pub.stats()).toMatchObject({ stored: 3, ackRejected: 0 });
  });

  it('ignores and counts anything on its stored topic that is not a valid acknowledgement; another sensor\'s acknowledgement frees nothing', async () => {
    const b = await broker();
    const outbox = memoryOutbox();
    const pub = startPublisher(b.url, outbox);
    expect(await pub.waitConnected(5000)).toBe(true);
    await waitFor(() => pub.subscribed, 'the subscription to the stored topic', 15_000);
    for (let i = 0; i < 3; i++) pub.onWindow(windowAt(1_700_000_040 + i * 60, i));
    expect(await pub.sent(5000)).toBe(true);
    const c = await mqtt.connectAsync(b.url, { clientId: 'bad-acker', reconnectPeriod: 0 });
    cleanups.push(() => c.endAsync(true));
    const bad = ['not json', '{"v":2,"seqs":[0]}', '{"v":1,"seqs":[0],"mac":"a4:c3:f0:12:34:56"}', '{"v":1,"seqs":[-1]}', '{"v":1,"seqs":[]}', '{"v":1,"seqs":["0"]}'];
    for (const payload of bad) await c.publishAsync(STORED, payload, { qos: 1 });
    await c.publishAsync(topics.sensorStored('s-2'), JSON.stringify({ v: 1, seqs: [0, 1, 2] }), { qos: 1 });
    await waitFor(() => pub.stats().ackRejected === bad.length, 'every bad acknowledgement counted', 15_000);
    expect(outbox.size).toBe(3);
    // A valid one after them still works.
    await c.publishAsync(STORED, JSON.stringify({ v: 1, seqs: [0, 1, 2] }), { qos: 1 });
    expect(await pub.drain(5000)).toBe(true);
  });

  it('leaves the RSSI histogram out unless in setup mode', async () => {
    const b = await broker();
    const plain = startPublisher(b.url, memoryOutbox());
    expect(await plain.waitConnected(5000)).toBe(true);
    const w = windowAt(1_700_000_040, 2);
    w.wifi = { ...w.wifi, rssiHistogram: [0, 1, 3, 0, 0, 0] };
    plain.onWindow(w);
    expect(await plain.sent(5000)).toBe(true);
    await plain.close(2000);
    const setup = MqttPublisher.start({ sensorId: 's-9', windowSeconds: 60, radios: ['wifi'], mqtt: settings(b.url), outbox: memoryOutbox(), sendRssiHistogram: true });
    cleanups.push(() => setup.close(2000));
    expect(await setup.waitConnected(5000)).toBe(true);
    setup.onWindow(w);
    expect(await setup.sent(5000)).toBe(true);
    const sent = (id: string) => JSON.parse(b.published.find((p) => p.topic === topics.sensorCounts(id))!.payload.toString('utf8'));
    expect(sent('s-1').wifi).toEqual({ devices: 2, randomized: 1, frames: 4 });
    expect(sent('s-1').ble).not.toHaveProperty('rssiHistogram');
    expect(sent('s-9').wifi.rssiHistogram).toEqual([0, 1, 3, 0, 0, 0]);
  });

  it('a burst of windows far beyond the outbox bound keeps the file near the bound (one transaction per 1000 windows, space given back)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-burst-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'outbox.sqlite');
    const outbox = Outbox.open({ path: file, maxMessages: 100 });
    cleanups.push(() => outbox.close());
    const port = await freePort(); // no broker: everything stays queued
    const pub = startPublisher(`mqtt://127.0.0.1:${port}`, outbox);
    // 20,000 windows at once (a clock that jumped two weeks): only the newest 100 can be kept.
    for (let i = 0; i < 20_000; i++) pub.onWindow(windowAt(1_700_000_040 + i * 60));
    await pub.flush();
    expect(outbox.size).toBe(100);
    expect(outbox.droppedTotal).toBe(19_900);
    expect(outbox.peek(0, 1)[0]!.seq).toBe(19_900);
    await pub.close(2000);
    outbox.close(); // checkpoints the WAL into the file
    // 100 rows of about 200 bytes; the whole burst in one transaction left a file of about 5 MB.
    expect(fs.statSync(file).size).toBeLessThan(500_000);
  });

  it('while no aggregator reports anything (it is away), a message is not sent again before retryMaxMs: an outage does not fill the broker with copies', async () => {
    const b = await broker();
    const pub = startPublisher(b.url, memoryOutbox(), {}, { delivery: { retryInitialMs: 100, retryMaxMs: 1500 } });
    expect(await pub.waitConnected(5000)).toBe(true);
    pub.onWindow(windowAt(1_700_000_040));
    expect(await pub.sent(5000)).toBe(true);
    const tookAt = Date.now();
    await waitFor(() => countsSeqs(b).length >= 2, 'the message sent a second time', 15_000, 10);
    // Not at retryInitialMs (100 ms): no aggregator has shown it works past this message.
    expect(Date.now() - tookAt).toBeGreaterThanOrEqual(1400);
    expect(countsSeqs(b)).toEqual([0, 0]);
  });

  it('while messages wait for an aggregator, the process wakes when a re-send is due, not at a fixed pace (an idle sensor sleeps)', async () => {
    const b = await broker();
    // A short first wait (it paced the checks before: one every 100 ms) and a long one without a stored report.
    const pub = startPublisher(b.url, memoryOutbox(), {}, { delivery: { retryInitialMs: 100, retryMaxMs: 2500 } });
    expect(await pub.waitConnected(5000)).toBe(true);
    pub.onWindow(windowAt(1_700_000_040));
    expect(await pub.sent(5000)).toBe(true);
    await waitFor(() => countsSeqs(b).length >= 2, 'the message sent a second time', 15_000, 10);
    expect(countsSeqs(b)).toEqual([0, 0]);
    // One wake-up for the one re-send (about 25 at the old pace).
    expect(pub.stats().retryWakeups).toBeLessThanOrEqual(2);
    // A stored report for a later message brings the re-send of an earlier one forward to its own wait.
    await waitFor(() => pub.subscribed, 'the subscription to the stored topic', 15_000);
    pub.onWindow(windowAt(1_700_000_100));
    await waitFor(() => countsSeqs(b).includes(1), 'seq 1 sent', 15_000, 10);
    const before = countsSeqs(b).filter((s) => s === 0).length;
    const ackedAt = Date.now();
    await acknowledge(b.url, [1]);
    await waitFor(() => countsSeqs(b).filter((s) => s === 0).length > before, 'seq 0 sent again once seq 1 was reported stored', 15_000, 10);
    // At once, not retryMaxMs (2.5 s) after its last copy.
    expect(Date.now() - ackedAt).toBeLessThan(2000);
    expect(countsSeqs(b).filter((s) => s === 1)).toHaveLength(1);
  });
});
