/**
 * Events (named periods): an admin marks, lists and deletes them; anyone sees those of the zones and sites it may
 * read, and nothing of an event about a hidden zone (walked over every GET route of the OpenAPI document).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes } from '@passant/test-helpers/aedes-broker';
import { eventsFileOf } from '../../src/events/event-store.ts';
import { makeDataDir, removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';

const HIDDEN_NAME = 'Backyard-Sale-Q7';
const CONFIG = {
  zones: [
    { id: 'front', name: 'Front', sensors: ['s1'] },
    { id: 'back', name: 'Back', sensors: ['s2'] },
    { id: 'side', name: 'Side', sensors: ['s3'] },
  ],
  sites: [
    { id: 'street', name: 'Street', zones: ['front', 'back'] },
    { id: 'yard', name: 'Yard', zones: ['side'] },
  ],
  auth: { public: { zones: ['front'], sites: 'none' as const } },
  http: { rateLimitPerMinute: 0 },
};

let broker: Awaited<ReturnType<typeof startAedes>>;
let agg: TestAggregator;
let dataDir: string;
let admin: string;
let viewer: string;
let privacy: string;

function req(path: string, token: string | null, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(`${agg.url}${path}`, { ...init, headers });
}

function post(body: unknown, token: string | null = admin): Promise<Response> {
  return req('/api/v1/marked-periods', token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function names(token: string | null, query = ''): Promise<string[]> {
  const res = await req(`/api/v1/marked-periods${query}`, token);
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: { name: string }[] }).events.map((e) => e.name);
}

beforeAll(async () => {
  broker = await startAedes();
  dataDir = makeDataDir();
  agg = await startTestAggregator(broker.url, CONFIG, { dataDir });
  admin = agg.tokens.create({ role: 'admin' }).token;
  viewer = agg.tokens.create({ role: 'viewer', zones: ['back'] }).token;
  privacy = agg.tokens.create({ role: 'privacy' }).token;
});

afterAll(async () => {
  await agg?.close();
  await broker?.close();
  removeDir(dataDir);
});

describe('events', () => {
  it('an admin marks events; each caller sees only those of zones and sites it may read, with only those', async () => {
    const market = await post({ name: 'Saturday market', from: 1_700_000_000, to: 1_700_020_000, zones: ['front'], note: 'stalls on both sides' });
    expect(market.status).toBe(201);
    const created = (await market.json()) as { id: string; name: string; zones: string[]; note: string };
    expect(created).toMatchObject({ name: 'Saturday market', zones: ['front'], sites: [], note: 'stalls on both sides' });
    expect((await post({ name: HIDDEN_NAME, from: 1_700_000_000, to: 1_700_003_600, zones: ['back'] })).status).toBe(201);
    expect((await post({ name: 'Street works', from: 1_700_100_000, to: 1_700_200_000, zones: ['front', 'back'], sites: ['street'] })).status).toBe(201);
    expect((await post({ name: 'Yard party', from: 1_700_300_000, to: 1_700_303_600, sites: ['yard'] })).status).toBe(201);

    // the public reads zone front only: the hidden zone's event is not there, the shared one lists front alone
    const pub = (await (await req('/api/v1/marked-periods', null)).json()) as { events: { name: string; zones: string[]; sites: string[] }[] };
    expect(pub.events.map((e) => e.name)).toEqual(['Saturday market', 'Street works']);
    expect(pub.events[1]).toMatchObject({ zones: ['front'], sites: [] });
    expect(JSON.stringify(pub)).not.toContain('back');
    // the viewer of zone back: its own events, the shared one with back alone; the site yard is not on its token
    const own = (await (await req('/api/v1/marked-periods', viewer)).json()) as { events: { name: string; zones: string[]; sites: string[] }[] };
    expect(own.events.map((e) => e.name)).toEqual(['Saturday market', HIDDEN_NAME, 'Street works']);
    expect(own.events[2]).toMatchObject({ zones: ['front', 'back'], sites: [] });
    expect(await names(admin)).toEqual(['Saturday market', HIDDEN_NAME, 'Street works', 'Yard party']);
    // filters: a zone (named, or through a site), a site, a period
    expect(await names(admin, '?zone=back')).toEqual([HIDDEN_NAME, 'Street works']);
    expect(await names(admin, '?zone=side')).toEqual(['Yard party']);
    expect(await names(admin, '?site=street')).toEqual(['Saturday market', HIDDEN_NAME, 'Street works']);
    expect(await names(admin, '?from=1700010000&to=1700150000')).toEqual(['Saturday market', 'Street works']);
    // a zone the caller may not read answers as anywhere else: 401 without a token, 404 with one (not a 403)
    expect((await req('/api/v1/marked-periods?zone=back', null)).status).toBe(401);
    expect((await req('/api/v1/marked-periods?zone=side', viewer)).status).toBe(404);
    expect((await req('/api/v1/marked-periods?zone=nope', admin)).status).toBe(404);
  });

  it('only an admin marks or deletes; bad input is a clear 400 that stores nothing', async () => {
    const body = { name: 'Promotion', from: 1_700_000_000, to: 1_700_003_600, zones: ['side'] };
    expect((await post(body, null)).status).toBe(401);
    expect((await post(body, viewer)).status).toBe(403);
    expect((await post(body, privacy)).status).toBe(403);
    const before = await names(admin);
    for (const [bad, message] of [
      [{ ...body, zones: ['nowhere'] }, /no zone "nowhere"/],
      [{ ...body, to: body.from }, /to must be after from/],
      [{ ...body, zones: [] }, /at least one zone or site/],
      [{ ...body, name: '' }, /name/],
      [{ ...body, name: 'a\nb' }, /one line/],
      [{ ...body, extra: 1 }, /extra/],
    ] as const) {
      const res = await post(bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(message);
    }
    const notJson = await req('/api/v1/marked-periods', admin, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(notJson.status).toBe(400);
    expect((await req('/api/v1/marked-periods', admin, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status).toBe(415);
    expect(await names(admin)).toEqual(before);
    // the refused names are not logged
    expect(agg.logText()).not.toContain('a\\nb');

    const created = (await (await post(body)).json()) as { id: string };
    expect((await req(`/api/v1/marked-periods/${created.id}`, viewer, { method: 'DELETE' })).status).toBe(403);
    const deleted = await req(`/api/v1/marked-periods/${created.id}`, admin, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(((await deleted.json()) as { name: string }).name).toBe('Promotion');
    expect((await req(`/api/v1/marked-periods/${created.id}`, admin, { method: 'DELETE' })).status).toBe(404);
    expect(await names(admin)).toEqual(before);
  });

  it('are kept in an owner-only file in the data folder, and documented in the OpenAPI document', async () => {
    const file = eventsFileOf(dataDir);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const doc = (await (await fetch(`${agg.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/marked-periods']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/marked-periods/{id}']!)).toEqual(['delete']);
  });

  it("an event of a hidden zone shows nowhere in any GET route of the OpenAPI document, for the public or another zone's viewer", async () => {
    const sideViewer = agg.tokens.create({ role: 'viewer', zones: ['side'] }).token;
    const doc = (await (await fetch(`${agg.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> };
    let bodies = 0;
    for (const [route, ops] of Object.entries(doc.paths)) {
      if (ops.get === undefined || route === '/events') continue;
      const ids = route.includes('/zones/{id}') ? ['front', 'back', 'side'] : route.includes('/sites/{id}') ? ['street', 'yard'] : [null];
      for (const id of ids) {
        const path = `/api/v1${id === null ? route : route.replace('{id}', id)}`;
        if (path.includes('{')) continue;
        for (const token of [null, sideViewer]) {
          const res = await req(path, token);
          const text = `${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${await res.text()}`;
          bodies++;
          expect(text, `${token === null ? 'public' : 'viewer'} ${path}`).not.toContain(HIDDEN_NAME);
          expect(text, `${token === null ? 'public' : 'viewer'} ${path}`).not.toContain('Yard party');
        }
      }
    }
    expect(bodies).toBeGreaterThan(20);
    // the admin does see them (the scan would see a leak)
    expect(await names(admin)).toContain(HIDDEN_NAME);
  });
});
