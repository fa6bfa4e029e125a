/**
 * The open-data feed (/api/v1/open-data/...) and FIWARE NGSI-LD (/ngsi-ld/v1/entities, the push to a context broker)
 * on a real aggregator fed through a real MQTT broker (aedes), with a real SQLite store and calibration database:
 * - two public zones (one with coordinates, a public site and a passers calibration; one without) and a private
 *   zone whose sensor hears a marker number of devices every minute;
 * - hidden minutes (fewer than k devices) in both public zones, and an hour where every minute is hidden.
 * The feed and the entities carry the public zones only, released values only (a hidden minute adds nothing and an
 * hour with nothing released is null, never 0), estimated passers only where the zone is calibrated, and every
 * entity in key-values form validates against the FIWARE CrowdFlowObserved JSON Schema (the copies in fixtures/).
 * There is no Orion (or any context broker) here: the push goes to a small local HTTP server standing in for the
 * broker's batch upsert endpoint.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { topics } from '@passant/shared';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';
import { AccessPolicy } from '../../src/auth/access.ts';
import { CalibrationStore, calibrationsFileOf } from '../../src/estimate/calibration-store.ts';
import { NgsiPusher } from '../../src/interop/ngsi-push.ts';
import { removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';
import { rng } from '../helpers/rng.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/fiware');
const readJson = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;

/** The hour before the current one (B) and the one before it (A). */
const T0 = Math.floor(Date.now() / 3_600_000) * 3600;
const A = T0 - 7200;
const B = T0 - 3600;
const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
/** Devices the private zone's sensor hears every minute: must never appear. */
const MARK = 613;

const random = rng(7);
/** People passing the market square per minute in hour A; minutes 10-14 nearly empty (hidden with k = 5). */
const PEOPLE = Array.from({ length: 60 }, (_, i) => (i >= 10 && i < 15 ? 1 : 5 + Math.floor(random() * 15)));
const MARKT = PEOPLE.map((p) => 2 * p + (Math.floor(random() * 3) - 1));
/** The shop street: 7 devices a minute, minute 30 only 3 (hidden); in hour B one minute of 3 devices, nothing else. */
const WINKEL = Array.from({ length: 60 }, (_, i) => (i === 30 ? 3 : 7));

let broker: TestBroker;
let publisher: MqttClient;
let agg: TestAggregator;
let admin: string;
/** What the stand-in context broker received. */
const upserts: { path: string; headers: http.IncomingHttpHeaders; body: unknown }[] = [];
let brokerStatus = 201;
let contextBroker: http.Server;
let contextBrokerUrl: string;

beforeAll(async () => {
  contextBroker = http.createServer((req, res) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
    req.on('end', () => {
      upserts.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(data || 'null') });
      res.writeHead(brokerStatus).end();
    });
  });
  await new Promise<void>((resolve) => contextBroker.listen(0, '127.0.0.1', resolve));
  contextBrokerUrl = `http://127.0.0.1:${(contextBroker.address() as AddressInfo).port}`;
  broker = await startAedes();
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'open-data-publisher', reconnectPeriod: 0 });
  agg = await startTestAggregator(broker.url, {
    aggregator: { id: 'open-data' },
    k: 5,
    settleSeconds: 1,
    zones: [
      { id: 'markt', name: 'Marktplein', coordinates: { lat: 52.3731, lon: 4.8926 }, sensors: ['s1'] },
      { id: 'winkel', name: 'Winkelstraat', sensors: ['s2'] },
      { id: 'prive', name: 'Achterom', coordinates: { lat: 52.1, lon: 4.1 }, sensors: ['s3'] },
    ],
    sites: [
      { id: 'centrum', name: 'Centrum', zones: ['markt'] },
      { id: 'achter', name: 'Achterbuurt', zones: ['winkel', 'prive'] },
    ],
    auth: { public: { zones: ['markt', 'winkel'], sites: ['centrum'] } },
    openData: { publisher: 'Gemeente Voorbeeld', contact: 'opendata@voorbeeld.nl' },
    ngsiLd: { push: { enabled: true, brokerUrl: contextBrokerUrl, tenant: 'passant', intervalSeconds: 3600 } },
  });
  await agg.mqttReady;
  const messages = [
    ...MARKT.map((d, i) => countsMessage('s1', A + 60 * i, d)),
    ...WINKEL.map((d, i) => countsMessage('s2', A + 60 * i, d)),
    countsMessage('s2', B + 600, 3),
    ...Array.from({ length: 60 }, (_, i) => countsMessage('s3', A + 60 * i, MARK)),
  ];
  for (const m of messages) await publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
  await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === messages.length, 'messages stored', 30_000);
  admin = agg.tokens.create({ role: 'admin' }).token;
  // A passers calibration of the market square: clicker counts per 5 minutes (the truth), hidden minutes left out.
  const counts = [0, 5, 15, 20, 25, 30, 35, 40, 45, 50, 55].map((m) => ({ from: A + m * 60, to: A + (m + 5) * 60, people: PEOPLE.slice(m, m + 5).reduce((s, p) => s + p, 0) }));
  const res = await fetch(`${agg.url}/api/v1/zones/markt/calibrations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'passers', counts }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}, 60_000);

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await publisher?.endAsync(true);
  await broker?.close();
  await new Promise((resolve) => contextBroker?.close(resolve));
});

async function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${agg.url}${url}`, { headers });
}

/** RFC 4180: fields in double quotes may hold commas, quotes ("") and line breaks; lines end in CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  expect(field, 'the CSV ends with CRLF').toBe('');
  return rows;
}

interface Rec {
  sensor: string;
  periode: string;
  datumUur: string;
  van: string;
  aantalPassanten: number | null;
  aantalPassantenLaag: number | null;
  aantalPassantenHoog: number | null;
  apparaatMinuten: number | null;
  verborgenMinuten: number;
  vrijgegevenMinuten: number;
  meting: string;
  gebied: string | null;
  geometrie: unknown;
  [key: string]: unknown;
}

describe('open data', () => {
  it('hourly: the public zones in the Amsterdam crowd monitor field names, passers where calibrated, devices named as devices elsewhere', async () => {
    const res = await get(`/api/v1/open-data/hourly?from=${A}&to=${T0}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('link')).toBe('<https://creativecommons.org/licenses/by/4.0/>; rel="license"');
    const body = (await res.json()) as { licentie: string; uitgever: string; records: Rec[] };
    expect(body).toMatchObject({ licentie: 'CC-BY-4.0', uitgever: 'Gemeente Voorbeeld', periode: 'uur', tijdzone: 'Europe/Amsterdam' });
    expect(body.records.map((r) => `${r.sensor} ${r.van}`)).toEqual([`markt ${iso(A)}`, `winkel ${iso(A)}`, `winkel ${iso(B)}`]);
    const [markt, winkel, winkelB] = body.records as [Rec, Rec, Rec];
    const released = MARKT.filter((_, i) => i < 10 || i >= 15).reduce((s, d) => s + d, 0);
    expect(markt).toMatchObject({
      sensor: 'markt',
      naamLocatie: 'Marktplein',
      periode: 'uur',
      meting: 'passanten',
      apparaatMinuten: released,
      vrijgegevenMinuten: 55,
      verborgenMinuten: 5,
      minuten: 60,
      radio: 'wifi',
      gebied: 'Centrum',
      geometrie: { type: 'Point', coordinates: [4.8926, 52.3731] },
    });
    expect(markt.datumUur).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:00:00\+0[12]:00$/);
    expect(new Date(markt.datumUur).getTime() / 1000).toBe(A);
    // the estimate: an integer inside its interval, near the people who passed in the released minutes
    const truth = PEOPLE.filter((_, i) => i < 10 || i >= 15).reduce((s, p) => s + p, 0);
    expect(Number.isInteger(markt.aantalPassanten)).toBe(true);
    expect(markt.aantalPassantenLaag!).toBeLessThanOrEqual(markt.aantalPassanten!);
    expect(markt.aantalPassantenHoog!).toBeGreaterThanOrEqual(markt.aantalPassanten!);
    expect(Math.abs(markt.aantalPassanten! - (truth * 60) / 55) / truth).toBeLessThan(0.2);
    // the same estimate as the zone's own series gives (hidden minutes bounded by the release rule, not guessed)
    const api = (await (await get(`/api/v1/zones/markt/series?from=${A}&to=${A + 3600}&step=3600`)).json()) as { passers: number[]; passersLow: number[]; passersHigh: number[] };
    // (whole people: the bounds rounded outwards)
    expect([markt.aantalPassanten, markt.aantalPassantenLaag, markt.aantalPassantenHoog]).toEqual([Math.round(api.passers[0]!), Math.floor(api.passersLow[0]!), Math.ceil(api.passersHigh[0]!)]);
    // not calibrated: devices only, named as devices; the hidden minute (3 devices) adds nothing
    expect(winkel).toMatchObject({ meting: 'apparaten', aantalPassanten: null, aantalPassantenLaag: null, apparaatMinuten: 59 * 7, verborgenMinuten: 1, gebied: null, geometrie: null });
    // an hour where the only minute was hidden: null, never 0
    expect(winkelB).toMatchObject({ apparaatMinuten: null, aantalPassanten: null, vrijgegevenMinuten: 0, verborgenMinuten: 1 });
  });

  it('carries exactly what the public series gives, whoever asks', async () => {
    const anonymous = await (await get(`/api/v1/open-data/hourly?from=${A}&to=${T0}`)).text();
    const asAdmin = await (await get(`/api/v1/open-data/hourly?from=${A}&to=${T0}`, { authorization: `Bearer ${admin}` })).text();
    expect(asAdmin).toBe(anonymous);
    for (const zone of ['markt', 'winkel']) {
      const series = (await (await get(`/api/v1/zones/${zone}/series?from=${A}&to=${T0}&step=3600`)).json()) as { devices: (number | null)[]; suppressed: number[] };
      const records = (JSON.parse(anonymous) as { records: Rec[] }).records.filter((r) => r.sensor === zone);
      expect(records.map((r) => r.apparaatMinuten)).toEqual(series.devices.filter((_, i) => series.devices[i] !== null || series.suppressed[i]! > 0));
    }
  });

  it('leaves the private zone out, and its counts never appear', async () => {
    for (const url of [
      `/api/v1/open-data/hourly?from=${A}&to=${T0}`,
      `/api/v1/open-data/hourly.csv?from=${A}&to=${T0}`,
      `/api/v1/open-data/daily?from=${A - 86_400}&to=${T0 + 86_400}`,
      `/api/v1/open-data/daily.csv?from=${A - 86_400}&to=${T0 + 86_400}`,
      `/api/v1/open-data/hourly?from=${A}&to=${T0}&zone=prive`,
      `/ngsi-ld/v1/entities?type=CrowdFlowObserved&q=dateObservedFrom>=${iso(A)};dateObservedTo<=${iso(T0)}`,
      `/ngsi-ld/v1/entities?options=keyValues&id=urn:ngsi-ld:CrowdFlowObserved:prive&q=dateObservedFrom==${iso(A)}`,
    ]) {
      for (const headers of [{}, { authorization: `Bearer ${admin}` }] as Record<string, string>[]) {
        const res = await get(url, headers);
        expect(res.status, url).toBe(200);
        const text = await res.text();
        expect(text, url).not.toMatch(/prive|Achterom|Achterbuurt|52\.1\b/);
        expect(text, url).not.toMatch(new RegExp(`(?<![0-9.])(${MARK}|${MARK * 60})(?![0-9])`));
      }
    }
    const only = (await (await get(`/api/v1/open-data/hourly?from=${A}&to=${T0}&zone=prive`)).json()) as { records: Rec[] };
    expect(only.records).toEqual([]);
  });

  it('CSV: parseable, the same records as the JSON, an empty cell where nothing was released', async () => {
    const json = (await (await get(`/api/v1/open-data/hourly?from=${A}&to=${T0}`)).json()) as { records: Rec[] };
    const res = await get(`/api/v1/open-data/hourly.csv?from=${A}&to=${T0}`);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="passant-passanten-hourly-wifi.csv"/);
    const [header, ...rows] = parseCsv(await res.text());
    expect(header).toEqual(['sensor', 'naamLocatie', 'periode', 'datumUur', 'van', 'tot', 'aantalPassanten', 'aantalPassantenLaag', 'aantalPassantenHoog', 'apparaatMinuten', 'minuten', 'vrijgegevenMinuten', 'verborgenMinuten', 'meting', 'radio', 'gebied', 'geometrie']);
    expect(rows).toHaveLength(json.records.length);
    rows.forEach((row, i) => {
      const record = json.records[i]!;
      header!.forEach((field, j) => {
        const value = record[field];
        expect(row[j], `${i} ${field}`).toBe(value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));
      });
    });
    expect(JSON.parse(rows[0]![header!.indexOf('geometrie')]!)).toEqual({ type: 'Point', coordinates: [4.8926, 52.3731] });
  });

  it('daily: local days in the configured time zone', async () => {
    const body = (await (await get(`/api/v1/open-data/daily?from=${A}&to=${T0}`)).json()) as { records: Rec[] };
    const markt = body.records.filter((r) => r.sensor === 'markt');
    expect(markt).toHaveLength(1);
    expect(markt[0]).toMatchObject({ periode: 'dag', vrijgegevenMinuten: 55, verborgenMinuten: 5, meting: 'passanten' });
    expect(markt[0]!.datumUur).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00\+0[12]:00$/);
    const winkel = body.records.filter((r) => r.sensor === 'winkel');
    expect(winkel.reduce((s, r) => s + r.verborgenMinuten, 0)).toBe(2);
    expect(winkel.reduce((s, r) => s + (r.apparaatMinuten ?? 0), 0)).toBe(59 * 7);
    const csv = parseCsv(await (await get(`/api/v1/open-data/daily.csv?from=${A}&to=${T0}`)).text());
    expect(csv.length - 1).toBe(body.records.length);
  });

  it('describes itself in DCAT: title, publisher, licence, update frequency, contact, distributions', async () => {
    const d = (await (await get('/api/v1/open-data')).json()) as Record<string, any>;
    expect(d['@type']).toBe('dcat:Dataset');
    expect(d['dct:title']).toBe('Passanten (Passant)');
    expect(d['dct:publisher']['foaf:name']).toBe('Gemeente Voorbeeld');
    expect(d['dct:license']).toEqual({ '@id': 'https://creativecommons.org/licenses/by/4.0/' });
    expect(d['dct:accrualPeriodicity']['@id']).toMatch(/frequency\/HOURLY$/);
    expect(d['dcat:contactPoint']['vcard:hasEmail']).toEqual({ '@id': 'mailto:opendata@voorbeeld.nl' });
    const urls = (d['dcat:distribution'] as { 'dcat:accessURL': { '@id': string } }[]).map((x) => x['dcat:accessURL']['@id']);
    expect(urls).toEqual(['/api/v1/open-data/hourly', '/api/v1/open-data/hourly.csv', '/api/v1/open-data/daily', '/api/v1/open-data/daily.csv']);
    for (const url of urls) expect((await get(url)).status, url).toBe(200);
  });

  it('refuses bad queries with a 400', async () => {
    for (const q of ['from=2026-13-01', 'from=yesterday', `from=${T0}&to=${A}`, `from=${A - 40 * 86_400}&to=${A}`, 'radio=lora', 'zone=../x', 'step=60']) {
      const res = await get(`/api/v1/open-data/hourly?${q}`);
      expect(res.status, q).toBe(400);
    }
  });
});

describe('NGSI-LD', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajvFormats.default(ajv);
  ajv.addSchema(readJson('fiware-common-schema.json'));
  const validate = ajv.compile(readJson('fiware-CrowdFlowObserved.schema.json'));
  const period = `q=dateObservedFrom>=${iso(A)};dateObservedTo<=${iso(B)}`;

  it('the validator is the FIWARE schema: it takes the model’s own example and refuses a wrong entity', () => {
    expect(validate(readJson('fiware-CrowdFlowObserved.example-keyvalues.json')), JSON.stringify(validate.errors)).toBe(true);
    const example = readJson('fiware-CrowdFlowObserved.example-keyvalues.json');
    expect(validate({ ...example, peopleCount: 2.5 })).toBe(false);
    expect(validate({ ...example, dateObservedFrom: 'yesterday' })).toBe(false);
    expect(validate({ ...example, location: { type: 'Point', coordinates: [4.9] } })).toBe(false);
    const { dateObserved: _, ...noDate } = example;
    expect(validate(noDate)).toBe(false);
  });

  it('every entity in key-values form validates against the FIWARE CrowdFlowObserved schema; peopleCount only where calibrated', async () => {
    const res = await get(`/ngsi-ld/v1/entities?type=CrowdFlowObserved&options=keyValues&${period}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('link')).toMatch(/^<\/ngsi-ld\/v1\/contexts\/passant>; rel="http:\/\/www.w3.org\/ns\/json-ld#context"/);
    const entities = (await res.json()) as Record<string, any>[];
    expect(entities.map((e) => e.id)).toEqual(['urn:ngsi-ld:CrowdFlowObserved:markt', 'urn:ngsi-ld:CrowdFlowObserved:winkel']);
    for (const e of entities) expect(validate(e), `${e.id}: ${JSON.stringify(validate.errors)}`).toBe(true);
    const [markt, winkel] = entities as [Record<string, any>, Record<string, any>];
    expect(markt).toMatchObject({ type: 'CrowdFlowObserved', name: 'Marktplein', dateObserved: `${iso(A)}/${iso(B)}`, dateObservedFrom: iso(A), dateObservedTo: iso(B), areaServed: 'Centrum', location: { type: 'Point', coordinates: [4.8926, 52.3731] }, hiddenMinutes: 5, releasedMinutes: 55, radio: 'wifi' });
    const feed = (await (await get(`/api/v1/open-data/hourly?from=${A}&to=${B}&zone=markt`)).json()) as { records: Rec[] };
    expect(markt.peopleCount).toBe(feed.records[0]!.aantalPassanten);
    expect(markt.deviceMinutes).toBe(feed.records[0]!.apparaatMinuten);
    expect(winkel.peopleCount).toBeUndefined();
    expect(winkel.deviceMinutes).toBe(59 * 7);
    // hour B: the shop street's only minute was hidden: no value, no peopleCount, no deviceMinutes (NGSI-LD has no null)
    const later = (await (await get(`/ngsi-ld/v1/entities?options=keyValues&id=urn:ngsi-ld:CrowdFlowObserved:winkel&q=dateObservedFrom==${iso(B)}`)).json()) as Record<string, any>[];
    expect(later).toHaveLength(1);
    expect(validate(later[0])).toBe(true);
    expect(later[0]).toMatchObject({ hiddenMinutes: 1, releasedMinutes: 0 });
    expect('deviceMinutes' in later[0]! || 'peopleCount' in later[0]!).toBe(false);
    // a period of two hours, given as a whole
    const both = (await (await get(`/ngsi-ld/v1/entities?options=keyValues&q=dateObservedFrom>=${iso(A)};dateObservedTo<=${iso(T0)}`)).json()) as Record<string, any>[];
    for (const e of both) expect(validate(e)).toBe(true);
    expect(both[1]).toMatchObject({ hiddenMinutes: 2, deviceMinutes: 59 * 7, dateObserved: `${iso(A)}/${iso(T0)}` });
  });

  it('normalized form by default; JSON-LD with the @context in the body when asked for', async () => {
    const normalized = (await (await get(`/ngsi-ld/v1/entities?type=CrowdFlowObserved&${period}`)).json()) as Record<string, any>[];
    const markt = normalized[0]!;
    expect(markt.type).toBe('CrowdFlowObserved');
    expect(markt.location).toEqual({ type: 'GeoProperty', value: { type: 'Point', coordinates: [4.8926, 52.3731] } });
    expect(markt.dateObservedFrom).toEqual({ type: 'Property', value: { '@type': 'DateTime', '@value': iso(A) } });
    expect(markt.peopleCount).toEqual({ type: 'Property', value: expect.any(Number) });
    const ld = await get(`/ngsi-ld/v1/entities?type=CrowdFlowObserved&${period}`, { accept: 'application/ld+json' });
    expect(ld.headers.get('content-type')).toMatch(/^application\/ld\+json/);
    const withContext = (await ld.json()) as Record<string, any>[];
    expect(withContext[0]!['@context']).toEqual([expect.objectContaining({ deviceMinutes: expect.any(String) }), expect.stringContaining('smart-data-models'), expect.stringContaining('ngsi-ld-core-context')]);
    const context = await get('/ngsi-ld/v1/contexts/passant');
    expect(context.headers.get('content-type')).toMatch(/^application\/ld\+json/);
    expect(((await context.json()) as Record<string, unknown>)['@context']).toEqual(withContext[0]!['@context']);
  });

  it('filters by entity id, type and attributes, pages and counts; refuses what it cannot answer', async () => {
    const ids = async (query: string) => ((await (await get(`/ngsi-ld/v1/entities?options=keyValues&${period}&${query}`)).json()) as { id: string }[]).map((e) => e.id);
    expect(await ids('id=urn:ngsi-ld:CrowdFlowObserved:winkel')).toEqual(['urn:ngsi-ld:CrowdFlowObserved:winkel']);
    expect(await ids('id=urn:ngsi-ld:CrowdFlowObserved:prive,urn:ngsi-ld:CrowdFlowObserved:nowhere')).toEqual([]);
    expect(await ids('type=TrafficFlowObserved')).toEqual([]);
    expect(await ids('type=https://smartdatamodels.org/dataModel.Transportation/CrowdFlowObserved')).toHaveLength(2);
    expect(await ids('limit=1&offset=1')).toEqual(['urn:ngsi-ld:CrowdFlowObserved:winkel']);
    const counted = await get(`/ngsi-ld/v1/entities?options=keyValues&${period}&count=true&limit=0`);
    expect(counted.headers.get('ngsild-results-count')).toBe('2');
    expect(await counted.json()).toEqual([]);
    const projected = (await (await get(`/ngsi-ld/v1/entities?options=keyValues&${period}&attrs=peopleCount`)).json()) as Record<string, unknown>[];
    expect(projected.map((e) => Object.keys(e).sort())).toEqual([['id', 'peopleCount', 'type'], ['id', 'type']]);
    for (const q of ['q=peopleCount>3', `q=dateObservedFrom>=${iso(A + 60)}`, 'q=dateObservedFrom>=yesterday', `q=dateObservedFrom>=${iso(B)};dateObservedTo<=${iso(A)}`, 'options=sparse', 'limit=5000', 'radio=lora', 'georel=near']) {
      expect((await get(`/ngsi-ld/v1/entities?${q}`)).status, q).toBe(400);
    }
  });
});

describe('NGSI-LD push to a context broker (a local HTTP server stands in for it: no Orion here)', () => {
  it('config-driven: at start the aggregator upserts the public zones, normalized, with their @context and tenant', async () => {
    await waitFor(() => upserts.length > 0, 'the first push', 10_000);
    const first = upserts[0]!;
    expect(first.path).toBe('/ngsi-ld/v1/entityOperations/upsert');
    expect(first.headers['content-type']).toBe('application/ld+json');
    expect(first.headers['ngsild-tenant']).toBe('passant');
    const entities = first.body as Record<string, any>[];
    expect(entities.map((e) => e.id)).toEqual(['urn:ngsi-ld:CrowdFlowObserved:markt', 'urn:ngsi-ld:CrowdFlowObserved:winkel']);
    for (const e of entities) {
      expect(e['@context']).toHaveLength(3);
      expect(e.dateObservedFrom).toEqual({ type: 'Property', value: { '@type': 'DateTime', '@value': expect.any(String) } });
    }
    expect(JSON.stringify(upserts)).not.toMatch(/prive/);
  });

  it('pushes every complete hour since the last one the broker took, and again after the broker failed', async () => {
    let now = B + 3600 + 30;
    // the aggregator's calibration database, opened a second time (SQLite, WAL)
    const calibrations = CalibrationStore.open(calibrationsFileOf(agg.dataDir));
    const pusher = new NgsiPusher({
      registry: agg.registry,
      release: agg.release,
      access: new AccessPolicy({ zones: ['markt', 'winkel'], sites: ['centrum'], privacyPage: true }),
      calibrations,
      brokerUrl: `${contextBrokerUrl}/`,
      intervalSeconds: 3600,
      timeoutMs: 2000,
      radio: 'wifi',
      now: () => now,
    });
    try {
      upserts.length = 0;
      now = A + 3600 + 30; // just after hour A
      const first = await pusher.pushNow();
      expect(first).toMatchObject({ hours: [A], entities: 2, status: 201, ok: true });
      const pushed = upserts[0]!.body as Record<string, any>[];
      expect(pushed[0]!.peopleCount.value).toBeGreaterThan(0);
      expect(pushed[1]!.deviceMinutes).toEqual({ type: 'Property', value: 59 * 7 });
      // three hours later the broker is away: nothing is taken
      now = A + 4 * 3600 + 30;
      brokerStatus = 503;
      expect(await pusher.pushNow()).toMatchObject({ hours: [], ok: false, status: 503 });
      // back: the three hours it missed, oldest first
      brokerStatus = 204;
      upserts.length = 0;
      expect(await pusher.pushNow()).toMatchObject({ hours: [A + 3600, A + 7200, A + 3 * 3600], entities: 6, ok: true });
      expect(upserts.map((u) => (u.body as Record<string, any>[])[0]!.dateObservedFrom.value['@value'])).toEqual([iso(A + 3600), iso(A + 7200), iso(A + 3 * 3600)]);
    } finally {
      brokerStatus = 201;
      await pusher.close();
      calibrations.close();
    }
  });
});
