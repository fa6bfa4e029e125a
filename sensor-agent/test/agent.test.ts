import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CountsMessageSchema, StatusMessageSchema, topics, windowStartOfMs, type CountsMessage } from '@passant/shared';
import { startAgent, type Agent } from '../src/agent.ts';
import { Simulator } from '../src/sources/simulator.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';
import { LINKTYPE, bleAdvPdu, blePhdrRecord, radiotapProbeRequest, writePcap } from './helpers/pcap-writer.ts';

let dir: string;
let broker: TestBroker;
const agents: Agent[] = [];
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-agent-'));
  broker = await startAedes();
});
afterEach(async () => {
  for (const a of agents.splice(0)) await a.close();
  await broker.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function countsOf(b: TestBroker, sensorId: string): CountsMessage[] {
  return b.published.filter((p) => p.topic === topics.sensorCounts(sensorId)).map((p) => CountsMessageSchema.parse(JSON.parse(p.payload.toString('utf8'))));
}

describe('startAgent', () => {
  it('runs a simulated sensor with a backfill: every past window published in order, then offline on close', async () => {
    // 0.4 s into a minute, well inside the default lateness (1.5 s): the minute that just ended goes out with
    // the backfill anyway, since the backfill has all its frames.
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 + 400;
    const agent = await startAgent(
      {
        sensorId: 'sim-1',
        mqtt: { url: broker.url, reconnectPeriodMs: 200 },
        outbox: { path: ':memory:' },
        source: { kind: 'simulator', simulator: { backfillHours: 2, seed: 4, utcOffsetHours: 0 } },
        log: { statsIntervalSeconds: 0 },
      },
      { now: () => t0 },
    );
    agents.push(agent);
    expect(await agent.sent(10_000)).toBe(true);
    // aedes may report a publish to its listeners a moment after its PUBACK.
    await waitFor(() => countsOf(broker, 'sim-1').length >= 120, 'the broker to record every window', 10_000);
    const msgs = countsOf(broker, 'sim-1');
    // Two hours of minutes, up to the last one that has ended (the current one is still open).
    expect(msgs.length).toBe(120);
    expect(msgs.map((m) => m.seq)).toEqual([...msgs.keys()]);
    for (let i = 1; i < msgs.length; i++) expect(msgs[i]!.windowStart - msgs[i - 1]!.windowStart).toBe(60);
    expect(msgs[0]!.windowStart).toBe(windowStartOfMs(t0 - 2 * 3_600_000));
    expect(msgs.reduce((s, m) => s + m.wifi.devices + m.ble.devices, 0)).toBeGreaterThan(0);
    expect(agent.stats().backfillFrames).toBeGreaterThan(0);

    const status = broker.published.filter((p) => p.topic === topics.sensorStatus('sim-1'));
    expect(StatusMessageSchema.parse(JSON.parse(status[0]!.payload.toString('utf8')))).toMatchObject({ state: 'online', radios: ['wifi', 'ble'] });
    await agent.close();
    await agent.close(); // idempotent
    const last = broker.published.filter((p) => p.topic === topics.sensorStatus('sim-1')).at(-1)!;
    expect(JSON.parse(last.payload.toString('utf8')).state).toBe('offline');
    expect(last.retain).toBe(true);
  });

  it('a restarted sensor does not queue its backfill again: it resumes after the newest window it queued', async () => {
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000 + 400;
    const config = {
      sensorId: 'restart-1',
      mqtt: { url: broker.url, reconnectPeriodMs: 200 },
      outbox: { path: path.join(dir, 'outbox.sqlite') },
      source: { kind: 'simulator' as const, simulator: { backfillHours: 1, seed: 4, utcOffsetHours: 0 } },
      log: { statsIntervalSeconds: 0 },
    };
    const first = await startAgent(config, { now: () => t0 });
    expect(first.stats().publisher.enqueued).toBe(60);
    await first.close();
    // Five minutes later, the same outbox: only the five new minutes are counted and queued.
    const second = await startAgent(config, { now: () => t0 + 5 * 60_000 });
    agents.push(second);
    expect(second.stats().publisher.enqueued).toBe(5);
    expect(await second.sent(10_000)).toBe(true);
    await waitFor(() => new Set(countsOf(broker, 'restart-1').map((m) => m.seq)).size >= 65, 'every window at the broker', 10_000);
    const starts = countsOf(broker, 'restart-1').map((m) => m.windowStart);
    // Each window once (a row not yet reported stored may be sent again, under its own seq: never a new one).
    const bySeq = new Map(countsOf(broker, 'restart-1').map((m) => [m.seq, m.windowStart]));
    expect(bySeq.size).toBe(65);
    expect(new Set(bySeq.values()).size).toBe(65);
    expect(new Set(starts).size).toBe(65);
    expect(Math.max(...bySeq.keys())).toBe(64);
  });

  it('live: closes windows as the clock passes them', async () => {
    let now = Date.UTC(2024, 2, 18, 15, 0, 10);
    const source = new Simulator({ seed: 9, utcOffsetHours: 0, now: () => now, tickMs: 20 });
    const agent = await startAgent(
      {
        sensorId: 'live-1',
        windowSeconds: 60,
        latenessMs: 0,
        mqtt: { url: broker.url },
        outbox: { path: path.join(dir, 'outbox.sqlite') },
        log: { statsIntervalSeconds: 0 },
      },
      { source, now: () => now },
    );
    agents.push(agent);
    expect(await agent.waitConnected(5000)).toBe(true);
    now += 3 * 60_000;
    // The agent's 1 s clock closes the three minutes that have passed.
    await waitFor(() => countsOf(broker, 'live-1').length >= 3, 'three windows of live-1', 10_000);
    const msgs = countsOf(broker, 'live-1');
    expect(msgs.slice(0, 3).map((m) => m.windowStart)).toEqual([0, 1, 2].map((i) => Date.UTC(2024, 2, 18, 15, i) / 1000));
    expect(msgs[0]!.wifi.frames + msgs[0]!.ble.frames).toBeGreaterThan(0);
    await agent.close();
  });

  it('counts capture files through the same pipeline and resolves `done`', async () => {
    const t = Date.UTC(2024, 2, 18, 12, 0, 5);
    const wifiFile = path.join(dir, 'wifi.pcap');
    writePcap(
      wifiFile,
      [
        { timeMs: t, data: radiotapProbeRequest({ src: '02:00:00:00:00:01', rssi: -60 }) },
        { timeMs: t + 1000, data: radiotapProbeRequest({ src: '02:00:00:00:00:01', rssi: -61 }) },
        { timeMs: t + 2000, data: radiotapProbeRequest({ src: '3c:22:fb:00:00:02', rssi: -70 }) },
        { timeMs: t + 61_000, data: radiotapProbeRequest({ src: '02:00:00:00:00:03', rssi: -50 }) },
      ],
      { linkType: LINKTYPE.RADIOTAP },
    );
    const bleFile = path.join(dir, 'ble.pcap');
    writePcap(bleFile, [{ timeMs: t + 3000, data: blePhdrRecord(bleAdvPdu({ advA: 'c0:00:00:00:00:04', txAdd: true }), { rssi: -70 }) }], { linkType: LINKTYPE.BLE_LL_PHDR });
    const agent = await startAgent({
      sensorId: 'files-1',
      mqtt: { url: broker.url },
      outbox: { path: ':memory:' },
      source: { kind: 'files', files: [wifiFile, bleFile] },
      log: { statsIntervalSeconds: 0 },
    });
    agents.push(agent);
    const summary = await agent.done;
    expect(summary.detections).toBe(5);
    expect(await agent.sent(5000)).toBe(true);
    await waitFor(() => countsOf(broker, 'files-1').length >= 2, 'the broker to record both windows', 10_000);
    const msgs = countsOf(broker, 'files-1');
    expect(msgs.map((m) => [m.windowStart, m.wifi.devices, m.wifi.randomized, m.wifi.frames, m.ble.devices, m.ble.randomized])).toEqual([
      [t / 1000 - 5, 2, 1, 3, 1, 1],
      [t / 1000 - 5 + 60, 1, 1, 1, 0, 0],
    ]);
    expect(StatusMessageSchema.parse(JSON.parse(broker.published.find((p) => p.topic === topics.sensorStatus('files-1'))!.payload.toString()))).toMatchObject({
      state: 'online',
    });
  });

  it('refuses a bad config before connecting anything', async () => {
    const before = broker.aedes.connectedClients;
    const connected: string[] = [];
    broker.aedes.on('client', (client) => connected.push(client.id));
    await expect(startAgent({ sensorId: 'Not Valid', mqtt: { url: broker.url } } as never)).rejects.toThrow(/sensorId/);
    // A marker client connects and publishes after the refusal; once the broker has its message, a connection or
    // message the agent had started before refusing would have reached the broker first.
    const marker = await mqtt.connectAsync(broker.url, { clientId: 'refusal-marker', reconnectPeriod: 0 });
    try {
      await marker.publishAsync('passant/test/marker', 'after the refusal', { qos: 1 });
      await waitFor(() => broker.published.length > 0, 'the marker message at the broker', 5000);
      expect(connected).toEqual(['refusal-marker']);
      expect(broker.aedes.connectedClients).toBe(before + 1);
      expect(broker.published.map((p) => [p.clientId, p.topic])).toEqual([['refusal-marker', 'passant/test/marker']]);
    } finally {
      await marker.endAsync(true);
    }
  });

  it('live: a quiet place still gets its windows, with zeros', async () => {
    let now = Date.UTC(2024, 2, 18, 3, 0, 1);
    const agent = await startAgent(
      { sensorId: 'quiet-1', latenessMs: 0, mqtt: { url: broker.url }, outbox: { path: ':memory:' }, log: { statsIntervalSeconds: 0 } },
      { source: new Simulator({ scale: 0, staticDevices: 0, now: () => now, tickMs: 20 }), now: () => now },
    );
    agents.push(agent);
    expect(await agent.waitConnected(5000)).toBe(true);
    now += 2 * 60_000;
    await waitFor(() => countsOf(broker, 'quiet-1').length >= 2, 'two windows of quiet-1', 10_000);
    for (const m of countsOf(broker, 'quiet-1')) {
      expect([m.wifi.devices, m.wifi.frames, m.ble.devices, m.ble.frames]).toEqual([0, 0, 0, 0]);
    }
  });
});
