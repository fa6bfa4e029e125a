/**
 * The InfluxDB store against real servers, each started by the test on free loopback ports:
 * - the store contract in `v1` mode on InfluxDB 1.x (Debian package `influxdb`, 1.6.7 on Debian 12), plus its
 *   layout, errors and basic auth;
 * - the `v2` write path (`/api/v2/write` through the client's write API) on VictoriaMetrics (Debian package
 *   `victoria-metrics`), read back through its export API: VictoriaMetrics has no InfluxQL, so only writes;
 * - the v2 write request itself (path, org, bucket, precision, token) as a small HTTP server on port 0 receives it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxConfigSchema } from '../../src/store/influx-config.ts';
import { InfluxHttp } from '../../src/store/influx-http.ts';
import { countsPoint, toLine } from '../../src/store/influx-points.ts';
import { InfluxStore, InfluxStoreError } from '../../src/store/influx-store.ts';
import { StoreError } from '../../src/errors.ts';
import { Registry } from '../../src/registry.ts';
import { ReleaseLayer } from '../../src/release/release-layer.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { exportSeries, influxQuery, startInfluxd, startVictoriaMetrics, type TestServer } from '@passant/test-helpers/influx';
import { freePort, requireTool } from '@passant/test-helpers/tools';
import { T0, countsMessage, storeContract } from './store-contract.ts';
import { sumByWindow } from './sums.ts';

const hasInfluxd = requireTool('influxd', 'influxdb');
const hasVictoriaMetrics = requireTool('victoria-metrics', 'victoria-metrics');

let databases = 0;
/** A fresh database on `server` for one test. */
async function createDatabase(server: TestServer): Promise<string> {
  const database = `test_${++databases}`;
  await influxQuery(server.url, `CREATE DATABASE "${database}"`);
  return database;
}

describe.skipIf(!hasInfluxd)('InfluxStore, v1 mode, on InfluxDB 1.x (influxd)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startInfluxd();
  });
  afterAll(async () => {
    await server?.stop();
  });

  storeContract('InfluxStore v1 on influxd', async () => {
    const database = await createDatabase(server);
    const config = { url: server.url, apiVersion: 'v1', database } as const;
    let current = InfluxStore.open(config);
    return {
      store: current,
      async reopen() {
        current = InfluxStore.open(config);
        return current;
      },
      async cleanup() {
        await current.close();
        await influxQuery(server.url, `DROP DATABASE "${database}"`);
      },
    };
  });

  it('stores one point per window: measurement counts, tag sensor, time = windowStart, integer fields', async () => {
    const database = await createDatabase(server);
    const store = InfluxStore.open({ url: server.url, apiVersion: 'v1', database });
    try {
      const message = countsMessage('door-1', T0, 6, { ble: 3, seq: 42 });
      await store.put([message, { ...countsMessage('door-2', T0, 1), rssiFloor: null }], T0 + 65);
      const answer = await influxQuery(server.url, 'SELECT * FROM "counts" GROUP BY "sensor"', { database });
      const series = answer.results[0]!.series!;
      expect(series.map((s) => s.tags)).toEqual([{ sensor: 'door-1' }, { sensor: 'door-2' }]);
      const row = Object.fromEntries(series[0]!.columns.map((c, i) => [c, series[0]!.values[0]![i]]));
      expect(row).toEqual({
        time: T0,
        window_seconds: 60,
        seq: 42,
        received_at: T0 + 65,
        rssi_floor: -90,
        wifi_devices: 6,
        wifi_randomized: 3,
        wifi_frames: 18,
        ble_devices: 3,
        ble_randomized: 1,
        ble_frames: 9,
      }); // no RSSI histogram: the store keeps none
      const door2 = Object.fromEntries(series[1]!.columns.map((c, i) => [c, series[1]!.values[0]![i]]));
      expect(door2.rssi_floor).toBeNull(); // no field written for a null floor
      const fieldTypes = await influxQuery(server.url, 'SHOW FIELD KEYS FROM "counts"', { database });
      expect(new Set(fieldTypes.results[0]!.series![0]!.values.map((v) => v[1]))).toEqual(new Set(['integer']));
    } finally {
      await store.close();
    }
  });

  it('checks a batch with one query per cluster of windows, also when the windows lie far apart', async () => {
    const database = await createDatabase(server);
    const store = InfluxStore.open({ url: server.url, apiVersion: 'v1', database });
    try {
      const day = 86_400;
      await store.put([countsMessage('a', T0, 1), countsMessage('a', T0 + 30 * day, 2)], T0 + 61);
      // old and new windows in one batch: the existing ones are found in both clusters
      expect(
        await store.put([countsMessage('a', T0 + 30 * day, 9), countsMessage('b', T0, 3), countsMessage('a', T0, 9), countsMessage('a', T0 + 60, 4)], T0 + 99),
      ).toEqual(['duplicate', 'stored', 'duplicate', 'stored']);
      const sums = await sumByWindow(store, ['a', 'b'], 'wifi', T0, T0 + 31 * day);
      expect(sums).toEqual([
        { windowStart: T0, devices: 4, sensorCount: 2 },
        { windowStart: T0 + 60, devices: 4, sensorCount: 1 },
        { windowStart: T0 + 30 * day, devices: 2, sensorCount: 1 },
      ]);
    } finally {
      await store.close();
    }
  });

  it('the release layer over InfluxDB releases exactly what it releases over the in-memory store (both radios, every step, noise on and off)', async () => {
    const database = await createDatabase(server);
    const influx = InfluxStore.open({ url: server.url, apiVersion: 'v1', database });
    const memory = new MemoryStore();
    try {
      const registry = new Registry(
        [
          { id: 'front', name: 'Front', sensors: ['a', 'b'] },
          { id: 'back', name: 'Back', sensors: ['c'] },
        ],
        [{ id: 'all', name: 'All', zones: ['front', 'back'] }],
      );
      const start = Math.floor(T0 / 3600) * 3600;
      const messages = [];
      for (let m = 0; m < 150; m++) {
        const t = start + m * 60;
        messages.push(countsMessage('a', t, m % 4, { ble: m % 3 }), countsMessage('c', t, (m * 7) % 9, { ble: 5 }));
        if (m % 5 !== 0) messages.push(countsMessage('b', t, (m * 3) % 5, { ble: 1 }));
        if (m % 11 === 0) messages.push(countsMessage('x', t, 50)); // unassigned
      }
      const now = start + 3 * 86_400;
      const layers = [influx, memory].map((store) => new ReleaseLayer(store, registry, { k: 5, settleSeconds: 120, now: () => now, minuteDays: 31, noise: { epsilon: 1, key: Buffer.from('x'.repeat(40)) } }));
      for (const store of [influx, memory]) await store.put(messages, start + 30);
      const frozen = await Promise.all(layers.map((l) => l.settle()));
      expect(frozen[0]!.length).toBe(300);
      expect(frozen[0]!.length).toBe(frozen[1]!.length);
      for (const target of [{ kind: 'zone' as const, id: 'front' }, { kind: 'zone' as const, id: 'back' }, { kind: 'site' as const, id: 'all' }]) {
        for (const radio of ['wifi', 'ble'] as const) {
          for (const [step, from] of [[60, start], [3600, start], [86_400, Math.floor(start / 86_400) * 86_400]] as const) {
            for (const exact of [true, false]) {
              const query = { from, to: start + 150 * 60, step, radio };
              const [fromInflux, fromMemory] = await Promise.all(layers.map((l) => l.series(target, query, { exact })));
              expect(fromInflux, `${target.id} ${radio} ${step} exact=${exact}`).toEqual(fromMemory);
            }
          }
        }
      }
      expect((await layers[0]!.series('front', { from: start, to: start + 3600, step: 3600, radio: 'wifi' }, { exact: true }))!.suppressed[0]).toBeGreaterThan(0);
    } finally {
      await influx.close();
      await memory.close();
    }
  });

  it('refuses sensor ids that are not ids before anything reaches the server', async () => {
    const database = await createDatabase(server);
    const store = InfluxStore.open({ url: server.url, apiVersion: 'v1', database });
    try {
      const bad = { ...countsMessage('a', T0, 1), sensorId: "a' OR sensor =~ /.*/" };
      await expect(store.put([countsMessage('b', T0, 1), bad], T0 + 61)).rejects.toThrow(/invalid sensor id/);
      await expect(sumByWindow(store, ["x') OR (1=1"], 'wifi', T0, T0 + 60)).rejects.toThrow(/invalid sensor id/);
      const answer = await influxQuery(server.url, 'SELECT * FROM "counts"', { database });
      expect(answer.results[0]!.series).toBeUndefined(); // the valid message of the batch was not written either
    } finally {
      await store.close();
    }
  });

  it('reports a missing database and a rejected write as StoreErrors with the server\'s reason', async () => {
    const missing = InfluxStore.open({ url: server.url, apiVersion: 'v1', database: 'does_not_exist' });
    try {
      const error = await missing.put([countsMessage('a', T0, 1)], T0 + 61).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfluxStoreError);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toMatch(/database not found: does_not_exist/);
    } finally {
      await missing.close();
    }

    const database = await createDatabase(server);
    // someone else wrote wifi_devices as a float: InfluxDB refuses our integer for the same field
    const res = await fetch(`${server.url}/write?db=${database}&precision=s`, { method: 'POST', body: `counts,sensor=x wifi_devices=1.5 ${T0 - 600}` });
    expect(res.status).toBe(204);
    const store = InfluxStore.open({ url: server.url, apiVersion: 'v1', database });
    try {
      const error = await store.put([countsMessage('a', T0, 1)], T0 + 61).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfluxStoreError);
      expect((error as InfluxStoreError).statusCode).toBe(400);
      expect((error as Error).message).toMatch(/InfluxDB write \(\/write\) failed: HTTP 400: .*field type conflict/);
    } finally {
      await store.close();
    }
  });

  it('works on after the server restarts, with what it stored before', async () => {
    const database = await createDatabase(server);
    const store = InfluxStore.open({ url: server.url, apiVersion: 'v1', database });
    try {
      expect(await store.put([countsMessage('a', T0, 2)], T0 + 61)).toEqual(['stored']);
      await server.restart();
      expect(await store.ping()).toBe(true);
      expect(await store.put([countsMessage('a', T0, 5), countsMessage('a', T0 + 60, 1)], T0 + 121)).toEqual(['duplicate', 'stored']);
      expect(await sumByWindow(store, ['a'], 'wifi', T0, T0 + 120)).toEqual([
        { windowStart: T0, devices: 2, sensorCount: 1 },
        { windowStart: T0 + 60, devices: 1, sensorCount: 1 },
      ]);
    } finally {
      await store.close();
    }
  });

  it('a v2 write to a server without /api/v2/write fails with the HTTP status, without retrying', async () => {
    const database = await createDatabase(server);
    const writer = new InfluxHttp(InfluxConfigSchema.parse({ url: server.url, apiVersion: 'v2', bucket: database }));
    const started = Date.now();
    const error = await writer.write([toLine(countsPoint(countsMessage('a', T0, 1), T0 + 61))]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfluxStoreError);
    expect((error as Error).message).toMatch(/InfluxDB write \(\/api\/v2\/write\) failed: HTTP 404/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe.skipIf(!hasInfluxd)('InfluxStore, v1 mode, on InfluxDB 1.x with auth enabled', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startInfluxd({ auth: true });
    await influxQuery(server.url, "CREATE USER admin WITH PASSWORD 'adminpw' WITH ALL PRIVILEGES");
    await influxQuery(server.url, 'CREATE DATABASE "passant"', { username: 'admin', password: 'adminpw' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('writes and reads with username and password, and names the refusal when they are wrong', async () => {
    const store = InfluxStore.open({ url: server.url, apiVersion: 'v1', username: 'admin', password: 'adminpw' });
    const wrong = InfluxStore.open({ url: server.url, apiVersion: 'v1', username: 'admin', password: 'nope' });
    try {
      expect(await store.put([countsMessage('a', T0, 3)], T0 + 61)).toEqual(['stored']);
      expect(await sumByWindow(store, ['a'], 'wifi', T0, T0 + 60)).toEqual([{ windowStart: T0, devices: 3, sensorCount: 1 }]);
      const error = await wrong.put([countsMessage('a', T0 + 60, 3)], T0 + 121).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfluxStoreError);
      expect((error as InfluxStoreError).statusCode).toBe(401);
      expect((error as Error).message).toMatch(/authorization failed/);
      await expect(sumByWindow(wrong, ['a'], 'wifi', T0, T0 + 60)).rejects.toThrow(/HTTP 401/);
    } finally {
      await store.close();
      await wrong.close();
    }
  });
});

describe.skipIf(!hasVictoriaMetrics)('InfluxDB v2 write path on VictoriaMetrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startVictoriaMetrics();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('writes points through /api/v2/write that read back as counts_<field>{sensor} with the same numbers', async () => {
    // recent windows: VictoriaMetrics drops samples older than its retention (a month by default)
    const t = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600;
    const messages = [
      countsMessage('door-1', t, 6, { ble: 3, seq: 1 }),
      countsMessage('door-1', t + 60, 8, { ble: 0, seq: 2 }),
      countsMessage('door-2', t, 2, { ble: 5, seq: 7 }),
    ];
    // two points per request: the second request carries the rest
    const writer = new InfluxHttp(InfluxConfigSchema.parse({ url: server.url, apiVersion: 'v2', token: 'unused-by-vm', writeBatchLines: 2 }));
    await writer.write(messages.map((m) => toLine(countsPoint(m, t + 100))));

    const series = await exportSeries(server.url, '{__name__=~"counts_.*"}');
    const value = (metric: string, sensor: string) => {
      const s = series.find((x) => x.metric.__name__ === metric && x.metric.sensor === sensor);
      if (s === undefined) throw new Error(`no series ${metric}{sensor="${sensor}"}`);
      return s.timestamps.map((ms, i) => [ms / 1000, s.values[i]]);
    };
    expect(value('counts_wifi_devices', 'door-1')).toEqual([
      [t, 6],
      [t + 60, 8],
    ]);
    expect(value('counts_wifi_devices', 'door-2')).toEqual([[t, 2]]);
    expect(value('counts_ble_devices', 'door-1')).toEqual([
      [t, 3],
      [t + 60, 0],
    ]);
    expect(value('counts_ble_devices', 'door-2')).toEqual([[t, 5]]);
    expect(value('counts_seq', 'door-2')).toEqual([[t, 7]]);
    expect(value('counts_received_at', 'door-1')).toEqual([
      [t, t + 100],
      [t + 60, t + 100],
    ]);
    // no RSSI histogram is written
    expect(series.map((s) => s.metric.__name__).filter((name) => /_rssi_\d/.test(name ?? ''))).toEqual([]);
    // every series carries only the sensor tag
    for (const s of series) expect(Object.keys(s.metric).sort()).toEqual(['__name__', 'sensor']);
  });
});

describe('InfluxDB v2 write request', () => {
  it('posts line protocol to /api/v2/write with org, bucket, precision=s and the token', async () => {
    const received: { url: string; method: string; authorization: string | undefined; body: string }[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ url: req.url ?? '', method: req.method ?? '', authorization: req.headers.authorization, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const writer = new InfluxHttp(
        InfluxConfigSchema.parse({ url: `http://127.0.0.1:${port}`, org: 'my org', bucket: 'counts/autogen', token: 'secret-token' }),
      );
      const line = toLine(countsPoint(countsMessage('door-1', T0, 6), T0 + 61));
      await writer.write([line]);
      expect(received).toHaveLength(1);
      expect(received[0]!.method).toBe('POST');
      const url = new URL(received[0]!.url, 'http://x');
      expect(url.pathname).toBe('/api/v2/write');
      expect(Object.fromEntries(url.searchParams)).toEqual({ org: 'my org', bucket: 'counts/autogen', precision: 's' });
      expect(received[0]!.authorization).toBe('Token secret-token');
      expect(received[0]!.body).toBe(line);
      expect(line).toMatch(new RegExp(`^counts,sensor=door-1 \\S*wifi_devices=6i\\S* ${T0}$`));
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('InfluxStore without a server', () => {
  it('answers ping false and fails put with a StoreError when nothing listens', async () => {
    const port = await freePort();
    const store = InfluxStore.open({ url: `http://127.0.0.1:${port}`, apiVersion: 'v1', timeoutMs: 2000 });
    try {
      expect(await store.ping()).toBe(false);
      const error = await store.put([countsMessage('a', T0, 1)], T0 + 61).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfluxStoreError);
      expect((error as Error).message).toMatch(/InfluxQL query \(\/query\) failed: .*ECONNREFUSED/);
    } finally {
      await store.close();
    }
  });

  it('lists every problem of invalid settings', () => {
    expect(() => InfluxStore.open({ url: 'ftp://x', apiVersion: 'v3' as 'v1', username: 'u', timeoutMs: 5 })).toThrow(
      /invalid InfluxDB store settings:\n {2}url: .*\n {2}apiVersion: .*\n {2}timeoutMs: .*\n {2}password: set username and password together/,
    );
  });
});
