/** The HTTP API on a real port: real broker (aedes), real SQLite, real express, fetch. */
import fs from 'node:fs';
import path from 'node:path';
import { topics } from '@passant/shared';
import type { CountsMessage, SeriesResponse } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { makeDataDir, removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';
import { readEvents } from '../helpers/events.ts';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage, minuteAgo } from '../helpers/messages.ts';
import { storeWith } from '../helpers/store-double.ts';

/** A day-aligned time in the past (2023-11-14T00:00:00Z); windows there are settled. */
const D = 1_699_920_000;
const ZONES = [
  { id: 'front', name: 'Shop front', sensors: ['s1', 's2'] },
  { id: 'back', name: 'Back street', sensors: ['s3'] },
  { id: 'quiet', name: 'Quiet corner', sensors: [] },
];

let broker: TestBroker;
let publisher: MqttClient;
let agg: TestAggregator;
let dashboardDir: string;

async function publishAll(messages: CountsMessage[]): Promise<void> {
  for (const m of messages) await publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
}

async function getJson(pathAndQuery: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${agg.url}${pathAndQuery}`);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text.length > 0 && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

beforeAll(async () => {
  broker = await startAedes();
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'api-publisher', reconnectPeriod: 0 });
  dashboardDir = makeDataDir();
  fs.writeFileSync(path.join(dashboardDir, 'index.html'), '<!doctype html><title>Passant test dashboard</title>');
  fs.writeFileSync(path.join(dashboardDir, 'app.js'), 'console.log(1);');
  // These tests read the API without a token: every zone is public (auth.test.ts covers tokens and roles).
  agg = await startTestAggregator(broker.url, { k: 5, zones: ZONES, http: { dashboardDir }, auth: { public: { zones: 'all' } } });
  await agg.mqttReady;
  // minute 0: front 5+2=7 released (s1 alone hears k), back 4 suppressed
  // minute 1: front 2+1=3 suppressed, back 5 released
  // minute 2: front 0+5=5 released (exactly k); s9 is in no zone
  // minute 61 (next hour): front 1+1 suppressed
  await publishAll([
    countsMessage('s1', D, 5, 6),
    countsMessage('s2', D, 2, 0),
    countsMessage('s3', D, 4, 9),
    countsMessage('s1', D + 60, 2),
    countsMessage('s2', D + 60, 1),
    countsMessage('s3', D + 60, 5),
    countsMessage('s1', D + 120, 0),
    countsMessage('s2', D + 120, 5),
    countsMessage('s9', D + 120, 100, 100),
    countsMessage('s1', D + 3660, 1),
    countsMessage('s2', D + 3660, 1),
  ]);
  await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === 11, 'all messages stored');
});

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  removeDir(dashboardDir);
  await publisher?.endAsync(true);
  await broker?.close();
});

describe('GET /api/v1/zones', () => {
  it('lists the zones: id, name, coordinates and site (null when not configured), no sensors', async () => {
    const { status, body, headers } = await getJson('/api/v1/zones');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/application\/json/);
    expect(body).toEqual(ZONES.map(({ id, name }) => ({ id, name, coordinates: null, site: null })));
  });
});

describe('GET /api/v1/zones/:id/series', () => {
  it('minute buckets: zone sums of the published devices, suppressed below k', async () => {
    const { status, body } = await getJson(`/api/v1/zones/front/series?from=${D}&to=${D + 240}&step=60`);
    expect(status).toBe(200);
    expect(body as SeriesResponse).toMatchObject({ t: [D, D + 60, D + 120, D + 180], devices: [7, null, 5, null], suppressed: [0, 1, 0, 0] });
    const back = await getJson(`/api/v1/zones/back/series?from=${D}&to=${D + 180}`);
    expect(back.body).toMatchObject({ t: [D, D + 60, D + 120], devices: [null, 5, null], suppressed: [1, 0, 0] });
  });

  it('ble is its own series', async () => {
    const { body } = await getJson(`/api/v1/zones/front/series?from=${D}&to=${D + 120}&radio=ble`);
    expect(body).toMatchObject({ t: [D, D + 60], devices: [6, null], suppressed: [0, 1] });
  });

  it('hour and day buckets sum released cells and count suppressed ones', async () => {
    const hours = await getJson(`/api/v1/zones/front/series?from=${D}&to=${D + 7200}&step=3600`);
    expect(hours.body).toMatchObject({ t: [D, D + 3600], devices: [12, null], suppressed: [1, 1] });
    const days = await getJson(`/api/v1/zones/front/series?from=${D}&to=${D + 86400}&step=86400`);
    expect(days.body).toMatchObject({ t: [D], devices: [12], suppressed: [2] });
  });

  it('aligns from and to down to the step', async () => {
    const { body } = await getJson(`/api/v1/zones/front/series?from=${D + 59}&to=${D + 179}`);
    expect(body.t).toEqual([D, D + 60]);
    const hours = await getJson(`/api/v1/zones/front/series?from=${D + 1800}&to=${D + 7199}&step=3600`);
    expect(hours.body.t).toEqual([D]);
  });

  it('defaults: the last 24 hours of minutes before now, wifi', async () => {
    const { status, body } = await getJson('/api/v1/zones/front/series');
    expect(status).toBe(200);
    expect(body.t).toHaveLength(1440);
    const now = Math.floor(Date.now() / 1000);
    expect(body.t[1439]).toBeLessThanOrEqual(now - 60);
    expect(body.t[1439]).toBeGreaterThanOrEqual(now - 180);
  });

  it('a zone without sensors answers nulls', async () => {
    expect((await getJson(`/api/v1/zones/quiet/series?from=${D}&to=${D + 120}`)).body).toMatchObject({ t: [D, D + 60], devices: [null, null], suppressed: [0, 0] });
  });

  it.each([
    ['from=abc', 'invalid_parameter', /from must be a time in whole Unix seconds/],
    ['to=-5', 'invalid_parameter', /to must be/],
    ['from=1.5', 'invalid_parameter', /from must be/],
    [`from=${D + 60}&to=${D}`, 'invalid_range', /from \(\d+\) is after to/],
    ['step=61', 'invalid_step', /step must be one of 60, 3600, 86400/],
    ['step=', 'invalid_step', /step must be one of/],
    ['radio=lora', 'invalid_radio', /radio must be one of wifi, ble/],
    [`from=${D}&to=${D + 86400 * 35}&step=60`, 'too_many_buckets', /at most 50000/],
    [`from=${D - 86400 * 500}&to=${D}&step=86400`, 'range_too_long', /at most 400 days/],
    ['stp=3600', 'unknown_parameter', /unknown query parameter "stp"/],
    ['from=1&from=2', 'invalid_parameter', /from must be given once/],
  ])('400 for %s', async (query, code, message) => {
    const { status, body } = await getJson(`/api/v1/zones/front/series?${query}`);
    expect(status).toBe(400);
    expect(body.code).toBe(code);
    expect(body.detail).toMatch(message);
    expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'status', 'title', 'type']);
  });

  it('404 for an unknown zone, and for an unknown API path', async () => {
    const zone = await getJson('/api/v1/zones/nowhere/series');
    expect(zone.status).toBe(404);
    expect(zone.body).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, code: 'zone_not_found', detail: expect.stringMatching(/no zone "nowhere"/) });
    const other = await getJson('/api/v1/nothing');
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('not_found');
    const outside = await getJson('/api/v2/zones');
    expect(outside.status).toBe(404);
    expect(outside.body.code).toBe('not_found');
  });

  it('exact per-sensor counts never appear: only zone cells come out', async () => {
    // s9 (100 devices, no zone) and single-sensor values must not be readable from any zone's output
    for (const zone of ZONES) {
      for (const step of [60, 3600, 86400]) {
        const { body } = await getJson(`/api/v1/zones/${zone.id}/series?from=${D}&to=${D + 86400}&step=${step}`);
        expect(body.devices).not.toContain(100);
        expect(body.devices.filter((d: number | null) => d !== null && d < 5)).toEqual([]);
      }
    }
  });
});

describe('GET /healthz, /metrics, security headers, dashboard', () => {
  it('healthz is 200 while the store answers and MQTT is up', async () => {
    const { status, body } = await getJson('/healthz');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', mqtt: 'connected', store: 'ok' });
  });

  it('metrics: Prometheus text with ingest results, MQTT state, store latency and HTTP requests; for admin and privacy tokens', async () => {
    const anonymous = await fetch(`${agg.url}/metrics`);
    expect(anonymous.status).toBe(401);
    await anonymous.arrayBuffer();
    const viewer = agg.tokens.create({ role: 'viewer', zones: ['front'] }).token;
    const forViewer = await fetch(`${agg.url}/metrics`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(forViewer.status).toBe(403);
    await forViewer.arrayBuffer();
    const privacy = agg.tokens.create({ role: 'privacy' }).token;
    const res = await fetch(`${agg.url}/metrics`, { headers: { authorization: `Bearer ${privacy}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE passant_ingest_messages_total counter');
    expect(text).toContain('passant_ingest_messages_total{result="stored",reason="none"} 11');
    expect(text).toContain('passant_mqtt_connected 1');
    expect(text).toContain('# TYPE passant_store_write_seconds histogram');
    expect(text).toMatch(/passant_store_write_seconds_count \d+/);
    expect(text).toMatch(/passant_http_requests_total\{route="\/api\/v1\/zones",status="200"\} \d+/);
    expect(text).toMatch(/passant_http_requests_total\{route="\/api\/v1\/zones\/:id\/series",status="400"\} \d+/);
    // every sample line is `name{labels} value`
    for (const line of text.trim().split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-z_][a-z0-9_]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.eInfNa]+$/);
    }
  });

  it('sets security headers on API and static responses', async () => {
    for (const p of ['/api/v1/zones', '/', '/api/v1/zones/nowhere/series']) {
      const res = await fetch(`${agg.url}${p}`);
      await res.arrayBuffer();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('serves the built dashboard: / is index.html, assets by name, 404 JSON otherwise', async () => {
    const index = await fetch(`${agg.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await index.text()).toContain('Passant test dashboard');
    const js = await fetch(`${agg.url}/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    await js.text();
    const missing = await getJson('/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    const traversal = await fetch(`${agg.url}/..%2f..%2fetc%2fpasswd`);
    expect(traversal.status).toBeGreaterThanOrEqual(400);
    expect(await traversal.text()).not.toContain('root:');
  });
});

describe('GET /api/v1/events (Server-Sent Events)', () => {
  it('emits a zone-minute once every sensor of the zone reported it, released through k', async () => {
    const stream = await readEvents(`${agg.url}/api/v1/events?zone=front`, () => false);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const { events } = stream;
    try {
      await waitFor(() => agg.metrics.eventClients.get() === 1, 'event client registered');
      const t = minuteAgo(1);
      await publishAll([countsMessage('s1', t, 5, 1), countsMessage('s3', t, 9)]);
      await waitFor(() => agg.health.get('s3')?.countsMessages === 3, 's3 message handled');
      await agg.live.idle();
      // s1 alone must not be released: the next release would reveal s2 by difference; 'back' is filtered out.
      // The absence is proven by a later fact on the same stream: a complete minute of 'front' published after
      // them (the minute before t) is emitted, and anything emitted for t or for 'back' would have come first.
      const marker = t - 60;
      const markerEvents = [
        { zoneId: 'front', radio: 'wifi', t: marker, devices: 8, suppressed: 0 },
        { zoneId: 'front', radio: 'ble', t: marker, devices: null, suppressed: 1 },
      ];
      await publishAll([countsMessage('s1', marker, 5, 3), countsMessage('s2', marker, 3, 3)]);
      await waitFor(() => events.length >= 2, 'the marker minute (wifi and ble)');
      expect(events).toEqual(markerEvents);
      await publishAll([countsMessage('s2', t, 2, 1)]);
      await waitFor(() => events.length === 4, 'two events (wifi and ble) for t');
      expect(events).toEqual([
        ...markerEvents,
        { zoneId: 'front', radio: 'wifi', t, devices: 7, suppressed: 0 },
        { zoneId: 'front', radio: 'ble', t, devices: null, suppressed: 1 },
      ]);
      // the same cell in the series API agrees
      const { body } = await getJson(`/api/v1/zones/front/series?from=${t}&to=${t + 60}`);
      expect(body).toMatchObject({ t: [t], devices: [7], suppressed: [0] });
    } finally {
      await stream.stop();
    }
    await waitFor(() => agg.metrics.eventClients.get() === 0, 'event client gone');
  });

  it('400 for an unknown parameter, 404 for an unknown zone', async () => {
    expect((await getJson('/api/v1/events?zones=front')).status).toBe(400);
    expect((await getJson('/api/v1/events?zone=nowhere')).status).toBe(404);
  });
});

describe('errors and unavailability', () => {
  it('a failing store gives 500 with a JSON error, never a stack; healthz says 503', async () => {
    // Every read fails as a corrupt SQLite file would, with a path in the message that must not leak.
    const corrupt = async () => {
      throw new Error('SQLITE_CORRUPT at /secret/path/passant.db');
    };
    const broken = storeWith(new MemoryStore(), {
      put: corrupt,
      cells: corrupt,
      rollups: corrupt,
      closedHours: corrupt,
      sensorWindows: corrupt,
      unsettled: corrupt,
      ping: async () => false,
    });
    const other = await startTestAggregator(
      broker.url,
      { aggregator: { id: 'broken-store' }, zones: ZONES, auth: { public: { zones: 'all' } } },
      { store: broken },
    );
    try {
      const res = await fetch(`${other.url}/api/v1/zones/front/series`);
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500, code: 'internal', detail: 'internal error; see the aggregator log' });
      expect(text).not.toMatch(/SQLITE|secret|at .*\.ts/);
      const health = await fetch(`${other.url}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'unavailable', store: 'failing' });
    } finally {
      await other.close();
      removeDir(other.dataDir);
    }
  });

  it("store.kind 'influx' uses the InfluxDB store; with no server there, healthz says the store is failing", async () => {
    const { freePort } = await import('@passant/test-helpers/tools');
    const { InfluxStore } = await import('../../src/store/influx-store.ts');
    const other = await startTestAggregator(broker.url, {
      aggregator: { id: 'influx-kind' },
      store: { kind: 'influx' },
      influx: { url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 500 },
    });
    try {
      expect(other.store).toBeInstanceOf(InfluxStore);
      await other.mqttReady;
      const health = await fetch(`${other.url}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ mqtt: 'connected', store: 'failing' });
      expect(fs.existsSync(path.join(other.dataDir, 'passant.db'))).toBe(false);
    } finally {
      await other.close();
      removeDir(other.dataDir);
    }
  });

  it('without a built dashboard, / says to run npm run build', async () => {
    const other = await startTestAggregator(broker.url, { aggregator: { id: 'no-dashboard' } });
    try {
      const res = await fetch(`${other.url}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/npm run build/);
    } finally {
      await other.close();
      removeDir(other.dataDir);
    }
  });

  it('healthz is 503 when the broker is gone, and 200 again when it is back', async () => {
    const own = await startAedes();
    const other = await startTestAggregator(own.url, { aggregator: { id: 'lonely' } });
    let restarted: TestBroker | undefined;
    try {
      await other.mqttReady;
      expect((await fetch(`${other.url}/healthz`)).status).toBe(200);
      const port = own.port;
      await own.close();
      await waitFor(async () => (await fetch(`${other.url}/healthz`)).status === 503, 'healthz 503');
      const body = await (await fetch(`${other.url}/healthz`)).json();
      expect(body).toMatchObject({ status: 'unavailable', mqtt: 'disconnected', store: 'ok' });
      expect(await other.metrics.render()).toContain('passant_mqtt_connected 0');
      restarted = await startAedes(port);
      await waitFor(async () => (await fetch(`${other.url}/healthz`)).status === 200, 'healthz 200 after reconnect');
    } finally {
      await other.close();
      removeDir(other.dataDir);
      await restarted?.close();
      await own.close();
    }
  });
});
