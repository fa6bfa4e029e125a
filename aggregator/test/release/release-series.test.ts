import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSettled, Registry, ReleaseLayer, releaseCell, releaseSeries, SqliteStore } from '../../src/index.ts';
import { countsMessage } from '../helpers/messages.ts';

const K = 5;
/** A day-aligned time (2023-11-14T00:00:00Z). */
const D = 1_699_920_000;
const cell = (minute: number, devices: number) => ({ windowStart: D + minute * 60, devices });

describe('releaseCell', () => {
  it.each([
    [0, null],
    [1, null],
    [K - 1, null],
    [K, K],
    [K + 1, K + 1],
    [1000, 1000],
  ])('devices %i with k=5 -> %s', (devices, expected) => {
    expect(releaseCell(devices, K)).toBe(expected);
  });
});

describe('releaseSeries: minute buckets', () => {
  it.each([
    { name: 'k-1 is suppressed', devices: K - 1, out: null, suppressed: 1 },
    { name: 'k is released', devices: K, out: K, suppressed: 0 },
    { name: 'k+1 is released', devices: K + 1, out: K + 1, suppressed: 0 },
    { name: 'a cell of 0 devices is suppressed', devices: 0, out: null, suppressed: 1 },
  ])('$name', ({ devices, out, suppressed }) => {
    expect(releaseSeries([cell(1, devices)], { k: K, from: D, to: D + 180, step: 60 })).toEqual({
      t: [D, D + 60, D + 120],
      devices: [null, out, null],
      suppressed: [0, suppressed, 0],
    });
  });

  it('no cells: every bucket null, nothing suppressed', () => {
    expect(releaseSeries([], { k: K, from: D, to: D + 120, step: 60 })).toEqual({ t: [D, D + 60], devices: [null, null], suppressed: [0, 0] });
  });

  it('an empty range gives empty arrays', () => {
    expect(releaseSeries([cell(0, 9)], { k: K, from: D, to: D, step: 60 })).toEqual({ t: [], devices: [], suppressed: [] });
  });

  it('ignores cells outside [from, to)', () => {
    const out = releaseSeries([cell(-1, 50), cell(0, 6), cell(2, 50)], { k: K, from: D, to: D + 120, step: 60 });
    expect(out).toEqual({ t: [D, D + 60], devices: [6, null], suppressed: [0, 0] });
  });
});

describe('releaseSeries: coarser buckets sum released cells and count suppressed ones', () => {
  const hour = (h: number, minute: number, devices: number) => cell(h * 60 + minute, devices);
  it.each([
    {
      name: 'mixed: released cells summed, suppressed counted, never added',
      cells: [hour(0, 0, 10), hour(0, 1, K - 1), hour(0, 2, K), hour(0, 3, 0), hour(0, 59, K + 1)],
      devices: [10 + K + K + 1, null],
      suppressed: [2, 0],
    },
    {
      name: 'only suppressed cells: null with their number',
      cells: [hour(0, 0, 1), hour(0, 30, K - 1), hour(1, 0, 2)],
      devices: [null, null],
      suppressed: [2, 1],
    },
    {
      name: 'no cells: null, 0 suppressed',
      cells: [],
      devices: [null, null],
      suppressed: [0, 0],
    },
    {
      name: 'exactly k in one cell of the second hour',
      cells: [hour(1, 17, K)],
      devices: [null, K],
      suppressed: [0, 0],
    },
  ])('$name', ({ cells, devices, suppressed }) => {
    expect(releaseSeries(cells, { k: K, from: D, to: D + 7200, step: 3600 })).toEqual({ t: [D, D + 3600], devices, suppressed });
  });

  it('day buckets', () => {
    const cells = [cell(0, 7), cell(1439, 3), cell(1440, 8), cell(1441, 9), cell(2 * 1440 + 5, 4)];
    expect(releaseSeries(cells, { k: K, from: D, to: D + 3 * 86400, step: 86400 })).toEqual({
      t: [D, D + 86400, D + 2 * 86400],
      devices: [7, 17, null],
      suppressed: [1, 0, 1],
    });
  });

  it('no combination of outputs gives back a suppressed value: the hour equals the sum of released minutes', () => {
    const cells = Array.from({ length: 60 }, (_, m) => cell(m, (m * 7) % 11));
    const minutes = releaseSeries(cells, { k: K, from: D, to: D + 3600, step: 60 });
    const hourly = releaseSeries(cells, { k: K, from: D, to: D + 3600, step: 3600 });
    const releasedSum = minutes.devices.reduce<number>((a, d) => a + (d ?? 0), 0);
    expect(hourly.devices[0]).toBe(releasedSum);
    expect(hourly.suppressed[0]).toBe(minutes.suppressed.reduce((a, b) => a + b, 0));
    expect(hourly.suppressed[0]).toBeGreaterThan(0);
  });

  it('rejects a bad step or k', () => {
    expect(() => releaseSeries([], { k: K, from: D, to: D + 60, step: 0 })).toThrow(/step/);
    expect(() => releaseSeries([], { k: 0, from: D, to: D + 60, step: 60 })).toThrow(/k/);
  });
});

describe('isSettled', () => {
  const options = { zoneSensors: 3, now: D + 60, settleSeconds: 120, windowSeconds: 60 };
  it.each([
    { name: 'all sensors reported', cell: { windowStart: D, sensorCount: 3 }, settled: true },
    { name: 'a sensor missing, before the deadline', cell: { windowStart: D, sensorCount: 2 }, settled: false },
    { name: 'no sensor count, before the deadline', cell: { windowStart: D }, settled: false },
  ])('$name', ({ cell: c, settled }) => {
    expect(isSettled(c, options)).toBe(settled);
  });

  it('a missing sensor holds the cell back only until the window end plus settleSeconds', () => {
    expect(isSettled({ windowStart: D, sensorCount: 1 }, { ...options, now: D + 179 })).toBe(false);
    expect(isSettled({ windowStart: D, sensorCount: 1 }, { ...options, now: D + 180 })).toBe(true);
    expect(isSettled({ windowStart: D }, { ...options, settleSeconds: 0, now: D + 60 })).toBe(true);
  });
});

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
    expect(await layer.series('front', query)).toEqual({ t: [D], devices: [null], suppressed: [0] });
    expect(await layer.cells('front', D)).toBe('pending');
    await store.put([countsMessage('s2', D, 2)], D + 62);
    expect(await layer.series('front', query)).toEqual({ t: [D], devices: [12], suppressed: [0] });
    expect(await layer.cells('front', D)).toEqual([
      { zoneId: 'front', radio: 'wifi', t: D, devices: 12, suppressed: 0 },
      { zoneId: 'front', radio: 'ble', t: D, devices: null, suppressed: 1 },
    ]);
    // a minute that only s1 reported is released once its settle time has passed
    await store.put([countsMessage('s1', D + 60, 6)], D + 121);
    now = D + 120 + 119;
    expect(await layer.cells('front', D + 60)).toBe('pending');
    now = D + 120 + 120;
    expect(await layer.series('front', { ...query, from: D + 60, to: D + 120 })).toEqual({ t: [D + 60], devices: [6], suppressed: [0] });
    expect(await layer.cells('front', D + 120)).toBe('empty');
  });
});
