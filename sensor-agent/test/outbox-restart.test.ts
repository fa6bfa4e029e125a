/**
 * The outbox against a real Mosquitto and a real agent process: counts made while the broker is away survive a
 * kill -9 of the agent and reach a subscriber, in order, with seq monotonic across the restart. The subscriber
 * plays the aggregator's part of the delivery protocol (a `stored` acknowledgement for each message it takes):
 * what it acknowledged leaves the outbox, the rest stays (and may come a second time, never is lost).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CountsMessageSchema, topics, type CountsMessage } from '@passant/shared';
import { startMosquitto, type MosquittoBroker } from '@passant/test-helpers/mosquitto';
import { requireTool } from '@passant/test-helpers/tools';
import { waitFor } from '@passant/test-helpers/wait';
import { spawnSensor, type AgentProcess } from './helpers/agent-process.ts';

const hasMosquitto = requireTool('mosquitto', 'mosquitto');

let dir: string;
let broker: MosquittoBroker | null = null;
const processes: AgentProcess[] = [];
const clients: MqttClient[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-outbox-restart-'));
});
afterEach(async () => {
  for (const p of processes.splice(0)) await p.stop('SIGKILL');
  for (const c of clients.splice(0)) await c.endAsync(true);
  await broker?.stop();
  broker = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

const queuedSeqs = (p: AgentProcess): number[] =>
  p.logLines().filter((l) => l.msg === 'window queued').map((l) => l.seq as number);

describe.skipIf(!hasMosquitto)('outbox with a real Mosquitto and kill -9', () => {
  it('delivers every window, in order and none lost, across a broker outage and an agent crash', { timeout: 120_000 }, async () => {
    // Persistence, saved only when Mosquitto exits (autosave_interval 0), so that sessions survive its restart.
    broker = await startMosquitto({ persistence: true, config: 'autosave_interval 0\nmax_queued_messages 100000' });
    const sensorId = 'outbox-1';

    // The subscriber has a persistent session (clean: false) that Mosquitto keeps across its own restart.
    const received: CountsMessage[] = [];
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'test-subscriber', clean: false, reconnectPeriod: 200 });
    clients.push(sub);
    sub.on('message', (topic, payload) => {
      if (topic !== topics.sensorCounts(sensorId)) return;
      const m = CountsMessageSchema.parse(JSON.parse(payload.toString('utf8')));
      received.push(m);
      sub.publish(topics.sensorStored(sensorId), JSON.stringify({ v: 1, seqs: [m.seq] }), { qos: 1 });
    });
    await sub.subscribeAsync(topics.sensorCounts(sensorId), { qos: 1 });

    const outboxFile = path.join(dir, 'agent', 'outbox.sqlite');
    const configFile = path.join(dir, 'sensor.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        sensorId,
        windowSeconds: 10,
        latenessMs: 200,
        mqtt: { url: broker.url, reconnectPeriodMs: 300, keepaliveSeconds: 5 },
        outbox: { path: outboxFile },
        source: { kind: 'simulator', simulator: { scale: 200, seed: 5 } },
        log: { level: 'debug', statsIntervalSeconds: 0 },
      }),
    );
    const env = { PASSANT_CONFIG: configFile };

    // 1. Connected: windows flow.
    const first = spawnSensor(['run'], env);
    processes.push(first);
    await first.waitForLog((l) => l.msg === 'connected to the broker', 20_000);
    await waitFor(() => received.length >= 1, 'the first window', 25_000);

    // 2. The broker goes away right after a delivery (nothing in flight); the agent keeps counting.
    await broker.stop({ keepDir: true });
    const queuedBeforeOutage = queuedSeqs(first).length;
    await waitFor(() => queuedSeqs(first).length >= queuedBeforeOutage + 1, 'a window queued during the outage', 25_000);

    // 3. kill -9: what was queued is in the file.
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    const seqsFirst = queuedSeqs(first);
    {
      const db = new Database(outboxFile);
      const rows = db.prepare('SELECT seq, payload FROM messages ORDER BY id').all() as { seq: number; payload: string }[];
      db.close();
      expect(rows.length).toBeGreaterThanOrEqual(1);
      // Only counts messages are in the file.
      for (const r of rows) expect(CountsMessageSchema.parse(JSON.parse(r.payload)).seq).toBe(r.seq);
      expect(rows.at(-1)!.seq).toBe(seqsFirst.at(-1));
    }

    // 4. Restarted while the broker is still away: it counts on, numbering after the last seq.
    const second = spawnSensor(['run'], env);
    processes.push(second);
    const leftover = await second.waitForLog((l) => String(l.msg).startsWith('outbox holds counts from an earlier run'), 20_000);
    expect(leftover.queued).toBeGreaterThanOrEqual(1);
    await second.waitForLog((l) => l.msg === 'window queued', 25_000);
    expect(queuedSeqs(second)[0]).toBe(seqsFirst.at(-1)! + 1);

    // 5. The broker returns: the backlog, then new windows, reach the subscriber.
    await broker.start();
    await second.waitForLog((l) => l.msg === 'reconnected to the broker' || l.msg === 'connected to the broker', 20_000);
    const expected = () => [...new Set([...seqsFirst, ...queuedSeqs(second)])].sort((a, b) => a - b);
    await waitFor(() => received.length > 0 && received.at(-1)!.seq >= expected().at(-1)!, 'the backlog and the new windows', 30_000);
    expect(await second.stop('SIGTERM')).toBe(0);

    // In order of first arrival, with no gap: every window the agents queued arrived. A second copy is possible
    // only of a message whose acknowledgement had not reached the agent yet (it was still in its outbox).
    const firsts = received.filter((m, i) => received.findIndex((o) => o.seq === m.seq) === i);
    const seqs = firsts.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
    for (const s of expected()) expect(seqs).toContain(s);
    for (let i = 1; i < firsts.length; i++) expect(firsts[i]!.windowStart).toBeGreaterThan(firsts[i - 1]!.windowStart);
    for (const m of received) expect(firsts.find((f) => f.seq === m.seq)!.windowStart).toBe(m.windowStart);
    // After a clean stop the outbox holds at most what was delivered and not yet acknowledged back: nothing lost.
    const db = new Database(outboxFile);
    const left = db.prepare('SELECT seq FROM messages').pluck().all() as number[];
    db.close();
    for (const s of left) expect(seqs).toContain(s);
    expect(left.length).toBeLessThan(5);
  });
});
