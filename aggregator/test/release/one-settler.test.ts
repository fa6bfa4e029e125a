/**
 * One settler (issue 13, item 1): reads never write and never settle; settle passes are started only by the
 * settler's interval and by `notifyStored()`, and a burst of requests coalesces into at most the running pass and
 * one more. Over a real SQLite store, with its write methods counted through storeWith (helpers/store-double.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from '../../src/registry.ts';
import { ReleaseLayer } from '../../src/release/release-layer.ts';
import type { ReleaseLayerOptions } from '../../src/release/release-layer.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import type { ReleaseStore } from '../../src/store/types.ts';
import { countsMessage } from '../helpers/messages.ts';
import { storeWith } from '../helpers/store-double.ts';
import { waitFor } from '@passant/test-helpers/wait';

/** A day-aligned time (2023-11-14T00:00:00Z). */
const D = 1_699_920_000;

let dir: string;
let real: SqliteStore;
let now: number;
let release: ReleaseLayer | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-one-settler-'));
  real = SqliteStore.open(path.join(dir, 'passant.db'));
  now = D + 3600;
});
afterEach(async () => {
  await release?.stop();
  release = undefined;
  await real.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const registry = new Registry([
  { id: 'front', name: 'Front', sensors: ['s1', 's2'] },
  { id: 'back', name: 'Back', sensors: ['s3'] },
]);

function layer(store: ReleaseStore, options: Partial<ReleaseLayerOptions> = {}): ReleaseLayer {
  release = new ReleaseLayer(store, registry, { k: 5, settleSeconds: 120, now: () => now, baseline: null, ...options });
  return release;
}

/** The store's methods that change it, and `unsettled` (the first read of every settle pass), counted. */
function countingStore(): { store: SqliteStore; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const counted = <K extends keyof ReleaseStore>(name: K): Partial<ReleaseStore> => {
    const original = ((real as ReleaseStore)[name] as (...args: unknown[]) => unknown).bind(real);
    return {
      [name]: (...args: unknown[]) => {
        calls[name] = (calls[name] ?? 0) + 1;
        return original(...args);
      },
    } as Partial<ReleaseStore>;
  };
  const names = ['put', 'freeze', 'clearUnsettled', 'requeue', 'setMeta', 'deleteMinutesBefore', 'deleteSensorWindowsBefore', 'unsettled'] as const;
  return { store: storeWith(real, Object.assign({}, ...names.map((n) => counted(n))) as Partial<ReleaseStore>), calls };
}

describe('reads never write', () => {
  it('series, calendar series and cells neither write to the store nor run a settle pass', async () => {
    const { store, calls } = countingStore();
    const release = layer(store);
    await real.put([countsMessage('s1', D, 6), countsMessage('s2', D, 2), countsMessage('s3', D + 60, 9)], D + 10);
    // Every cell stored has settled by now; only a settle pass may freeze them, and no read may run one.
    const reads = async () => [
      await release.series('front', { from: D, to: D + 120, step: 60, radio: 'wifi' }),
      await release.series('front', { from: D, to: D + 3600, step: 3600, radio: 'wifi' }, { released: true }),
      await release.series('front', { from: D, to: D + 86_400, step: 86_400, radio: 'wifi' }),
      await release.series({ kind: 'zones', ids: ['front', 'back'] }, { from: D, to: D + 120, step: 60, radio: 'ble' }),
      await release.series('back', { from: D, to: D + 86_400, step: 'day', radio: 'wifi', timeZone: 'Europe/Amsterdam' }),
      await release.cells('front', D),
      await release.cells('back', D + 60, { exact: true }),
    ];
    const before = await reads();
    expect(calls).toEqual({});
    expect(release.settlePasses).toBe(0);
    expect(before[0]).toEqual({ t: [D, D + 60], devices: [null, null], suppressed: [0, 0] });
    expect(before[5]).toBe('pending');

    const frozen = await release.settle();
    expect(frozen).toHaveLength(2);
    expect(calls.freeze).toBe(1);
    expect(calls.clearUnsettled).toBe(1);
    const writesAfterSettle = { ...calls };

    const after = await reads();
    expect(calls).toEqual(writesAfterSettle);
    expect(after[0]).toEqual({ t: [D, D + 60], devices: [8, null], suppressed: [0, 0] });
    expect(after[5]).toEqual([
      { zoneId: 'front', radio: 'wifi', t: D, devices: 8, suppressed: 0 },
      { zoneId: 'front', radio: 'ble', t: D, devices: null, suppressed: 1 },
    ]);
    expect(after[6]).toEqual([
      { zoneId: 'back', radio: 'wifi', t: D + 60, devices: 9, suppressed: 0 },
      { zoneId: 'back', radio: 'ble', t: D + 60, devices: null, suppressed: 1 },
    ]);
    expect(release.settlePasses).toBe(1);
  });
});

describe('one scheduler', () => {
  it('a burst of notifyStored() while a pass runs costs the running pass and one more', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let unsettledCalls = 0;
    const store = storeWith(real, {
      // The first pass reads the queue, then stalls until the gate opens.
      unsettled: async (limit: number) => {
        const keys = await real.unsettled(limit);
        unsettledCalls++;
        await gate;
        return keys;
      },
    });
    const release = layer(store);
    await real.put([countsMessage('s3', D, 7)], D + 10);
    release.notifyStored();
    await waitFor(() => unsettledCalls === 1, 'the first pass to be running', 5_000);
    // Stored batches keep coming after the first pass has read the queue.
    await real.put([countsMessage('s1', D + 60, 6), countsMessage('s2', D + 60, 1)], D + 70);
    for (let i = 0; i < 100; i++) release.notifyStored();
    const waiting = [release.settle(), release.settle(), release.settle()];
    expect(waiting[1]).toBe(waiting[0]);
    expect(waiting[2]).toBe(waiting[0]);
    open();
    await release.idle();
    expect(release.settlePasses).toBe(2);
    expect(unsettledCalls).toBe(2);
    // The second pass saw what was stored while the first ran.
    expect((await waiting[0]).map((c) => [c.zoneId, c.windowStart])).toEqual([['front', D + 60]]);
    expect(await release.series('front', { from: D + 60, to: D + 120, step: 60, radio: 'wifi' })).toEqual({ t: [D + 60], devices: [7], suppressed: [0] });
    expect(await release.series('back', { from: D, to: D + 60, step: 60, radio: 'wifi' })).toEqual({ t: [D], devices: [7], suppressed: [0] });
  });

  it('a burst of notifyStored() with no pass running is one pass', async () => {
    const { store, calls } = countingStore();
    const release = layer(store);
    await real.put([countsMessage('s3', D, 7)], D + 10);
    for (let i = 0; i < 100; i++) release.notifyStored();
    await release.idle();
    expect(release.settlePasses).toBe(1);
    expect(calls.freeze).toBe(1);
    expect(await release.cells('back', D)).toEqual([
      { zoneId: 'back', radio: 'wifi', t: D, devices: 7, suppressed: 0 },
      { zoneId: 'back', radio: 'ble', t: D, devices: null, suppressed: 1 },
    ]);
  });

  it('the interval alone freezes cells once their settle time has passed', async () => {
    now = D + 70;
    const release = layer(real, { settleIntervalMs: 20 });
    const frozen: string[] = [];
    release.on('frozen', (cells) => frozen.push(...cells.map((c) => `${c.zoneId}@${c.windowStart}`)));
    // s1 reports the minute, s2 never does: nobody calls notifyStored or settle.
    await real.put([countsMessage('s1', D, 9)], D + 65);
    release.start();
    const passes = release.settlePasses;
    await waitFor(() => release.settlePasses >= passes + 2, 'two passes of the interval', 5_000);
    await release.idle();
    expect(frozen).toEqual([]);
    expect(await release.cells('front', D)).toBe('pending');
    now = D + 60 + 120;
    await waitFor(() => frozen.length > 0, 'the interval to freeze the settled cell', 5_000);
    expect(frozen).toEqual([`front@${D}`]);
    expect(await release.series('front', { from: D, to: D + 60, step: 60, radio: 'wifi' })).toEqual({ t: [D], devices: [9], suppressed: [0] });
  });
});
