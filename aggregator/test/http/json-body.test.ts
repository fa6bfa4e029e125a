/**
 * The route table's body step (routes/steps.ts `jsonBody`), on a real aggregator, for every route that declares a
 * JSON body: the guard comes first (a caller without the role learns nothing from how its body is judged), then
 * another media type is a 415, bad JSON a 400 invalid_json, a body over the route's limit a 413, a body the schema
 * refuses a 400 with the route's code naming the field; each a problem (RFC 9457). The OpenAPI document lists each
 * body from the same schema, and every POST of the table declares one.
 */
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes } from '@passant/test-helpers/aedes-broker';
import { ROUTE_TABLE } from '../../src/http/routes/index.ts';
import type { OpenApiDocument } from '../../src/http/openapi.ts';
import { makeDataDir, removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';

let broker: Awaited<ReturnType<typeof startAedes>>;
let agg: TestAggregator;
let dataDir: string;
let admin: string;
let viewer: string;

const BODY_ROUTES = ROUTE_TABLE.filter((r) => r.requestBody !== undefined);

/** The route's path with a real zone for `:id`. */
function urlOf(path: string): string {
  return `${agg.url}${path.replace(':id', 'shop')}`;
}

function post(path: string, token: string | null, body: string, contentType = 'application/json'): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(urlOf(path), { method: 'POST', headers, body });
}

async function problemOf(res: Response): Promise<{ status: number; code: string; detail: string }> {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await res.json()) as { status: number; code: string; detail: string };
}

/** '64kb' -> 65536. */
function bytesOf(limit: string): number {
  const match = /^(\d+)kb$/.exec(limit);
  if (match === null) throw new Error(`a limit in kb, got ${limit}`);
  return Number(match[1]) * 1024;
}

beforeAll(async () => {
  broker = await startAedes();
  dataDir = makeDataDir();
  agg = await startTestAggregator(
    broker.url,
    { zones: [{ id: 'shop', name: 'Shop', sensors: ['s1'] }], http: { rateLimitPerMinute: 0 } },
    { dataDir },
  );
  admin = agg.tokens.create({ role: 'admin' }).token;
  viewer = agg.tokens.create({ role: 'viewer', zones: ['shop'] }).token;
});

afterAll(async () => {
  await agg?.close();
  await broker?.close();
  removeDir(dataDir);
});

describe('the JSON body step', () => {
  it('every POST of the route table declares its body; the known ones are there', () => {
    const posts = ROUTE_TABLE.filter((r) => r.method === 'post');
    expect(posts.filter((r) => r.requestBody === undefined).map((r) => r.operationId)).toEqual([]);
    expect(BODY_ROUTES.map((r) => r.operationId).sort()).toEqual(['addCalibration', 'addMarkedPeriod', 'createInvitation', 'createToken', 'redeemInvitation']);
  });

  it('checks who may call first: without a token 401, with another role 403, whatever the body', async () => {
    for (const route of BODY_ROUTES.filter((r) => r.auth === 'token')) {
      const anonymous = await problemOf(await post(route.path, null, '{ not json'));
      expect([anonymous.status, anonymous.code], route.operationId).toEqual([401, 'authentication_required']);
      const other = await problemOf(await post(route.path, viewer, '{ not json', 'text/plain'));
      expect([other.status, other.code], route.operationId).toEqual([403, 'forbidden']);
    }
  });

  it('refuses another media type (415), bad JSON (400) and a body over the limit (413) with problems', async () => {
    for (const route of BODY_ROUTES) {
      const spec = route.requestBody!;
      const media = await problemOf(await post(route.path, admin, '{}', 'text/plain'));
      expect([media.status, media.code], route.operationId).toEqual([415, 'unsupported_media_type']);
      const broken = await problemOf(await post(route.path, admin, '{ "name": '));
      expect([broken.status, broken.code], route.operationId).toEqual([400, 'invalid_json']);
      const large = await problemOf(await post(route.path, admin, JSON.stringify({ name: 'x'.repeat(bytesOf(spec.limit)) })));
      expect([large.status, large.code, large.detail], route.operationId).toEqual([413, 'payload_too_large', `the body may be at most ${spec.limit}`]);
    }
  });

  it('a body its schema refuses is a 400 with the route’s code, naming the field; the route’s own parser judges the rest', async () => {
    for (const route of BODY_ROUTES) {
      const spec = route.requestBody!;
      const refused = await problemOf(await post(route.path, admin, JSON.stringify({ surplus: 1 })));
      expect(refused.status, route.operationId).toBe(400);
      if (spec.judgedBy === 'schema') {
        expect(refused.code, route.operationId).toBe(spec.invalidCode);
        expect(refused.detail, route.operationId).toContain('surplus');
      } else {
        // addCalibration: parseCalibrationRequest's own code and words
        expect(refused.code, route.operationId).toBe('invalid_calibration');
        expect(refused.detail, route.operationId).toContain('unknown field "surplus"');
      }
    }
    expect(agg.logText()).toContain('token refused: invalid input');
    expect(agg.logText()).not.toContain('surplus');
  });

  it('the OpenAPI document lists each body from the same schema', async () => {
    const doc = (await (await fetch(`${agg.url}/api/v1/openapi.json`)).json()) as OpenApiDocument;
    for (const route of BODY_ROUTES) {
      const path = route.path.replace(/^\/api\/v1/, '').replace(/:(\w+)/g, '{$1}');
      const documented = doc.paths[path]?.post?.requestBody;
      expect(documented?.required, route.operationId).toBe(true);
      const schema = documented?.content['application/json']?.schema as { properties?: Record<string, unknown> } | undefined;
      const own = z.toJSONSchema(route.requestBody!.schema, { io: 'input' }) as { properties: Record<string, unknown> };
      expect(Object.keys(schema?.properties ?? {}).sort(), route.operationId).toEqual(Object.keys(own.properties).sort());
    }
  });
});
