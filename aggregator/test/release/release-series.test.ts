import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry, ReleaseLayer, SqliteStore } from '../../src/index.ts';
import { countsMessage } from '../helpers/messages.ts';

const K = 5;
/** A day-aligned time (2023-11-14T00:00:00Z). */
const D = 1_699_920_000;
const cell = (minute: number, devices: number) => ({ windowStart: D + minute * 60, devices });

describe('ReleaseLayer over a real SQLite store', () => {
  let dir: string;
  let store: SqliteStore;
  const registry = new Registry([
    { id: 'front', name: 'Front', sensors: ['s1', 's2'] },
    { id: 'empty', name: 'Empty', sensors: [] },
  ]);
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-release-'));
    store = SqliteStore.open(path.join(dir, 'passant.db'));
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('series: sums the zone sensors per minute, suppresses below k, ignores other sensors', async () => {
    await store.put(
      [
        countsMessage('s1', D, 5, 1),
        countsMessage('s2', D, 2, 1), // 7 wifi (s1 alone hears k), 2 ble
        countsMessage('s1', D + 60, 2, 9),
        countsMessage('s2', D + 60, 2, 0), // 4 wifi: suppressed, 9 ble
        countsMessage('other', D + 60, 100, 100),
      ],
      D + 200,
    );
    const layer = new ReleaseLayer(store, registry, { k: 5, settleSeconds: 120, now: () => D + 3600 });
    await layer.settle();
    expect(await layer.series('front', { from: D, to: D + 180, step: 60, radio: 'wifi' })).toEqual({
      t: [D, D + 60, D + 120],
      devices: [7, null, null],
      suppressed: [0, 1, 0],
    });
    expect(await layer.series('front', { from: D, to: D + 180, step: 60, radio: 'ble' })).toEqual({
      t: [D, D + 60, D + 120],
      devices: [null, 9, null],
      suppressed: [1, 0, 0],
    });
    expect(await layer.series('front', { from: D, to: D + 3600, step: 3600, radio: 'wifi' })).toEqual({ t: [D], devices: [7], suppressed: [1] });
    expect(await layer.series('empty', { from: D, to: D + 120, step: 60, radio: 'wifi' })).toEqual({ t: [D, D + 60], devices: [null, null], suppressed: [0, 0] });
    expect(await layer.series('nope', { from: D, to: D + 120, step: 60, radio: 'wifi' })).toBeUndefined();
  });

  it('keeps a fresh minute back until every sensor of the zone reported it (or the settle time passed)', async () => {
    let now = D + 65;
    const layer = new ReleaseLayer(store, registry, { k: 5, settleSeconds: 120, now: () => now });
    const query = { from: D, to: D + 60, step: 60 as const, radio: 'wifi' as const };
    await store.put([countsMessage('s1', D, 10)], D + 61);
    await layer.settle();
    expect(await layer.series('front', query)).toEqual({ t: [D], devices: [null], suppressed: [0] });
    expect(await layer.cells('front', D)).toBe('pending');
    await store.put([countsMessage('s2', D, 2)], D + 62);
    await layer.settle();
    expect(await layer.series('front', query)).toEqual({ t: [D], devices: [12], suppressed: [0] });
    expect(await layer.cells('front', D)).toEqual([
      { zoneId: 'front', radio: 'wifi', t: D, devices: 12, suppressed: 0 },
      { zoneId: 'front', radio: 'ble', t: D, devices: null, suppressed: 1 },
    ]);
    // a minute that only s1 reported is released once its settle time has passed
    await store.put([countsMessage('s1', D + 60, 6)], D + 121);
    now = D + 120 + 119;
    await layer.settle();
    expect(await layer.cells('front', D + 60)).toBe('pending');
    now = D + 120 + 120;
    await layer.settle();
    expect(await layer.series('front', { ...query, from: D + 60, to: D + 120 })).toEqual({ t: [D + 60], devices: [6], suppressed: [0] });
    expect(await layer.cells('front', D + 120)).toBe('empty');
  });
});
