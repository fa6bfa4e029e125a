/** `passant-sensor run` as a process: config errors, clean shutdown on a signal, a failing source. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StatusMessageSchema, topics } from '@passant/shared';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { spawnSensor, type AgentProcess } from './helpers/agent-process.ts';

let dir: string;
let broker: TestBroker;
const processes: AgentProcess[] = [];
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-main-'));
  broker = await startAedes();
});
afterEach(async () => {
  for (const p of processes.splice(0)) await p.stop('SIGKILL');
  await broker.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function run(env: Record<string, string>, args: string[] = []): AgentProcess {
  const p = spawnSensor(['run', ...args], env);
  processes.push(p);
  return p;
}

describe('passant-sensor run', () => {
  it('lists every config problem and exits 1 before connecting anything', async () => {
    let connections = 0;
    broker.aedes.on('client', () => connections++);
    const configFile = path.join(dir, 'bad.yaml');
    fs.writeFileSync(configFile, 'outbox:\n  maxMessages: -3\nsource:\n  kind: telepathy\n');
    const p = run({
      PASSANT_CONFIG: configFile,
      PASSANT_SENSOR_ID: 'Not An Id',
      PASSANT_WINDOW_SECONDS: '7',
      PASSANT_MQTT_URL: broker.url,
      PASSANT_MQTT_PASSWORD: 'do-not-print-me',
    });
    expect(await p.exited).toBe(1);
    const err = p.stderr().toString();
    for (const key of ['sensorId', 'windowSeconds', 'outbox.maxMessages', 'source.kind']) expect(err).toContain(`${key}:`);
    expect(err).toContain('PASSANT_WINDOW_SECONDS');
    expect(err).not.toContain('do-not-print-me');
    expect(p.stdout().length).toBe(0);
    expect(connections).toBe(0);
    expect(broker.published).toEqual([]);
  });

  it('shuts down cleanly on SIGTERM: offline status, exit code 0, no password in the logs', async () => {
    const p = run({
      PASSANT_SENSOR_ID: 'proc-1',
      PASSANT_MQTT_URL: broker.url,
      PASSANT_MQTT_USERNAME: 'sensor',
      PASSANT_MQTT_PASSWORD: 'do-not-print-me',
      PASSANT_OUTBOX_PATH: path.join(dir, 'outbox.sqlite'),
      PASSANT_LOG_STATS_INTERVAL_SECONDS: '1',
    });
    await p.waitForLog((l) => l.msg === 'connected to the broker', 20_000);
    await p.waitForLog((l) => l.msg === 'stats', 5000);
    expect(await p.stop('SIGTERM')).toBe(0);
    const lines = p.logLines();
    expect(lines.some((l) => l.msg === 'signal received; shutting down' && l.signal === 'SIGTERM')).toBe(true);
    expect(lines.at(-1)!.msg).toBe('agent stopped');
    const statuses = broker.published.filter((m) => m.topic === topics.sensorStatus('proc-1')).map((m) => StatusMessageSchema.parse(JSON.parse(m.payload.toString())));
    expect(statuses.map((s) => s.state)).toEqual(['online', 'offline']);
    expect(p.stdout().toString() + p.stderr().toString()).not.toContain('do-not-print-me');
  });

  it('exits 1 when the live source cannot start', async () => {
    const p = run({
      PASSANT_SENSOR_ID: 'proc-2',
      PASSANT_MQTT_URL: broker.url,
      PASSANT_OUTBOX_PATH: path.join(dir, 'outbox.sqlite'),
      PASSANT_SOURCE_KIND: 'wifi',
      PASSANT_SOURCE_COMMAND: 'passant-no-such-capture-tool,-i,x',
    });
    expect(await p.exited).toBe(1);
    const lines = p.logLines();
    expect(lines.some((l) => l.msg === 'source failed')).toBe(true);
    expect(lines.at(-1)!.msg).toBe('agent stopped');
  });
});
