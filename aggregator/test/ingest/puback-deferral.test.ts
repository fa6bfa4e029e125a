/**
 * PubackDeferral with a real mqtt.js client and a real in-process aedes broker: which PUBACKs reach the broker,
 * when, and in which order (aedes emits `ack` for every PUBACK it takes in).
 */
import mqtt from 'mqtt';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PubackDeferral } from '../../src/ingest/puback-deferral.ts';
import type { PubackTicket } from '../../src/ingest/puback-deferral.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';

const SUBSCRIBER = 'deferral-subscriber';

interface Received {
  payload: string;
  ticket: PubackTicket;
}

let broker: TestBroker;
let publisher: MqttClient;
let subscriber: MqttClient | undefined;
/** Payloads whose PUBACK from the subscriber reached the broker, in arrival order. */
let acked: string[];

beforeEach(async () => {
  broker = await startAedes();
  acked = [];
  broker.aedes.on('ack', (packet, client) => {
    if (client?.id === SUBSCRIBER && packet && 'payload' in packet) acked.push(String(packet.payload));
  });
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'deferral-publisher', reconnectPeriod: 0 });
});
afterEach(async () => {
  await subscriber?.endAsync(true);
  subscriber = undefined;
  await publisher.endAsync(true);
  await broker.close();
});

/** A persistent-session subscriber whose PUBACKs go through a PubackDeferral; every message is tracked. */
async function deferringSubscriber(maxHeld: number): Promise<{ client: MqttClient; acks: PubackDeferral; received: Received[] }> {
  const client = mqtt.connect(broker.url, { clientId: SUBSCRIBER, clean: false, protocolVersion: 4, reconnectPeriod: 100 });
  const acks = PubackDeferral.install(client, { maxHeld });
  if (acks === undefined) throw new Error('this mqtt.js has no _sendPacket');
  const received: Received[] = [];
  client.handleMessage = (packet, done) => {
    const ticket = acks.track((packet as IPublishPacket).messageId!);
    done();
    expect(acks.captured(ticket)).toBe(true);
    received.push({ payload: String((packet as IPublishPacket).payload), ticket });
  };
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync('d/#', { qos: 1 });
  subscriber = client;
  return { client, acks, received };
}

const publish = (payloads: string[]) => Promise.all(payloads.map((p) => publisher.publishAsync('d/x', p, { qos: 1 })));
const range = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
let probes = 0;
/**
 * Resolves once a probe the subscriber sends now has reached the broker. Packets of one client arrive in order on
 * its connection, so every PUBACK the subscriber sent before the probe has reached the broker (and shows in
 * `acked`) by then: what is not in `acked` was not sent.
 */
async function flushed(client: MqttClient): Promise<void> {
  const topic = `probe/${++probes}`;
  const seen = new Promise<void>((resolve) => {
    const onPublish = (packet: { topic: string }) => {
      if (packet.topic !== topic) return;
      broker.aedes.off('publish', onPublish);
      // aedes emits `ack` once it has handled a PUBACK, which it began before the probe: one turn for that.
      setImmediate(resolve);
    };
    broker.aedes.on('publish', onPublish);
  });
  await client.publishAsync(topic, 'probe', { qos: 0 });
  await seen;
}

describe('PubackDeferral', () => {
  it('reports a client without the private sender (another mqtt.js) by returning undefined', () => {
    // A stand-in for a future mqtt.js without _sendPacket: that client cannot be had here, so a plain object.
    const changed = { on: () => undefined, connected: true } as unknown as MqttClient;
    expect(PubackDeferral.install(changed, { maxHeld: 10 })).toBeUndefined();
  });

  it('holds each PUBACK until release and lets them leave in arrival order', async () => {
    const { client, acks, received } = await deferringSubscriber(100);
    await publish(range(5));
    // all five are read although none is acknowledged: the stream is not held
    await waitFor(() => received.length === 5, 'five messages read ahead');
    await flushed(client);
    expect(acked).toEqual([]);
    expect(acks.held).toBe(5);

    // released out of order: nothing may leave before m0
    acks.release(received[2]!.ticket);
    acks.release(received[1]!.ticket);
    await flushed(client);
    expect(acked).toEqual([]);
    acks.release(received[0]!.ticket);
    await waitFor(() => acked.length === 3, 'three PUBACKs');
    expect(acked).toEqual(['m0', 'm1', 'm2']);
    acks.release(received[4]!.ticket);
    acks.release(received[3]!.ticket);
    await waitFor(() => acked.length === 5, 'all PUBACKs');
    expect(acked).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(acks.held).toBe(0);
    expect(acks.stats).toEqual({ sent: 5, dropped: 0, discarded: 0 });
  });

  it('never acknowledges a discarded message; the broker redelivers it on the next connection', async () => {
    const { client, acks, received } = await deferringSubscriber(100);
    await publish(range(3));
    await waitFor(() => received.length === 3, 'three messages');
    acks.release(received[0]!.ticket);
    acks.discard(received[1]!.ticket);
    acks.release(received[2]!.ticket);
    await waitFor(() => acked.length === 2, 'two PUBACKs');
    await flushed(client);
    expect(acked).toEqual(['m0', 'm2']);
    expect(acks.stats).toMatchObject({ sent: 2, discarded: 1 });

    client.stream.destroy(); // reconnects (reconnectPeriod), same persistent session
    await waitFor(() => received.length === 4, 'the redelivered message');
    expect(received[3]!.payload).toBe('m1');
    acks.release(received[3]!.ticket);
    await waitFor(() => acked.length === 3, 'its PUBACK');
    expect(acked).toEqual(['m0', 'm2', 'm1']);
  });

  it('drops held PUBACKs when the connection closes: none of them is sent on the next connection', async () => {
    const { client, acks, received } = await deferringSubscriber(100);
    await publish(range(4));
    await waitFor(() => received.length === 4, 'four messages');
    acks.release(received[0]!.ticket);
    await waitFor(() => acked.length === 1, 'the first PUBACK');
    const connects = new Promise<void>((resolve) => client.once('connect', () => resolve()));
    client.stream.destroy();
    await connects;
    // released after the reconnect: their message ids belong to the old connection
    for (const r of received.slice(1, 4)) acks.release(r.ticket);
    expect(acks.stats).toMatchObject({ sent: 1, dropped: 3 });
    // the broker redelivers the three; acknowledged now, on the new connection
    await waitFor(() => received.length === 7, 'three redelivered messages');
    expect(received.slice(4).map((r) => r.payload).sort()).toEqual(['m1', 'm2', 'm3']);
    for (const r of received.slice(4)) acks.release(r.ticket);
    await waitFor(() => acked.length === 4, 'their PUBACKs');
    await flushed(client);
    expect(acked.slice(1).sort()).toEqual(['m1', 'm2', 'm3']);
    expect(acks.held).toBe(0);
  });

  it('stops reading at maxHeld held PUBACKs and goes on as they leave', async () => {
    const { acks, received } = await deferringSubscriber(5);
    await publish(range(20));
    await waitFor(() => received.length === 5, 'five messages');
    // mqtt.js handles packets one after another, each after the last one's `done`: with that held, it reads no further
    await waitFor(() => acks.readingHeld, 'reading held at five PUBACKs');
    expect(received).toHaveLength(5);
    expect(acks.held).toBe(5);
    acks.release(received[0]!.ticket);
    await waitFor(() => received.length === 6, 'one more message after one PUBACK left');
    await waitFor(() => acks.readingHeld, 'reading held again at five');
    expect(received).toHaveLength(6);
    for (let i = 1; i < 20; i++) {
      await waitFor(() => received.length > i, `message ${i}`);
      acks.release(received[i]!.ticket);
      expect(acks.held).toBeLessThanOrEqual(5);
    }
    await waitFor(() => acked.length === 20, 'all PUBACKs');
    expect(acked).toEqual(range(20));
  });
});
