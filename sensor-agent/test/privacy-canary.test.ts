/**
 * Privacy canary (docs/architecture.md, "Where an address may live"): captures with known addresses go through the sensor, both as the
 * agent (`passant-sensor run`, source kind files, MQTT publishing, log level debug) and as
 * `passant-sensor count`. Everything that leaves is collected: every packet on the broker (topics and raw
 * payloads, including retained status and will), everything a subscriber to `#` receives, every file the
 * agent wrote (the outbox directory), and stdout and stderr of both programs. No spelling of any address may
 * appear in any of it, while the canaries must have been counted (so the test fails if nothing is processed).
 * The same search then runs over the real captures in ../shared/captures, whose addresses tshark lists.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CountsMessageSchema, topics, type CountsMessage } from '@passant/shared';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { spawnSensor } from './helpers/agent-process.ts';
import { findAddressLeaks, type Haystack } from './helpers/canary.ts';
import {
  BTSNOOP,
  LINKTYPE,
  bleAdvPdu,
  blePhdrRecord,
  hciLeAdvReport,
  macBytes,
  radiotapProbeRequest,
  writeBtsnoop,
  writePcap,
  writePcapng,
  type Frame,
} from './helpers/pcap-writer.ts';
import { requireTool } from '@passant/test-helpers/tools';
import { waitFor } from '@passant/test-helpers/wait';

const REPO = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CAPTURES = path.resolve(REPO, '../shared/captures');
const hasCaptures = fs.existsSync(CAPTURES);
if (!hasCaptures) process.stderr.write(`skipping the real-capture canary: ${CAPTURES} is absent\n`);
const hasTshark = requireTool('tshark', 'tshark');

/** Canary addresses: Wi-Fi randomized and universal, BLE random and public, one through an HCI log. */
const WIFI_CANARIES = ['aa:bb:cc:dd:ee:ff', 'a4:c3:61:5e:7f:90', 'de:ad:be:ef:ca:fe'];
const BLE_CANARIES = ['c0:ff:ee:12:34:56', '00:1a:7d:da:71:13'];
const HCI_CANARY = 'f1:e2:d3:c4:b5:a6';
/** Published by the test after the sensor programs ended, to know that their output has arrived. */
const MARKER_TOPIC = 'passant/test/canary-marker';

let dir: string;
let broker: TestBroker;
const clients: MqttClient[] = [];
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-canary-'));
  broker = await startAedes();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  await broker.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function filesUnder(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

interface Outputs {
  haystacks: Haystack[];
  published: CountsMessage[];
  counted: CountsMessage[];
}

/** Runs the agent (MQTT) and `count` over the files at log level debug, collecting everything that left them. */
async function runSensorOn(files: string[], sensorId: string): Promise<Outputs> {
  // Everything on the broker under '#', as raw bytes (the broker-side record adds what no subscriber sees).
  const sub = await mqtt.connectAsync(broker.url, { clientId: 'canary-watcher', reconnectPeriod: 0 });
  clients.push(sub);
  const received: Haystack[] = [];
  sub.on('message', (topic, payload) => received.push({ name: `subscriber ${topic}`, data: Buffer.concat([Buffer.from(topic + '\n'), payload]) }));
  await sub.subscribeAsync('#', { qos: 1 });

  const outboxDir = path.join(dir, `outbox-${sensorId}`);
  const configFile = path.join(dir, `${sensorId}.json`);
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      sensorId,
      mqtt: { url: broker.url },
      outbox: { path: path.join(outboxDir, 'outbox.sqlite') },
      // The files overlap in time: let windows wait for the later files.
      source: { kind: 'files', files, fileLatenessMs: 600_000 },
      log: { level: 'debug', statsIntervalSeconds: 1 },
    }),
  );
  const agent = spawnSensor(['run'], { PASSANT_CONFIG: configFile });
  const agentExit = await Promise.race([agent.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 90_000))]);
  if (agentExit === 'timeout') await agent.stop('SIGKILL');
  expect(agentExit, agent.stderr().toString()).toBe(0);

  const count = spawnSensor(['count', '--sensor-id', sensorId, '--lateness', '600', ...files], { PASSANT_LOG_LEVEL: 'debug' });
  const countExit = await Promise.race([count.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 90_000))]);
  if (countExit === 'timeout') await count.stop('SIGKILL');
  expect(countExit, count.stderr().toString()).toBe(0);

  // The aggregator side sees what the subscriber saw. A marker published after both programs ended comes after
  // everything the agent sent, at the broker and at the subscriber: once it is in both, nothing is still on its way.
  const marker = await mqtt.connectAsync(broker.url, { clientId: 'canary-marker', reconnectPeriod: 0 });
  clients.push(marker);
  await marker.publishAsync(MARKER_TOPIC, 'end of the sensor output', { qos: 1 });
  await waitFor(
    () => received.some((r) => r.name === `subscriber ${MARKER_TOPIC}`) && broker.published.some((p) => p.topic === MARKER_TOPIC),
    'the marker message at the subscriber and in the broker record',
    10_000,
  );
  const fromSensor = received.filter((r) => r.name !== `subscriber ${MARKER_TOPIC}`);
  const brokerRecord = broker.published.filter((p) => p.topic !== MARKER_TOPIC);
  const published = brokerRecord
    .filter((p) => p.topic === topics.sensorCounts(sensorId))
    .map((p) => CountsMessageSchema.parse(JSON.parse(p.payload.toString('utf8'))));
  const counted = count.logLines().map((l) => CountsMessageSchema.parse(l));

  const haystacks: Haystack[] = [
    ...brokerRecord.map((p, i) => ({ name: `broker packet ${i} ${p.topic}`, data: Buffer.concat([Buffer.from(p.topic + '\n'), p.payload]) })),
    ...fromSensor,
    ...filesUnder(outboxDir).map((f) => ({ name: `file ${path.relative(dir, f)}`, data: fs.readFileSync(f) })),
    { name: 'agent stdout', data: agent.stdout() },
    { name: 'agent stderr', data: agent.stderr() },
    { name: 'count stdout', data: count.stdout() },
    { name: 'count stderr', data: count.stderr() },
  ];
  // The outputs are real: logs were written at debug level, the outbox file exists, messages were received.
  expect(agent.logLines().some((l) => l.msg === 'window queued')).toBe(true);
  expect(filesUnder(outboxDir).length).toBeGreaterThan(0);
  expect(fromSensor.length).toBeGreaterThan(0);
  return { haystacks, published, counted };
}

describe('privacy canary', () => {
  it('no spelling of a canary address leaves the sensor, yet the canaries are counted', { timeout: 120_000 }, async () => {
    const t0 = Date.UTC(2024, 2, 18, 12, 0, 0);
    const wifiFrames: Frame[] = [];
    const bleFrames: Frame[] = [];
    for (let minute = 0; minute < 3; minute++) {
      for (const [i, src] of WIFI_CANARIES.entries()) {
        for (let k = 0; k < 3; k++) {
          wifiFrames.push({ timeMs: t0 + minute * 60_000 + i * 1000 + k * 20, data: radiotapProbeRequest({ src, rssi: -50 - i }) });
        }
      }
      for (const [i, advA] of BLE_CANARIES.entries()) {
        bleFrames.push({ timeMs: t0 + minute * 60_000 + 5000 + i * 100, data: blePhdrRecord(bleAdvPdu({ advA, txAdd: i === 0 }), { rssi: -60 }) });
      }
    }
    const files = [path.join(dir, 'canary-wifi.pcap'), path.join(dir, 'canary-ble.pcapng'), path.join(dir, 'canary-hci.btsnoop')];
    writePcap(files[0]!, wifiFrames, { linkType: LINKTYPE.RADIOTAP });
    writePcapng(files[1]!, bleFrames, { interfaces: [{ linkType: LINKTYPE.BLE_LL_PHDR }] });
    writeBtsnoop(files[2]!, [{ timeMs: t0 + 150_000, data: hciLeAdvReport({ addr: HCI_CANARY, addrType: 1, rssi: -65 }) }], BTSNOOP.HCI_H1);
    // The canaries really are in the inputs, as the search would find them.
    const canaries = [...WIFI_CANARIES, ...BLE_CANARIES, HCI_CANARY].map((a) => macBytes(a));
    const inInputs = findAddressLeaks(files.map((f) => ({ name: f, data: fs.readFileSync(f) })), canaries);
    expect(new Set(inInputs.map((l) => l.address)).size).toBe(canaries.length);

    const out = await runSensorOn(files, 'canary-1');

    // Counted: three minutes, every canary in each (the HCI one in the last).
    const expected = [0, 1, 2].map((m) => ({ windowStart: t0 / 1000 + m * 60, wifi: 3, ble: m === 2 ? 3 : 2 }));
    for (const msgs of [out.published, out.counted]) {
      expect(msgs.map((m) => ({ windowStart: m.windowStart, wifi: m.wifi.devices, ble: m.ble.devices }))).toEqual(expected);
      expect(msgs[0]!.wifi.randomized).toBe(2); // aa:.. and de:.. have the locally administered bit
      expect(msgs[0]!.ble.randomized).toBe(1);
    }

    const leaks = findAddressLeaks(out.haystacks, canaries);
    expect(leaks).toEqual([]);
  });

  it.skipIf(!hasCaptures || !hasTshark)('no address of the real captures leaves the sensor', { timeout: 180_000 }, async () => {
    // Every capture file, in time order so that one stream counts them all; each address tshark finds in them.
    const captureFiles = fs
      .readdirSync(CAPTURES)
      .filter((f) => /\.(pcap|pcapng|cap)$/.test(f))
      .map((f) => path.join(CAPTURES, f));
    const firstTime = (f: string): number => {
      const csv = f.replace(/\.(pcap|pcapng|cap)$/, '.expected.csv');
      const row = fs.existsSync(csv) ? fs.readFileSync(csv, 'utf8').split('\n')[1] : undefined;
      return row ? Number(row.split(',')[0]) : 0;
    };
    captureFiles.sort((a, b) => firstTime(a) - firstTime(b));
    const addresses = new Map<string, Buffer>();
    const fields = ['wlan.sa', 'wlan.da', 'wlan.ta', 'wlan.ra', 'wlan.bssid', 'btle.advertising_address', 'btle.scanning_address', 'btle.target_address'];
    for (const f of captureFiles) {
      // tshark exits non-zero on a cut-short last record (one of the files ends so); its output is still good.
      const text = spawnSync('tshark', ['-r', f, '-T', 'fields', ...fields.flatMap((x) => ['-e', x])], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }).stdout;
      for (const m of text.matchAll(/\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/gi)) addresses.set(m[0].toLowerCase(), macBytes(m[0]));
    }
    // Broadcast and all-zero addresses are not anyone's; their bytes occur in any binary file.
    addresses.delete('ff:ff:ff:ff:ff:ff');
    addresses.delete('00:00:00:00:00:00');
    expect(addresses.size).toBeGreaterThan(1000);

    const out = await runSensorOn(captureFiles, 'real-1');
    const devices = (ms: CountsMessage[]) => ms.reduce((s, m) => s + m.wifi.devices + m.ble.devices, 0);
    expect(devices(out.published)).toBeGreaterThan(1000);
    expect(devices(out.counted)).toBe(devices(out.published));

    const leaks = findAddressLeaks(out.haystacks, [...addresses.values()]);
    expect(leaks).toEqual([]);
  });
});
