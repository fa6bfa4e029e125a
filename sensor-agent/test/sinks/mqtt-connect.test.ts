/**
 * connectMqtt (src/sinks/mqtt-connect.ts): `mqtt.connect` for TCP and TLS URLs without mqtt.js's other transports.
 * It must read a URL as mqtt.connect does (compared option by option, on clients that do not connect), talk to a
 * real Mosquitto over TCP and TLS (a wrong CA refused unless rejectUnauthorized is off), and leave WebSocket (the
 * `ws` package, with Node's http and zlib) unloaded in a process that connected over TCP and TLS.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMqtt } from '../../src/sinks/mqtt-connect.ts';
import { makeCertificates, startMosquitto, type MosquittoBroker } from '@passant/test-helpers/mosquitto';
import { requireTool } from '@passant/test-helpers/tools';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const hasMosquitto = requireTool('mosquitto', 'mosquitto');
const hasOpenssl = requireTool('openssl', 'openssl');

/** The options a client ends up with that decide where and how it connects. */
function where(c: MqttClient): Record<string, unknown> {
  const o = c.options as Record<string, unknown>;
  return Object.fromEntries(['protocol', 'host', 'hostname', 'port', 'username', 'password', 'clientId', 'path', 'servername'].map((k) => [k, o[k]]));
}

function connected(c: MqttClient, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no connection')), timeoutMs);
    c.once('connect', () => (clearTimeout(timer), resolve()));
  });
}

function failed(c: MqttClient, timeoutMs = 10_000): Promise<Error> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no error')), timeoutMs);
    c.once('error', (err) => (clearTimeout(timer), resolve(err)));
    c.once('connect', () => (clearTimeout(timer), reject(new Error('connected'))));
  });
}

describe('connectMqtt reads a URL as mqtt.connect does', () => {
  const base: IClientOptions = { manualConnect: true, reconnectPeriod: 0, clean: false, clientId: 'c-1' };
  const cases: Array<[string, IClientOptions]> = [
    ['mqtt://localhost', {}],
    ['mqtt://broker.example:1884', { username: 'u', password: 'p' }],
    ['mqtt://user:pa:ss@10.0.0.2:1883?clientId=from-url', { username: 'ignored' }],
    ['mqtt://[::1]:1883', {}],
    ['tcp://127.0.0.1:1883/some/path', {}],
    ['mqtts://broker.example', { rejectUnauthorized: false }],
    ['tls://10.0.0.3:8884', {}],
    ['ssl://broker.example:8883', {}],
    ['mqtt://broker.example:1883', { cert: Buffer.from('c'), key: Buffer.from('k') }],
    ['ws://broker.example:8080/mqtt', {}],
  ];
  for (const [url, extra] of cases) {
    it(url, () => {
      // manualConnect: the clients never open a connection (nothing to end).
      const ours = connectMqtt(url, { ...base, ...extra });
      const theirs = mqtt.connect(url, { ...base, ...extra });
      expect(where(ours)).toEqual(where(theirs));
      expect(where(ours).protocol).toBe(where(theirs).protocol);
    });
  }

  it('refuses what mqtt.connect refuses', () => {
    expect(() => mqtt.connect('tcp://h:1883', { manualConnect: true, cert: Buffer.from('c'), key: Buffer.from('k') })).toThrow(/Unknown protocol/);
    expect(() => connectMqtt('tcp://h:1883', { manualConnect: true, cert: Buffer.from('c'), key: Buffer.from('k') })).toThrow(/Unknown protocol/);
    expect(() => connectMqtt('mqtt://h:1883', { manualConnect: true, clean: false })).toThrow(/Missing clientId/);
  });
});

describe.skipIf(!hasMosquitto || !hasOpenssl)('connectMqtt with a real Mosquitto', () => {
  let broker: MosquittoBroker;
  let otherCa: string;
  let dir: string;
  beforeAll(async () => {
    broker = await startMosquitto({ tls: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-mqtt-connect-'));
    otherCa = makeCertificates(dir).caFile;
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes over TCP and over TLS; a broker certificate from another CA is refused unless checking is off', async () => {
    const tcp = connectMqtt(broker.url, { clientId: 'tcp-1', reconnectPeriod: 0 });
    const tlsClient = connectMqtt(broker.tlsUrl!, { clientId: 'tls-1', reconnectPeriod: 0, ca: fs.readFileSync(broker.caFile!) });
    const wrongCa = connectMqtt(broker.tlsUrl!, { clientId: 'tls-2', reconnectPeriod: 0, ca: fs.readFileSync(otherCa) });
    const unchecked = connectMqtt(broker.tlsUrl!, { clientId: 'tls-3', reconnectPeriod: 0, ca: fs.readFileSync(otherCa), rejectUnauthorized: false });
    try {
      const refused = failed(wrongCa);
      await Promise.all([connected(tcp), connected(tlsClient), connected(unchecked)]);
      expect((await refused).message).toMatch(/certificate/i);
      await tcp.publishAsync('t/1', 'x', { qos: 1 });
      await tlsClient.publishAsync('t/1', 'y', { qos: 1 });
    } finally {
      for (const c of [tcp, tlsClient, wrongCa, unchecked]) c.end(true);
    }
  });

  it('a process that connected over TCP and TLS has not loaded WebSocket, http or zlib', () => {
    const script = path.join(dir, 'probe.mts');
    fs.writeFileSync(
      script,
      [
        `import fs from 'node:fs';`,
        `import { connectMqtt } from ${JSON.stringify(path.resolve(HERE, '../../src/sinks/mqtt-connect.ts'))};`,
        `const urls = [[${JSON.stringify(broker.url)}, {}], [${JSON.stringify(broker.tlsUrl)}, { ca: fs.readFileSync(${JSON.stringify(broker.caFile)}) }]];`,
        `for (const [url, o] of urls) {`,
        `  const c = connectMqtt(url, { clientId: 'probe-' + url.slice(0, 5), reconnectPeriod: 0, ...o });`,
        `  await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });`,
        `  await c.endAsync();`,
        `}`,
        `process.stdout.write(JSON.stringify(process.moduleLoadList));`,
      ].join('\n'),
    );
    const tsx = path.resolve(HERE, '../../../node_modules/.bin/tsx');
    const loaded = JSON.parse(execFileSync(tsx, [script], { encoding: 'utf8', cwd: path.resolve(HERE, '../..') })) as string[];
    expect(loaded).toContain('NativeModule tls');
    for (const m of ['NativeModule http', 'NativeModule https', 'NativeModule zlib']) expect(loaded).not.toContain(m);
  }, 60_000);
});
