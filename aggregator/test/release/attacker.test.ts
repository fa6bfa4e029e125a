/**
 * An attacker against the release layer, end to end. On many small random data sets (zones in sites, a few
 * sensors, a few hours of minutes with values near k), a real aggregator (in-process: real SQLite file in a temp
 * dir, HTTP on port 0, an in-process aedes broker; every fifth data set arrives over MQTT, the others are written
 * to the store) is asked for every output its API offers, as an admin: the routes are read from
 * /api/v1/openapi.json, and every series route is fetched for every zone and site, both radios, minute, hour and
 * day steps, aligned and unaligned ranges; CSV downloads, comparisons, hour-of-week profiles and the live event
 * stream too. Every zone is calibrated (POST .../calibrations, head counts equal to released minutes, so a = 1 and
 * the estimates carry the released means as exactly as their two decimals allow), and every series names a
 * reference period, so the estimates (people) and the index are outputs too: the attacker turns each back into the
 * sum of its bucket's cells (estimateEquations) wherever its rounding allows.
 *
 * The attacker then tries to recover any suppressed base cell (zone, minute, radio):
 * - a linear system: each output value is the sum of the base cells of its bucket; the cells are the unknowns.
 *   Singleton equations are substituted first, the rest is solved by Gaussian elimination in the field of
 *   integers modulo a 26-bit prime (exact arithmetic; it decides the same rank as the rationals unless the prime
 *   divides a minor, which for these 0/1 systems is negligible). A suppressed cell is recovered when its value
 *   is determined and equals the true value (every cell of these data sets is at least 1, so "0" is never right);
 * - differencing: every pair of outputs where one bucket holds the other and the difference holds exactly one
 *   suppressed cell (and otherwise released ones) is tried directly.
 * It must never succeed. To show the attack is not vacuous, the same attack runs against a deliberately broken
 * release layer (a store whose hour and day rollups sum every cell, suppressed ones included) and must succeed.
 *
 * A second test puts marker values below k (a sensor alone in its zone, a pair summing to the marker, an
 * unassigned sensor) and scans the response of every route, for an admin, a viewer and anonymous callers, and the
 * live event stream, for the marker, its frames and randomized counts.
 *
 * PASSANT_ATTACK_SEEDS sets the number of data sets (default 200).
 */
import path from 'node:path';
import { topics } from '@passant/shared';
import type { CountsMessage, Radio } from '@passant/shared';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hourOfWeek } from '../../src/http/compare.ts';
import type { SiteInput, ZoneInput } from '../../src/registry.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { addToRollup, emptyRollupRadio } from '../../src/store/types.ts';
import type { ReleaseStore, Rollup, RollupStep } from '../../src/store/types.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { makeDataDir, removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';
import { rng } from '../helpers/rng.ts';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';
import { attack } from '../../src/audit/differencing.ts';
import { estimateSeries } from '../../src/estimate/estimate.ts';
import { indexSeries } from '../../src/http/estimates.ts';
import type { AttackResult, Cell, Equation } from '../../src/audit/differencing.ts';

const SEEDS = Number(process.env.PASSANT_ATTACK_SEEDS ?? 200);
const BROKEN_SEEDS = 12;
const K = 5;
const SETTLE_SECONDS = 120;
const RADIOS = ['wifi', 'ble'] as const;
/** A day-aligned base time (2023-11-14T00:00:00Z); the aggregator's clock is set just after each data set. */
const BASE = 1_699_920_000;

// ------------------------------------------------------------------ data sets

interface Dataset {
  zones: ZoneInput[];
  sites: SiteInput[];
  messages: CountsMessage[];
  /** First minute with data and the end of the data (exclusive). */
  from: number;
  to: number;
  viaMqtt: boolean;
}

/** Splits `total` into `parts` non-negative integers at random. */
function split(random: () => number, total: number, parts: number): number[] {
  const out = new Array<number>(parts).fill(0);
  for (let i = 0; i < total; i++) out[Math.floor(random() * parts)]! += 1;
  return out;
}

function generate(seed: number): Dataset {
  const random = rng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const zoneCount = 2 + int(2);
  const zones: ZoneInput[] = [];
  let sensorNo = 0;
  for (let z = 0; z < zoneCount; z++) {
    const sensors = Array.from({ length: 1 + int(3) }, () => `s${seed}-${sensorNo++}`);
    zones.push({ id: `z${z}`, name: `Zone ${z}`, sensors });
  }
  const sites: SiteInput[] =
    zoneCount === 3 && random() < 0.5
      ? [
          { id: 'site-a', name: 'Site A', zones: ['z0', 'z1'] },
          { id: 'site-b', name: 'Site B', zones: ['z2'] },
        ]
      : [{ id: 'site-a', name: 'Site A', zones: zones.slice(0, 2 + int(zoneCount - 1)).map((z) => z.id) }];
  const hours = 1 + int(3);
  const from = BASE + int(20) * 3600 + int(60) * 60; // not hour-aligned
  const to = from + hours * 3600;
  const suppressRate = [0.03, 0.1, 0.3, 0.6][int(4)]!;
  const messages: CountsMessage[] = [];
  for (const zone of zones) {
    for (let t = from; t < to; t += 60) {
      if (random() < 0.1) continue; // the zone has no data this minute
      const total = (radio: Radio) => (random() < suppressRate ? 1 + int(K - 1) : K + int(8)) + (radio === 'ble' ? 0 : 0);
      const wifi = split(random, total('wifi'), zone.sensors!.length);
      const ble = split(random, total('ble'), zone.sensors!.length);
      zone.sensors!.forEach((s, i) => messages.push(countsMessage(s, t, wifi[i], ble[i])));
    }
  }
  // an unassigned sensor: stored apart, released nowhere
  for (let t = from; t < to; t += 60 * (1 + int(5))) messages.push(countsMessage(`u${seed}`, t, 1 + int(K), int(K)));
  return { zones, sites, messages, from, to, viaMqtt: seed % 5 === 0 };
}

// ------------------------------------------------------------------ a broken release layer

/**
 * A store whose rollups sum every frozen cell, suppressed ones included, and count none as suppressed: what a
 * release layer that summed raw cells for hours and days would publish.
 */
function rawRollupStore(file: string): ReleaseStore {
  const inner = SqliteStore.open(file);
  const rollups = async (zoneId: string, step: RollupStep, from: number, to: number): Promise<Rollup[]> => {
    const rows = new Map<number, Rollup>();
    for (const cell of await inner.cells([zoneId], from, to)) {
      const t = Math.floor(cell.windowStart / step) * step;
      const row = rows.get(t) ?? { zoneId, step, t, wifi: emptyRollupRadio(), ble: emptyRollupRadio() };
      for (const radio of RADIOS) addToRollup(row[radio], { ...cell[radio], released: true });
      rows.set(t, row);
    }
    return [...rows.values()].sort((a, b) => a.t - b.t);
  };
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'rollups') return rollups;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

// ------------------------------------------------------------------ collecting every output

interface Collected {
  equations: Equation[];
  requests: number;
  routes: string[];
}

interface OpenApi {
  servers?: { url: string }[];
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }> & { servers?: { url: string }[] }>;
}

/** The documented paths as full paths (a path is relative to its own or the document's server, e.g. /api/v1). */
function documentedPaths(doc: OpenApi): OpenApi['paths'] {
  return Object.fromEntries(Object.entries(doc.paths).map(([p, item]) => [`${(item.servers?.[0]?.url ?? doc.servers?.[0]?.url ?? '').replace(/\/$/, '')}${p}`, item]));
}

/** What the attacker knows of each zone's minutes (zone|radio): which were released, with their sum, and which hidden. */
interface MinuteKnowledge {
  released: Map<number, number>;
  hidden: Set<number>;
}

/**
 * Equations from a series' estimates and index. A zone's estimate of people with a = 1, baseline 0 and no residual
 * spread (the calibrations below) is (R m + H cap / 2) / (R + H), m the bucket's released devices per released
 * minute, R and H its released and hidden minutes, cap = sensors x (k - 1); so R m = people (R + H) - H cap / 2.
 * The index is 100 m / m_ref, so R m = index m_ref R / 100. Each is used where its rounding (two decimals) cannot
 * move the sum by half a device.
 */
function estimateEquations(
  body: { t: number[]; people?: (number | null)[]; index?: (number | null)[] },
  zones: string[],
  radio: Radio,
  step: number,
  know: (zones: string[], radio: Radio, from: number, to: number) => { released: number; hidden: number; sum: number },
  cap: number | null,
  reference: { sum: number; released: number } | null,
): Equation[] {
  const out: Equation[] = [];
  body.t.forEach((t, i) => {
    const k = know(zones, radio, t, t + step);
    if (k.released === 0) return;
    const people = body.people?.[i];
    if (cap !== null && people !== null && people !== undefined && 0.005 * (k.released + k.hidden) < 0.45) {
      out.push({ radio, zones, from: t, to: t + step, value: Math.round(people * (k.released + k.hidden) - (k.hidden * cap) / 2), source: 'estimate' });
    }
    const index = body.index?.[i];
    if (reference !== null && reference.released > 0 && index !== null && index !== undefined) {
      const refMean = reference.sum / reference.released;
      if (0.005 * refMean * k.released < 45) out.push({ radio, zones, from: t, to: t + step, value: Math.round((index * refMean * k.released) / 100), source: 'index' });
    }
  });
  return out;
}

async function collect(agg: TestAggregator, data: Dataset, token: string, random: () => number, events: Equation[]): Promise<Collected> {
  const headers = { authorization: `Bearer ${token}` };
  let requests = 0;
  const get = async (url: string): Promise<Response> => {
    requests++;
    const res = await fetch(`${agg.url}${url}`, { headers });
    if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    return res;
  };
  // the minutes as the API shows them (released or hidden), which the attacker needs to undo estimates and the index
  const minutes = new Map<string, MinuteKnowledge>();
  for (const zone of data.zones) {
    for (const radio of RADIOS) {
      const body = (await (await get(`/api/v1/zones/${zone.id}/series?from=${data.from}&to=${data.to}&step=60&radio=${radio}`)).json()) as {
        t: number[];
        devices: (number | null)[];
        suppressed: number[];
      };
      const k: MinuteKnowledge = { released: new Map(), hidden: new Set() };
      body.t.forEach((t, i) => {
        if (body.devices[i] !== null) k.released.set(t, body.devices[i]!);
        if (body.suppressed[i]! > 0) k.hidden.add(t);
      });
      minutes.set(`${zone.id}|${radio}`, k);
    }
  }
  const know = (zones: string[], radio: Radio, from: number, to: number) => {
    let released = 0;
    let hidden = 0;
    let sum = 0;
    for (const z of zones) {
      const k = minutes.get(`${z}|${radio}`)!;
      for (const [t, v] of k.released) if (t >= from && t < to) (released++, (sum += v));
      for (const t of k.hidden) if (t >= from && t < to) hidden++;
    }
    return { released, hidden, sum };
  };
  const capOf = (zones: string[]) => (zones.length === 1 ? data.zones.find((z) => z.id === zones[0])!.sensors!.length * (K - 1) : null);
  const reference = `${data.from},${data.to}`;
  const doc = (await (await get('/api/v1/openapi.json')).json()) as OpenApi;
  const paths = documentedPaths(doc);
  const routes = Object.entries(paths)
    .filter(([, ops]) => ops.get !== undefined)
    .map(([p]) => p);
  const equations: Equation[] = [...events];
  const targets = [
    ...data.zones.map((z) => ({ kind: 'zones', id: z.id, zones: [z.id] })),
    ...data.sites.map((s) => ({ kind: 'sites', id: s.id, zones: s.zones! })),
  ];
  const hourFrom = Math.floor(data.from / 3600) * 3600;
  const dayFrom = Math.floor(data.from / 86_400) * 86_400;
  const ranges = (step: number): [number, number][] => {
    const start = step === 60 ? data.from : step === 3600 ? hourFrom : dayFrom;
    const end = Math.ceil(data.to / step) * step;
    // aligned; unaligned (from and to inside buckets: the API floors them); a part of the range
    const inside = start + Math.floor(random() * ((end - start) / step)) * step;
    return [
      [start, end],
      [start + 1 + Math.floor(random() * (step - 1)), end + 7],
      [inside, Math.min(end, inside + step * (1 + Math.floor(random() * 3)))],
    ];
  };
  const seriesEquations = (zones: string[], radio: Radio, step: number, t: number[], devices: (number | null)[], source: string) => {
    t.forEach((bucket, i) => {
      const v = devices[i];
      if (v !== null && v !== undefined) equations.push({ radio, zones, from: bucket, to: bucket + step, value: v, source });
    });
  };

  for (const route of routes) {
    const params = paths[route]!.get!.parameters ?? [];
    const names = new Set(params.filter((p) => p.in === 'query').map((p) => p.name));
    const kind = route.startsWith('/api/v1/zones/{id}') ? 'zones' : route.startsWith('/api/v1/sites/{id}') ? 'sites' : null;
    if (route === '/api/v1/events') continue; // read as a stream, from before the data arrived
    if (kind === null) {
      // health, metrics, the dashboard, the privacy page, sensor health...: read, no counts to parse
      if (!route.includes('{')) {
        requests++;
        await (await fetch(`${agg.url}${route}`, { headers })).arrayBuffer();
      }
      continue;
    }
    for (const target of targets.filter((t) => t.kind === kind)) {
      const base = route.replace('{id}', target.id);
      if (route.endsWith('/profile')) {
        for (const radio of RADIOS) {
          const body = (await (await get(`${base}?weeks=1&tz=UTC&radio=${radio}`)).json()) as {
            from: number;
            to: number;
            mean: (number | null)[];
            hours: number[];
          };
          body.mean.forEach((mean, slot) => {
            if (mean === null || body.hours[slot] !== 1) return;
            // the one hour of the slot in [from, to) (one week): its released value
            for (let t = body.from; t < body.to; t += 3600) {
              if (hourOfWeek(t, 'UTC') === slot) equations.push({ radio, zones: target.zones, from: t, to: t + 3600, value: mean, source: 'profile' });
            }
          });
        }
        continue;
      }
      if (!names.has('from') || !names.has('step')) {
        await (await get(base)).arrayBuffer();
        continue;
      }
      for (const radio of RADIOS) {
        // calendar buckets in local time (a series says the minutes each bucket covers): days in Amsterdam and in a
        // half-hour zone (read from minute cells), ISO weeks and months
        if (route.endsWith('/series')) {
          for (const [step, tz] of [
            ['day', 'Europe/Amsterdam'],
            ['day', 'Asia/Kolkata'],
            ['week', 'Europe/Amsterdam'],
            ['month', 'UTC'],
          ] as const) {
            const url = `${base}?from=${data.from}&to=${data.to}&step=${step}&tz=${encodeURIComponent(tz)}&radio=${radio}${names.has('reference') ? `&reference=${reference}` : ''}`;
            const body = (await (await get(url)).json()) as { t: number[]; devices: (number | null)[]; minutes: number[]; index: (number | null)[] };
            body.t.forEach((bucket, i) => {
              const v = body.devices[i];
              if (v !== null && v !== undefined) equations.push({ radio, zones: target.zones, from: bucket, to: bucket + body.minutes[i]! * 60, value: v, source: `series ${step} ${tz}` });
              const ref = know(target.zones, radio, data.from, data.to);
              const k = know(target.zones, radio, bucket, bucket + body.minutes[i]! * 60);
              const index = body.index[i];
              if (index !== null && index !== undefined && ref.released > 0 && k.released > 0) {
                equations.push({ radio, zones: target.zones, from: bucket, to: bucket + body.minutes[i]! * 60, value: Math.round((index * (ref.sum / ref.released) * k.released) / 100), source: `index ${step} ${tz}` });
              }
            });
          }
        }
        for (const step of [60, 3600, 86_400]) {
          // series: every range; CSV and compare: one range each, at random
          const all = ranges(step);
          const chosen = route.endsWith('/series') ? all : [all[Math.floor(random() * all.length)]!];
          for (const [from, to] of chosen) {
            const url = `${base}?from=${from}&to=${to}&step=${step}&radio=${radio}${names.has('reference') && !route.endsWith('/compare') ? `&reference=${reference}` : ''}`;
            const res = await get(url);
            if (route.endsWith('.csv')) {
              const [header, ...lines] = (await res.text()).trim().split('\r\n');
              const columns = header!.split(',');
              const t: number[] = [];
              const devices: (number | null)[] = [];
              const people: (number | null)[] = [];
              const index: (number | null)[] = [];
              const value = (cols: string[], name: string) => {
                const at = columns.indexOf(name);
                return at < 0 || cols[at] === '' ? null : Number(cols[at]);
              };
              for (const line of lines) {
                // the name column is plain text here (no comma)
                const cols = line.split(',');
                t.push(value(cols, 'unix')!);
                devices.push(value(cols, 'devices'));
                people.push(value(cols, 'estimated_people_mean_per_minute'));
                index.push(value(cols, 'index_reference_100'));
              }
              seriesEquations(target.zones, radio, step, t, devices, 'csv');
              const ref = know(target.zones, radio, data.from, data.to);
              equations.push(...estimateEquations({ t, people, index }, target.zones, radio, step, know, capOf(target.zones), { sum: ref.sum, released: ref.released }));
            } else if (route.endsWith('/compare-periods')) {
              // both sides, their totals, and for a site each zone's totals
              type Side = { t: number[]; devices: (number | null)[]; total: number | null; from: number; to: number };
              const body = (await res.json()) as { period: Side; against: Side; zones?: { id: string; period: { total: number | null }; against: { total: number | null } }[] };
              for (const key of ['period', 'against'] as const) {
                const p = body[key];
                seriesEquations(target.zones, radio, step, p.t, p.devices, 'compare-periods');
                if (p.total !== null) equations.push({ radio, zones: target.zones, from: p.from, to: p.to, value: p.total, source: 'compare-periods total' });
                for (const zone of body.zones ?? []) {
                  const total = zone[key].total;
                  if (total !== null) equations.push({ radio, zones: [zone.id], from: p.from, to: p.to, value: total, source: 'compare-periods zone total' });
                }
              }
            } else if (route.endsWith('/compare')) {
              const body = (await res.json()) as Record<string, { from: number; to: number; t: number[]; devices: (number | null)[]; total: number | null }>;
              for (const key of ['current', 'previous', 'lastWeek']) {
                const p = body[key]!;
                seriesEquations(target.zones, radio, step, p.t, p.devices, 'compare');
                if (p.total !== null && p.t.length > 0) {
                  equations.push({ radio, zones: target.zones, from: p.t[0]!, to: p.t.at(-1)! + step, value: p.total, source: 'compare total' });
                }
              }
            } else {
              const body = (await res.json()) as { t: number[]; devices: (number | null)[]; people: (number | null)[]; index: (number | null)[] };
              seriesEquations(target.zones, radio, step, body.t, body.devices, 'series');
              const ref = know(target.zones, radio, data.from, data.to);
              equations.push(...estimateEquations(body, target.zones, radio, step, know, capOf(target.zones), { sum: ref.sum, released: ref.released }));
              if (names.has('include')) {
                // a site's series with its zones' series beside it (?include=zones): every zone's too
                type Zoned = { zones: { id: string; series: typeof body }[] };
                for (const zone of ((await (await get(`${url}&include=zones`)).json()) as Zoned).zones) {
                  seriesEquations([zone.id], radio, step, zone.series.t, zone.series.devices, 'site series, its zone');
                  const zoneRef = know([zone.id], radio, data.from, data.to);
                  equations.push(...estimateEquations(zone.series, [zone.id], radio, step, know, capOf([zone.id]), { sum: zoneRef.sum, released: zoneRef.released }));
                }
              }
            }
          }
        }
      }
    }
  }
  return { equations, requests, routes };
}

// ------------------------------------------------------------------ running one data set

let broker: TestBroker;
let publisher: mqtt.MqttClient;

beforeAll(async () => {
  broker = await startAedes();
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'attack-publisher', reconnectPeriod: 0 });
});
afterAll(async () => {
  await publisher?.endAsync(true);
  await broker?.close();
});

interface SeedOutcome extends AttackResult {
  seed: number;
  requests: number;
  routes: string[];
  suppressedCells: number;
  events: number;
  /** Equations the attacker made of estimates and of the index. */
  fromEstimates: number;
}

async function runSeed(seed: number, broken: boolean): Promise<SeedOutcome> {
  const data = generate(seed);
  const dataDir = makeDataDir();
  let now = data.to + 3600 + SETTLE_SECONDS;
  const store = broken ? rawRollupStore(path.join(dataDir, 'passant.db')) : undefined;
  const agg = await startTestAggregator(
    broker.url,
    {
      aggregator: { id: `attack-${seed}` },
      k: K,
      settleSeconds: SETTLE_SECONDS,
      zones: data.zones,
      sites: data.sites,
      http: { rateLimitPerMinute: 0 },
      log: { level: 'warn' },
    },
    { dataDir, now: () => now, ...(store ? { store } : {}) },
  );
  const controller = new AbortController();
  try {
    const { token } = agg.tokens.create({ role: 'admin', name: 'attacker' });
    // the live stream, from before the data arrive
    const eventEquations: Equation[] = [];
    const stream = await fetch(`${agg.url}/api/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
    expect(stream.status).toBe(200);
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of stream.body!) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          const blocks = buffer.split('\n\n');
          buffer = blocks.pop()!;
          for (const block of blocks) {
            for (const line of block.split('\n')) {
              if (!line.startsWith('data: ')) continue;
              const cell = JSON.parse(line.slice(6)) as { zoneId: string; radio: Radio; t: number; devices: number | null };
              if (cell.devices !== null) eventEquations.push({ radio: cell.radio, zones: [cell.zoneId], from: cell.t, to: cell.t + 60, value: cell.devices, source: 'event' });
            }
          }
        }
      } catch {
        // aborted at the end
      }
    })();

    if (data.viaMqtt) {
      await agg.mqttReady;
      for (const m of data.messages) await publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
      await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) >= data.messages.length, 'all messages stored', 20_000);
    } else {
      for (let i = 0; i < data.messages.length; i += 200) {
        const batch = data.messages.slice(i, i + 200);
        await agg.store.put(batch, now - 60);
        agg.live.notifyStored(batch);
      }
    }
    now += SETTLE_SECONDS + 60;
    await agg.release.settle();
    await agg.live.idle();

    // the truth: every base cell as frozen
    const truth: Cell[] = [];
    for (const c of await agg.store.cells(null, data.from, data.to)) {
      for (const radio of RADIOS) truth.push({ zone: c.zoneId, t: c.windowStart, radio, value: c[radio].devices, released: c[radio].released });
    }
    expect(truth.length).toBeGreaterThan(0);
    expect(truth.every((c) => c.value >= 1)).toBe(true);

    // every zone calibrated, both radios: head counts equal to released minutes (a = 1), where there are six
    let calibrated = 0;
    for (const zone of data.zones) {
      for (const radio of RADIOS) {
        const minutes = (await (await fetch(`${agg.url}/api/v1/zones/${zone.id}/series?from=${data.from}&to=${data.to}&step=60&radio=${radio}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          t: number[];
          devices: (number | null)[];
        };
        const counts = minutes.t.flatMap((t, i) => (minutes.devices[i] === null ? [] : [{ from: t + 30, to: t + 30, people: minutes.devices[i]! }])).slice(0, 12);
        if (counts.length < 6) continue;
        const res = await fetch(`${agg.url}/api/v1/zones/${zone.id}/calibrations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ kind: 'present', radio, counts }),
        });
        expect(res.status, await res.text()).toBe(201);
        calibrated++;
      }
    }
    expect(calibrated).toBeGreaterThan(0);

    const collected = await collect(agg, data, token, rng(seed ^ 0x5bd1e995), eventEquations);
    const result = attack(truth, collected.equations);
    // the aggregator ends the stream as it closes (a client that aborts first leaves the server a busy socket)
    await agg.close();
    await reading;
    return {
      seed,
      ...result,
      requests: collected.requests,
      routes: collected.routes,
      suppressedCells: truth.filter((c) => !c.released).length,
      events: eventEquations.length,
      fromEstimates: collected.equations.filter((e) => /^(estimate|index)/.test(e.source)).length,
    };
  } finally {
    controller.abort();
    await agg.close();
    removeDir(dataDir);
  }
}

describe('an attacker with every output of the API', () => {
  it(`recovers no suppressed cell, on ${SEEDS} random data sets`, async () => {
    const outcomes: SeedOutcome[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) outcomes.push(await runSeed(seed, false));
    const total = (f: (o: SeedOutcome) => number) => outcomes.reduce((s, o) => s + f(o), 0);
    const summary = {
      seeds: outcomes.length,
      viaMqtt: outcomes.filter((o) => o.seed % 5 === 0).length,
      requests: total((o) => o.requests),
      equations: total((o) => o.equations),
      unknowns: total((o) => o.unknowns),
      suppressedCells: total((o) => o.suppressedCells),
      suppressedDetermined: total((o) => o.determined),
      liveEvents: total((o) => o.events),
      fromEstimates: total((o) => o.fromEstimates),
      recovered: total((o) => o.recovered.length),
      routes: outcomes[0]!.routes,
    };
    process.stdout.write(`attacker against the release layer: ${JSON.stringify(summary)}\n`);
    // the attack had material: series at every step, CSV, comparisons, profiles and live events
    expect(summary.suppressedCells).toBeGreaterThan(100);
    expect(summary.liveEvents).toBeGreaterThan(0);
    expect(summary.fromEstimates).toBeGreaterThan(1000);
    expect(summary.routes).toEqual(expect.arrayContaining(['/api/v1/zones/{id}/series', '/api/v1/sites/{id}/series']));
    const leaks = outcomes.flatMap((o) => o.recovered.map((r) => ({ seed: o.seed, ...r })));
    expect(leaks.slice(0, 5)).toEqual([]);
  }, 900_000);

  it('does recover suppressed cells from a broken release layer (hours and days summing raw cells)', async () => {
    const outcomes: SeedOutcome[] = [];
    for (let seed = 1; seed <= BROKEN_SEEDS; seed++) outcomes.push(await runSeed(seed, true));
    const recovered = outcomes.reduce((s, o) => s + o.recovered.length, 0);
    const how = new Set(outcomes.flatMap((o) => o.ways));
    process.stdout.write(
      `attacker against a broken release layer: ${JSON.stringify({ seeds: outcomes.length, recovered, seedsWithLeaks: outcomes.filter((o) => o.recovered.length > 0).length, how: [...how] })}\n`,
    );
    expect(recovered).toBeGreaterThan(0);
    // leaks wherever an hour holds a single suppressed cell (the data sets with few suppressed cells)
    expect(outcomes.filter((o) => o.recovered.length > 0).length).toBeGreaterThanOrEqual(BROKEN_SEEDS / 4);
    expect(how).toEqual(new Set(['linear', 'difference']));
  }, 300_000);
});

// ------------------------------------------------------------------ estimates and the index as a channel

describe('estimates and the index, read back by the attacker', () => {
  // one zone, one sensor (cap = k - 1), three hours of minutes; minute 7 of each hour hidden, with value 3
  const cells: Cell[] = [];
  for (let t = BASE; t < BASE + 3 * 3600; t += 60) {
    const hidden = ((t - BASE) / 60) % 60 === 7;
    cells.push({ zone: 'z', t, radio: 'wifi', value: hidden ? 3 : 10 + (((t - BASE) / 60) % 13), released: !hidden });
  }
  const know = (_zones: string[], _radio: Radio, from: number, to: number) => {
    const inside = cells.filter((c) => c.t >= from && c.t < to);
    const released = inside.filter((c) => c.released);
    return { released: released.length, hidden: inside.length - released.length, sum: released.reduce((s, c) => s + c.value, 0) };
  };
  const minuteEquations: Equation[] = cells.filter((c) => c.released).map((c) => ({ radio: 'wifi', zones: ['z'], from: c.t, to: c.t + 60, value: c.value, source: 'series' }));
  const ref = know(['z'], 'wifi', BASE, BASE + 3 * 3600);
  /** Hourly people (the API's estimate, a = 1) and index, from the hours' released sums or, leaking, their sums of every cell. */
  const hourly = (leak: boolean) => {
    const t = [BASE, BASE + 3600, BASE + 7200];
    const counts = t.map((h) => know(['z'], 'wifi', h, h + 3600));
    const devices = t.map((h, i) => (leak ? cells.filter((c) => c.t >= h && c.t < h + 3600).reduce((s, c) => s + c.value, 0) : counts[i]!.sum));
    const released = counts.map((k) => k.released);
    const calibration = { id: 'c', kind: 'present' as const, radio: 'wifi' as const, created: 0, parameters: { a: 1, aStdError: 0, residualSd: 0, df: 9, sumX2: 1, t: 2.26, meanMinutes: 1, baseline: 0 } };
    const estimate = estimateSeries({ t, devices, suppressed: counts.map((k) => k.hidden), released, step: 3600, radio: 'wifi' }, 0, calibration, { hiddenCap: K - 1 });
    return { t, people: estimate.people, index: indexSeries(devices, released, { devices: ref.sum, released: ref.released }) };
  };
  const recovered = (leak: boolean, use: 'people' | 'index') => {
    const body = hourly(leak);
    const eqs = estimateEquations(use === 'people' ? { t: body.t, people: body.people } : { t: body.t, index: body.index }, ['z'], 'wifi', 3600, know, K - 1, use === 'index' ? ref : null);
    expect(eqs).toHaveLength(3);
    return attack(cells, [...minuteEquations, ...eqs]).recovered.length;
  };

  it('recover every hidden cell when they were computed from every cell (a leaking layer)', () => {
    expect(recovered(true, 'people')).toBe(3);
    expect(recovered(true, 'index')).toBe(3);
  });

  it('recover none when they are computed from released cells, as the API does', () => {
    expect(recovered(false, 'people')).toBe(0);
    expect(recovered(false, 'index')).toBe(0);
  });
});

// ------------------------------------------------------------------ markers below k in every response

describe('every route answers only through the release layer', () => {
  /** Below k = 900; none of these numbers occurs in anything released here. */
  const MARK = 777;
  /** Devices of the marked cells and sensors, their frames and randomized counts, and the pair's sensors. */
  const MARKERS = [MARK, MARK - 1, MARK + 1, MARK * 3, (MARK - 1) * 3, (MARK + 1) * 3, 388, 389, 2 * MARK, 419, 358, 317, 459];
  const markerPattern = new RegExp(`(?<![0-9.])(${MARKERS.join('|')})(?![0-9])`);

  async function scanEverything(agg: TestAggregator, tokens: Record<string, string | null>, from: number, to: number): Promise<{ hits: string[]; bodies: number; released: boolean }> {
    const hits: string[] = [];
    let bodies = 0;
    let released = false;
    const doc = (await (await fetch(`${agg.url}/api/v1/openapi.json`)).json()) as OpenApi;
    const urls = new Set<string>(['/', '/healthz', '/metrics']);
    for (const [route, ops] of Object.entries(documentedPaths(doc))) {
      if (ops.get === undefined || route === '/api/v1/events') continue;
      const ids = route.includes('/zones/{id}') ? ['mark', 'pair', 'open'] : route.includes('/sites/{id}') ? ['all-zones', 'marked'] : [null];
      const names = new Set((ops.get.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
      for (const id of ids) {
        const base = id === null ? route : route.replace('{id}', id);
        urls.add(base);
        for (const radio of RADIOS) {
          if (names.has('weeks')) urls.add(`${base}?weeks=1&radio=${radio}`);
          if (!names.has('step')) continue;
          for (const step of [60, 3600, 86_400]) urls.add(`${base}?from=${Math.floor(from / step) * step}&to=${to + step}&step=${step}&radio=${radio}`);
          // the index against a reference period (its values are ratios: never a marker, or only by leaking one)
          if (names.has('reference')) urls.add(`${base}?from=${from}&to=${to + 60}&step=60&radio=${radio}&reference=${from},${to + 60}`);
        }
      }
    }
    for (const [who, token] of Object.entries(tokens)) {
      for (const url of urls) {
        const res = await fetch(`${agg.url}${url}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
        // ETags are hashes of the body (base64 may hold any digits), not data: left out of the scan.
        const headers = [...res.headers].filter(([k]) => k !== 'etag');
        let body = await res.text();
        // prom-client's default process metrics (memory, GC, handles) are numbers of this Node process, about no zone
        if (url === '/metrics') body = body.split('\n').filter((line) => !/^(# (HELP|TYPE) )?(process|nodejs)_/.test(line)).join('\n');
        const text = `${headers.map(([k, v]) => `${k}: ${v}`).join('\n')}\n${body}`;
        bodies++;
        if (/\b95[0-9]\b/.test(text)) released = true;
        const m = markerPattern.exec(text);
        if (m) hits.push(`${who} ${url}: ${m[0]} in …${text.slice(Math.max(0, m.index - 60), m.index + 20)}…`);
      }
    }
    return { hits, bodies, released };
  }

  async function runMarkers(broken: boolean): Promise<{ hits: string[]; bodies: number; released: boolean; events: string }> {
    const dataDir = makeDataDir();
    const from = BASE + 3 * 3600;
    const to = from + 3 * 60;
    let now = to + 3600;
    const store = broken ? rawRollupStore(path.join(dataDir, 'passant.db')) : undefined;
    const agg = await startTestAggregator(
      broker.url,
      {
        aggregator: { id: `markers-${broken ? 'broken' : 'ok'}` },
        k: 900,
        zones: [
          { id: 'mark', name: 'Marked', sensors: ['m1'] },
          { id: 'pair', name: 'Pair', sensors: ['p1', 'p2'] },
          { id: 'open', name: 'Open', sensors: ['o1'] },
        ],
        sites: [
          { id: 'all-zones', name: 'All', zones: ['mark', 'pair', 'open'] },
          { id: 'marked', name: 'Marked site', zones: [] },
        ],
        auth: { public: { zones: 'all', sites: 'all' } },
        http: { rateLimitPerMinute: 0 },
        log: { level: 'warn' },
      },
      { dataDir, now: () => now, ...(store ? { store } : {}) },
    );
    const controller = new AbortController();
    try {
      const admin = agg.tokens.create({ role: 'admin' }).token;
      const viewer = agg.tokens.create({ role: 'viewer', zones: ['mark', 'open'] }).token;
      const privacy = agg.tokens.create({ role: 'privacy' }).token;
      const stream = await fetch(`${agg.url}/api/v1/events`, { headers: { authorization: `Bearer ${admin}` }, signal: controller.signal });
      let events = '';
      const reading = (async () => {
        const decoder = new TextDecoder();
        try {
          for await (const chunk of stream.body!) events += decoder.decode(chunk as Uint8Array, { stream: true });
        } catch {
          // aborted
        }
      })();
      // one minute each (hour and day sums of a broken layer would show the marker)
      const messages = [
        countsMessage('m1', from, MARK, MARK - 1),
        countsMessage('p1', from + 60, 419, 317),
        countsMessage('p2', from + 60, 358, 459), // the pair's cell: 777 and 776
        countsMessage('o1', from, 950, 951),
        countsMessage('o1', from + 60, 952, 953),
        countsMessage('u1', from, MARK + 1, MARK), // unassigned
      ];
      await agg.mqttReady;
      for (const m of messages) await publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
      await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === messages.length, 'stored', 30_000);
      now += 600;
      await agg.release.settle();
      await agg.live.idle();
      const result = await scanEverything(agg, { admin, viewer, privacy, anonymous: null }, from, to);
      await agg.close();
      await reading;
      return { ...result, events };
    } finally {
      controller.abort();
      await agg.close();
      removeDir(dataDir);
    }
  }

  it('no marker below k reaches any response or event, for any caller', async () => {
    const { hits, bodies, released, events } = await runMarkers(false);
    expect(bodies).toBeGreaterThan(50);
    expect(released).toBe(true); // the scan sees released values, so it would see a marker
    expect(events).toMatch(/"devices":95[0-9]/);
    expect(events).not.toMatch(markerPattern);
    expect(hits).toEqual([]);
  }, 120_000);

  it('finds the marker when the release layer is broken (hour and day sums of raw cells)', async () => {
    const { hits } = await runMarkers(true);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.join('\n')).toMatch(/step=3600|step=86400|compare|profile/);
  }, 120_000);
});
