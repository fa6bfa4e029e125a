import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, LiveUpdates, Registry, ReleaseLayer, SqliteStore } from '../../src/index.ts';
import type { ReleasedCell } from '../../src/index.ts';
import { countsMessage } from '../helpers/messages.ts';
import { waitFor } from '@passant/test-helpers/wait';

const D = 1_699_920_000;

describe('LiveUpdates', () => {
  let dir: string;
  let store: SqliteStore;
  let live: LiveUpdates;
  let release: ReleaseLayer;
  let now = D + 70;
  const events: ReleasedCell[] = [];
  const registry = new Registry([
    { id: 'front', name: 'Front', sensors: ['s1', 's2'] },
    { id: 'solo', name: 'Solo', sensors: ['s3'] },
  ]);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-live-'));
    store = SqliteStore.open(path.join(dir, 'passant.db'));
    now = D + 70;
    events.length = 0;
    release = new ReleaseLayer(store, registry, { k: 5, settleSeconds: 120, now: () => now, settleIntervalMs: 20 });
    live = new LiveUpdates(release, registry, { logger: createLogger('silent'), now: () => now });
    live.on('cell', (cell) => events.push(cell));
    live.start();
  });
  afterEach(async () => {
    await live.stop();
    await release.stop();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function storeAndNotify(...messages: ReturnType<typeof countsMessage>[]) {
    await store.put(messages, Math.floor(now));
    live.notifyStored(messages);
    await live.idle();
  }

  it('emits a single-sensor zone at once, both radios, through k', async () => {
    await storeAndNotify(countsMessage('s3', D, 5, 2));
    expect(events).toEqual([
      { zoneId: 'solo', radio: 'wifi', t: D, devices: 5, suppressed: 0 },
      { zoneId: 'solo', radio: 'ble', t: D, devices: null, suppressed: 1 },
    ]);
  });

  it('holds a partly reported minute until the rest arrives', async () => {
    await storeAndNotify(countsMessage('s1', D, 9));
    expect(events).toEqual([]);
    await storeAndNotify(countsMessage('s2', D, 1));
    expect(events.map((e) => [e.radio, e.devices])).toEqual([
      ['wifi', 10],
      ['ble', null],
    ]);
  });

  it("releases a partly reported minute when its settle time has passed (the settler's interval)", async () => {
    await storeAndNotify(countsMessage('s1', D, 9));
    // Two passes of the interval after the store's own pass, before the settle time: neither may release the
    // half-reported minute.
    const passes = release.settlePasses;
    release.start();
    await waitFor(() => release.settlePasses >= passes + 2, 'two passes of the interval', 15_000);
    await live.idle();
    expect(events).toEqual([]);
    now = D + 60 + 120;
    await waitFor(() => events.length === 2, 'swept cell', 15_000);
    expect(events[0]).toEqual({ zoneId: 'front', radio: 'wifi', t: D, devices: 9, suppressed: 0 });
  });

  it('ignores sensors in no zone, and does no work without listeners', async () => {
    await storeAndNotify(countsMessage('s9', D, 50));
    expect(events).toEqual([]);
    live.removeAllListeners('cell');
    await storeAndNotify(countsMessage('s3', D + 60, 50));
    expect(events).toEqual([]);
  });
});
