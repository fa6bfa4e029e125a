/**
 * Who may see what, on a real server (aedes, SQLite, express, fetch): tokens and roles, what is public, that a
 * viewer cannot read another zone by any route or parameter, 401/403/404, revocation (also of an open event
 * stream), zone names with HTML, rate limits and security headers.
 */
import { topics } from '@passant/shared';
import type { CountsMessage } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/http/openapi.ts';
import type { RouteDoc } from '../../src/http/openapi.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';
import { readEvents } from '../helpers/events.ts';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage, minuteAgo } from '../helpers/messages.ts';

/** 2023-11-14T00:00:00Z: windows there are settled. */
const D = 1_699_920_000;
const EVIL_NAME = `<img src=x onerror="alert(1)">=HYPERLINK("http://evil","x"), 'Shop'`;
const ZONES = [
  { id: 'front', name: 'Shop front', sensors: ['s1', 's2'] },
  { id: 'back', name: 'Back street', sensors: ['s3'] },
  { id: 'evil', name: EVIL_NAME, sensors: ['s4'] },
];
const SITES = [
  { id: 'town', name: 'Town centre', zones: ['front', 'back'] },
  { id: 'mall', name: 'Mall', zones: ['evil'] },
];

let broker: TestBroker;
let publisher: MqttClient;
let agg: TestAggregator;
const tok: Record<'viewer' | 'siteViewer' | 'admin' | 'privacy' | 'revoked', string> = {} as never;

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

async function get(url: string, token?: string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

const api = (path: string, token?: string) => get(`${agg.url}${path}`, token);

async function publishAll(messages: CountsMessage[]): Promise<void> {
  for (const m of messages) await publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
}

/** A URL for a documented route: path params replaced, every documented query parameter given a valid example. */
function routeUrl(route: RouteDoc, id: string, extraQuery = ''): string {
  const path = route.path.replace(':id', encodeURIComponent(id));
  const params = new URLSearchParams();
  for (const p of route.params) {
    if (p.name === 'access_token' || p.example === '') continue;
    params.set(p.name, p.name === 'from' ? String(D) : p.name === 'to' ? String(D + 7200) : p.name === 'zone' ? id : p.example);
  }
  const query = [params.toString(), extraQuery].filter(Boolean).join('&');
  return `${path}${query ? `?${query}` : ''}`;
}

beforeAll(async () => {
  broker = await startAedes();
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'access-publisher', reconnectPeriod: 0 });
  // auth.public is left at its default: nothing but the privacy page is public.
  agg = await startTestAggregator(broker.url, { k: 5, zones: ZONES, sites: SITES, aggregator: { id: 'access-test' } });
  await agg.mqttReady;
  tok.viewer = agg.tokens.create({ role: 'viewer', zones: ['front'], name: 'Shop front owner' }).token;
  tok.siteViewer = agg.tokens.create({ role: 'viewer', sites: ['town'] }).token;
  tok.admin = agg.tokens.create({ role: 'admin', name: 'ops' }).token;
  tok.privacy = agg.tokens.create({ role: 'privacy' }).token;
  const revoked = agg.tokens.create({ role: 'admin' });
  tok.revoked = revoked.token;
  agg.tokens.revoke(revoked.info.id);
  await publishAll([
    countsMessage('s1', D, 5, 6),
    countsMessage('s2', D, 2, 0),
    countsMessage('s3', D, 9, 9),
    countsMessage('s4', D, 8, 8),
    countsMessage('s3', D + 60, 13),
    countsMessage('s9', D, 100, 100),
  ]);
  await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === 6, 'messages stored');
});

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await publisher?.endAsync(true);
  await broker?.close();
});

describe('without a token (auth.public defaults: nothing public but the privacy page)', () => {
  it('zone and site data need a token: 401 with WWW-Authenticate, the same for ids that do not exist', async () => {
    for (const path of ['/api/v1/zones', '/api/v1/sites', '/api/v1/zones/front/series', '/api/v1/zones/nowhere/series', '/api/v1/sites/town/compare', '/api/v1/events']) {
      const r = await api(path);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate'), path).toBe('Bearer realm="passant"');
      expect(r.body.code, path).toBe('authentication_required');
    }
    const a = await api('/api/v1/zones/front/series');
    const b = await api('/api/v1/zones/nowhere/series');
    expect(a.body.detail.replace('front', 'X')).toBe(b.body.detail.replace('nowhere', 'X'));
  });

  it('health and admin routes need a token (401); the privacy page, /me and the OpenAPI document do not', async () => {
    for (const path of ['/api/v1/sensors', '/api/v1/admin/unassigned-sensors', '/api/v1/privacy/audit']) expect((await api(path)).status, path).toBe(401);
    const privacy = await api('/api/v1/privacy');
    expect(privacy.status).toBe(200);
    expect(privacy.body).toMatchObject({ k: 5, windowSeconds: 60, publicAccess: { zones: 'none', sites: 'none' } });
    expect(privacy.body.countsSchema.properties).toHaveProperty('wifi');
    expect((await api('/api/v1/openapi.json')).status).toBe(200);
    expect((await api('/api/v1/me')).body).toEqual({ role: 'public', name: null, tokenId: null, zones: [], sites: [], health: false, audit: false, admin: false });
  });

  it('/me?include=zones,sites gives empty lists where /zones and /sites answer 401: a page that starts asks once, and nothing fails', async () => {
    const r = await api('/api/v1/me?include=zones,sites');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ role: 'public', zones: [], sites: [], included: { zones: [], sites: [] } });
  });
});

describe('/me?include=', () => {
  it('gives exactly the lists /zones and /sites give the same caller, only those asked for', async () => {
    for (const token of [tok.viewer, tok.admin]) {
      const me = await api('/api/v1/me?include=zones,sites', token);
      expect(me.status).toBe(200);
      expect(me.body.included.zones).toEqual((await api('/api/v1/zones', token)).body);
      expect(me.body.included.sites).toEqual((await api('/api/v1/sites', token)).body);
      expect(me.body.included.zones.length).toBeGreaterThan(0);
      const { included: _lists, ...rest } = me.body;
      expect(rest).toEqual((await api('/api/v1/me', token)).body);
    }
    expect((await api('/api/v1/me?include=sites', tok.admin)).body.included).toEqual({ sites: (await api('/api/v1/sites', tok.admin)).body });
    expect((await api('/api/v1/me', tok.admin)).body).not.toHaveProperty('included');
  });

  it('refuses anything but zones and sites (400, saying what it takes)', async () => {
    for (const bad of ['tokens', 'zones,tokens', 'zones,,sites', '']) {
      const r = await api(`/api/v1/me?include=${bad}`, tok.admin);
      expect(r.status, bad).toBe(400);
      expect(r.body.detail, bad).toMatch(/include must be zones, sites or zones,sites/);
    }
  });
});

describe('bad tokens', () => {
  it.each([
    ['an unknown token', `Bearer pst_${'A'.repeat(43)}`],
    ['a malformed token', 'Bearer not-a-token'],
    ['another scheme', 'Basic YWRtaW46YWRtaW4='],
    ['an empty bearer', 'Bearer '],
  ])('%s gets 401 invalid_token, even on public routes', async (_what, header) => {
    for (const path of ['/api/v1/zones', '/api/v1/privacy', '/api/v1/openapi.json', '/api/v1/nothing']) {
      const r = await get(`${agg.url}${path}`, undefined, { authorization: header });
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="passant", error="invalid_token"');
      expect(r.body).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401, code: 'invalid_token', detail: expect.stringMatching(/not valid/) });
    }
  });

  it('a revoked token gets 401 everywhere', async () => {
    for (const path of ['/api/v1/zones', '/api/v1/zones/front/series', '/api/v1/sensors', '/api/v1/me']) {
      const r = await api(path, tok.revoked);
      expect(r.status, path).toBe(401);
      expect(r.body.code).toBe('invalid_token');
    }
  });

  it('access_token is taken on /events only; elsewhere it is an unknown parameter', async () => {
    // not a way to authenticate there: without a header it is an anonymous request
    expect((await api(`/api/v1/zones/front/series?access_token=${tok.admin}`)).status).toBe(401);
    const r = await api(`/api/v1/zones/front/series?access_token=${tok.admin}`, tok.admin);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('unknown_parameter');
    const both = await api(`/api/v1/events?access_token=${tok.admin}`, tok.admin);
    expect(both.status).toBe(400);
    const bad = await api(`/api/v1/events?access_token=pst_nope`);
    expect(bad.status).toBe(401);
  });
});

describe('a viewer of zone front', () => {
  it('lists and reads its zone, and nothing else', async () => {
    expect((await api('/api/v1/zones', tok.viewer)).body).toEqual([{ id: 'front', name: 'Shop front', coordinates: null, site: null }]);
    expect((await api('/api/v1/sites', tok.viewer)).body).toEqual([]);
    const series = await api(`/api/v1/zones/front/series?from=${D}&to=${D + 120}`, tok.viewer);
    expect(series.body).toMatchObject({ t: [D, D + 60], devices: [7, null], suppressed: [0, 0] });
    expect((await api('/api/v1/me', tok.viewer)).body).toMatchObject({ role: 'viewer', name: 'Shop front owner', zones: ['front'], sites: [], health: false, admin: false });
  });

  it('cannot read another zone or a site containing its zone by ANY documented route: 404, exactly as for a zone that does not exist', async () => {
    // Routes for a role the viewer does not have (calibrations: admin and privacy) answer 403 whatever the zone.
    const idRoutes = ROUTES.filter((r) => r.path.includes(':id') && r.auth !== 'token');
    expect(idRoutes.length).toBeGreaterThanOrEqual(8);
    for (const route of idRoutes) {
      const kind = route.path.startsWith('/api/v1/zones') ? 'zone' : 'site';
      const forbidden = kind === 'zone' ? ['back', 'evil'] : ['town', 'mall'];
      const missing = await api(routeUrl(route, 'nowhere'), tok.viewer);
      expect(missing.status, route.path).toBe(404);
      for (const id of forbidden) {
        const r = await api(routeUrl(route, id), tok.viewer);
        expect(r.status, `${route.path} ${id}`).toBe(404);
        expect(r.body, `${route.path} ${id}`).toEqual({ ...missing.body, detail: missing.body.detail.replace('nowhere', id) });
        expect(r.headers.get('content-disposition')).toBeNull();
      }
    }
  });

  it('nor through parameters, odd spellings of the id, or the event stream', async () => {
    const tries = [
      `/api/v1/zones/front/series?zone=back`,
      `/api/v1/zones/front/series?id=back`,
      `/api/v1/zones/front/series?from=${D}&from=${D}`,
      `/api/v1/zones/BACK/series`,
      `/api/v1/zones/back%2F..%2Ffront/series`,
      `/api/v1/zones/front,back/series`,
      `/api/v1/zones/back /series`,
      `/api/v1/events?zone=back`,
      `/api/v1/events?zone=front&zone=back`,
      `/api/v1/sites/town/series.csv`,
      `/api/v1/zones/back/series.json`,
    ];
    for (const path of tries) {
      const r = await api(path, tok.viewer);
      expect([400, 404], path).toContain(r.status);
      expect(r.text, path).not.toMatch(/"devices"|Back street/);
    }
  });

  it('gets no health, audit or admin data (403, role routes are not secret)', async () => {
    for (const path of ['/api/v1/sensors', '/api/v1/admin/unassigned-sensors', '/api/v1/privacy/audit', '/api/v1/privacy/access-log', '/api/v1/zones/front/calibrations', '/api/v1/zones/nowhere/calibrations']) {
      const r = await api(path, tok.viewer);
      expect(r.status, path).toBe(403);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="passant", error="insufficient_scope"');
      expect(r.body.code).toBe('forbidden');
      expect(r.text).not.toMatch(/s3|back/);
    }
  });

  it('routes without an id never mention zones it may not read', async () => {
    for (const route of ROUTES.filter((r) => !r.path.includes(':id') && r.body.kind === 'json' && r.path !== '/api/v1/openapi.json')) {
      const r = await api(route.path, tok.viewer);
      expect(r.text, route.path).not.toMatch(/Back street|"back"|"evil"|onerror|"town"|"s3"|"s4"/);
    }
  });

  it('its event stream carries only its zone, even without ?zone', async () => {
    const t = minuteAgo(2);
    const viewer = await readEvents(`${agg.url}/api/v1/events?access_token=${tok.viewer}`, () => false);
    const admin = await readEvents(`${agg.url}/api/v1/events`, (ev) => ev.some((e) => e.zoneId === 'back') && ev.some((e) => e.zoneId === 'front'), { token: tok.admin });
    expect(viewer.status).toBe(200);
    try {
      await waitFor(() => agg.metrics.eventClients.get() === 2, 'two event clients');
      await publishAll([countsMessage('s3', t, 11), countsMessage('s4', t, 12), countsMessage('s1', t, 6), countsMessage('s2', t, 1)]);
      await waitFor(() => admin.events.filter((e) => e.zoneId === 'front').length === 2 && admin.events.some((e) => e.zoneId === 'back'), 'admin sees both zones');
      await waitFor(() => viewer.events.length === 2, 'viewer sees front');
      await agg.live.idle();
      expect(viewer.events.map((e) => e.zoneId)).toEqual(['front', 'front']);
      expect(admin.events.map((e) => e.zoneId)).toEqual(expect.arrayContaining(['front', 'back', 'evil']));
    } finally {
      await viewer.stop();
      await admin.stop();
    }
  });
});

describe('a viewer granted site town', () => {
  it('reads the site and, with it, its zones (a site total is never narrower than its zones), not other sites', async () => {
    expect((await api('/api/v1/sites', tok.siteViewer)).body).toEqual([{ id: 'town', name: 'Town centre', coordinates: null, zones: ['front', 'back'] }]);
    expect((await api('/api/v1/zones', tok.siteViewer)).body.map((z: { id: string; site: string }) => [z.id, z.site])).toEqual([
      ['front', 'town'],
      ['back', 'town'],
    ]);
    const site = await api(`/api/v1/sites/town/series?from=${D}&to=${D + 120}`, tok.siteViewer);
    expect(site.status).toBe(200);
    expect(site.body).toMatchObject({ t: [D, D + 60], devices: [16, 13], suppressed: [0, 0] });
    const front = await api(`/api/v1/zones/front/series?from=${D}&to=${D + 120}`, tok.siteViewer);
    expect(front.body).toMatchObject({ t: [D, D + 60], devices: [7, null], suppressed: [0, 0] });
    expect((await api(`/api/v1/zones/evil/series?from=${D}&to=${D + 120}`, tok.siteViewer)).status).toBe(404);
    expect((await api(`/api/v1/sites/mall/series`, tok.siteViewer)).status).toBe(404);
  });

  it('?include=zones gives the site series and, beside it, each zone series exactly as the zone routes give them', async () => {
    for (const [token, step] of [
      [tok.siteViewer, '60'],
      [tok.admin, '60'],
      [tok.admin, 'day'],
    ] as const) {
      const query = `from=${D}&to=${D + 7200}&step=${step}${step === 'day' ? '&tz=Europe/Amsterdam' : ''}`;
      const both = await api(`/api/v1/sites/town/series?${query}&include=zones`, token);
      expect(both.status).toBe(200);
      const { zones, ...site } = both.body;
      expect(site).toEqual((await api(`/api/v1/sites/town/series?${query}`, token)).body);
      expect(zones.map((z: { id: string }) => z.id)).toEqual(['front', 'back']);
      for (const z of zones) expect(z.series, `${z.id} ${step}`).toEqual((await api(`/api/v1/zones/${z.id}/series?${query}`, token)).body);
      expect(zones.find((z: { id: string }) => z.id === 'front').series.devices.some((d: number | null) => d !== null)).toBe(true);
    }
    const bad = await api(`/api/v1/sites/town/series?include=sites`, tok.admin);
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/include must be zones/);
    // only a site has zones to include
    expect((await api(`/api/v1/zones/front/series?include=zones`, tok.admin)).body.code).toBe('unknown_parameter');
  });
});

describe('admin and privacy officer', () => {
  it('admin reads every zone and site, sensor health and unassigned sensors', async () => {
    expect((await api('/api/v1/zones', tok.admin)).body.map((z: { id: string }) => z.id)).toEqual(['front', 'back', 'evil']);
    expect((await api('/api/v1/sites', tok.admin)).body.map((s: { id: string }) => s.id)).toEqual(['town', 'mall']);
    expect((await api(`/api/v1/zones/back/series?from=${D}&to=${D + 60}`, tok.admin)).body.devices).toEqual([9]);
    const health = await api('/api/v1/sensors', tok.admin);
    expect(health.status).toBe(200);
    expect(health.body.sensors.map((s: { sensorId: string; zoneId: string }) => [s.sensorId, s.zoneId])).toEqual([
      ['s1', 'front'],
      ['s2', 'front'],
      ['s3', 'back'],
      ['s4', 'evil'],
    ]);
    for (const s of health.body.sensors) {
      expect(Object.keys(s).sort()).toEqual(
        // (baseline: the devices the sensor always hears, for admins; learnt from the night, never a count of people)
        ['activeUntil', 'baseline', 'ended', 'lastMessageAt', 'lastWindowStart', 'messagesLastHour', 'missingLastDay', 'missingLastHour', 'online', 'sensorId', 'state', 'version', 'zoneId'].sort(),
      );
      expect(s.lastMessageAt).toBeGreaterThan(D);
    }
    const unassigned = await api('/api/v1/admin/unassigned-sensors', tok.admin);
    expect(unassigned.body.sensors.map((s: { sensorId: string }) => s.sensorId)).toEqual(['s9']);
    expect(unassigned.text).not.toContain('100');
    expect((await api('/api/v1/me', tok.admin)).body).toMatchObject({ role: 'admin', zones: 'all', sites: 'all', health: true, admin: true });
  });

  it('the privacy officer gets health, audit and the privacy page, but no counts beyond the public', async () => {
    expect((await api('/api/v1/sensors', tok.privacy)).status).toBe(200);
    expect((await api('/api/v1/admin/unassigned-sensors', tok.privacy)).status).toBe(403);
    const audit = await api('/api/v1/privacy/audit', tok.privacy);
    expect(audit.status).toBe(200);
    expect(audit.body.ingest.rejected).toHaveProperty('invalid_schema');
    expect(audit.body.tokens).toEqual({ viewer: 2, admin: 1, privacy: 1, revoked: 1 });
    expect((await api('/api/v1/zones', tok.privacy)).body).toEqual([]);
    for (const route of ROUTES.filter((r) => r.path.includes(':id'))) {
      expect((await api(routeUrl(route, route.path.startsWith('/api/v1/zones') ? 'front' : 'town'), tok.privacy)).status, route.path).toBe(404);
    }
  });
});

describe('revocation', () => {
  it('a revoked token is refused at the next request, and its open event stream ends', async () => {
    const { token, info } = agg.tokens.create({ role: 'viewer', zones: ['front'] });
    expect((await api('/api/v1/zones', token)).status).toBe(200);
    const stream = await readEvents(`${agg.url}/api/v1/events?access_token=${token}`, () => false);
    expect(stream.status).toBe(200);
    try {
      agg.tokens.revoke(info.id);
      expect((await api('/api/v1/zones', token)).status).toBe(401);
      await waitFor(() => stream.ended, 'the event stream to end', 10_000);
    } finally {
      await stream.stop();
    }
  });
});

describe('zone names are data, not markup', () => {
  it('JSON returns the name as a string; CSV quotes it and neutralises formulas', async () => {
    const zones = await api('/api/v1/zones', tok.admin);
    expect(zones.headers.get('content-type')).toMatch(/^application\/json/);
    expect(zones.body.find((z: { id: string }) => z.id === 'evil').name).toBe(EVIL_NAME);
    const csv = await api(`/api/v1/zones/evil/series.csv?from=${D}&to=${D + 120}`, tok.admin);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="passant-zone-evil-wifi-${D}-${D + 120}-60.csv"`);
    expect(csv.headers.get('x-content-type-options')).toBe('nosniff');
    const lines = csv.text.split('\r\n');
    expect(lines[0]).toBe('zone,name,radio,time,unix,devices,suppressed');
    const quoted = `"${EVIL_NAME.replace(/"/g, '""')}"`;
    expect(lines[1]).toBe(`evil,${quoted},wifi,2023-11-14T00:00:00Z,${D},8,0`);
    expect(lines[2]).toBe(`evil,${quoted},wifi,2023-11-14T00:01:00Z,${D + 60},,0`);
  });
});

describe('headers and rate limits', () => {
  it('security headers on every response; no HSTS over plain HTTP', async () => {
    for (const path of ['/api/v1/zones', '/api/v1/privacy', '/healthz', '/nothing']) {
      const r = await api(path, tok.admin);
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('permissions-policy')).toMatch(/camera=\(\)/);
      expect(r.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
      expect(r.headers.get('strict-transport-security')).toBeNull();
      expect(r.text).not.toMatch(/at .*\.ts|node_modules/);
    }
  });

  it('429 with Retry-After past the burst, per token and per address; /healthz is limited in buckets of its own', async () => {
    const other = await startTestAggregator(broker.url, {
      aggregator: { id: 'rate-test' },
      zones: ZONES,
      auth: { public: { zones: 'all' } },
      http: { rateLimitPerMinute: 6, rateLimitBurst: 3, trustProxyHops: 1 },
    });
    try {
      const a = other.tokens.create({ role: 'admin' }).token;
      const b = other.tokens.create({ role: 'admin' }).token;
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(`${other.url}/api/v1/zones`, a)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await get(`${other.url}/api/v1/zones`, a);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited.body.code).toBe('rate_limited');
      // another token has its own bucket; anonymous requests are limited by address
      expect((await get(`${other.url}/api/v1/zones`, b)).status).toBe(200);
      const anon = [];
      for (let i = 0; i < 4; i++) anon.push((await get(`${other.url}/api/v1/zones`)).status);
      expect(anon).toEqual([200, 200, 200, 429]);
      // the address's API bucket is empty, its probe bucket is not; the probes have a limit too
      const probes = [];
      for (let i = 0; i < 4; i++) probes.push((await get(`${other.url}/healthz`)).status);
      expect(probes).toEqual([200, 200, 200, 429]);
      // behind a trusted proxy, the forwarded address is the client; HTTPS there turns HSTS on
      const proxied = await get(`${other.url}/api/v1/zones`, undefined, { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' });
      expect(proxied.status).toBe(200);
      expect(proxied.headers.get('strict-transport-security')).toBe('max-age=31536000');
    } finally {
      await other.close();
      removeDir(other.dataDir);
    }
  });
});

describe('auth.public', () => {
  it('a list of public zones: anyone reads those, a token is needed for the rest', async () => {
    const other = await startTestAggregator(broker.url, {
      aggregator: { id: 'public-test' },
      zones: ZONES,
      sites: SITES,
      auth: { public: { zones: ['front'], sites: 'none', privacyPage: false } },
    });
    try {
      expect((await get(`${other.url}/api/v1/zones`)).body).toEqual([{ id: 'front', name: 'Shop front', coordinates: null, site: null }]);
      expect((await get(`${other.url}/api/v1/zones/front/series?from=${D}&to=${D + 60}`)).status).toBe(200);
      expect((await get(`${other.url}/api/v1/zones/back/series`)).status).toBe(401);
      expect((await get(`${other.url}/api/v1/sites`)).status).toBe(401);
      expect((await get(`${other.url}/api/v1/privacy`)).status).toBe(401);
      const privacy = other.tokens.create({ role: 'privacy' }).token;
      expect((await get(`${other.url}/api/v1/privacy`, privacy)).body.publicAccess).toEqual({ zones: ['front'], sites: 'none' });
      // the privacy officer sees the public zone, and no other
      expect((await get(`${other.url}/api/v1/zones`, privacy)).body).toEqual([{ id: 'front', name: 'Shop front', coordinates: null, site: null }]);
    } finally {
      await other.close();
      removeDir(other.dataDir);
    }
  });
});
