/**
 * The Home Assistant bridge, end to end: a real Mosquitto, a real aggregator (SQLite, HTTP) fed counts through
 * the broker as sensors do, the bridge reading the aggregator's API with a viewer token, and a client subscribed
 * as Home Assistant is (`homeassistant/#` and the state topics). Checked: the discovery payloads, a released minute
 * as state, a hidden minute (below k) publishing nothing, a private zone the token cannot read getting no config,
 * a zone the token loses having its config removed, both links reconnecting, availability going offline when the
 * bridge stops or dies, and a refused token stopping the command with a message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { topics } from '@passant/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type MosquittoBroker } from '@passant/test-helpers/mosquitto';
import { freePort, requireTool } from '@passant/test-helpers/tools';
import { waitFor } from '@passant/test-helpers/wait';
import { createLogger } from '../../src/logger.ts';
import { HomeAssistantBridge } from '../../src/interop/home-assistant.ts';
import { makeDataDir, removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage, minuteAgo } from '../helpers/messages.ts';

const hasMosquitto = requireTool('mosquitto', 'mosquitto');
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/passant-aggregator.js');

const ZONES = {
  k: 5,
  zones: [
    { id: 'winkel', name: 'Winkelstraat', sensors: ['s-1'] },
    { id: 'plein', name: 'Marktplein', sensors: ['s-2'] },
    { id: 'achter', name: 'Achterom', sensors: ['s-3'] },
  ],
  sites: [],
  auth: { public: { zones: 'none' as const, sites: 'none' as const, privacyPage: true } },
};

interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A client subscribed as Home Assistant is: every message it receives, in order. */
class HomeAssistantView {
  readonly seen: Seen[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
  }

  static async connect(url: string): Promise<HomeAssistantView> {
    const client = await mqtt.connectAsync(url, { clientId: `ha-view-${process.pid}-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 200 });
    const view = new HomeAssistantView(client);
    await client.subscribeAsync(['homeassistant/#', 'passant/home-assistant/#'], { qos: 1 });
    return view;
  }

  /** The payloads seen on `topic` since message index `from`. */
  on(topic: string, from = 0): string[] {
    return this.seen.slice(from).filter((m) => m.topic === topic).map((m) => m.payload);
  }

  last(topic: string): string | undefined {
    return this.on(topic).at(-1);
  }
}

let broker: MosquittoBroker;
let agg: TestAggregator;
let httpPort: number;
let dataDir: string;
let sensor: MqttClient;
let view: HomeAssistantView;
let token: string;
let tokenId: string;
let bridge: HomeAssistantBridge;
let minute = minuteAgo(120);
const logLines: string[] = [];

/** Publishes one window of `sensorId` through the broker as a sensor does; returns its start. */
async function publishMinute(sensorId: string, wifi: number, ble: number): Promise<number> {
  const t = minute;
  minute += 60;
  await sensor.publishAsync(topics.sensorCounts(sensorId), JSON.stringify(countsMessage(sensorId, t, wifi, ble)), { qos: 1 });
  return t;
}

const state = (zone: string, radio: string) => `passant/home-assistant/passant/${zone}/${radio}/state`;
const attributes = (zone: string, radio: string) => `passant/home-assistant/passant/${zone}/${radio}/attributes`;
const config = (zone: string, radio: string) => `homeassistant/sensor/passant_${zone}_${radio}/config`;
const AVAILABILITY = 'passant/home-assistant/passant/status';

/** Waits until the state of `zone`/`radio` published since `from` holds `value` (after the minute `t`'s attributes). */
async function stateArrives(zone: string, radio: string, t: number, value: string, from: number): Promise<void> {
  await waitFor(
    () => view.on(attributes(zone, radio), from).some((a) => JSON.parse(a).minute_start === new Date(t * 1000).toISOString()) && view.on(state(zone, radio), from).includes(value),
    `state ${value} of ${zone}/${radio} for minute ${t}`,
    15_000,
  );
}

function startBridge(): HomeAssistantBridge {
  const sink = { write: (line: string) => void logLines.push(line) };
  const b = new HomeAssistantBridge({
    apiUrl: agg.url,
    token,
    mqttUrl: broker.url,
    radios: ['wifi', 'ble'],
    zonesRefreshMs: 200,
    retryInitialMs: 100,
    retryMaxMs: 400,
    version: '0.1.0',
    logger: createLogger('debug', sink),
  });
  b.start();
  return b;
}

async function startAgg(): Promise<TestAggregator> {
  return startTestAggregator(broker.url, { ...ZONES, http: { port: httpPort } }, { dataDir });
}

beforeAll(async () => {
  if (!hasMosquitto) return;
  broker = await startMosquitto();
  httpPort = await freePort();
  dataDir = makeDataDir();
  agg = await startAgg();
  const created = agg.tokens.create({ role: 'viewer', zones: ['winkel', 'plein'] });
  token = created.token;
  tokenId = created.info.id;
  sensor = await mqtt.connectAsync(broker.url, { clientId: 'test-sensors' });
  view = await HomeAssistantView.connect(broker.url);
  // Left on the broker by an earlier run of this bridge (a zone since removed), and by another bridge.
  await sensor.publishAsync(config('gone', 'wifi'), JSON.stringify({ name: 'Wi-Fi devices', availability_topic: AVAILABILITY }), { qos: 1, retain: true });
  await sensor.publishAsync(config('foreign', 'wifi'), JSON.stringify({ name: 'Wi-Fi devices', availability_topic: 'elsewhere/status' }), { qos: 1, retain: true });
  bridge = startBridge();
}, 60_000);

afterAll(async () => {
  await bridge?.stop();
  await view?.client.endAsync();
  await sensor?.endAsync();
  await agg?.close();
  if (dataDir) removeDir(dataDir);
  await broker?.stop();
});

describe.skipIf(!hasMosquitto)('Home Assistant bridge', () => {
  it('publishes a retained discovery config per readable zone and radio, and goes online', async () => {
    await waitFor(() => view.last(AVAILABILITY) === 'online', 'the bridge online', 15_000);
    for (const zone of ['winkel', 'plein']) for (const radio of ['wifi', 'ble']) await waitFor(() => view.last(config(zone, radio)), `config ${zone}/${radio}`, 15_000);
    const wifi = JSON.parse(view.last(config('winkel', 'wifi'))!);
    expect(wifi).toEqual({
      name: 'Wi-Fi devices',
      unique_id: 'passant_winkel_wifi',
      state_topic: state('winkel', 'wifi'),
      json_attributes_topic: attributes('winkel', 'wifi'),
      state_class: 'measurement',
      unit_of_measurement: 'devices',
      suggested_display_precision: 0,
      icon: 'mdi:walk',
      availability_topic: AVAILABILITY,
      payload_available: 'online',
      payload_not_available: 'offline',
      expire_after: 300,
      device: { identifiers: ['passant_winkel'], name: 'Winkelstraat', manufacturer: 'Passant', model: 'Passant zone', sw_version: '0.1.0' },
      origin: { name: 'Passant', sw_version: '0.1.0' },
    });
    expect(JSON.parse(view.last(config('plein', 'ble'))!)).toMatchObject({ name: 'Bluetooth devices', unique_id: 'passant_plein_ble', device: { name: 'Marktplein' } });
    // Retained: a Home Assistant that connects now gets them.
    const late = await HomeAssistantView.connect(broker.url);
    try {
      await waitFor(() => late.last(config('winkel', 'ble')) && late.last(AVAILABILITY) === 'online', 'the retained config and availability', 10_000);
      expect(late.seen.find((m) => m.topic === config('winkel', 'ble'))!.retain).toBe(true);
    } finally {
      await late.client.endAsync();
    }
  });

  it("removes a config this bridge left from an earlier run for a zone it no longer reads; another bridge's stays", async () => {
    await waitFor(() => view.last(config('gone', 'wifi')) === '', "the earlier run's config removed", 15_000);
    const late = await HomeAssistantView.connect(broker.url);
    try {
      await waitFor(() => late.last(config('winkel', 'wifi')) && late.last(config('foreign', 'wifi')), 'the retained configs', 10_000);
      expect(late.on(config('gone', 'wifi'))).toEqual([]);
    } finally {
      await late.client.endAsync();
    }
  });

  it('Home Assistant restarted (its birth message): the configs are sent again', async () => {
    const mark = view.seen.length;
    await view.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await waitFor(() => view.on(config('winkel', 'wifi'), mark).length > 0 && view.on(config('plein', 'ble'), mark).length > 0, 'the configs again', 10_000);
    expect(JSON.parse(view.on(config('winkel', 'wifi'), mark)[0]!).unique_id).toBe('passant_winkel_wifi');
  });

  it('a released minute arrives as state; a hidden minute (below k) publishes nothing; a private zone gets nothing', async () => {
    await waitFor(() => view.last(AVAILABILITY) === 'online', 'the bridge online', 15_000);
    const from = view.seen.length;
    const t1 = await publishMinute('s-1', 9, 6);
    await stateArrives('winkel', 'wifi', t1, '9', from);
    await stateArrives('winkel', 'ble', t1, '6', from);
    expect(JSON.parse(view.on(attributes('winkel', 'wifi'), from).at(-1)!)).toEqual({ minute_start: new Date(t1 * 1000).toISOString(), window_seconds: 60 });

    // Below k on Wi-Fi (3 < 5), released on BLE; then the private zone's minute; then a released Wi-Fi minute.
    const mark = view.seen.length;
    const hidden = await publishMinute('s-1', 3, 7);
    await publishMinute('s-3', 40, 40);
    const t3 = await publishMinute('s-1', 12, 8);
    await stateArrives('winkel', 'wifi', t3, '12', mark);
    await stateArrives('winkel', 'ble', t3, '8', mark);
    // The stream went past the hidden minute: its Wi-Fi state was never published, its BLE one was.
    expect(view.on(state('winkel', 'wifi'), mark)).toEqual(['12']);
    expect(view.on(state('winkel', 'ble'), mark)).toEqual(['7', '8']);
    expect(view.on(attributes('winkel', 'wifi'), mark).map((a) => JSON.parse(a).minute_start)).not.toContain(new Date(hidden * 1000).toISOString());
    // Nothing at all about the zone the token cannot read.
    expect(view.seen.filter((m) => m.topic.includes('achter') || m.payload.includes('achter') || m.payload.includes('Achterom'))).toEqual([]);
    // No state is retained (an old minute must not come back as current).
    expect(view.seen.filter((m) => m.topic.endsWith('/state') && m.retain)).toEqual([]);
  });

  it('a zone the token loses has its config removed (empty retained payload) and its minutes are not published', async () => {
    const mark = view.seen.length;
    // The operator narrows the token to winkel (as with sqlite3 on the token file): straight into the file, not
    // through the token store (it cannot narrow a token), as a change by another process is what the bridge follows.
    const db = new Database(path.join(dataDir, 'tokens.db'));
    try {
      db.prepare('UPDATE tokens SET zones = ? WHERE id = ?').run(JSON.stringify(['winkel']), tokenId);
    } finally {
      db.close();
    }
    await waitFor(() => view.on(config('plein', 'wifi'), mark).includes('') && view.on(config('plein', 'ble'), mark).includes(''), "plein's configs removed", 15_000);
    const after = view.seen.length;
    await publishMinute('s-2', 20, 20);
    const t = await publishMinute('s-1', 10, 10);
    await stateArrives('winkel', 'wifi', t, '10', after);
    expect(view.seen.slice(after).filter((m) => m.topic.includes('plein'))).toEqual([]);
    // A Home Assistant connecting now finds no config for it.
    const late = await HomeAssistantView.connect(broker.url);
    try {
      await waitFor(() => late.last(config('winkel', 'wifi')), "winkel's retained config", 10_000);
      expect(late.on(config('plein', 'wifi'))).toEqual([]);
    } finally {
      await late.client.endAsync();
    }
  });

  it('broker restarted (retained messages lost): the bridge reconnects and publishes its configs and availability again', async () => {
    await broker.restart();
    const late = await HomeAssistantView.connect(broker.url);
    try {
      await waitFor(() => late.last(config('winkel', 'wifi')) && late.last(AVAILABILITY) === 'online', 'configs and availability after the restart', 20_000);
    } finally {
      await late.client.endAsync();
    }
    // The view and the test sensor reconnect on their own; minutes flow again.
    await waitFor(() => view.client.connected && sensor.connected, 'the test clients reconnected', 15_000);
    await view.client.subscribeAsync(['homeassistant/#', 'passant/home-assistant/#'], { qos: 1 });
    const from = view.seen.length;
    const t = await publishMinute('s-1', 11, 9);
    await stateArrives('winkel', 'wifi', t, '11', from);
  });

  it('aggregator down: offline and retrying with a logged reason; back: online and minutes flow again', async () => {
    const mark = view.seen.length;
    await agg.close();
    await waitFor(() => view.on(AVAILABILITY, mark).includes('offline'), 'offline while the aggregator is down', 15_000);
    await waitFor(() => logLines.some((l) => l.includes('aggregator unreachable, retrying') && l.includes('ECONNREFUSED')), 'the retry logged', 15_000);
    agg = await startAgg();
    await waitFor(() => view.on(AVAILABILITY, mark).at(-1) === 'online', 'online again', 15_000);
    const from = view.seen.length;
    const t = await publishMinute('s-1', 13, 9);
    await stateArrives('winkel', 'wifi', t, '13', from);
    expect(logLines.join('')).not.toContain(token);
  });

  it('token revoked while running: its configs are removed, availability goes offline and the bridge stops with the reason', async () => {
    const created = agg.tokens.create({ role: 'viewer', zones: ['plein'] });
    const other = new HomeAssistantBridge({
      apiUrl: agg.url,
      token: created.token,
      mqttUrl: broker.url,
      nodeId: 'revoked',
      zonesRefreshMs: 200,
      retryInitialMs: 100,
      logger: createLogger('silent'),
    });
    other.start();
    try {
      const status = 'passant/home-assistant/revoked/status';
      const plein = 'homeassistant/sensor/revoked_plein_wifi/config';
      await waitFor(() => view.last(status) === 'online' && view.last(plein), 'the second bridge online with its config', 15_000);
      agg.tokens.revoke(created.info.id);
      const err = await other.finished();
      expect(err?.message).toContain('the aggregator refused the token (401');
      await waitFor(() => view.last(plein) === '' && view.last(status) === 'offline', 'its config removed and offline', 10_000);
    } finally {
      await other.stop();
    }
  });

  it('stopped: availability goes offline; the configs stay (Home Assistant keeps the entities)', async () => {
    const mark = view.seen.length;
    await bridge.stop();
    await waitFor(() => view.on(AVAILABILITY, mark).includes('offline'), 'offline after stop', 10_000);
    expect(view.on(config('winkel', 'wifi'), mark)).toEqual([]);
  });
});

interface Run {
  code: number | null;
  stderr: string;
}

/** Starts `passant-aggregator home-assistant ARGS`; `done` resolves with its exit code and stderr. */
function startCommand(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, 'home-assistant', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const done = new Promise<Run>((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
  return { child, done };
}

describe.skipIf(!hasMosquitto)('passant-aggregator home-assistant (the command)', () => {
  it('a token on the command line is refused before anything connects', async () => {
    const run = await startCommand(['--api', 'http://127.0.0.1:9', '--mqtt', 'mqtt://127.0.0.1:9', '--token', 'pst_x'], {}).done;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('never goes on the command line');
  });

  it('a refused token: exits 1 with a message naming the cause, never the token', async () => {
    const file = path.join(dataDir, 'bad-token');
    fs.writeFileSync(file, 'pst_not-a-real-token\n');
    const run = await startCommand(['--api', agg.url, '--mqtt', broker.url, '--token-file', file, '--node-id', 'badtoken'], {}).done;
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the aggregator refused the token (401');
    expect(run.stderr).not.toContain('pst_not-a-real-token');
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('runs with PASSANT_HA_TOKEN; on %s its availability turns offline', async (signal) => {
    const nodeId = `cli-${signal.toLowerCase()}`;
    const topic = `passant/home-assistant/${nodeId}/status`;
    const watcher = await HomeAssistantView.connect(broker.url);
    try {
      const { child, done } = startCommand(['--api', agg.url, '--mqtt', broker.url, '--node-id', nodeId], { PASSANT_HA_TOKEN: token });
      await waitFor(() => watcher.last(topic) === 'online' && watcher.last(`homeassistant/sensor/${nodeId}_winkel_wifi/config`), `${nodeId} online with its config`, 20_000);
      const mark = watcher.seen.length;
      child.kill(signal);
      const run = await done;
      if (signal === 'SIGTERM') expect(run.code).toBe(0);
      await waitFor(() => watcher.on(topic, mark).includes('offline'), `${nodeId} offline after ${signal}`, 20_000);
    } finally {
      await watcher.client.endAsync();
    }
  });
});
