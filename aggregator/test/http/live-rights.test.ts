/**
 * Rights checked per event: an open event stream follows the caller's rights as they are now. For every way
 * access can change while a stream is open (token revoked, token role changed, owner label taken off by a live
 * config reload, zone removed, zone made private, zone moved out of a site on the token), the stream first shows
 * it gets the zone's events, then access is removed, then the zone gets a new minute and, after it, a zone the
 * caller still reads gets one: once that later event has arrived, the removed zone's minute must not have.
 * Real aggregator, real config file and watcher, real SQLite token store (the role is changed in the file by a
 * second connection, as an operator with sqlite3 would).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';
import { removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { readEvents } from '../helpers/events.ts';
import type { EventStream } from '../helpers/events.ts';
import { countsMessage, minuteAgo } from '../helpers/messages.ts';

interface Shape {
  bOwners?: string[];
  publicZones?: string[];
  withB?: boolean;
  siteZones?: string[];
}

/** Zones a (sensor sa), b (sensor sb, owner label acme) and site s1 holding b. */
function config(shape: Shape = {}) {
  return {
    k: 5,
    zones: [
      { id: 'a', name: 'A', sensors: ['sa'] },
      ...(shape.withB === false ? [] : [{ id: 'b', name: 'B', sensors: ['sb'], owners: shape.bOwners ?? ['acme'] }]),
    ],
    sites: [{ id: 's1', name: 'Site 1', zones: shape.siteZones ?? (shape.withB === false ? [] : ['b']) }],
    auth: { public: { zones: shape.publicZones ?? ['a'], sites: 'none' as const, privacyPage: true } },
  };
}

let broker: TestBroker;
let agg: TestAggregator;
let dir: string;
let file: string;
/** The next minute to write: every step takes a new one, so each event is told apart by its time. */
let minute = minuteAgo(50);

async function apply(shape: Shape, applied: () => boolean): Promise<void> {
  fs.writeFileSync(file, JSON.stringify(config(shape)));
  await waitFor(applied, 'the config reload', 15_000);
}

/** A minute of `sensor` with k or more devices on both radios, stored and released; returns its time. */
async function minuteOf(sensor: string): Promise<number> {
  const t = minute;
  minute += 60;
  const message = countsMessage(sensor, t, 9, 7);
  await agg.store.put([message], Math.floor(Date.now() / 1000));
  agg.live.notifyStored([message]);
  await agg.live.idle();
  return t;
}

/** Streams this test opened (each test starts once the previous test's streams are closed). */
let opened = 0;

async function open(token?: string, zone?: string): Promise<EventStream> {
  if (opened === 0) await waitFor(() => agg.metrics.eventClients.get() === 0, "the previous test's streams to close", 15_000);
  const stream = await readEvents(`${agg.url}/api/v1/events${zone ? `?zone=${zone}` : ''}`, () => false, token ? { token } : {});
  expect(stream.status).toBe(200);
  opened++;
  await waitFor(() => agg.metrics.eventClients.get() === opened, 'the stream to be registered', 15_000);
  return stream;
}

/** The stream gets zone b's events now. */
async function receivesB(stream: EventStream): Promise<void> {
  const t = await minuteOf('sb');
  await waitFor(() => stream.events.some((e) => e.zoneId === 'b' && e.t === t), "zone b's event before the change", 15_000);
}

/** After the change: b's next minute is not delivered, proven by a's later minute arriving (or the stream ending). */
async function stopsB(stream: EventStream, keptZoneStillReadable = true): Promise<void> {
  const tb = await minuteOf('sb');
  const ta = await minuteOf('sa');
  if (keptZoneStillReadable) await waitFor(() => stream.events.some((e) => e.zoneId === 'a' && e.t === ta), "zone a's later event", 15_000);
  else await waitFor(() => stream.ended, 'the stream to end', 15_000);
  expect(stream.events.filter((e) => e.zoneId === 'b' && e.t >= tb)).toEqual([]);
}

beforeAll(async () => {
  broker = await startAedes();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-live-rights-'));
  file = path.join(dir, 'passant.json');
  fs.writeFileSync(file, JSON.stringify(config()));
  agg = await startTestAggregator(broker.url, { ...config(), aggregator: { id: 'live-rights' } }, { configFile: file, configWatchDebounceMs: 50 });
});

beforeEach(() => {
  opened = 0;
});

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await broker?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('an open event stream follows the caller\'s current rights, event by event', () => {
  it('token revoked: its stream ends', async () => {
    const { token, info } = agg.tokens.create({ role: 'viewer', zones: ['b'] });
    const stream = await open(token);
    await receivesB(stream);
    agg.tokens.revoke(info.id);
    await stopsB(stream, false);
    await stream.stop();
  });

  it('role changed (viewer of b made a privacy officer in the token file): b stops, the public zone goes on', async () => {
    const { token, info } = agg.tokens.create({ role: 'viewer', zones: ['b'] });
    const stream = await open(token);
    await receivesB(stream);
    // Straight into the file, not through the token store: a change by another process is what the stream must follow.
    const db = new Database(path.join(agg.dataDir, 'tokens.db'));
    try {
      db.prepare("UPDATE tokens SET role = 'privacy', zones = '[]' WHERE id = ?").run(info.id);
    } finally {
      db.close();
    }
    await stopsB(stream);
    await stream.stop();
  });

  it('owner label taken off the zone by a live config reload: b stops; a ?zone=b stream ends', async () => {
    const { token } = agg.tokens.create({ role: 'viewer', owners: ['acme'] });
    const all = await open(token);
    const onlyB = await open(token, 'b');
    await receivesB(all);
    await receivesB(onlyB);
    await apply({ bOwners: [] }, () => agg.registry.zone('b')?.owners.length === 0);
    await stopsB(all);
    await waitFor(() => onlyB.ended, 'the ?zone=b stream to end', 15_000);
    await all.stop();
    await onlyB.stop();
    await apply({}, () => agg.registry.zone('b')?.owners[0] === 'acme');
  });

  it('zone made private by a live config reload (auth.public): the public stream stops getting it', async () => {
    await apply({ publicZones: ['a', 'b'] }, () => JSON.stringify(agg.registry.publicAccess?.zones) === '["a","b"]');
    const anonymous = await open();
    const onlyB = await open(undefined, 'b');
    await receivesB(anonymous);
    await receivesB(onlyB);
    await apply({ publicZones: ['a'] }, () => JSON.stringify(agg.registry.publicAccess?.zones) === '["a"]');
    await stopsB(anonymous);
    await waitFor(() => onlyB.ended, 'the ?zone=b stream to end', 15_000);
    await anonymous.stop();
    await onlyB.stop();
  });

  it('zone moved out of the site on the token by a live config reload: b stops', async () => {
    const { token } = agg.tokens.create({ role: 'viewer', sites: ['s1'] });
    const stream = await open(token);
    await receivesB(stream);
    await apply({ siteZones: [] }, () => agg.registry.site('s1')?.zones.length === 0);
    await stopsB(stream);
    await stream.stop();
    await apply({}, () => agg.registry.site('s1')?.zones[0] === 'b');
  });

  it('zone removed by a live config reload: a ?zone=b stream ends, an all-zones stream goes on without it', async () => {
    const { token } = agg.tokens.create({ role: 'viewer', zones: ['b'] });
    const all = await open(token);
    const onlyB = await open(token, 'b');
    await receivesB(all);
    await apply({ withB: false }, () => agg.registry.zone('b') === undefined);
    await waitFor(() => onlyB.ended, 'the ?zone=b stream to end', 15_000);
    await stopsB(all);
    await all.stop();
    await onlyB.stop();
  });
});
