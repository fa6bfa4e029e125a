/**
 * Access composes: whatever a caller gets is computed only over the zones it may read.
 *
 * Two aggregators run the same configuration (a public zone, a viewer's zone, a private zone; a public site that
 * holds the public and the private zone) on their own brokers and SQLite files, and receive the same data,
 * except for the private zone: busy (every minute released) on one, nearly empty (most minutes suppressed, other
 * values) on the other. Every route of the OpenAPI document (every zone and site id, both radios, minute and hour
 * steps), /healthz, /metrics and the live event stream are read as the public, a viewer of one zone, a privacy
 * officer and an admin. Whoever may not read the private zone must get byte-identical answers from both; the
 * admin's answers differ (so the private data do reach the routes, and the comparison is not vacuous).
 */
import { topics } from '@passant/shared';
import type { CountsMessage } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';
import { readEvents } from '../helpers/events.ts';
import type { EventStream } from '../helpers/events.ts';
import { removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';

/** A fixed clock: both aggregators answer as at the same moment (default ranges, settling, the privacy page). */
const NOW = Math.floor(Date.now() / 3_600_000) * 3600;
const FROM = NOW - 3 * 3600;
const MINUTES = 150;
const ZONES = [
  { id: 'pub', name: 'Public square', sensors: ['p1'] },
  { id: 'shop', name: 'Shop', sensors: ['a1'] },
  { id: 'priv', name: 'Private yard', sensors: ['x1'] },
];
const SITES = [
  { id: 'town', name: 'Town', zones: ['pub', 'priv'] },
  { id: 'block', name: 'Block', zones: ['shop'] },
];
const ROLES = ['public', 'viewer', 'privacy', 'admin'] as const;
type Role = (typeof ROLES)[number];

interface Side {
  broker: TestBroker;
  publisher: MqttClient;
  agg: TestAggregator;
  tokens: Record<Role, string | undefined>;
  streams: Record<Role, EventStream>;
}

/** The same data for pub and shop; the private zone's differ between the two sides. */
function messages(busyPrivate: boolean): CountsMessage[] {
  const out: CountsMessage[] = [];
  for (let i = 0; i < MINUTES; i++) {
    const t = FROM + i * 60;
    out.push(countsMessage('x1', t, busyPrivate ? 20 + (i % 7) : i % 9 === 0 ? 6 : i % 4, busyPrivate ? 12 : i % 3));
    out.push(countsMessage('p1', t, 3 + (i % 6), 2 + (i % 5)));
    out.push(countsMessage('a1', t, 4 + (i % 4), 1 + (i % 7)));
  }
  return out;
}

async function startSide(busyPrivate: boolean, id: string): Promise<Side> {
  const broker = await startAedes();
  const publisher = await mqtt.connectAsync(broker.url, { clientId: `${id}-publisher`, reconnectPeriod: 0 });
  const agg = await startTestAggregator(
    broker.url,
    {
      k: 5,
      zones: ZONES,
      sites: SITES,
      aggregator: { id: 'composition' },
      auth: { public: { zones: ['pub'], sites: ['town'], privacyPage: true } },
      baseline: { enabled: false },
      http: { rateLimitBurst: 1_000_000, rateLimitPerMinute: 1_000_000 },
    },
    { now: () => NOW },
  );
  await agg.mqttReady;
  const tokens: Record<Role, string | undefined> = {
    public: undefined,
    viewer: agg.tokens.create({ role: 'viewer', zones: ['shop'], name: 'shop owner' }).token,
    privacy: agg.tokens.create({ role: 'privacy', name: 'privacy officer' }).token,
    admin: agg.tokens.create({ role: 'admin', name: 'city' }).token,
  };
  // Streams open before any data: every released cell goes out live.
  const sentinel = (events: any[]) => events.some((e) => e.t === FROM + MINUTES * 60);
  const streams = {} as Record<Role, EventStream>;
  for (const role of ROLES) streams[role] = await readEvents(`${agg.url}/api/v1/events`, sentinel, { token: tokens[role] });
  await waitFor(() => agg.metrics.eventClients.get() === ROLES.length, 'every stream open', 15_000);
  const all = messages(busyPrivate);
  for (const m of all) await publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
  await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === all.length, 'all messages stored', 30_000);
  // A last minute of the public zone, after everything else: once a stream has it, it has all that came before.
  const last = countsMessage('p1', FROM + MINUTES * 60, 9, 9);
  await publisher.publishAsync(topics.sensorCounts('p1'), JSON.stringify(last), { qos: 1 });
  for (const role of ROLES) await waitFor(() => streams[role].ended, `${role}: the last minute's event`, 30_000);
  // every zone calibrated by the admin (head counts of its released wifi minutes): the private zone's calibration
  // differs between the sides, and must change nothing anyone else reads (estimates of the public site included)
  for (const zone of ZONES) {
    const series = await json<Series>(`${agg.url}/api/v1/zones/${zone.id}/series?from=${FROM}&to=${FROM + MINUTES * 60}&step=60`, tokens.admin);
    const counts = series.t.flatMap((t, i) => (series.devices[i] === null ? [] : [{ from: t, to: t, people: series.devices[i]! }])).slice(0, 8);
    const res = await fetch(`${agg.url}/api/v1/zones/${zone.id}/calibrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'present', counts }),
    });
    if (res.status !== 201) throw new Error(`calibrating ${zone.id}: ${res.status} ${await res.text()}`);
  }
  return { broker, publisher, agg, tokens, streams };
}

async function closeSide(side: Side | undefined): Promise<void> {
  if (!side) return;
  for (const stream of Object.values(side.streams)) await stream.stop();
  await side.agg.close();
  removeDir(side.agg.dataDir);
  await side.publisher.endAsync(true);
  await side.broker.close();
}

/** Every URL to read: each route of the OpenAPI document with every id, radio and step, and the non-API routes. */
async function urlsOf(agg: TestAggregator, adminToken: string): Promise<string[]> {
  const doc = (await (await fetch(`${agg.url}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as {
    servers?: { url: string }[];
    paths: Record<string, { get?: { parameters?: { name: string; in: string }[] }; servers?: { url: string }[] }>;
  };
  const urls: string[] = [];
  // a path is relative to its own or the document's server (/api/v1)
  for (const [route, ops] of Object.entries(doc.paths).map(([p, item]) => [`${item.servers?.[0]?.url ?? doc.servers?.[0]?.url ?? ''}${p}`, item] as const)) {
    if (ops.get === undefined || route === '/api/v1/events') continue;
    const ids = route.includes('/zones/{id}') ? ZONES.map((z) => z.id) : route.includes('/sites/{id}') ? SITES.map((s) => s.id) : [null];
    const names = new Set((ops.get.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
    for (const id of ids) {
      const base = id === null ? route : route.replace('{id}', id);
      urls.push(base);
      for (const radio of ['wifi', 'ble']) {
        if (names.has('weeks')) urls.push(`${base}?weeks=1&radio=${radio}`);
        if (!names.has('step')) continue;
        for (const step of [60, 3600]) urls.push(`${base}?from=${FROM - 3600}&to=${NOW}&step=${step}&radio=${radio}`);
        if (names.has('reference')) urls.push(`${base}?from=${FROM - 3600}&to=${NOW}&step=3600&radio=${radio}&reference=${FROM},${FROM + 3600}`);
      }
    }
  }
  return urls;
}

/**
 * What a caller gets, with the few values that move with the wall clock, the machine's speed or chance masked:
 * /healthz's uptime, the store write latency and batch size histograms of /metrics (how the broker happened to
 * batch the same messages), reconnects and duplicates (a broker redelivering under load), the random token id in
 * /me and in the access log (and the log's times), and the temp folder's name. Everything else is compared byte for byte.
 */
async function answer(agg: TestAggregator, url: string, token: string | undefined): Promise<string> {
  const res = await fetch(`${agg.url}${url}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  // (the temp folder's name too, in / without a built dashboard)
  let body = (await res.text()).replaceAll(agg.dataDir, '<data>');
  if (url === '/healthz') body = body.replace(/"uptimeSeconds":\d+/, '"uptimeSeconds":0');
  // token ids are random
  if (url === '/api/v1/me') body = body.replace(/"tokenId":"[^"]*"/, '"tokenId":"<id>"');
  if (url === '/metrics') {
    body = body
      .split('\n')
      // prom-client's default process metrics (CPU, memory, GC) are the test process's, read at another moment
      .filter((line) => /^(# (HELP|TYPE) )?passant_/.test(line))
      .filter((line) => !/^passant_store_(write_seconds|batch_messages)|^passant_mqtt_connects_total |^passant_ingest_messages_total\{result="duplicate"/.test(line))
      .join('\n');
  }
  if (url === '/api/v1/privacy/audit') body = body.replace(/"duplicate":\d+/, '"duplicate":0');
  // calibration ids are random (the same calibration has another id on the other side)
  body = body.replace(/"(id|calibrationId)":"[0-9a-f]{12}"/g, '"$1":"<id>"');
  // the access log lists this test's own requests: token ids are random, times move with the clock
  if (url.startsWith('/api/v1/privacy/access-log')) body = body.replace(/"tokenId":"[^"]*"/g, '"tokenId":"<id>"').replace(/"at":\d+/g, '"at":0');
  return `${res.status} ${body}`;
}

interface Series {
  t: number[];
  devices: (number | null)[];
  suppressed: number[];
  estimate?: { kind: string | null; zones?: { zoneId: string }[] };
}

async function json<T>(url: string, token?: string): Promise<T> {
  return (await (await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} })).json()) as T;
}

let busy: Side | undefined;
let quiet: Side | undefined;

beforeAll(async () => {
  busy = await startSide(true, 'busy');
  quiet = await startSide(false, 'quiet');
}, 180_000);

afterAll(async () => {
  await closeSide(busy);
  await closeSide(quiet);
});

describe('access composes', () => {
  it("a public site sums only its public zones: site minus public zone is not the private zone", async () => {
    for (const side of [busy!, quiet!]) {
      const q = `from=${FROM}&to=${FROM + MINUTES * 60}&step=60`;
      const site = await json<Series>(`${side.agg.url}/api/v1/sites/town/series?${q}`);
      const zone = await json<Series>(`${side.agg.url}/api/v1/zones/pub/series?${q}`);
      // the same series; the estimate info says it is a site's, of its one public zone
      const { estimate: siteEstimate, ...siteSeries } = site;
      const { estimate: _zoneEstimate, ...zoneSeries } = zone;
      expect(siteSeries).toEqual(zoneSeries);
      expect(siteEstimate?.zones?.map((z) => z.zoneId)).toEqual(['pub']);
      // pub is calibrated: the public site's estimate is pub's alone (the private zone's calibration is not read)
      expect(siteEstimate?.kind).toBe('present');
      expect((await json<{ zones: string[] }[]>(`${side.agg.url}/api/v1/sites`))[0]!.zones).toEqual(['pub']);
      // the admin's site is the sum of both zones
      const adminSite = await json<Series>(`${side.agg.url}/api/v1/sites/town/series?${q}`, side.tokens.admin);
      const priv = await json<Series>(`${side.agg.url}/api/v1/zones/priv/series?${q}`, side.tokens.admin);
      expect(adminSite.devices).toEqual(zone.devices.map((d, i) => (d === null && priv.devices[i] === null ? null : (d ?? 0) + (priv.devices[i] ?? 0))));
    }
  });

  it('no answer of any route, nor the event stream, changes for a caller who may not read the zone whose data changed', async () => {
    // (read from both: the request counters of /metrics must see the same requests)
    const listed = await urlsOf(busy!.agg, busy!.tokens.admin!);
    expect(await urlsOf(quiet!.agg, quiet!.tokens.admin!)).toEqual(listed);
    const urls = [...new Set(['/', '/healthz', '/metrics', ...listed])];
    expect(urls.length).toBeGreaterThan(40);
    const differing: Record<Role, string[]> = { public: [], viewer: [], privacy: [], admin: [] };
    for (const role of ROLES) {
      for (const url of urls) {
        const a = await answer(busy!.agg, url, busy!.tokens[role]);
        const b = await answer(quiet!.agg, url, quiet!.tokens[role]);
        if (a !== b) {
          const lines = b.split('\n');
          differing[role].push(`${url} :: ${(a.split('\n').find((line) => !lines.includes(line)) ?? '').slice(0, 300)}`);
        }
      }
      // the same events, in whatever order the settle passes (batched by how the messages arrived) sent them
      const events = (side: Side) => JSON.stringify(side.streams[role].events.map((e) => JSON.stringify(e)).sort());
      if (events(busy!) !== events(quiet!)) differing[role].push('/api/v1/events :: ');
    }
    expect({ public: differing.public, viewer: differing.viewer, privacy: differing.privacy }).toEqual({ public: [], viewer: [], privacy: [] });
    // not vacuous: the admin reads the private zone, and its answers differ (series, site sums, privacy page, events)
    expect(differing.admin).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/api\/v1\/zones\/priv\/series\?/),
        expect.stringMatching(/^\/api\/v1\/sites\/town\/series\?/),
        expect.stringMatching(/^\/api\/v1\/privacy :: /),
        expect.stringMatching(/^\/api\/v1\/events :: /),
      ]),
    );
  });
});
