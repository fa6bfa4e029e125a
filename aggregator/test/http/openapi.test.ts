/**
 * The OpenAPI document against the server: every route express registers is documented and every documented
 * route is registered; documented query parameters are exactly the accepted ones; every documented JSON 200
 * response of a real server (real broker, SQLite, data) validates against the schema in the document (turned back
 * into zod with z.fromJSONSchema), and so do the error bodies.
 */
import { topics } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AggregatorMetrics, LiveUpdates, Registry, ReleaseLayer, SensorHealthTracker, SqliteStore } from '../../src/index.ts';
import { createLogger } from '../../src/logger.ts';
import { createHttpApp } from '../../src/http/app.ts';
import { buildOpenApiDocument, openApiPath, ROUTES } from '../../src/http/openapi.ts';
import type { OpenApiDocument } from '../../src/http/openapi.ts';
import { startAedes, type TestBroker } from '../../../test/helpers/aedes-broker.ts';
import { makeDataDir, removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { waitFor } from '../../../test/helpers/wait.ts';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';

const D = 1_699_920_000;
const ZONES = [
  { id: 'front', name: 'Shop front', sensors: ['s1', 's2'] },
  { id: 'back', name: 'Back street', sensors: ['s3'] },
];
const SITES = [{ id: 'town', name: 'Town centre', zones: ['front', 'back'] }];

let broker: TestBroker;
let publisher: MqttClient;
let agg: TestAggregator;
let admin: string;
let doc: OpenApiDocument;

/** Every GET route express serves, as `METHOD path` with the mount prefix, walked from the router's layers. */
function registeredRoutes(app: unknown): string[] {
  const out: string[] = [];
  const walk = (stack: any[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        // a router mounted without a path (api.use(router)) has the raw path '/': no double slash
        for (const method of Object.keys(layer.route.methods)) out.push(`${method.toUpperCase()} ${`${prefix}${layer.route.path}`.replace(/\/{2,}/g, '/')}`);
      } else if (Array.isArray(layer.handle?.stack)) {
        walk(layer.handle.stack, `${prefix}${layer.rawPath ?? ''}`);
      }
    }
  };
  walk((app as { router: { stack: any[] } }).router.stack, '');
  return out.sort();
}

function exampleUrl(path: string, params: { name: string; example?: string }[]): string {
  const url = openApiPath(path)
    .replace('{id}', path.startsWith('/api/v1/sites') ? 'town' : 'front');
  const query = new URLSearchParams();
  for (const p of params) {
    if (p.name === 'access_token' || p.example === undefined) continue;
    query.set(p.name, p.name === 'from' ? String(D) : p.name === 'to' ? String(D + 86_400) : p.example);
  }
  return query.size > 0 ? `${url}?${query}` : url;
}

beforeAll(async () => {
  broker = await startAedes();
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'openapi-publisher', reconnectPeriod: 0 });
  // A high burst: this file makes hundreds of requests with one token (access.test.ts checks the limit).
  agg = await startTestAggregator(broker.url, { k: 5, zones: ZONES, sites: SITES, aggregator: { id: 'openapi-test' }, http: { rateLimitBurst: 100_000 } });
  await agg.mqttReady;
  admin = agg.tokens.create({ role: 'admin' }).token;
  for (const m of [countsMessage('s1', D, 5), countsMessage('s2', D, 2), countsMessage('s3', D, 2), countsMessage('s9', D, 8)]) {
    await publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
  }
  await publisher.publishAsync(topics.sensorCounts('s1'), '{"v":2}', { qos: 1 });
  await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === 4, 'messages stored');
  const res = await fetch(`${agg.url}/api/v1/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenApiDocument;
});

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await publisher?.endAsync(true);
  await broker?.close();
});

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with unique operation ids, a 200 and an error body for each operation', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument(doc.info.version))));
    const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op: op! })));
    const ids = ops.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of ops) {
      expect(['get', 'post'], path).toContain(method);
      expect(op.responses[method === 'post' ? '201' : '200'], `${method} ${path}`).toBeDefined();
      if (method === 'post') expect(op.requestBody?.content['application/json'], path).toBeDefined();
      for (const name of path.match(/\{(\w+)\}/g) ?? []) {
        expect(op.parameters.some((p) => p.in === 'path' && `{${p.name}}` === name && p.required), `${path} documents ${name}`).toBe(true);
      }
      if (path.startsWith('/api/v1/')) expect(op.responses['429']?.headers?.['Retry-After'], path).toBeDefined();
    }
  });

  it('documents exactly the routes express registers', () => {
    const store = SqliteStore.open(`${agg.dataDir}/routes.db`);
    const registry = new Registry(ZONES, SITES);
    const release = new ReleaseLayer(store as never, registry, { k: 5, settleSeconds: 0 });
    const logger = createLogger('silent');
    const live = new LiveUpdates(release, registry, { logger });
    const { app, closeEventStreams } = createHttpApp({
      registry,
      release,
      live,
      store: store as never,
      metrics: new AggregatorMetrics(),
      health: new SensorHealthTracker(),
      mqttLink: () => 'connected',
      logger,
      dashboardDir: agg.dataDir,
      maxSeriesBuckets: 1000,
      maxSeriesRangeDays: 10,
      maxEventClients: 1,
    });
    try {
      const registered = registeredRoutes(app);
      const documented = Object.entries(doc.paths)
        .flatMap(([p, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`))
        .sort();
      expect(registered.length).toBeGreaterThan(15);
      expect(registered).toEqual(documented);
    } finally {
      closeEventStreams();
      void store.close();
    }
  });

  it('documents exactly the accepted query parameters: each example is taken, anything else is a 400', async () => {
    for (const route of ROUTES.filter((r) => r.path !== '/' && (r.method ?? 'get') === 'get')) {
      const op = doc.paths[openApiPath(route.path)]!.get!;
      const documented = op.parameters.filter((p) => p.in === 'query').map((p) => p.name);
      expect(documented, route.path).toEqual(route.params.map((p) => p.name));
      const url = exampleUrl(route.path, op.parameters.filter((p) => p.in === 'query'));
      if (route.body.kind !== 'sse') {
        const ok = await fetch(`${agg.url}${url}`, { headers: { authorization: `Bearer ${admin}` } });
        expect(ok.status, url).toBe(200);
        await ok.arrayBuffer();
      }
      const bogus = await fetch(`${agg.url}${url}${url.includes('?') ? '&' : '?'}bogus=1`, { headers: { authorization: `Bearer ${admin}` } });
      expect(bogus.status, `${url} bogus`).toBe(400);
      expect(((await bogus.json()) as { error: { code: string } }).error.code).toBe('unknown_parameter');
    }
  });

  it('every documented JSON 200 response of the real server validates against its documented schema', async () => {
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (item.get === undefined) continue;
      const schema = item.get.responses['200']?.content?.['application/json']?.schema;
      if (schema === undefined) continue;
      const validator = z.fromJSONSchema(schema as never);
      const url = exampleUrl(path.replace(/\{(\w+)\}/g, ':$1'), item.get.parameters.filter((p) => p.in === 'query'));
      const res = await fetch(`${agg.url}${url}`, { headers: { authorization: `Bearer ${admin}` } });
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toMatch(/^application\/json/);
      const body: unknown = await res.json();
      const result = validator.safeParse(body);
      expect(result.success ? [] : result.error.issues.slice(0, 5), url).toEqual([]);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(14);
  });

  it('garbage in any parameter or id is a 4xx with a JSON error, never a 500', async () => {
    const nasty = ['', ' ', '-1', '1e9', '0x10', '99999999999999999999', '1.5', 'NaN', '%00', '<script>', "'; DROP TABLE counts; --", 'ü', '../..', '[]', 'a'.repeat(300)];
    let i = 0;
    for (const route of ROUTES.filter((r) => r.path.startsWith('/api/v1/') && r.body.kind !== 'sse' && (r.method ?? 'get') === 'get')) {
      const names = [...route.params.map((p) => p.name), 'zone'];
      for (const value of nasty) {
        const name = names[i++ % names.length]!;
        const id = route.path.includes(':id') && i % 3 === 0 ? encodeURIComponent(value) || 'x' : route.path.startsWith('/api/v1/sites') ? 'town' : 'front';
        const url = `${route.path.replace(':id', id)}?${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
        const res = await fetch(`${agg.url}${url}`, { headers: { authorization: `Bearer ${admin}` } });
        expect(res.status, url).toBeLessThan(500);
        if (res.status >= 400) expect(((await res.json()) as { error: { code: string } }).error.code, url).toMatch(/^[a-z_]+$/);
        else await res.arrayBuffer();
      }
    }
    expect(agg.logText()).not.toMatch(/"msg":"request failed"/);
  });

  it('the schemas are strict enough to catch a wrong body', () => {
    const series = z.fromJSONSchema(doc.paths['/api/v1/zones/{id}/series']!.get!.responses['200']!.content!['application/json']!.schema as never);
    expect(series.safeParse({ t: [D], devices: [3], suppressed: [0] }).success).toBe(true);
    expect(series.safeParse({ t: [D], devices: [3], suppressed: [0], sensors: { s1: 3 } }).success).toBe(false);
    expect(series.safeParse({ t: [D], devices: [2.5], suppressed: [0] }).success).toBe(false);
    expect(series.safeParse({ t: [D], devices: [3], suppressed: [-1] }).success).toBe(false);
    expect(series.safeParse({ t: [D], devices: [3], suppressed: [0], noise: { epsilon: 1, mechanism: 'laplace' } }).success).toBe(false);
    expect(series.safeParse({ t: [D], devices: ['3'], suppressed: [0] }).success).toBe(false);
  });

  it('error bodies, CSV and event streams answer as documented', async () => {
    const error = z.fromJSONSchema(doc.paths['/api/v1/zones/{id}/series']!.get!.responses['400']!.content!['application/json']!.schema as never);
    for (const [url, status, token] of [
      ['/api/v1/zones/front/series?step=7', 400, admin],
      ['/api/v1/zones/front/series', 401, undefined],
      ['/api/v1/sensors', 401, undefined],
      ['/api/v1/zones/nowhere/profile', 404, admin],
    ] as const) {
      const res = await fetch(`${agg.url}${url}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect(res.status, url).toBe(status);
      expect(doc.paths[Object.keys(doc.paths).find((p) => url.split('?')[0]!.match(new RegExp(`^${p.replace(/\{\w+\}/g, '[^/]+')}$`)))!]!.get!.responses[String(status)], url).toBeDefined();
      expect(error.safeParse(await res.json()).success, url).toBe(true);
    }
    const csv = await fetch(`${agg.url}/api/v1/sites/town/series.csv?from=${D}&to=${D + 120}`, { headers: { authorization: `Bearer ${admin}` } });
    expect(Object.keys(doc.paths['/api/v1/sites/{id}/series.csv']!.get!.responses['200']!.content!)).toEqual(['text/csv']);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toContain(`town,Town centre,wifi,2023-11-14T00:00:00Z,${D},7,1`);
    const controller = new AbortController();
    const events = await fetch(`${agg.url}/api/v1/events?zone=front&access_token=${admin}`, { signal: controller.signal });
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    controller.abort();
  });
});
