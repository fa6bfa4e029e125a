/**
 * Fuzzing the ingest path end to end: a real aggregator subscribed to a real in-process aedes broker, and over
 * 10,000 generated bad messages published over MQTT (random bytes, broken JSON, wrong types, negative and huge
 * counts, devices above frames and the other counts no honest sensor sends (an address as seq), seq that does not
 * follow the sensor's last window, misaligned, far-future and far-past windows, unknown fields such as `mac`, `__proto__`
 * keys, 1 MB payloads, topics with bad ids, payloads naming another sensor, bad status messages).
 *
 * Checked: the process keeps running and answers; nothing is stored (the store's tally of stored windows
 * unchanged); every message is counted as rejected under the reason the generator expects (the sums match
 * exactly); the debug log holds no payload content (marker strings and a MAC address in the payloads never appear in it); and good messages
 * flow afterwards. A seeded generator makes a failure reproducible.
 */
import { MAX_COUNT, RSSI_BUCKETS, topics } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REJECT_REASONS } from '../../src/ingest/validate-counts.ts';
import type { RejectReason } from '../../src/ingest/validate-counts.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';
import { rng } from '../helpers/rng.ts';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';

const SEED = 0x9e3779b9;
const BAD_COUNTS = 10_000;
const BAD_STATUS = 300;
/** In every payload that can carry text; must never reach the log. */
const MARKER = 'FUZZMARKER';
const MAC = 'de:ad:be:ef:00:42';

interface Case {
  topic: string;
  payload: Buffer;
  /** The reason the aggregator must give. */
  reason: RejectReason;
}

/** A sensor whose last active day has long passed: everything it sends is refused as sensor_expired. */
const EXPIRED_SENSOR = 'expiredfz';

/** The window stored for sensor `seqfz` before the fuzz: the seq rules are judged against it. */
const SEQ_SENSOR = 'seqfz';
const SEQ_FIRST = 1000;

function seqFirstWindow(nowSeconds: number): number {
  return Math.floor(nowSeconds / 60) * 60 - 3600;
}

function generate(count: number, nowSeconds: number): Case[] {
  const random = rng(SEED);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const minute = Math.floor(nowSeconds / 60) * 60 - 600;
  const marker = (i: number) => `${MARKER}-${i}`;
  /** A valid message of sensor `fz<n>` (in no zone), as a plain object to break. */
  const valid = (i: number): Record<string, any> => JSON.parse(JSON.stringify(countsMessage(`fz${i % 50}`, minute - 60 * (i % 30), 7, 3)));
  const counts = (sensorId: string) => topics.sensorCounts(sensorId);
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));

  const generators: ((i: number) => Case)[] = [
    // random bytes: 0xff can never start UTF-8, so this is never valid JSON
    (i) => {
      const bytes = Buffer.alloc(1 + int(2048));
      for (let j = 0; j < bytes.length; j++) bytes[j] = int(256);
      bytes[0] = 0xff;
      Buffer.from(marker(i)).copy(bytes, Math.min(1, bytes.length - 1));
      return { topic: counts(`fz${i % 50}`), payload: bytes, reason: 'invalid_json' };
    },
    // broken JSON text
    (i) => {
      const text = JSON.stringify({ ...valid(i), note: marker(i) });
      const broken = pick([
        text.slice(0, int(text.length - 1) + 1),
        text.replace('{', '['),
        `${text},`,
        text.replace(/"/g, "'"),
        `{"v":1,"sensorId":"${marker(i)}",}`,
        '',
        `NaN${marker(i)}`,
      ]);
      return { topic: counts(`fz${i % 50}`), payload: Buffer.from(broken), reason: 'invalid_json' };
    },
    // wrong types
    (i) => {
      const m = valid(i);
      const mutate = pick([
        () => (m.v = '1'),
        () => (m.v = 2),
        () => (m.windowStart = `${m.windowStart}`),
        () => (m.wifi.devices = `${marker(i)}`),
        () => (m.ble = [1, 2, 3]),
        () => (m.rssiFloor = marker(i)),
        () => (m.seq = 1.5),
        () => (m.wifi.rssiHistogram = new Array(RSSI_BUCKETS + 1).fill(0)),
        () => (m.sensorId = `${marker(i)}-UPPER`),
        () => delete m.wifi,
        () => (m.windowSeconds = 61),
      ]);
      mutate();
      return { topic: counts(`fz${i % 50}`), payload: json(m), reason: 'invalid_schema' };
    },
    // not an object at all
    (i) => ({ topic: counts(`fz${i % 50}`), payload: json(pick([null, [], 42, marker(i), true, [marker(i)]])), reason: 'invalid_schema' }),
    // negative, huge, fractional counts; devices above frames; randomized above devices
    (i) => {
      const m = valid(i);
      const radio = pick(['wifi', 'ble']);
      pick([
        () => (m[radio].devices = -1 - int(1000)),
        () => (m[radio].frames = MAX_COUNT + 1 + int(1000)),
        () => (m[radio].devices = 1e300),
        () => (m[radio].devices = 2.5),
        () => (m.windowStart = -60),
      ])();
      m.note = marker(i);
      return { topic: counts(`fz${i % 50}`), payload: json(m), reason: 'invalid_schema' };
    },
    // counts that no honest sensor sends (plausibility.ts): each under its own reason
    (i) => {
      const m = valid(i);
      const radio = pick(['wifi', 'ble']);
      const reason = pick<RejectReason>([
        'devices_above_frames',
        'randomized_above_devices',
        'histogram_above_frames',
        'frames_implausible',
        'devices_implausible',
        'seq_implausible',
        'window_too_old',
      ]);
      const address = 0xa4c3f0123456 + i; // an address as a number (180,999,624,652,886 and up)
      if (reason === 'devices_above_frames') {
        m[radio].devices = 50;
        m[radio].randomized = 0;
        m[radio].frames = 10;
      } else if (reason === 'randomized_above_devices') m[radio].randomized = m[radio].devices + 1 + int(5);
      else if (reason === 'histogram_above_frames') m[radio].rssiHistogram[5] = m[radio].frames + 1 + int(100);
      else if (reason === 'frames_implausible') m[radio].frames = 2_000_000 + int(MAX_COUNT - 2_000_000);
      else if (reason === 'devices_implausible') {
        m[radio].devices = 100_001 + int(50_000);
        m[radio].randomized = 0;
        m[radio].frames = 400_000;
      } else if (reason === 'seq_implausible') m.seq = address;
      else m.windowStart = pick([0, 978_307_200, Math.floor(nowSeconds / 86_400) * 86_400 - 40 * 86_400]); // 1970, 2001, 40 days ago
      return { topic: counts(`fz${i % 50}`), payload: json(m), reason };
    },
    // seq that does not follow the sensor's stored window (SEQ_FIRST at seqFirstWindow)
    (i) => {
      const m = valid(i);
      m.sensorId = SEQ_SENSOR;
      const first = seqFirstWindow(nowSeconds);
      const reused = int(2) === 0;
      if (reused) {
        m.windowStart = first + 60 * (int(60) - 30 || 1);
        m.seq = SEQ_FIRST;
      } else {
        m.windowStart = first + 60 * (1 + int(30));
        m.seq = int(SEQ_FIRST);
      }
      return { topic: counts(SEQ_SENSOR), payload: json(m), reason: reused ? 'seq_reused' : 'seq_not_following' };
    },
    // misaligned windows
    (i) => {
      const m = valid(i);
      m.windowStart += 1 + int(59);
      return { topic: counts(`fz${i % 50}`), payload: json(m), reason: 'invalid_schema' };
    },
    // unknown fields: a MAC address, a hash, anything
    (i) => {
      const m = valid(i);
      const where = pick([m, m.wifi, m.ble]);
      where[pick(['mac', 'MAC', 'address', 'hash', 'rssi', marker(i)])] = pick([MAC, marker(i), MAC.replace(/:/g, '').toUpperCase(), [MAC]]);
      return { topic: counts(`fz${i % 50}`), payload: json(m), reason: 'invalid_schema' };
    },
    // __proto__ and constructor keys, as JSON text (JSON.parse makes them own properties)
    (i) => {
      const text = JSON.stringify(valid(i));
      const inject = pick([
        `"__proto__":{"mac":"${MAC}","polluted":"${marker(i)}"},`,
        `"constructor":{"prototype":{"polluted":"${marker(i)}"}},`,
        `"__proto__":null,`,
      ]);
      const payload = pick([`{${inject}${text.slice(1)}`, text.replace('"wifi":{', `"wifi":{${inject}`)]);
      return { topic: counts(`fz${i % 50}`), payload: Buffer.from(payload), reason: 'invalid_schema' };
    },
    // far-future windows (valid otherwise)
    (i) => {
      const m = valid(i);
      m.windowStart = Math.floor(nowSeconds / 60) * 60 + 3600 + 60 * int(100_000);
      return { topic: counts(m.sensorId), payload: json(m), reason: 'future_window' };
    },
    // a window length the schema allows but the aggregator does not take
    (i) => {
      const m = valid(i);
      m.windowSeconds = pick([10, 30, 120, 300]);
      m.windowStart = Math.floor(m.windowStart / 600) * 600;
      return { topic: counts(m.sensorId), payload: json(m), reason: 'unsupported_window' };
    },
    // the payload names another sensor than the topic
    (i) => ({ topic: counts(`other${i % 7}`), payload: json(valid(i)), reason: 'sensor_mismatch' }),
    // topics with bad ids (inside the subscription filter)
    (i) => ({
      // (An empty id, passant/sensors//counts, is tested on its own below: aedes drops the subscriber on it.)
      topic: `passant/sensors/${pick(['UPPER', '-dash', 'a'.repeat(65), `${MARKER}${i}`, 'sp ace', 'ü'])}/counts`,
      payload: json(valid(i)),
      reason: 'invalid_topic',
    }),
  ];

  const cases: Case[] = [];
  for (let i = 0; i < count; i++) cases.push(pick(generators)(i));
  // A few 1 MB payloads (mostly a marker, repeated).
  for (let i = 0; i < 8; i++) {
    cases.push({ topic: counts(`fz${i}`), payload: Buffer.from(`{"v":1,"pad":"${`${marker(i)}-`.repeat(90_000)}"}`.slice(0, 1_048_576)), reason: 'payload_too_large' });
  }
  // A sensor past its last active day (transparency.sensors[].activeUntil): valid messages, all refused.
  for (let i = 0; i < 20; i++) {
    const m = { ...valid(i), sensorId: EXPIRED_SENSOR };
    cases.push({ topic: counts(EXPIRED_SENSOR), payload: json(m), reason: 'sensor_expired' });
  }
  return cases;
}

let broker: TestBroker;
let publisher: MqttClient;
let agg: TestAggregator;

/** Windows stored, over every sensor, as the store tallies them (duplicates not counted). */
async function storedRows(): Promise<number> {
  return (await agg.store.sensorStats()).reduce((n, s) => n + s.messages, 0);
}

function rejected(): Record<RejectReason, number> {
  return Object.fromEntries(REJECT_REASONS.map((r) => [r, agg.metrics.ingestMessages.get({ result: 'rejected', reason: r })])) as Record<RejectReason, number>;
}

async function publishAll(messages: { topic: string; payload: Buffer }[]): Promise<void> {
  const BATCH = 250;
  for (let i = 0; i < messages.length; i += BATCH) {
    await Promise.all(messages.slice(i, i + BATCH).map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
  }
}

beforeAll(async () => {
  broker = await startAedes();
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'fuzz-publisher', reconnectPeriod: 0 });
  agg = await startTestAggregator(broker.url, {
    aggregator: { id: 'fuzz' },
    zones: [{ id: 'front', name: 'Front', sensors: ['good1', 'good2'] }],
    transparency: { sensors: [{ id: EXPIRED_SENSOR, lat: 52.37, lon: 4.89, activeUntil: '2020-01-31' }] },
    // the production retention: windows of 40 days ago are too old (the test helper keeps ten years)
    retention: { minuteDays: 31 },
    log: { level: 'debug' },
  });
  await agg.mqttReady;
  // Good messages first, so the store has rows to keep unchanged, and the seq rules a window to go by.
  const first = countsMessage('good1', Math.floor(Date.now() / 60_000) * 60 - 3600, 9);
  await publisher.publishAsync(topics.sensorCounts('good1'), JSON.stringify(first), { qos: 1 });
  const seqFirst = { ...countsMessage(SEQ_SENSOR, seqFirstWindow(Date.now() / 1000), 4), seq: SEQ_FIRST };
  await publisher.publishAsync(topics.sensorCounts(SEQ_SENSOR), JSON.stringify(seqFirst), { qos: 1 });
  await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === 2, 'the first good messages');
});

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await publisher?.endAsync(true);
  await broker?.close();
});

describe('ingest fuzz', () => {
  it(`${BAD_COUNTS} bad counts messages and ${BAD_STATUS} bad status messages: all refused, counted by reason, none logged`, async () => {
    const started = Date.now();
    const cases = generate(BAD_COUNTS, Date.now() / 1000);
    const expected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
    for (const c of cases) expected[c.reason]++;
    // every reason is exercised
    for (const reason of REJECT_REASONS) expect(expected[reason], reason).toBeGreaterThan(0);
    const rowsBefore = await storedRows();
    const before = rejected();

    const random = rng(SEED + 1);
    const status = Array.from({ length: BAD_STATUS }, (_, i) => ({
      topic: topics.sensorStatus(`fz${i % 20}`),
      payload: Buffer.from(
        [
          `{"v":1,"state":"online","role":"sensor","id":"fz${i % 20}","mac":"${MAC}"}`,
          `{"v":1,"state":"${MARKER}","role":"sensor","id":"fz${i % 20}"}`,
          `{"v":1,"state":"online","role":"sensor","id":"other"}`,
          `not json ${MARKER}`,
          `{"v":1,"state":"online","role":"aggregator","id":"fz${i % 20}","version":"${MARKER}"}`,
        ][Math.floor(random() * 5)]!,
      ),
    }));
    // Topics outside the aggregator's subscription never reach it.
    const elsewhere = [`passant/other/${MARKER}`, `passant/sensors/fz1/counts/extra`, `passant/sensors/fz1/${MARKER}`].map((topic) => ({
      topic,
      payload: Buffer.from(MARKER),
    }));

    await publishAll([...cases, ...status, ...elsewhere]);
    const total = (r: Record<RejectReason, number>) => REJECT_REASONS.reduce((sum, reason) => sum + r[reason] - before[reason], 0);
    await waitFor(() => total(rejected()) >= cases.length, `all ${cases.length} counts messages handled`, 25_000);
    const statusRejected = () => REJECT_REASONS.reduce((sum, reason) => sum + agg.metrics.statusMessages.get({ result: 'rejected', reason }), 0);
    await waitFor(() => statusRejected() >= BAD_STATUS, 'all status messages handled', 10_000);

    const after = rejected();
    expect(Object.fromEntries(REJECT_REASONS.map((r) => [r, after[r] - before[r]]))).toEqual(expected);
    expect(total(after)).toBe(cases.length);
    expect(statusRejected()).toBe(BAD_STATUS);
    expect(agg.metrics.statusMessages.get({ result: 'accepted', reason: 'none' })).toBe(0);
    expect(agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' })).toBe(2);
    expect(await storedRows()).toBe(rowsBefore);

    // /metrics tells the same, reason by reason
    const { token } = agg.tokens.create({ role: 'admin', name: 'fuzz: metrics' });
    const text = await (await fetch(`${agg.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    for (const reason of REJECT_REASONS) {
      expect(text).toContain(`passant_ingest_messages_total{result="rejected",reason="${reason}"} ${after[reason]}`);
    }
    expect(text).not.toContain(MARKER);

    // the log (debug level) names reasons and sizes, never content
    const log = agg.logText();
    expect(log).toMatch(/"reason":"invalid_schema"/);
    expect(log).toMatch(/"bytes":\d+/);
    for (const needle of [MARKER, MAC, MAC.replace(/:/g, ''), MAC.replace(/:/g, '').toUpperCase(), 'polluted', '__proto__']) {
      expect(log.includes(needle), needle).toBe(false);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 40_000);

  it('an empty sensor id in the topic: the in-process broker (aedes 1.x) drops the subscriber, the aggregator reconnects and goes on', async () => {
    // aedes delivers passant/sensors//counts to the + subscription but its persistence does not queue it for the
    // persistent session, so the PUBACK is "no such packet" and aedes closes the connection. Mosquitto does not
    // do this; the point here is that the aggregator recovers by itself and loses nothing that was stored.
    const connects = agg.metrics.mqttConnects.get();
    const storedBefore = agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' });
    await publisher.publishAsync('passant/sensors//counts', Buffer.from(`{"mac":"${MAC}","note":"${MARKER}"}`), { qos: 1 });
    await waitFor(() => agg.metrics.mqttConnects.get() > connects || agg.metrics.ingestMessages.get({ result: 'rejected', reason: 'invalid_topic' }) > 0, 'a reconnect or a rejection');
    await waitFor(() => agg.ingest.connected, 'the aggregator connected again');
    const good = countsMessage('good2', Math.floor(Date.now() / 60_000) * 60 - 2400, 5);
    await publisher.publishAsync(topics.sensorCounts('good2'), JSON.stringify(good), { qos: 1 });
    await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === storedBefore + 1, 'the next good message stored');
    expect(agg.logText()).not.toContain(MARKER);
  });

  it('the aggregator still answers, and good messages still flow', async () => {
    const health = await fetch(`${agg.url}/healthz`);
    expect(health.status).toBe(200);
    await health.text();
    const rowsBefore = await storedRows();
    const storedBefore = agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' });
    const minute = Math.floor(Date.now() / 60_000) * 60 - 1800;
    const good = [countsMessage('good1', minute, 4), countsMessage('good2', minute, 5), countsMessage('good1', minute + 60, 6)];
    await publishAll(good.map((m) => ({ topic: topics.sensorCounts(m.sensorId), payload: Buffer.from(JSON.stringify(m)) })));
    await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === storedBefore + good.length, 'good messages stored');
    expect(await storedRows()).toBe(rowsBefore + good.length);
  });
});
