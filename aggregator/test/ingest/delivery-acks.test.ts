/**
 * The aggregator's half of end-to-end delivery, against a real in-process aedes broker and a real SQLite file:
 * after a store commit each sensor hears, on its own `stored` topic, which seqs are durable (duplicates too);
 * a rejected message is never acknowledged.
 */
import { StoredAckSchema, topics, type CountsMessage } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';
import { removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage, minuteAgo } from '../helpers/messages.ts';

let broker: TestBroker;
let client: MqttClient;
const toClose: (() => Promise<void>)[] = [];
/** Every stored acknowledgement seen: sensor id and seqs. */
let acks: { sensorId: string; seqs: number[]; qos: number; retain: boolean }[];

beforeEach(async () => {
  broker = await startAedes();
  acks = [];
  client = await mqtt.connectAsync(broker.url, { clientId: 'test-sensor-side', reconnectPeriod: 0 });
  client.on('message', (topic, payload, packet) => {
    const sensorId = topic.split('/')[2]!;
    acks.push({ sensorId, seqs: StoredAckSchema.parse(JSON.parse(payload.toString('utf8'))).seqs, qos: packet.qos, retain: packet.retain });
  });
  await client.subscribeAsync('passant/sensors/+/stored', { qos: 1 });
});
afterEach(async () => {
  for (const close of toClose.splice(0).reverse()) await close();
  await client.endAsync(true);
  await broker.close();
});

async function aggregator(): Promise<TestAggregator> {
  const agg = await startTestAggregator(broker.url);
  toClose.push(async () => {
    await agg.close();
    removeDir(agg.dataDir);
  });
  await agg.mqttReady;
  return agg;
}

const publish = (m: CountsMessage, sensorId = m.sensorId) => client.publishAsync(topics.sensorCounts(sensorId), JSON.stringify(m), { qos: 1 });
const seqsOf = (sensorId: string) => acks.filter((a) => a.sensorId === sensorId).flatMap((a) => a.seqs);

describe('stored acknowledgements', () => {
  it('tells each sensor which of its seqs are stored, duplicates included, with QoS 1 and not retained', async () => {
    const agg = await aggregator();
    const a = countsMessage('s1', minuteAgo(3), 5);
    const b = countsMessage('s1', minuteAgo(2), 6);
    const c = countsMessage('s2', minuteAgo(2), 7);
    for (const m of [a, b, c]) await publish(m);
    await waitFor(() => seqsOf('s1').length === 2 && seqsOf('s2').length === 1, 'acknowledgements of three messages', 15_000);
    expect(seqsOf('s1').sort((x, y) => x - y)).toEqual([a.seq, b.seq]);
    expect(seqsOf('s2')).toEqual([c.seq]);
    for (const ack of acks) expect(ack).toMatchObject({ qos: 1, retain: false });

    // A copy (a re-send whose acknowledgement was lost) is acknowledged again: it is stored.
    await publish(a);
    await waitFor(() => agg.metrics.ingestMessages.get({ result: 'duplicate', reason: 'none' }) === 1, 'the duplicate', 15_000);
    await waitFor(() => seqsOf('s1').length === 3, 'the duplicate acknowledged', 15_000);
    expect(seqsOf('s1').filter((s) => s === a.seq)).toHaveLength(2);
  });

  it('never acknowledges a message it rejected', async () => {
    const agg = await aggregator();
    const bad = countsMessage('s2', minuteAgo(3), 5); // topic says s1: sensor_mismatch
    await publish(bad, 's1');
    await client.publishAsync(topics.sensorCounts('s1'), '{not json', { qos: 1 });
    const good = countsMessage('s1', minuteAgo(2), 4);
    await publish(good);
    await waitFor(() => seqsOf('s1').length === 1, 'the good message acknowledged', 15_000);
    expect(seqsOf('s1')).toEqual([good.seq]);
    expect(seqsOf('s2')).toEqual([]);
    expect(agg.metrics.ingestMessages.get({ result: 'rejected', reason: 'sensor_mismatch' })).toBe(1);
  });
});
