/**
 * Calibration over real HTTP, on an aggregator fed through a real MQTT broker: a zone whose sensor hears two devices
 * per person (the truth), manual counts posted, the fitted slope, what is refused and why, who may read what, and
 * that calibrations are kept in their own database file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { topics } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { captureOutput } from '@passant/test-helpers/capture-output';
import { waitFor } from '@passant/test-helpers/wait';
import { calibrationCommand, parseCountsCsv, parseTime } from '../../src/estimate/calibration-command.ts';
import { CalibrationStore } from '../../src/estimate/calibration-store.ts';
import { MIN_POINTS } from '../../src/estimate/model.ts';
import { removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage, minuteAgo } from '../helpers/messages.ts';
import { rng } from '../helpers/rng.ts';

const MINUTES = 60;
/** The first minute: recent, so the ingest takes the windows (it refuses windows that are too old). */
const D = minuteAgo(MINUTES + 5);
/** People in the square per minute (the truth); minutes 10-14 are nearly empty, so their cells are hidden (k = 5). */
const random = rng(42);
const PEOPLE = Array.from({ length: MINUTES }, (_, i) => (i >= 10 && i < 15 ? 1 : 6 + Math.floor(random() * 20)));
/** Two devices per person, give or take one. */
const DEVICES = PEOPLE.map((p) => 2 * p + (Math.floor(random() * 3) - 1));

let broker: TestBroker;
let publisher: MqttClient;
let agg: TestAggregator;
let admin: string;

async function call(method: string, url: string, token?: string, body?: unknown, contentType = 'application/json') {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = contentType;
  const res = await fetch(`${agg.url}${url}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

/** Head counts (present, at a moment) at the given minutes, with the true number of people. */
function headCounts(minutes: number[]) {
  return minutes.map((m) => ({ from: D + m * 60 + 17, to: D + m * 60 + 17, people: PEOPLE[m]! }));
}

beforeAll(async () => {
  broker = await startAedes();
  publisher = await mqtt.connectAsync(broker.url, { clientId: 'calibration-publisher', reconnectPeriod: 0 });
  agg = await startTestAggregator(broker.url, {
    aggregator: { id: 'calibration-routes' },
    k: 5,
    settleSeconds: 1,
    zones: [
      { id: 'square', name: 'Square', sensors: ['s1'] },
      { id: 'lane', name: 'Lane', sensors: ['s2'] },
    ],
    // square is public; lane is not (a privacy token reads the calibrations of public zones only)
    auth: { public: { zones: ['square'], sites: 'none' } },
  });
  await agg.mqttReady;
  const messages = DEVICES.map((d, i) => countsMessage('s1', D + 60 * i, d));
  for (const m of messages) await publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
  await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) === messages.length, 'messages stored');
  admin = agg.tokens.create({ role: 'admin' }).token;
}, 60_000);

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await publisher?.endAsync(true);
  await broker?.close();
});

describe('POST /api/v1/zones/{id}/calibrations', () => {
  it('fits people = a x devices from head counts: the slope is about 1/2, with its interval, points and statistics', async () => {
    const res = await call('POST', '/api/v1/zones/square/calibrations', admin, { kind: 'present', counts: headCounts([0, 5, 20, 25, 30, 35, 40, 45, 50, 55]) });
    expect(res.status).toBe(201);
    const c = res.body;
    expect(c).toMatchObject({ zoneId: 'square', kind: 'present', radio: 'wifi', model: 'people = a x (devices - baseline)' });
    expect(c.id).toMatch(/^[0-9a-f]{12}$/);
    expect(Math.abs(c.created - Date.now() / 1000)).toBeLessThan(60);
    const { a, aStdError, t } = c.parameters;
    expect(Math.abs(a - 0.5)).toBeLessThanOrEqual(t * aStdError + 0.02);
    expect(c.interval).toEqual({ method: expect.stringContaining('prediction interval from the residuals'), confidence: 0.95 });
    expect(c.points).toEqual({ given: 10, used: 10, unusable: 0, minutesUsed: 10, minutesHidden: 0, minutesNoBaseline: 0 });
    expect(c.statistics.r2).toBeGreaterThan(0.9);
    expect(c.counts).toHaveLength(10);
  });

  it('uses released minutes only: counts in hidden minutes are left out and reported', async () => {
    const res = await call('POST', '/api/v1/zones/square/calibrations', admin, { kind: 'present', counts: headCounts([10, 11, 12, 20, 25, 30, 35, 40, 45, 50]) });
    expect(res.status).toBe(201);
    expect(res.body.points).toMatchObject({ given: 10, used: 7, unusable: 3, minutesHidden: 3 });
    expect(res.body.counts.filter((c: { minutesUsed: number }) => c.minutesUsed === 0)).toHaveLength(3);
  });

  it('fits passers from counts over periods', async () => {
    const counts = [0, 5, 15, 20, 25, 30, 40, 50].map((m) => ({ from: D + m * 60, to: D + (m + 5) * 60, people: PEOPLE.slice(m, m + 5).reduce((s, p) => s + p, 0) }));
    const res = await call('POST', '/api/v1/zones/square/calibrations', admin, { kind: 'passers', counts });
    expect(res.status).toBe(201);
    // x is the moving device-minutes of each 5-minute period: about 2 per person-minute.
    expect(res.body.parameters.a).toBeGreaterThan(0.4);
    expect(res.body.parameters.a).toBeLessThan(0.6);
    expect(res.body.parameters.meanMinutes).toBe(5);
  });

  it('refuses too few usable counts with a 422 that says why', async () => {
    const few = await call('POST', '/api/v1/zones/square/calibrations', admin, { kind: 'present', counts: headCounts([0, 5, 20, 25, 30]) });
    expect(few.status).toBe(422);
    expect(few.body.code).toBe('cannot_fit');
    expect(few.body.detail).toContain(`5 usable counts; at least ${MIN_POINTS} are needed`);
    // Counts where the zone released nothing: the lane's sensor never reported.
    const empty = await call('POST', '/api/v1/zones/lane/calibrations', admin, { kind: 'present', counts: headCounts([0, 5, 20, 25, 30, 35, 40]) });
    expect(empty.status).toBe(422);
    expect(empty.body.detail).toMatch(/7 of the 7 counts fell in periods with no released minute/);
    // Every error body is a problem (RFC 9457: type, title, status, detail, code), this one too.
    expect(Object.keys(empty.body).sort()).toEqual(['code', 'detail', 'status', 'title', 'type']);
  });

  it('answers bad input with a 400 that names the problem', async () => {
    const post = (body: unknown, contentType?: string) => call('POST', '/api/v1/zones/square/calibrations', admin, body, contentType);
    const cases: [unknown, RegExp][] = [
      [{ counts: headCounts([0]) }, /kind must be "present"/],
      [{ kind: 'present', counts: [] }, /counts must be a non-empty array/],
      [{ kind: 'present', counts: [{ from: D + 60, to: D, people: 3 }] }, /counts\[0\]: to is before from/],
      [{ kind: 'passers', counts: [{ from: D, to: D, people: 3 }] }, /a passers count needs a period/],
      [{ kind: 'present', counts: [{ from: D * 1000, to: D * 1000, people: 3 }] }, /counts\[0\].from must be Unix seconds/],
      [{ kind: 'present', counts: [{ from: D, to: D, people: -1 }] }, /counts\[0\].people must be a number/],
      [{ kind: 'present', counts: [{ from: D, to: D, people: 3, mac: 'x' }] }, /counts\[0\] has unknown fields/],
      [{ kind: 'present', radio: 'lora', counts: headCounts([0]) }, /radio must be one of wifi, ble/],
      ['[1, 2', /not valid JSON/],
      [{ kind: 'passers', counts: Array.from({ length: 32 }, (_, i) => ({ from: D - (i + 1) * 86_400, to: D - i * 86_400, people: 1 })) }, /the counts cover 46080 minutes; at most 44640/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.detail).toMatch(message);
    }
    expect((await post('from,to,people\n1,2,3', 'text/csv')).status).toBe(415);
    expect((await call('POST', '/api/v1/zones/nowhere/calibrations', admin, { kind: 'present', counts: headCounts([0]) })).status).toBe(404);
    // The log says what was wrong and how large, never the counts.
    expect(agg.logText()).toContain('calibration refused: invalid input');
    expect(agg.logText()).not.toContain(String(D * 1000));
  });
});

describe('who may read and write calibrations', () => {
  it('admin writes; admin reads, privacy reads where it may read the zone; viewers and the public do neither', async () => {
    const viewer = agg.tokens.create({ role: 'viewer', zones: ['square'] }).token;
    const privacy = agg.tokens.create({ role: 'privacy' }).token;
    const body = { kind: 'present', counts: headCounts([0, 5, 20, 25, 30, 35]) };
    expect((await call('POST', '/api/v1/zones/square/calibrations', undefined, body)).status).toBe(401);
    expect((await call('POST', '/api/v1/zones/square/calibrations', viewer, body)).status).toBe(403);
    expect((await call('POST', '/api/v1/zones/square/calibrations', privacy, body)).status).toBe(403);
    expect((await call('GET', '/api/v1/zones/square/calibrations')).status).toBe(401);
    expect((await call('GET', '/api/v1/zones/square/calibrations', viewer)).status).toBe(403);
    const listed = await call('GET', '/api/v1/zones/square/calibrations', privacy);
    expect(listed.status).toBe(200);
    expect(listed.body.calibrations.length).toBeGreaterThanOrEqual(3);
    expect((await call('GET', '/api/v1/zones/square/calibrations', admin)).body).toEqual(listed.body);
    expect((await call('GET', '/api/v1/zones/lane/calibrations', admin)).body).toEqual({ zoneId: 'lane', calibrations: [] });
    // never more than the public: a zone the privacy token may not read answers as one that does not exist
    const hidden = await call('GET', '/api/v1/zones/lane/calibrations', privacy);
    expect(hidden.status).toBe(404);
    const nowhere = await call('GET', '/api/v1/zones/nowhere/calibrations', privacy);
    expect(hidden.body).toEqual({ ...nowhere.body, detail: nowhere.body.detail.replace('nowhere', 'lane') });
    expect((await call('GET', '/api/v1/zones/lane/calibrations?zone=x', admin)).status).toBe(400);
  });

  it('keeps every calibration in calibrations.db in the data folder, oldest first', async () => {
    const listed = (await call('GET', '/api/v1/zones/square/calibrations', admin)).body.calibrations;
    const store = CalibrationStore.open(path.join(agg.dataDir, 'calibrations.db'));
    try {
      expect(store.list('square')).toEqual(listed);
      expect(listed.map((c: { kind: string }) => c.kind)).toEqual(['present', 'present', 'passers']);
    } finally {
      store.close();
    }
  });
});

/** Runs the calibration command with `env`, its stdout and stderr captured. */
async function runCalibration(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await captureOutput(() => calibrationCommand(args, env));
  return { code, out: stdout, err: stderr };
}

describe('passant-aggregator calibration add|list', () => {
  it('reads ISO local times in a time zone, across a change of daylight saving time', () => {
    expect(parseTime('1700000000', 'UTC')).toBe(1_700_000_000);
    expect(parseTime('2026-05-12 14:15', 'Europe/Amsterdam')).toBe(Date.UTC(2026, 4, 12, 12, 15) / 1000);
    expect(parseTime('2026-01-12T14:15:30', 'Europe/Amsterdam')).toBe(Date.UTC(2026, 0, 12, 13, 15, 30) / 1000);
    expect(parseTime('2026-05-12T14:15:00+02:00', 'UTC')).toBe(Date.UTC(2026, 4, 12, 12, 15) / 1000);
    expect(() => parseTime('12/05/2026', 'UTC')).toThrow(/not a time/);
    expect(parseCountsCsv('people;from\n3;2026-05-12 14:15\n', 'Europe/Amsterdam')).toEqual([{ from: Date.UTC(2026, 4, 12, 12, 15) / 1000, to: Date.UTC(2026, 4, 12, 12, 15) / 1000, people: 3 }]);
    expect(() => parseCountsCsv('from,to,people\n1700000000,,x\n', 'UTC')).toThrow(/line 2: people "x" is not a number/);
  });

  it('sends a CSV of counts in local time and lists the zone\'s calibrations', async () => {
    const tz = 'Europe/Amsterdam';
    const local = (t: number) => {
      const f = new Intl.DateTimeFormat('sv-SE', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
      return f.format(new Date(t * 1000)).replace(',', '');
    };
    const csv = ['from,to,people', ...headCounts([0, 5, 20, 25, 30, 35, 40]).map((c) => `${local(c.from)},,${c.people}`)].join('\n');
    const file = path.join(agg.dataDir, 'counts.csv');
    fs.writeFileSync(file, csv);
    const env = { PASSANT_TOKEN: admin };
    const run = await runCalibration(['add', '--zone', 'square', '--kind', 'present', '--file', file, '--tz', tz, '--api', agg.url, '--json'], env);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const added = JSON.parse(run.out);
    expect(added.points).toMatchObject({ given: 7, used: 7 });
    expect(added.counts.map((c: { from: number }) => c.from)).toEqual(headCounts([0, 5, 20, 25, 30, 35, 40]).map((c) => c.from));
    const list = await runCalibration(['list', '--zone', 'square', '--api', agg.url], env);
    expect(list.code).toBe(0);
    expect(list.out).toContain(`${added.id}  present wifi`);
    // A refusal is an exit code 1 with the API's reason.
    fs.writeFileSync(file, ['from,to,people', ...headCounts([0, 5]).map((c) => `${c.from},${c.to},${c.people}`)].join('\n'));
    const refused = await runCalibration(['add', '--zone', 'square', '--kind', 'present', '--file', file, '--api', agg.url], env);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/422 cannot fit a calibration: 2 usable counts; at least 6/);
    const missing = await runCalibration(['add', '--zone', 'square'], env);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^passant-aggregator calibration: missing --zone, --kind or --file\nusage:/);
  });
});
