/**
 * The OpenAPI document against the server: every route express registers is in the route table, and every route of
 * the versioned API is documented (paths relative to their server, /api/v1 or /ngsi-ld/v1); documented query
 * parameters are exactly the accepted ones; every documented JSON 200 response of a real server (real broker,
 * SQLite, data) validates against the schema in the document (turned back into zod with z.fromJSONSchema), and so
 * do the error bodies: problem details (RFC 9457) as application/problem+json. Every response says API-Version.
 */
import { topics } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AggregatorMetrics, LiveUpdates, Registry, ReleaseLayer, SensorHealthTracker, SqliteStore } from '../../src/index.ts';
import { createLogger } from '../../src/logger.ts';
import { createHttpApp } from '../../src/http/app.ts';
import { buildOpenApiDocument, openApiPath, ROUTES, serverAndPath } from '../../src/http/openapi.ts';
import type { OpenApiDocument, OpenApiOperation } from '../../src/http/openapi.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { makeDataDir, removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';
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

/** Every documented operation, with the URL path it answers at (its server's URL and its path). */
function operations(): { path: string; url: string; method: string; op: OpenApiOperation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => {
    const server = item.servers?.[0]?.url ?? doc.servers[0]!.url;
    return (['get', 'post', 'delete'] as const).flatMap((method) => (item[method] ? [{ path, url: `${server}${path}`, method, op: item[method]! }] : []));
  });
}

/** The documented operation of an express route. */
function documented(route: { path: string; method?: string }): OpenApiOperation {
  const item = doc.paths[serverAndPath(route.path).path]!;
  return item[(route.method ?? 'get') as 'get']!;
}

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
  it('is OpenAPI 3.1 with unique operation ids, a 200 and a problem body for each operation, API-Version on every answer', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument(doc.info.version))));
    expect(doc.servers).toEqual([{ url: '/api/v1', description: expect.any(String) }]);
    const ops = operations();
    const ids = ops.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { url, method, op } of ops) {
      expect(['get', 'post', 'delete'], url).toContain(method);
      const ok = op.responses[method === 'post' ? '201' : '200'];
      expect(ok, `${method} ${url}`).toBeDefined();
      expect(ok!.headers?.['API-Version'], url).toBeDefined();
      if (method === 'post') expect(op.requestBody?.content['application/json'], url).toBeDefined();
      for (const name of url.match(/\{(\w+)\}/g) ?? []) {
        expect(op.parameters.some((p) => p.in === 'path' && `{${p.name}}` === name && p.required), `${url} documents ${name}`).toBe(true);
      }
      expect(op.responses['429']?.headers?.['Retry-After'], url).toBeDefined();
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400) expect(Object.keys(response.content ?? {}), `${url} ${status}`).toEqual(['application/problem+json']);
      }
    }
  });

  it('every route express registers is in the route table; the versioned API is documented, the root routes are not', () => {
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
      const table = ROUTES.map((r) => `${(r.method ?? 'get').toUpperCase()} ${r.path}`).sort();
      expect(registered.length).toBeGreaterThan(15);
      expect(registered).toEqual(table);
      const inDocument = operations()
        .map((o) => `${o.method.toUpperCase()} ${o.url.replace(/\{(\w+)\}/g, ':$1')}`)
        .sort();
      expect(inDocument).toEqual(table.filter((r) => !['GET /', 'GET /healthz', 'GET /metrics'].includes(r)));
    } finally {
      closeEventStreams();
      void store.close();
    }
  });

  it('documents exactly the accepted query parameters: each example is taken, anything else is a 400', async () => {
    for (const route of ROUTES.filter((r) => r.documented !== false && (r.method ?? 'get') === 'get')) {
      const op = documented(route);
      const queryParams = op.parameters.filter((p) => p.in === 'query');
      expect(queryParams.map((p) => p.name), route.path).toEqual(route.params.map((p) => p.name));
      for (const p of queryParams) expect(p.name, route.path).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      const url = exampleUrl(route.path, queryParams);
      if (route.body.kind !== 'sse') {
        const ok = await fetch(`${agg.url}${url}`, { headers: { authorization: `Bearer ${admin}` } });
        expect(ok.status, url).toBe(200);
        await ok.arrayBuffer();
      }
      const bogus = await fetch(`${agg.url}${url}${url.includes('?') ? '&' : '?'}bogus=1`, { headers: { authorization: `Bearer ${admin}` } });
      expect(bogus.status, `${url} bogus`).toBe(400);
      expect(((await bogus.json()) as { code: string }).code).toBe('unknown_parameter');
    }
  });

  it('every documented JSON 200 response of the real server validates against its documented schema', async () => {
    let checked = 0;
    for (const { url: path, method, op } of operations()) {
      if (method !== 'get') continue;
      const schema = op.responses['200']?.content?.['application/json']?.schema;
      if (schema === undefined) continue;
      const validator = z.fromJSONSchema(schema as never);
      const url = exampleUrl(path.replace(/\{(\w+)\}/g, ':$1'), op.parameters.filter((p) => p.in === 'query'));
      const res = await fetch(`${agg.url}${url}`, { headers: { authorization: `Bearer ${admin}` } });
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toMatch(/^application\/json/);
      expect(res.headers.get('api-version'), url).toBe(doc.info.version);
      const body: unknown = await res.json();
      const result = validator.safeParse(body);
      expect(result.success ? [] : result.error.issues.slice(0, 5), url).toEqual([]);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(14);
  });

  it('garbage in any parameter or id is a 4xx problem, never a 500', async () => {
    const nasty = ['', ' ', '-1', '1e9', '0x10', '99999999999999999999', '1.5', 'NaN', '%00', '<script>', "'; DROP TABLE counts; --", 'ü', '../..', '[]', 'a'.repeat(300)];
    let i = 0;
    for (const route of ROUTES.filter((r) => r.path.startsWith('/api/v1/') && r.body.kind !== 'sse' && (r.method ?? 'get') === 'get')) {
      const names = [...route.params.map((p) => p.name), 'zone', 'access_token'];
      for (const value of nasty) {
        const name = names[i++ % names.length]!;
        const id = route.path.includes(':id') && i % 3 === 0 ? encodeURIComponent(value) || 'x' : route.path.startsWith('/api/v1/sites') ? 'town' : 'front';
        const url = `${route.path.replace(':id', id)}?${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
        const res = await fetch(`${agg.url}${url}`, { headers: { authorization: `Bearer ${admin}` } });
        expect(res.status, url).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers.get('content-type'), url).toMatch(/^application\/problem\+json/);
          expect(((await res.json()) as { code: string }).code, url).toMatch(/^[a-z_]+$/);
        } else await res.arrayBuffer();
      }
    }
    expect(agg.logText()).not.toMatch(/"msg":"request failed"/);
  });

  it('the schemas are strict enough to catch a wrong body', () => {
    const series = z.fromJSONSchema(doc.paths['/zones/{id}/series']!.get!.responses['200']!.content!['application/json']!.schema as never);
    expect(series.safeParse({ t: [D], devices: [3], suppressed: [0] }).success).toBe(true);
    expect(series.safeParse({ t: [D], devices: [3], suppressed: [0], sensors: { s1: 3 } }).success).toBe(false);
    expect(series.safeParse({ t: [D], devices: [2.5], suppressed: [0] }).success).toBe(false);
    expect(series.safeParse({ t: [D], devices: [3], suppressed: [-1] }).success).toBe(false);
    expect(series.safeParse({ t: [D], devices: [3], suppressed: [0], noise: { epsilon: 1, mechanism: 'laplace' } }).success).toBe(false);
    expect(series.safeParse({ t: [D], devices: ['3'], suppressed: [0] }).success).toBe(false);
  });

  it('error bodies, CSV and event streams answer as documented', async () => {
    const problem = z.fromJSONSchema(doc.paths['/zones/{id}/series']!.get!.responses['400']!.content!['application/problem+json']!.schema as never);
    for (const [url, status, code, token] of [
      ['/api/v1/zones/front/series?step=7', 400, 'invalid_step', admin],
      ['/api/v1/zones/front/series', 401, 'authentication_required', undefined],
      ['/api/v1/sensors', 401, 'authentication_required', undefined],
      ['/api/v1/zones/nowhere/profile', 404, 'zone_not_found', admin],
      ['/api/v1/nothing', 404, 'not_found', admin],
    ] as const) {
      const res = await fetch(`${agg.url}${url}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect(res.status, url).toBe(status);
      expect(res.headers.get('content-type'), url).toBe('application/problem+json; charset=utf-8');
      expect(res.headers.get('api-version'), url).toBe(doc.info.version);
      const body = (await res.json()) as Record<string, unknown>;
      expect(problem.safeParse(body).success, url).toBe(true);
      expect(body, url).toMatchObject({ type: 'about:blank', status, code, title: expect.any(String), detail: expect.any(String) });
    }
    for (const url of ['/healthz', '/', '/nothing']) expect((await fetch(`${agg.url}${url}`)).headers.get('api-version'), url).toBe(doc.info.version);
    const csv = await fetch(`${agg.url}/api/v1/sites/town/series.csv?from=${D}&to=${D + 120}`, { headers: { authorization: `Bearer ${admin}` } });
    expect(Object.keys(doc.paths['/sites/{id}/series.csv']!.get!.responses['200']!.content!)).toEqual(['text/csv']);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toContain(`town,Town centre,wifi,2023-11-14T00:00:00Z,${D},7,1`);
    const controller = new AbortController();
    const events = await fetch(`${agg.url}/api/v1/events?zone=front&accessToken=${admin}`, { signal: controller.signal });
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    controller.abort();
  });

  it('the event stream takes the token as accessToken and, as before, as access_token; not both', async () => {
    for (const name of ['accessToken', 'access_token']) {
      const controller = new AbortController();
      const res = await fetch(`${agg.url}/api/v1/events?zone=front&${name}=${admin}`, { signal: controller.signal });
      expect(res.status, name).toBe(200);
      controller.abort();
    }
    const both = await fetch(`${agg.url}/api/v1/events?zone=front&accessToken=${admin}&access_token=${admin}`);
    expect(both.status).toBe(400);
    expect(((await both.json()) as { code: string }).code).toBe('invalid_parameter');
  });
});
