/**
 * Exports people open (series.csv?format=csv|csv-nl) on a real server (SQLite file, in-process aedes broker, counts
 * over MQTT): columns that say what they hold, local times with their offset across the change to winter time, the
 * Dutch Excel variant (`;`, decimal comma, BOM), file names with the zone and the local dates, and the same numbers
 * as the series route.
 */
import { topics } from '@passant/shared';
import type { CountsMessage } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportText } from '../../src/http/export.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';

const AMS = encodeURIComponent('Europe/Amsterdam');
/** 1 October 2024 00:00 in Amsterdam (2024-09-30T22:00Z). */
const OCT1 = 1_727_733_600;
/** 1 November 2024 00:00 in Amsterdam (2024-10-31T23:00Z). */
const NOV1 = 1_730_415_600;
/** Sunday 27 October 2024 22:30Z: 23:30 local, in the 25-hour day. */
const LATE = 1_730_068_200;

let broker: TestBroker;
let publisher: MqttClient;
let agg: TestAggregator;

const messages: CountsMessage[] = [
  // (s2 reports its minutes too: a cell is released once every sensor of its zone has reported it)
  ...[
    [LATE, 8],
    [LATE + 60, 7],
    [LATE + 120, 3], // below k: hidden
    [OCT1 + 1800, 12],
  ].flatMap(([t, n]) => [countsMessage('s1', t!, n!), countsMessage('s2', t!, 0)]),
];

/** The body as sent: a byte order mark is kept (Response.text() would drop it). */
async function get(path: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${agg.url}${path}`);
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
  return { status: res.status, text, headers: res.headers };
}

beforeAll(async () => {
  broker = await startAedes();
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'export-publisher', reconnectPeriod: 0 });
  agg = await startTestAggregator(broker.url, {
    k: 5,
    zones: [{ id: 'front', name: 'Winkelstraat; "=oost"', sensors: ['s1', 's2'] }],
    aggregator: { id: 'export-test' },
    auth: { public: { zones: 'all', sites: 'all' } },
    http: { maxSeriesRangeDays: 400, rateLimitPerMinute: 0 },
  });
  await agg.mqttReady;
  for (const m of messages) await publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
  await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === messages.length, 'messages stored');
});

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await publisher?.endAsync(true);
  await broker?.close();
});

describe('series.csv for people', () => {
  it('Dutch Excel: a month of local days, ; and decimal comma, BOM, Dutch column names, the 25-hour day', async () => {
    const { status, text, headers } = await get(`/api/v1/zones/front/series.csv?from=${OCT1}&to=${NOV1}&step=day&tz=${AMS}&format=csv-nl`);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(headers.get('content-disposition')).toBe('attachment; filename="passant-zone-front-wifi-2024-10-01_2024-10-31-day-nl.csv"');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const lines = text.slice(1).split('\r\n');
    expect(lines).toHaveLength(1 + 31 + 1); // header, 31 days, the empty string after the last CRLF
    expect(lines[0]).toBe(
      'zone;naam;radio;datum (lokaal);begin (lokale tijd);einde (lokale tijd);apparaat-minuten (som over de vrijgegeven minuten van de apparaten die elk telde);gemiddeld aantal apparaten per minuut (apparaat-minuten / minuten vrijgegeven);minuten vrijgegeven;minuten verborgen (minder dan k apparaten: nooit getoond)',
    );
    // the name holds ; and a quote and starts a formula after the quote: quoted, not neutralised (it starts with W)
    expect(lines[1]).toBe('front;"Winkelstraat; ""=oost""";wifi;2024-10-01;2024-10-01T00:00:00+02:00;2024-10-02T00:00:00+02:00;12;12;1;0');
    expect(lines[27]).toBe('front;"Winkelstraat; ""=oost""";wifi;2024-10-27;2024-10-27T00:00:00+02:00;2024-10-28T00:00:00+01:00;15;7,5;2;1');
    expect(lines[2]).toBe('front;"Winkelstraat; ""=oost""";wifi;2024-10-02;2024-10-02T00:00:00+02:00;2024-10-03T00:00:00+02:00;;;0;0');
  });

  it('English, minutes: each minute released or hidden; the same device numbers as the series route', async () => {
    const from = LATE - 60;
    const to = LATE + 240;
    const { text, headers } = await get(`/api/v1/zones/front/series.csv?from=${from}&to=${to}&step=60&tz=${AMS}&format=csv`);
    expect(headers.get('content-disposition')).toBe('attachment; filename="passant-zone-front-wifi-2024-10-27_2024-10-27-minute.csv"');
    const lines = text.slice(1).trim().split('\r\n');
    expect(lines[0]).toBe(
      'zone,name,radio,date (local),start (local time),end (local time),device-minutes (sum over the released minutes of the devices counted in each),mean devices per minute (device-minutes / minutes released),minutes released,minutes hidden (fewer than k devices: never shown)',
    );
    const rows = lines.slice(1).map((l) => l.split(',').slice(-7));
    expect(rows).toEqual([
      ['2024-10-27', '2024-10-27T23:29:00+01:00', '2024-10-27T23:30:00+01:00', '', '', '0', '0'],
      ['2024-10-27', '2024-10-27T23:30:00+01:00', '2024-10-27T23:31:00+01:00', '8', '8', '1', '0'],
      ['2024-10-27', '2024-10-27T23:31:00+01:00', '2024-10-27T23:32:00+01:00', '7', '7', '1', '0'],
      ['2024-10-27', '2024-10-27T23:32:00+01:00', '2024-10-27T23:33:00+01:00', '', '', '0', '1'],
      ['2024-10-27', '2024-10-27T23:33:00+01:00', '2024-10-27T23:34:00+01:00', '', '', '0', '0'],
    ]);
    const series = JSON.parse((await get(`/api/v1/zones/front/series?from=${from}&to=${to}&step=60`)).text) as { devices: (number | null)[] };
    expect(rows.map((r) => (r[3] === '' ? null : Number(r[3])))).toEqual(series.devices);
  });

  it('86400 without tz: UTC days whose released minutes are known; hours: minutes released not known, left empty', async () => {
    const days = await get(`/api/v1/zones/front/series.csv?from=${LATE - 86_400}&to=${LATE + 86_400}&step=86400&format=csv`);
    const dayRows = days.text.slice(1).trim().split('\r\n').slice(1);
    expect(dayRows.at(-1)!.split(',').slice(-7)).toEqual(['2024-10-27', '2024-10-27T00:00:00+00:00', '2024-10-28T00:00:00+00:00', '15', '7.5', '2', '1']);
    const hours = await get(`/api/v1/zones/front/series.csv?from=${LATE - 1800}&to=${LATE + 1800}&step=3600&format=csv`);
    expect(hours.text.slice(1).trim().split('\r\n')[1]!.split(',').slice(-5)).toEqual(['2024-10-27T23:00:00+00:00', '15', '', '', '1']);
  });

  it('the CSV of programs is unchanged without format; an unknown format is a 400', async () => {
    const plain = await get(`/api/v1/zones/front/series.csv?from=${LATE}&to=${LATE + 60}&step=60`);
    expect(plain.text.split('\r\n')[0]).toBe('zone,name,radio,time,unix,devices,suppressed');
    const bad = await get(`/api/v1/zones/front/series.csv?format=xlsx`);
    expect(bad.status).toBe(400);
    const problem = JSON.parse(bad.text);
    expect(problem.detail ?? problem.error?.message).toMatch(/^format must be one of csv, csv-nl/);
  });
});

describe('exportText', () => {
  it.each([
    ['plain', ';', 'plain'],
    ['a;b', ';', '"a;b"'],
    ['a;b', ',', 'a;b'],
    ['a,b', ',', '"a,b"'],
    ['=SUM(A1)', ';', "'=SUM(A1)"],
    ['-5;x', ';', '"\'-5;x"'],
  ])('%j with %j is %j', (value, separator, expected) => {
    expect(exportText(value, separator)).toBe(expected);
  });
});
