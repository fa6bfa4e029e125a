/**
 * The release layer over a real SQLite store (a file in a temp dir): sites, freezing, late data, sensors that
 * join or move zones, rollups, retention and noise.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from '../../src/registry.ts';
import type { SiteInput, ZoneInput } from '../../src/registry.ts';
import { ReleaseLayer } from '../../src/release/release-layer.ts';
import type { ReleaseLayerOptions } from '../../src/release/release-layer.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { countsMessage } from '../helpers/messages.ts';
import { waitFor } from '@passant/test-helpers/wait';

/** A day-aligned time (2023-11-14T00:00:00Z). */
const D = 1_699_920_000;
const K = 5;
const NOISE_KEY = Buffer.from('a test secret of at least thirty-two characters');

let dir: string;
let store: SqliteStore;
let now: number;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-release-layer-'));
  store = SqliteStore.open(path.join(dir, 'passant.db'));
  now = D + 2 * 86_400;
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ZONES: ZoneInput[] = [
  { id: 'front', name: 'Front', sensors: ['s1', 's2'] },
  { id: 'back', name: 'Back', sensors: ['s3'] },
  { id: 'side', name: 'Side', sensors: ['s4'] },
];
const SITES: SiteInput[] = [{ id: 'town', name: 'Town', zones: ['front', 'back'] }];

function layer(registry: Registry, options: Partial<ReleaseLayerOptions> = {}): ReleaseLayer {
  return new ReleaseLayer(store, registry, { k: K, settleSeconds: 120, now: () => now, ...options });
}

const minutes = (from: number, n: number) => ({ from, to: from + n * 60, step: 60, radio: 'wifi' as const });

describe('sites', () => {
  it("a site's bucket is the sum of its zones' released cells plus their suppressed count, never a raw sum", async () => {
    const registry = new Registry(ZONES, SITES);
    const release = layer(registry);
    await store.put(
      [
        countsMessage('s1', D, 5),
        countsMessage('s2', D, 2), // front 7 (s1 alone hears k: see people-rule.test.ts)
        countsMessage('s3', D, 4), // back 4: suppressed
        countsMessage('s1', D + 60, 1),
        countsMessage('s2', D + 60, 1), // front 2: suppressed
        countsMessage('s3', D + 60, 2), // back 2: suppressed
        countsMessage('s1', D + 120, 2),
        countsMessage('s2', D + 120, 1), // front 3: suppressed
        countsMessage('s3', D + 120, 3), // back 3: suppressed; the raw site sum 6 would be >= k
        countsMessage('s4', D, 50), // side: not in the site
      ],
      D + 10,
    );
    await release.settle();
    expect(await release.series({ kind: 'site', id: 'town' }, minutes(D, 3))).toEqual({
      t: [D, D + 60, D + 120],
      devices: [7, null, null],
      suppressed: [1, 2, 2],
    });
    expect(await release.series({ kind: 'site', id: 'town' }, { from: D, to: D + 3600, step: 3600, radio: 'wifi' })).toEqual({
      t: [D],
      devices: [7],
      suppressed: [5],
    });
    expect(await release.series({ kind: 'zone', id: 'front' }, minutes(D, 1))).toEqual({ t: [D], devices: [7], suppressed: [0] });
    expect(await release.series({ kind: 'site', id: 'nowhere' }, minutes(D, 1))).toBeUndefined();
    expect(await release.series({ kind: 'zone', id: 'nowhere' }, minutes(D, 1))).toBeUndefined();
  });
});

describe('freezing', () => {
  it('late data for a released cell is stored but never changes what was released', async () => {
    const registry = new Registry(ZONES);
    const release = layer(registry);
    now = D + 30;
    await store.put([countsMessage('s1', D, 6)], D + 30);
    now = D + 60 + 120; // s2 never came: released with s1 alone
    await release.settle();
    expect(await release.series('front', minutes(D, 1))).toEqual({ t: [D], devices: [6], suppressed: [0] });
    await store.put([countsMessage('s2', D, 2)], now + 3600); // s2's outbox, an hour later
    now += 7200;
    await release.settle();
    expect(await release.series('front', minutes(D, 1))).toEqual({ t: [D], devices: [6], suppressed: [0] });
    expect(await release.series('front', { from: D, to: D + 3600, step: 3600, radio: 'wifi' })).toEqual({ t: [D], devices: [6], suppressed: [0] });
    expect(release.lateWindows).toBe(1);
    // the raw window is kept
    expect(await store.sensorWindows(['s2'], D, D + 60)).toHaveLength(1);
  });

  it('a suppressed cell stays suppressed when late data would lift it over k', async () => {
    const release = layer(new Registry(ZONES));
    await store.put([countsMessage('s1', D, 3)], D + 10);
    now = D + 200;
    await release.settle();
    expect(await release.series('front', minutes(D, 1))).toEqual({ t: [D], devices: [null], suppressed: [1] });
    await store.put([countsMessage('s2', D, 9)], D + 300);
    now = D + 1000;
    await release.settle();
    expect(await release.series('front', minutes(D, 1))).toEqual({ t: [D], devices: [null], suppressed: [1] });
  });

  it('a window released for the first time late (nothing shown before) is released with everything that came', async () => {
    const release = layer(new Registry(ZONES));
    now = D + 86_400;
    // both sensors replay their outboxes a day late, one after the other, with a settle pass in between
    await store.put([countsMessage('s1', D, 2)], now);
    await release.settle();
    expect(await release.series('front', minutes(D, 1))).toEqual({ t: [D], devices: [null], suppressed: [0] });
    now += 30;
    await release.settle();
    expect(await release.cells('front', D)).toBe('pending');
    await store.put([countsMessage('s2', D, 5)], now);
    await release.settle();
    expect(await release.series('front', minutes(D, 1))).toEqual({ t: [D], devices: [7], suppressed: [0] });
    // one that only s1 replays settles settleSeconds after it arrived
    await store.put([countsMessage('s1', D + 60, 8)], now);
    now += 119;
    await release.settle();
    expect(await release.cells('front', D + 60)).toBe('pending');
    now += 1;
    await release.settle();
    expect(await release.series('front', minutes(D + 60, 1))).toEqual({ t: [D + 60], devices: [8], suppressed: [0] });
  });

  it('emits each frozen cell once', async () => {
    const release = layer(new Registry(ZONES));
    const seen: string[] = [];
    release.on('frozen', (cells) => seen.push(...cells.map((c) => `${c.zoneId}@${c.windowStart}`)));
    await store.put([countsMessage('s3', D, 5), countsMessage('s1', D, 1)], D + 10);
    now = D + 10;
    await release.settle();
    expect(seen).toEqual([`back@${D}`]);
    now = D + 500;
    await release.settle();
    await release.settle();
    expect(seen).toEqual([`back@${D}`, `front@${D}`]);
  });
});

describe('registry changes', () => {
  it('an unassigned sensor is released nowhere; once assigned, its retained windows join the zone where it has no frozen cell', async () => {
    const registry = new Registry(ZONES, SITES, { sensorStats: () => store.sensorStats() });
    const release = layer(registry);
    await store.put(
      [countsMessage('s1', D, 6), countsMessage('s2', D, 0), countsMessage('s9', D, 40), countsMessage('s9', D + 60, 30), countsMessage('s9', D + 120, 2)],
      D + 10,
    );
    now = D + 3600;
    await release.settle();
    expect(await release.series('front', minutes(D, 3))).toEqual({ t: [D, D + 60, D + 120], devices: [6, null, null], suppressed: [0, 0, 0] });
    expect(await registry.unassignedSensors()).toEqual([{ sensorId: 's9', lastSeen: D + 10, firstWindowStart: D, lastWindowStart: D + 120, messages: 3 }]);
    // s9 joins front: the minute front already released stays; the others take s9's windows
    registry.update(
      ZONES.map((z) => (z.id === 'front' ? { ...z, sensors: ['s1', 's2', 's9'] } : z)),
      SITES,
    );
    await release.syncRegistry();
    await release.settle();
    expect(await release.series('front', minutes(D, 3))).toEqual({ t: [D, D + 60, D + 120], devices: [6, 30, null], suppressed: [0, 0, 1] });
    expect(await registry.unassignedSensors()).toEqual([]);
    // the registry it settled with is remembered: a new layer (a restart) queues nothing again
    expect(await layer(registry).syncRegistry()).toBe(0);
  });

  it('a sensor moved to another zone does not bring its released windows along', async () => {
    const registry = new Registry(ZONES);
    const release = layer(registry);
    await release.syncRegistry();
    await store.put([countsMessage('s1', D, 3), countsMessage('s2', D, 6), countsMessage('s2', D + 60, 7)], D + 10);
    now = D + 3600;
    await release.settle();
    expect(await release.series('front', minutes(D, 2))).toEqual({ t: [D, D + 60], devices: [9, 7], suppressed: [0, 0] });
    // s2 moves to side: side may not show s2's 6 at D (front showed 9 = 3 + 6: 9 - 6 would give s1's 3 away)
    await store.put([countsMessage('s2', D + 120, 8)], now);
    registry.update([
      { id: 'front', name: 'Front', sensors: ['s1'] },
      { id: 'back', name: 'Back', sensors: ['s3'] },
      { id: 'side', name: 'Side', sensors: ['s4', 's2'] },
    ]);
    await release.syncRegistry();
    now += 3600;
    await release.settle();
    expect(await release.series('side', minutes(D, 3))).toEqual({ t: [D, D + 60, D + 120], devices: [null, null, 8], suppressed: [0, 0, 0] });
    expect(await release.series('front', minutes(D, 3))).toEqual({ t: [D, D + 60, D + 120], devices: [9, 7, null], suppressed: [0, 0, 0] });
  });

  it('start() syncs the registry and follows its changes', async () => {
    const registry = new Registry(ZONES);
    const release = layer(registry, { settleIntervalMs: 60_000 });
    await store.put([countsMessage('s9', D, 12)], D + 10);
    now = D + 3600;
    release.start();
    try {
      await release.idle();
      await release.settle();
      expect((await release.series('side', minutes(D, 1)))!.devices).toEqual([null]);
      // The registry tells its listeners at once, and the release layer queues its sync then: idle() covers it.
      registry.update([{ id: 'side', name: 'Side', sensors: ['s4', 's9'] }]);
      await release.idle();
      await release.settle();
      expect((await release.series('side', minutes(D, 1)))!.devices).toEqual([12]);
    } finally {
      await release.stop();
    }
  });
});

describe('rollups and retention', () => {
  it('start() applies retention at once (and then every retentionIntervalMs)', async () => {
    await store.put([countsMessage('s3', D - 5 * 86_400, 9), countsMessage('s3', D, 8)], D);
    const release = layer(new Registry(ZONES), { minuteDays: 2, retentionIntervalMs: 30 });
    await release.settle();
    release.start();
    try {
      await release.idle();
      expect((await store.sensorWindows(['s3'], 0, D + 60)).map((w) => w.windowStart)).toEqual([D]);
      await store.put([countsMessage('s3', D - 3 * 86_400, 7)], D);
      await waitFor(async () => (await store.sensorWindows(['s3'], 0, D)).length === 0, 'the periodic retention run', 15_000);
      await release.settle();
      expect((await release.series('back', { from: D - 5 * 86_400, to: D + 86_400, step: 86_400, radio: 'wifi' }))!.devices).toEqual([9, null, null, null, null, 8]);
    } finally {
      await release.stop();
    }
  });

  async function fillDays(days: number): Promise<void> {
    const messages = [];
    for (let m = 0; m < days * 1440; m += 7) {
      messages.push(countsMessage('s1', D + m * 60, m % 9, m % 4), countsMessage('s2', D + m * 60, (m * 3) % 5, 1));
    }
    await store.put(messages, D + days * 86_400);
  }

  it('hour and day buckets equal the sums of the released minutes and their suppressed counts; a week step works', async () => {
    const release = layer(new Registry(ZONES));
    await fillDays(7);
    now = D + 8 * 86_400;
    const week = { from: D, to: D + 7 * 86_400 };
    await release.settle();
    for (const radio of ['wifi', 'ble'] as const) {
      const mins = (await release.series('front', { ...week, step: 60, radio }))!;
      for (const step of [3600, 86_400, 7200, 604_800]) {
        const coarse = (await release.series('front', { ...week, step, radio }))!;
        coarse.t.forEach((t, i) => {
          let sum = 0;
          let released = 0;
          let suppressed = 0;
          mins.t.forEach((mt, j) => {
            if (mt < t || mt >= t + step) return;
            if (mins.devices[j] !== null) {
              sum += mins.devices[j]!;
              released++;
            }
            suppressed += mins.suppressed[j]!;
          });
          expect([coarse.devices[i], coarse.suppressed[i]], `${radio} step ${step} at ${t}`).toEqual([released > 0 ? sum : null, suppressed]);
        });
      }
    }
  });

  it('retention deletes minute data older than minuteDays whole days; hours and days stay', async () => {
    const release = layer(new Registry(ZONES), { minuteDays: 3 });
    await fillDays(6);
    now = D + 6 * 86_400 + 3600;
    await release.settle();
    const hoursBefore = await release.series('front', { from: D, to: D + 6 * 86_400, step: 3600, radio: 'wifi' });
    const daysBefore = await release.series('front', { from: D, to: D + 6 * 86_400, step: 86_400, radio: 'wifi' });
    expect(release.retentionCutoff()).toBe(D + 3 * 86_400);
    const deleted = await release.applyRetention();
    expect(deleted!.windows).toBeGreaterThan(0);
    expect(deleted!.cells).toBeGreaterThan(0);
    expect(await store.sensorWindows(['s1', 's2'], 0, D + 3 * 86_400)).toEqual([]);
    expect(await store.cells(null, 0, D + 3 * 86_400)).toEqual([]);
    expect((await store.cells(null, D + 3 * 86_400, D + 4 * 86_400)).length).toBeGreaterThan(0);
    await release.settle();
    const oldMinutes = await release.series('front', minutes(D, 60));
    expect(oldMinutes!.devices.every((d) => d === null)).toBe(true);
    expect(oldMinutes!.suppressed.every((s) => s === 0)).toBe(true);
    expect(await release.series('front', { from: D, to: D + 6 * 86_400, step: 3600, radio: 'wifi' })).toEqual(hoursBefore);
    expect(await release.series('front', { from: D, to: D + 6 * 86_400, step: 86_400, radio: 'wifi' })).toEqual(daysBefore);
    // no retention configured: nothing deleted
    expect(await layer(new Registry(ZONES)).applyRetention()).toBeNull();
  });

  it('late data older than the retention period are released only for zone-hours never released before', async () => {
    const release = layer(new Registry(ZONES), { minuteDays: 3 });
    now = D + 10 * 86_400;
    await store.put([countsMessage('s3', D, 10), countsMessage('s3', D + 60, 2)], now);
    const hour = { from: D, to: D + 3600, step: 3600, radio: 'wifi' as const };
    await release.settle();
    expect(await release.series('back', hour)).toEqual({ t: [D], devices: [10], suppressed: [1] });
    await release.applyRetention(); // the minutes are gone, the hour stays
    expect(await store.cells(['back'], D, D + 3600)).toEqual([]);
    // a sensor replaying an old outbox: a minute of that hour, whose cells are gone: not released (not counted twice)
    await store.put([countsMessage('s3', D + 120, 30)], now + 10);
    await release.settle();
    expect(await release.series('back', hour)).toEqual({ t: [D], devices: [10], suppressed: [1] });
    expect(release.lateWindows).toBe(1);
    // an old hour never released before is released
    await store.put([countsMessage('s3', D + 7200, 12)], now + 20);
    await release.settle();
    expect(await release.series('back', { ...hour, from: D + 7200, to: D + 10_800 })).toEqual({ t: [D + 7200], devices: [12], suppressed: [0] });
  });

  it('rejects a step that is not a multiple of the window, and a from that is not aligned to what the step reads', async () => {
    const release = layer(new Registry(ZONES));
    await expect(release.series('front', { from: D, to: D + 600, step: 90, radio: 'wifi' })).rejects.toThrow(RangeError);
    await expect(release.series('front', { from: D + 60, to: D + 7200, step: 3600, radio: 'wifi' })).rejects.toThrow(/multiple of 3600/);
    await expect(release.series('front', { from: D + 3600, to: D + 2 * 86_400, step: 86_400, radio: 'wifi' })).rejects.toThrow(/multiple of 86400/);
    expect(await release.series('front', { from: D, to: D, step: 60, radio: 'wifi' })).toEqual({ t: [], devices: [], suppressed: [] });
  });
});

describe('noise', () => {
  const noiseOn = { noise: { epsilon: 0.5, key: NOISE_KEY } };

  it('is off by default: exact values and no noise field', async () => {
    const release = layer(new Registry(ZONES));
    await store.put([countsMessage('s3', D, 20)], D + 10);
    expect(release.noiseInfo).toBeNull();
    await release.settle();
    const series = await release.series('back', minutes(D, 1));
    expect(series).toEqual({ t: [D], devices: [20], suppressed: [0] });
    expect(series).not.toHaveProperty('noise');
  });

  it('when on: states epsilon, the same noise on every request and for a new layer, exact on request, suppression unchanged', async () => {
    const release = layer(new Registry(ZONES), noiseOn);
    const messages = [];
    for (let m = 0; m < 120; m++) messages.push(countsMessage('s3', D + m * 60, m % 3 === 0 ? 2 : 40 + (m % 7)));
    await store.put(messages, D + 10);
    await release.settle();
    const noisy = (await release.series('back', minutes(D, 120)))!;
    expect(noisy.noise).toEqual({ epsilon: 0.5, mechanism: 'geometric' });
    const exact = (await release.series('back', minutes(D, 120), { exact: true }))!;
    expect(exact).not.toHaveProperty('noise');
    expect(exact.devices.slice(0, 4)).toEqual([null, 41, 42, null]);
    expect(noisy.suppressed).toEqual(exact.suppressed);
    expect(noisy.devices.map((d) => d === null)).toEqual(exact.devices.map((d) => d === null));
    const differences = noisy.devices.map((d, i) => (d === null ? 0 : d - exact.devices[i]!));
    expect(differences.some((d) => d !== 0)).toBe(true);
    expect(await release.series('back', minutes(D, 120))).toEqual(noisy);
    expect(await layer(new Registry(ZONES), noiseOn).series('back', minutes(D, 120))).toEqual(noisy);
    // another key gives other noise
    const other = await layer(new Registry(ZONES), { noise: { epsilon: 0.5, key: Buffer.from('another secret of at least thirty-two chars') } }).series('back', minutes(D, 120));
    expect(other!.devices).toEqual(noisy.devices); // frozen: the noise was fixed with the cell
  });

  it('noisy hours, days and sites are the sums of the noisy minutes: consistent, so nothing to average', async () => {
    const registry = new Registry(ZONES, SITES);
    const release = layer(registry, noiseOn);
    const messages = [];
    for (let m = 0; m < 3 * 60; m++) messages.push(countsMessage('s3', D + m * 60, 3 + (m % 8)), countsMessage('s1', D + m * 60, 10 + (m % 3)));
    await store.put(messages, D + 10);
    await release.settle();
    for (const target of [{ kind: 'zone' as const, id: 'back' }, { kind: 'site' as const, id: 'town' }]) {
      const mins = (await release.series(target, minutes(D, 180)))!;
      const hours = (await release.series(target, { from: D, to: D + 3 * 3600, step: 3600, radio: 'wifi' }))!;
      const day = (await release.series(target, { from: D, to: D + 86_400, step: 86_400, radio: 'wifi' }))!;
      const sumOf = (from: number, to: number) => mins.devices.slice(from, to).reduce<number>((a, d) => a + (d ?? 0), 0);
      expect(hours.devices).toEqual([sumOf(0, 60), sumOf(60, 120), sumOf(120, 180)]);
      expect(day.devices).toEqual([sumOf(0, 180)]);
    }
  });

  it('cells frozen while noise was off get read-time noise, consistent across minutes, hours and days, also after retention', async () => {
    const offLayer = layer(new Registry(ZONES));
    const messages = [];
    for (let m = 0; m < 120; m++) messages.push(countsMessage('s3', D + m * 60, m % 4 === 0 ? 1 : 20));
    await store.put(messages, D + 10);
    await offLayer.settle(); // frozen without noise
    // noise turned on later; one more hour of cells frozen with noise
    const onLayer = layer(new Registry(ZONES), { ...noiseOn, minuteDays: 1 });
    const more = [];
    for (let m = 120; m < 180; m++) more.push(countsMessage('s3', D + m * 60, 30));
    await store.put(more, D + 20);
    await onLayer.settle();
    const mins = (await onLayer.series('back', minutes(D, 180)))!;
    const exact = (await onLayer.series('back', minutes(D, 180), { exact: true }))!;
    expect(mins.devices.some((d, i) => d !== exact.devices[i])).toBe(true);
    const hours = (await onLayer.series('back', { from: D, to: D + 3 * 3600, step: 3600, radio: 'wifi' }))!;
    const day = (await onLayer.series('back', { from: D, to: D + 86_400, step: 86_400, radio: 'wifi' }))!;
    const sumOf = (from: number, to: number) => mins.devices.slice(from, to).reduce<number>((a, d) => a + (d ?? 0), 0);
    expect(hours.devices).toEqual([sumOf(0, 60), sumOf(60, 120), sumOf(120, 180)]);
    expect(day.devices).toEqual([sumOf(0, 180)]);
    // after the minutes are gone, hours and days still read the same
    now = D + 5 * 86_400;
    await onLayer.applyRetention();
    await onLayer.settle();
    expect(await onLayer.series('back', { from: D, to: D + 3 * 3600, step: 3600, radio: 'wifi' })).toEqual(hours);
    expect(await onLayer.series('back', { from: D, to: D + 86_400, step: 86_400, radio: 'wifi' })).toEqual(day);
  });
});
