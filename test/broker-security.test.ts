/**
 * The production broker setup (deploy/mosquitto/) against a REAL Mosquitto: the production mosquitto.conf and
 * acl, changed only in listener ports and file paths; certificates from deploy/mosquitto/make-certs.sh; sensor
 * logins from deploy/mosquitto/add-sensor.sh. Asserts what Mosquitto 2.0 actually does (Debian 12: 2.0.11).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@passant/shared';
import { fetchMetrics, metricValue } from './helpers/metrics.ts';
import { makeCertificates, startMosquitto, type MosquittoBroker, type MosquittoFiles } from './helpers/mosquitto.ts';
import { startStack } from './helpers/stack.ts';
import { requireTool } from './helpers/tools.ts';
import { waitFor } from './helpers/wait.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEPLOY = path.join(REPO_ROOT, 'deploy/mosquitto');
const PRODUCTION_CONF = path.join(DEPLOY, 'mosquitto.conf');
const PRODUCTION_ACL = path.join(DEPLOY, 'acl');
const ADD_SENSOR = path.join(DEPLOY, 'add-sensor.sh');

const hasTools =
  requireTool('mosquitto', 'mosquitto') && requireTool('mosquitto_passwd', 'mosquitto') && requireTool('openssl', 'openssl');

/** MQTT 5 reason code "Not authorized"; Mosquitto 2.0 also answers a wrong password with it (not 134). */
const NOT_AUTHORIZED = 135;
/** The MQTT 3.1.1 CONNACK return code "not authorized". */
const V311_NOT_AUTHORIZED = 5;

/** Every payload carries this, so that the test can prove the broker log never contains a payload. */
const CANARY = `payload-canary-${process.pid}-${Date.now()}`;

const SERVICE_PASSWORDS = {
  aggregator: 'aggregator-test-password',
  'aggregator-2': 'aggregator-2-test-password',
  'privacy-officer': 'audit-test-password',
};

/**
 * The production ACL plus a second aggregator instance, added the way the ACL's comment says: a copy of the
 * `user aggregator` section under the new login, deny line included.
 */
function aclWithSecondAggregator(acl: string): string {
  const section = acl.match(/^user aggregator\n(?:topic .*\n?)+/m)?.[0];
  if (section === undefined) throw new Error('production acl: no `user aggregator` section');
  return `${acl.trimEnd()}\n\n${section.replaceAll('aggregator/', 'aggregator-2/').replace('user aggregator', 'user aggregator-2').trimEnd()}\n`;
}

/**
 * The production config with only ports and paths replaced. Each replaced line must exist exactly once, so a
 * change of the production file's shape fails here instead of being silently tested as something else.
 */
function adaptProductionConfig(text: string, files: MosquittoFiles): string {
  const replacements: Array<[RegExp, string]> = [
    [/^listener 1883 127\.0\.0\.1$/m, `listener ${files.port} 127.0.0.1`],
    [/^listener 8883$/m, `listener ${files.tlsPort} 127.0.0.1`],
    [/^password_file \/mosquitto\/config\/passwd$/m, `password_file ${files.passwordFile}`],
    [/^acl_file \/mosquitto\/config\/acl$/m, `acl_file ${files.aclFile}`],
    [/^cafile \/mosquitto\/config\/certs\/ca\.crt$/m, `cafile ${files.caFile}`],
    [/^certfile \/mosquitto\/config\/certs\/server\.crt$/m, `certfile ${files.certFile}`],
    [/^keyfile \/mosquitto\/config\/certs\/server\.key$/m, `keyfile ${files.keyFile}`],
    [/^persistence_location \/mosquitto\/data\/$/m, `persistence_location ${files.dataDir}`],
  ];
  let out = text;
  for (const [pattern, replacement] of replacements) {
    const matches = out.match(new RegExp(pattern.source, 'gm')) ?? [];
    if (matches.length !== 1) throw new Error(`production mosquitto.conf: expected one line matching ${pattern}, found ${matches.length}`);
    out = out.replace(pattern, replacement);
  }
  const listeners = out.split('\n').filter((line) => /^listener\s/.test(line));
  if (listeners.length !== 2) throw new Error(`production mosquitto.conf: expected exactly two listeners, found ${listeners.length}`);
  const leftover = out.split('\n').filter((line) => !line.startsWith('#') && line.includes('/mosquitto/'));
  if (leftover.length > 0) throw new Error(`production mosquitto.conf has paths this test does not adapt: ${leftover.join('; ')}`);
  return out;
}

/** Adds a sensor login with the production script; returns the password it generated and printed. */
function addSensor(id: string, passwordFile: string, aclFile: string): string {
  const stdout = execFileSync('bash', [ADD_SENSOR, id, passwordFile, aclFile], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PASSANT_SENSOR_PASSWORD: '' },
  });
  const password = stdout.trim();
  expect(password.length).toBeGreaterThanOrEqual(24);
  return password;
}

function countsPayload(sensorId: string, seq: number): string {
  const radio = { devices: 1, randomized: 1, frames: 2, rssiHistogram: [0, 0, 2, 0, 0, 0] };
  // `note` is not part of the schema; the broker does not care, and it carries the canary for the log check.
  return JSON.stringify({ v: 1, sensorId, windowStart: 60 * seq, windowSeconds: 60, seq, wifi: radio, ble: radio, rssiFloor: null, note: CANARY });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Received {
  topic: string;
  payload: string;
}

describe.skipIf(!hasTools)('production Mosquitto configuration (deploy/mosquitto)', () => {
  let broker: MosquittoBroker;
  let ca: Buffer;
  const sensorPasswords: Record<string, string> = {};
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await startMosquitto({
      tls: true,
      passwords: SERVICE_PASSWORDS,
      acl: aclWithSecondAggregator(fs.readFileSync(PRODUCTION_ACL, 'utf8')),
      configFile: (files) => {
        for (const id of ['s-001', 's-002']) sensorPasswords[id] = addSensor(id, files.passwordFile!, files.aclFile!);
        return adaptProductionConfig(fs.readFileSync(PRODUCTION_CONF, 'utf8'), files);
      },
    });
    ca = fs.readFileSync(broker.caFile!);
  });

  // Each test closes the clients it opened, so that no subscription (a $share group member above all) of one
  // test takes messages meant for the next.
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((c) => c.endAsync(true)));
  });

  afterAll(async () => {
    if (broker) {
      // Nothing a client published may appear in the broker's log: no payloads, denied or not.
      const log = broker.log();
      await broker.stop();
      expect(log).not.toContain(CANARY);
    }
  });

  /** Connects over TLS (trusting the test CA) unless `plain`; every client is closed after its test. */
  async function connect(username: string | undefined, password: string | undefined, extra: IClientOptions & { plain?: boolean } = {}): Promise<MqttClient> {
    const { plain, ...options } = extra;
    const url = plain ? broker.url : broker.tlsUrl!;
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...(plain ? {} : { ca }),
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...options,
    });
    clients.push(client);
    return client;
  }

  function collect(client: MqttClient): Received[] {
    const received: Received[] = [];
    client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString('utf8') }));
    return received;
  }

  /** Like connect() over TLS, but also returns the CONNACK; `onMessage` is attached before the CONNECT is sent. */
  async function connectWithConnack(
    url: string,
    options: IClientOptions & { onMessage?: (topic: string, payload: Buffer) => void },
  ): Promise<{ client: MqttClient; connack: IConnackPacket }> {
    const { onMessage, ...rest } = options;
    const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000, ca, ...rest });
    clients.push(client);
    if (onMessage) client.on('message', onMessage);
    const connack = await new Promise<IConnackPacket>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    return { client, connack };
  }

  async function connectError(url: string, options: IClientOptions): Promise<Error & { code?: number | string }> {
    try {
      const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
      await client.endAsync(true);
    } catch (err) {
      return err as Error & { code?: number | string };
    }
    throw new Error('the connection was accepted');
  }

  it('starts with the production config, with TLS and the plain listener', async () => {
    expect(broker.tlsPort).toBeGreaterThan(0);
    // Mosquitto logs "running" a moment after its listeners accept connections (which is when the helper resolves).
    await waitFor(() => /mosquitto version 2\.\d+\.\d+ running/.test(broker.log()), 'Mosquitto to log that it runs', 15_000);
  });

  it('refuses anonymous clients with "not authorized"', async () => {
    const v5 = await connectError(broker.tlsUrl!, { ca, protocolVersion: 5 });
    expect(v5.code).toBe(NOT_AUTHORIZED);
    const v311 = await connectError(broker.url, { protocolVersion: 4 });
    expect(v311.code).toBe(V311_NOT_AUTHORIZED);
  });

  it('refuses a wrong password and an unknown login', async () => {
    const wrong = await connectError(broker.tlsUrl!, { ca, protocolVersion: 5, username: 's-001', password: 'not-the-password' });
    expect(wrong.code).toBe(NOT_AUTHORIZED);
    const swapped = await connectError(broker.tlsUrl!, { ca, protocolVersion: 5, username: 's-001', password: sensorPasswords['s-002'] });
    expect(swapped.code).toBe(NOT_AUTHORIZED);
    const unknown = await connectError(broker.url, { protocolVersion: 5, username: 's-999', password: 'whatever' });
    expect(unknown.code).toBe(NOT_AUTHORIZED);
    // and a right password still works on both listeners
    await (await connect('s-001', sensorPasswords['s-001'])).endAsync();
    await (await connect('s-001', sensorPasswords['s-001'], { plain: true })).endAsync();
  });

  it('accepts TLS only from clients that trust the CA', async () => {
    const untrustedDefault = await connectError(broker.tlsUrl!, { protocolVersion: 5, username: 's-001', password: sensorPasswords['s-001'] });
    expect(untrustedDefault.message).toMatch(/certificate/i);

    const otherCaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-other-ca-'));
    try {
      const other = makeCertificates(otherCaDir);
      const wrongCa = await connectError(broker.tlsUrl!, {
        protocolVersion: 5,
        ca: fs.readFileSync(other.caFile),
        username: 's-001',
        password: sensorPasswords['s-001'],
      });
      expect(wrongCa.message).toMatch(/certificate/i);
    } finally {
      fs.rmSync(otherCaDir, { recursive: true, force: true });
    }

    const trusted = await connect('s-001', sensorPasswords['s-001']);
    expect(trusted.connected).toBe(true);
    await trusted.endAsync();
  });

  it('does not let a sensor publish as another sensor', async () => {
    const aggregator = await connect('aggregator', SERVICE_PASSWORDS.aggregator);
    const received = collect(aggregator);
    await aggregator.subscribeAsync([topics.shared('passant', topics.allSensorCounts()), topics.allSensorStatus()], { qos: 1 });

    const s1 = await connect('s-001', sensorPasswords['s-001']);
    // MQTT 5: Mosquitto answers the forbidden QoS 1 publish with PUBACK reason "not authorized"...
    const spoofed = await s1.publishAsync(topics.sensorCounts('s-002'), countsPayload('s-002', 1), { qos: 1 }).then(
      () => null,
      (err: Error & { code?: number }) => err,
    );
    expect(spoofed?.code).toBe(NOT_AUTHORIZED);
    for (const topic of [topics.sensorStatus('s-002'), topics.aggregatorStatus('agg-1'), 'passant/sensors/s-001/other', 'elsewhere']) {
      await expect(s1.publishAsync(topic, CANARY, { qos: 1 })).rejects.toMatchObject({ code: NOT_AUTHORIZED });
    }
    // ...and silently drops a QoS 0 one. Then a message on its own topic, published after all the others: once
    // it has arrived, anything forbidden would have arrived before it.
    await s1.publishAsync(topics.sensorCounts('s-002'), countsPayload('s-002', 2), { qos: 0 });
    await s1.publishAsync(topics.sensorCounts('s-001'), countsPayload('s-001', 3), { qos: 1 });
    await waitFor(() => received.some((m) => m.topic === topics.sensorCounts('s-001')), 'the aggregator to receive s-001 counts', 15_000);
    expect(received.map((m) => m.topic)).toEqual([topics.sensorCounts('s-001')]);
  });

  it('does not let a sensor read other sensors, with or without wildcards or $share', async () => {
    const s1 = await connect('s-001', sensorPasswords['s-001']);
    const s1Received = collect(s1);
    const granted = await s1.subscribeAsync(
      ['passant/#', '#', topics.sensorCounts('s-002'), topics.shared('spy', topics.allSensorCounts())],
      { qos: 1 },
    );
    // Mosquitto 2.0 grants the subscription and filters at delivery with the `read` rules; a broker that
    // refuses at subscribe time (reason 135) would be just as good.
    for (const g of granted) expect([0, 1, NOT_AUTHORIZED]).toContain(g.qos);

    const aggregator = await connect('aggregator', SERVICE_PASSWORDS.aggregator);
    const aggReceived = collect(aggregator);
    await aggregator.subscribeAsync(topics.allSensorCounts(), { qos: 1 });

    const s2 = await connect('s-002', sensorPasswords['s-002']);
    await s2.publishAsync(topics.sensorStatus('s-002'), JSON.stringify({ v: 1, state: 'online', role: 'sensor', id: 's-002' }), { qos: 1, retain: true });
    await s2.publishAsync(topics.sensorCounts('s-002'), countsPayload('s-002', 10), { qos: 1 });
    await waitFor(() => aggReceived.some((m) => m.topic === topics.sensorCounts('s-002')), 'the aggregator to receive s-002 counts', 15_000);
    // A message s-001 may read (its own delivery acknowledgements), published after everything else: once it has
    // arrived, anything of s-002's that the broker would have let through would have arrived before it.
    const ownTopic = topics.sensorStored('s-001');
    const marker = async (label: string) => {
      await aggregator.publishAsync(ownTopic, label, { qos: 1 });
      await waitFor(() => s1Received.some((m) => m.payload === label), `s-001 to receive its own ${label}`, 15_000);
    };
    await marker('marker-1');
    expect(s1Received.filter((m) => m.topic !== ownTopic)).toEqual([]);

    // A new subscription does not reveal the retained status of another sensor either: retained messages are sent
    // on SUBSCRIBE, before the marker published after it.
    await s1.subscribeAsync(topics.sensorStatus('s-002'), { qos: 1 });
    await marker('marker-2');
    expect(s1Received.filter((m) => m.topic !== ownTopic)).toEqual([]);
    expect(s1Received.length).toBeGreaterThan(0);
    // Clear the retained message for the other tests.
    await s2.publishAsync(topics.sensorStatus('s-002'), '', { qos: 1, retain: true });
  });

  it('delivers a sensor\'s last will on its own status topic, never on another sensor\'s', async () => {
    const aggregator = await connect('aggregator', SERVICE_PASSWORDS.aggregator);
    const received = collect(aggregator);
    await aggregator.subscribeAsync(topics.allSensorStatus(), { qos: 1 });
    const offline = (id: string) => JSON.stringify({ v: 1, state: 'offline', role: 'sensor', id, note: CANARY });

    try {
      // A will on another sensor's topic: Mosquitto 2.0.11 accepts the CONNECT and checks the will against the
      // ACL only when it would publish it, then drops it. (Refusing the CONNECT would be fine too.)
      const spoofer = mqtt.connect(broker.tlsUrl!, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        ca,
        username: 's-001',
        password: sensorPasswords['s-001'],
        will: { topic: topics.sensorStatus('s-002'), payload: Buffer.from(offline('s-002')), qos: 1, retain: true },
      });
      clients.push(spoofer);
      const outcome = await new Promise<string>((resolve) => {
        spoofer.once('connect', () => resolve('accepted'));
        spoofer.once('error', (err: Error & { code?: number }) => resolve(`refused ${err.code}`));
      });
      expect(['accepted', `refused ${NOT_AUTHORIZED}`]).toContain(outcome);
      spoofer.stream.destroy(); // an unclean drop: the broker would publish the will now
      // No wait needed: s1 below logs in as s-001 too, and the login is the client id, so by the time s1 is
      // connected the broker has ended the spoofer's connection (on its drop or by taking the client id over)
      // and handled its will. Anything it let through would arrive before s1's own will.
      const s1 = await connect('s-001', sensorPasswords['s-001'], {
        will: { topic: topics.sensorStatus('s-001'), payload: Buffer.from(offline('s-001')), qos: 1, retain: true },
      });
      s1.stream.destroy();
      await waitFor(() => received.some((m) => m.topic === topics.sensorStatus('s-001')), 'the last will of s-001', 15_000);
      expect(received).toEqual([{ topic: topics.sensorStatus('s-001'), payload: offline('s-001') }]);
    } finally {
      // Clear the retained will for the other tests.
      const cleaner = await connect('s-001', sensorPasswords['s-001']);
      await cleaner.publishAsync(topics.sensorStatus('s-001'), '', { qos: 1, retain: true });
      await cleaner.endAsync();
    }
  });

  it('does not let a sensor take over the aggregator\'s client id and session', async () => {
    const aggregator = await connect('aggregator', SERVICE_PASSWORDS.aggregator, { clientId: 'passant-aggregator-agg-1' });
    const received = collect(aggregator);
    let closed = false;
    aggregator.on('close', () => (closed = true));
    await aggregator.subscribeAsync(topics.allSensorCounts(), { qos: 1 });

    // Without use_username_as_clientid, Mosquitto would close the aggregator's connection here ("already
    // connected, closing old connection") and hand its session to the sensor.
    const intruder = await connect('s-001', sensorPasswords['s-001'], { clientId: 'passant-aggregator-agg-1' });
    await intruder.publishAsync(topics.sensorCounts('s-001'), countsPayload('s-001', 50), { qos: 1 });
    await waitFor(() => received.length > 0, 'the aggregator to receive the counts', 15_000);
    expect(closed).toBe(false);
    expect(aggregator.connected).toBe(true);
  });

  it('spreads sensor counts over aggregators in a $share group, each message to one of them', async () => {
    // two aggregator instances, each with its own login (the login is the client id)
    const a1 = await connect('aggregator', SERVICE_PASSWORDS.aggregator);
    const a2 = await connect('aggregator-2', SERVICE_PASSWORDS['aggregator-2']);
    const r1 = collect(a1);
    const r2 = collect(a2);
    const filter = topics.shared('passant-share-test', topics.allSensorCounts());
    await a1.subscribeAsync(filter, { qos: 1 });
    await a2.subscribeAsync(filter, { qos: 1 });

    const s1 = await connect('s-001', sensorPasswords['s-001']);
    const total = 20;
    for (let seq = 100; seq < 100 + total; seq++) await s1.publishAsync(topics.sensorCounts('s-001'), countsPayload('s-001', seq), { qos: 1 });
    await waitFor(() => r1.length + r2.length >= total, 'all shared messages', 15_000);
    // Markers after the 20 until each member has one: a member's messages arrive in order, so once it has a marker,
    // every copy of the 20 meant for it has arrived. Then no message went to both, or twice.
    const seqOf = (m: Received) => (JSON.parse(m.payload) as { seq: number }).seq;
    const isMarker = (m: Received) => seqOf(m) >= 100 + total;
    for (let seq = 100 + total; !(r1.some(isMarker) && r2.some(isMarker)); seq++) {
      if (seq > 100 + total + 50) throw new Error('the $share group never gave both members a marker');
      await s1.publishAsync(topics.sensorCounts('s-001'), countsPayload('s-001', seq), { qos: 1 });
      await waitFor(() => [...r1, ...r2].some((m) => seqOf(m) === seq), `marker ${seq}`, 15_000);
    }
    const seqs = [...r1, ...r2].filter((m) => !isMarker(m)).map(seqOf).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => 100 + i));
    expect(r1.length).toBeGreaterThan(0);
    expect(r2.length).toBeGreaterThan(0);
  });

  it('lets the aggregator write only its status, and the privacy officer only read', async () => {
    const audit = await connect('privacy-officer', SERVICE_PASSWORDS['privacy-officer']);
    const auditReceived: Received[] = [];
    // only live messages: retained ones from earlier tests do not matter here
    audit.on('message', (topic, payload, packet) => {
      if (!packet.retain) auditReceived.push({ topic, payload: payload.toString('utf8') });
    });
    await audit.subscribeAsync('passant/#', { qos: 1 });

    const aggregator = await connect('aggregator', SERVICE_PASSWORDS.aggregator);
    const status = JSON.stringify({ v: 1, state: 'online', role: 'aggregator', id: 'agg-1' });
    await aggregator.publishAsync(topics.aggregatorStatus('agg-1'), status, { qos: 1 });
    // The sensor pattern lines apply to every login; the ACL's deny line takes them away from `aggregator`.
    for (const topic of [topics.sensorCounts('aggregator'), topics.sensorStatus('aggregator'), topics.sensorCounts('s-001')]) {
      await expect(aggregator.publishAsync(topic, CANARY, { qos: 1 })).rejects.toMatchObject({ code: NOT_AUTHORIZED });
    }
    for (const topic of [topics.sensorCounts('privacy-officer'), topics.sensorCounts('s-001'), topics.aggregatorStatus('agg-1')]) {
      await expect(audit.publishAsync(topic, CANARY, { qos: 1 })).rejects.toMatchObject({ code: NOT_AUTHORIZED });
    }

    const s2 = await connect('s-002', sensorPasswords['s-002']);
    await s2.publishAsync(topics.sensorCounts('s-002'), countsPayload('s-002', 200), { qos: 1 });
    await waitFor(() => auditReceived.some((m) => m.topic === topics.sensorCounts('s-002')), 'the audit to read sensor counts', 15_000);
    expect(auditReceived.map((m) => m.topic)).toEqual([topics.aggregatorStatus('agg-1'), topics.sensorCounts('s-002')]);
  });

  it('advertises its packet size limit and never passes on a larger message', async () => {
    const aggregator = await connect('aggregator', SERVICE_PASSWORDS.aggregator);
    const received = collect(aggregator);
    await aggregator.subscribeAsync(topics.allSensorCounts(), { qos: 1 });

    const { client: s1, connack } = await connectWithConnack(broker.tlsUrl!, { username: 's-001', password: sensorPasswords['s-001'] });
    expect(connack.properties?.maximumPacketSize).toBe(32_768);
    const big = JSON.stringify({ note: CANARY, pad: 'x'.repeat(40_000) });
    // Mosquitto answers an oversize packet with DISCONNECT, reason 149 "packet too large", and closes.
    const disconnected = new Promise<number | undefined>((resolve) => s1.once('disconnect', (packet) => resolve(packet.reasonCode)));
    s1.publish(topics.sensorCounts('s-001'), big, { qos: 1 }, () => undefined);
    const reason = await Promise.race([disconnected, sleep(5_000).then(() => 'no DISCONNECT within 5 s')]);
    expect(reason).toBe(149);

    const s1again = await connect('s-001', sensorPasswords['s-001']);
    await s1again.publishAsync(topics.sensorCounts('s-001'), countsPayload('s-001', 301), { qos: 1 });
    await waitFor(() => received.some((m) => m.payload.includes('"seq":301')), 'the small message', 15_000);
    expect(received.map((m) => m.payload.length).every((n) => n < 32_768)).toBe(true);
  });

  it('leaves the aggregator to reject a payload that names another sensor than its topic', async () => {
    const stack = await startStack({
      mqttUrl: broker.tlsUrl!,
      mqtt: { username: 'aggregator', password: SERVICE_PASSWORDS.aggregator, caFile: broker.caFile!, shareGroup: 'passant', reconnectPeriodMs: 200 },
      simulatedSensors: false, // the test's own client publishes as s-001
      zones: [{ id: 'z1', name: 'Zone 1', sensors: ['s-001', 's-002'] }],
      overrides: { aggregator: { id: 'agg-broker-test' }, auth: { public: { metrics: true } } },
    });
    try {
      const windowStart = Math.floor(Date.now() / 1000 / 60) * 60 - 120;
      const counts = (sensorId: string, seq: number) => {
        const radio = { devices: 1, randomized: 1, frames: 2, rssiHistogram: [0, 0, 2, 0, 0, 0] };
        return JSON.stringify({ v: 1, sensorId, windowStart, windowSeconds: 60, seq, wifi: radio, ble: radio, rssiFloor: null });
      };
      const s1 = await connect('s-001', sensorPasswords['s-001']);
      // The broker lets s-001 write its own topic; only the aggregator can see that the payload claims s-002.
      await s1.publishAsync(topics.sensorCounts('s-001'), counts('s-002', 1), { qos: 1 });
      await s1.publishAsync(topics.sensorCounts('s-001'), counts('s-001', 2), { qos: 1 });

      const ingested = (text: string, labels: Record<string, string>) => metricValue(text, 'passant_ingest_messages_total', labels);
      const mismatch = { result: 'rejected', reason: 'sensor_mismatch' };
      let text = '';
      await waitFor(() => {
        void fetchMetrics(stack.baseUrl).then((t) => (text = t), () => undefined);
        return ingested(text, mismatch) >= 1 && ingested(text, { result: 'stored' }) >= 1;
      }, 'the aggregator to handle both messages', 10_000).catch((err: Error) => {
        throw new Error(`${err.message}; metrics:\n${text}`);
      });
      expect(ingested(text, mismatch)).toBe(1);
      expect(ingested(text, { result: 'stored' })).toBe(1);
    } finally {
      await stack.close();
    }
  });

  it('carries a real sensor agent\'s counts to the aggregator over TLS, each with its own login', async () => {
    const stack = await startStack({
      mqttUrl: broker.tlsUrl!,
      mqtt: { username: 'aggregator', password: SERVICE_PASSWORDS.aggregator, caFile: broker.caFile!, reconnectPeriodMs: 200 },
      sensorMqtt: (sensorId) => ({ username: sensorId, password: sensorPasswords[sensorId]!, caFile: broker.caFile! }),
      simulatedSensors: false, // one sensor of the zone runs: s-002
      backfillHours: 1,
      zones: [{ id: 'z1', name: 'Zone 1', sensors: ['s-001', 's-002'] }],
      overrides: { aggregator: { id: 'agg-tls-test' }, auth: { public: { metrics: true } } },
    });
    try {
      const agent = await stack.startSensor('s-002');
      expect(await agent.drain(20_000)).toBe(true);
      const sent = agent.stats().publisher.published;
      expect(sent).toBeGreaterThanOrEqual(60);
      let text = '';
      await waitFor(() => {
        void fetchMetrics(stack.baseUrl).then((t) => (text = t), () => undefined);
        return metricValue(text, 'passant_ingest_messages_total', { result: 'stored' }) >= sent;
      }, 'the aggregator to store every window the agent sent', 15_000);
      expect(metricValue(text, 'passant_ingest_messages_total', { result: 'stored' })).toBe(sent);
      expect(metricValue(text, 'passant_ingest_messages_total', { result: 'rejected' })).toBe(0);
    } finally {
      await stack.close();
    }
  });

  it('keeps far more than 1000 QoS 1 messages for an offline aggregator, across a broker restart', async () => {
    const clientId = `aggregator-queue-test-${process.pid}`;
    const session: IClientOptions = { clientId, clean: false, properties: { sessionExpiryInterval: 3600 } };
    const first = await connect('aggregator', SERVICE_PASSWORDS.aggregator, session);
    await first.subscribeAsync(topics.shared('passant-queue-test', topics.allSensorCounts()), { qos: 1 });
    await first.endAsync();

    const total = 3_000; // three times Mosquitto's default max_queued_messages (1000)
    const s1 = await connect('s-001', sensorPasswords['s-001']);
    for (let start = 0; start < total; start += 100) {
      const batch = [];
      for (let seq = start; seq < Math.min(total, start + 100); seq++) {
        batch.push(s1.publishAsync(topics.sensorCounts('s-001'), countsPayload('s-001', 10_000 + seq), { qos: 1 }));
      }
      await Promise.all(batch);
    }
    await s1.endAsync();

    // persistence true: the queued messages survive the restart
    await broker.restart();

    const seen = new Set<number>();
    const { client: again } = await connectWithConnack(broker.tlsUrl!, {
      username: 'aggregator',
      password: SERVICE_PASSWORDS.aggregator,
      ...session,
      // attached before CONNECT is sent: the queued messages follow the CONNACK at once
      onMessage: (_topic, payload) => seen.add((JSON.parse(payload.toString('utf8')) as { seq: number }).seq),
    });
    expect(again.connected).toBe(true);
    await waitFor(() => seen.size >= total, `${total} queued messages`, 30_000);
    expect(seen.size).toBe(total);
  });
});
