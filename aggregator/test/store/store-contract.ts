/**
 * The contract every CountsStore keeps (aggregator/src/store/types.ts), as one suite that runs against each
 * implementation:
 *
 *   storeContract('SqliteStore', async () => { ... return { store, cleanup, reopen }; });
 *
 * `make()` gives a fresh, empty store. `cleanup()` closes the store it currently holds (the last one `reopen()`
 * returned, if any) and removes its data. `reopen()`, for stores where that means something, opens the same data
 * again after the test closed the store.
 */
import { describe, expect, it } from 'vitest';
import { CountsMessageSchema, RSSI_BUCKETS, type CountsMessage } from '@passant/shared';
import type { FrozenCell, ReleaseStore } from '../../src/store/types.ts';
import { sumByWindow, type WindowSum } from './sums.ts';

export interface StoreFixture {
  store: ReleaseStore;
  cleanup(): Promise<void>;
  reopen?(): Promise<ReleaseStore>;
}

/** A frozen cell for the tests: [devices, released, noise] per radio. */
export function frozenCell(
  zoneId: string,
  windowStart: number,
  wifi: [number, boolean, number | null],
  ble: [number, boolean, number | null] = [0, false, null],
  sensors: string[] = ['a'],
): FrozenCell {
  return {
    zoneId,
    windowStart,
    sensors,
    wifi: { devices: wifi[0], released: wifi[1], noise: wifi[2] },
    ble: { devices: ble[0], released: ble[1], noise: ble[2] },
  };
}

/** A minute-aligned time (2023-11-14T22:14:00Z) the tests count from. */
export const T0 = 1_700_000_040;

/** A valid counts message; `devices` per radio, frames and randomized derived from it. */
export function countsMessage(
  sensorId: string,
  windowStart: number,
  wifiDevices: number,
  options: { ble?: number; seq?: number; windowSeconds?: number } = {},
): CountsMessage {
  const radio = (devices: number) => {
    const histogram = new Array<number>(RSSI_BUCKETS).fill(0);
    histogram[2] = devices * 3;
    return { devices, randomized: Math.floor(devices / 2), frames: devices * 3, rssiHistogram: histogram };
  };
  return CountsMessageSchema.parse({
    v: 1,
    sensorId,
    windowStart,
    windowSeconds: options.windowSeconds ?? 60,
    seq: options.seq ?? 0,
    wifi: radio(wifiDevices),
    ble: radio(options.ble ?? 0),
    rssiFloor: -90,
  });
}

/** The sums without the optional `sensorCount`, for comparing with a plain list. */
function plain(sums: WindowSum[]): { windowStart: number; devices: number }[] {
  return sums.map(({ windowStart, devices }) => ({ windowStart, devices }));
}

export function storeContract(name: string, make: () => Promise<StoreFixture>): void {
  /** Runs `body` with a fresh store and always cleans up, also when the body fails. */
  async function withStore(body: (fixture: StoreFixture) => Promise<void>): Promise<void> {
    const fixture = await make();
    try {
      await body(fixture);
    } finally {
      await fixture.cleanup();
    }
  }

  describe(`CountsStore contract: ${name}`, () => {
    it('stores new windows and reports them as stored, in input order', async () => {
      await withStore(async ({ store }) => {
        const results = await store.put([countsMessage('a', T0, 3), countsMessage('b', T0, 4), countsMessage('a', T0 + 60, 5)], T0 + 61);
        expect(results).toEqual(['stored', 'stored', 'stored']);
        expect(plain(await sumByWindow(store, ['a', 'b'], 'wifi', T0, T0 + 120))).toEqual([
          { windowStart: T0, devices: 7 },
          { windowStart: T0 + 60, devices: 5 },
        ]);
      });
    });

    it('an empty batch stores nothing', async () => {
      await withStore(async ({ store }) => {
        expect(await store.put([], T0)).toEqual([]);
        expect(await sumByWindow(store, ['a'], 'wifi', 0, T0 + 3600)).toEqual([]);
      });
    });

    it('the same (sensorId, windowStart) again is a duplicate and changes nothing: the first write wins', async () => {
      await withStore(async ({ store }) => {
        expect(await store.put([countsMessage('a', T0, 5, { ble: 2, seq: 1 })], T0 + 61)).toEqual(['stored']);
        // a different message for the same key, with other counts: ignored
        const results = await store.put(
          [countsMessage('a', T0 + 60, 1), countsMessage('a', T0, 9, { ble: 8, seq: 2 }), countsMessage('b', T0, 1)],
          T0 + 200,
        );
        expect(results).toEqual(['stored', 'duplicate', 'stored']);
        // the very same message again (an MQTT redelivery)
        expect(await store.put([countsMessage('a', T0, 5, { ble: 2, seq: 1 })], T0 + 300)).toEqual(['duplicate']);
        expect(plain(await sumByWindow(store, ['a'], 'wifi', T0, T0 + 120))).toEqual([
          { windowStart: T0, devices: 5 },
          { windowStart: T0 + 60, devices: 1 },
        ]);
        expect(plain(await sumByWindow(store, ['a'], 'ble', T0, T0 + 60))).toEqual([{ windowStart: T0, devices: 2 }]);
      });
    });

    it('a repeat within one batch is a duplicate of the first', async () => {
      await withStore(async ({ store }) => {
        const results = await store.put(
          [countsMessage('a', T0, 4), countsMessage('b', T0, 1), countsMessage('a', T0, 7), countsMessage('a', T0, 4)],
          T0 + 61,
        );
        expect(results).toEqual(['stored', 'stored', 'duplicate', 'duplicate']);
        expect(plain(await sumByWindow(store, ['a'], 'wifi', T0, T0 + 60))).toEqual([{ windowStart: T0, devices: 4 }]);
      });
    });

    it('concurrent puts of the same key store it once', async () => {
      await withStore(async ({ store }) => {
        const [first, second] = await Promise.all([
          store.put([countsMessage('a', T0, 4)], T0 + 61),
          store.put([countsMessage('a', T0, 9)], T0 + 62),
        ]);
        expect([...first!, ...second!].sort()).toEqual(['duplicate', 'stored']);
        const sums = await sumByWindow(store, ['a'], 'wifi', T0, T0 + 60);
        // whichever ran first won, and only one of them counts
        expect(plain(sums)).toEqual([{ windowStart: T0, devices: first![0] === 'stored' ? 4 : 9 }]);
      });
    });

    it('stores a batch of 5,000 windows, and the same batch again is all duplicates', async () => {
      await withStore(async ({ store }) => {
        const sensors = Array.from({ length: 50 }, (_, i) => `sensor-${i}`);
        const batch: CountsMessage[] = [];
        for (let w = 0; w < 100; w++) {
          sensors.forEach((s, i) => batch.push(countsMessage(s, T0 + w * 60, (i + w) % 13, { seq: w })));
        }
        expect(batch).toHaveLength(5000);
        const results = await store.put(batch, T0 + 6000);
        expect(results).toHaveLength(5000);
        expect(results.every((r) => r === 'stored')).toBe(true);

        const sums = await sumByWindow(store, sensors, 'wifi', T0, T0 + 100 * 60);
        expect(sums).toHaveLength(100);
        sums.forEach((sum, w) => {
          expect(sum.windowStart).toBe(T0 + w * 60);
          expect(sum.devices).toBe(sensors.reduce((acc, _, i) => acc + ((i + w) % 13), 0));
        });
        const again = await store.put(batch, T0 + 7000);
        expect(again.every((r) => r === 'duplicate')).toBe(true);
      });
    });

    it('sumByWindow sums the given sensors per window over [from, to), ascending, without empty windows', async () => {
      await withStore(async ({ store }) => {
        await store.put(
          [
            countsMessage('a', T0 + 120, 2), // given out of order: the answer is still ascending
            countsMessage('a', T0, 1),
            countsMessage('b', T0, 10),
            countsMessage('a', T0 + 60, 3),
            countsMessage('b', T0 + 60, 20),
            countsMessage('c', T0 + 60, 100), // not asked for
            countsMessage('c', T0 + 180, 100), // only c: absent from a+b
            countsMessage('a', T0 + 300, 7), // at `to`: excluded
            countsMessage('b', T0 - 60, 50), // before `from`: excluded
          ],
          T0 + 400,
        );
        expect(plain(await sumByWindow(store, ['a', 'b'], 'wifi', T0, T0 + 300))).toEqual([
          { windowStart: T0, devices: 11 },
          { windowStart: T0 + 60, devices: 23 },
          { windowStart: T0 + 120, devices: 2 },
        ]);
        // a window inside the range that only one of the sensors reported
        expect(plain(await sumByWindow(store, ['b'], 'wifi', T0 + 60, T0 + 301))).toEqual([{ windowStart: T0 + 60, devices: 20 }]);
        expect(plain(await sumByWindow(store, ['a', 'b', 'c'], 'wifi', T0 + 60, T0 + 301))).toEqual([
          { windowStart: T0 + 60, devices: 123 },
          { windowStart: T0 + 120, devices: 2 },
          { windowStart: T0 + 180, devices: 100 },
          { windowStart: T0 + 300, devices: 7 },
        ]);
        // a sensor id listed twice counts once
        expect(plain(await sumByWindow(store, ['a', 'a'], 'wifi', T0, T0 + 60))).toEqual([{ windowStart: T0, devices: 1 }]);
      });
    });

    it('a sensor id never matches another that it is a prefix or a part of', async () => {
      await withStore(async ({ store }) => {
        const ids = ['a', 'ab', 'a-b', 'ba', 'xa-bx'];
        await store.put(
          ids.map((id, i) => countsMessage(id, T0, 10 ** i)),
          T0 + 61,
        );
        for (const [i, id] of ids.entries()) {
          expect(plain(await sumByWindow(store, [id], 'wifi', T0, T0 + 60))).toEqual([{ windowStart: T0, devices: 10 ** i }]);
          expect((await store.sensorWindows([id], T0, T0 + 60)).map((w) => w.sensorId)).toEqual([id]);
        }
        // a batch of the same keys again: each is a duplicate of its own sensor's window only
        expect(await store.put([countsMessage('ab', T0, 1), countsMessage('b', T0, 1)], T0 + 120)).toEqual(['duplicate', 'stored']);
      });
    });

    it('sumByWindow reports sensorCount, when it does, as the sensors with a row in the window', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('a', T0, 1), countsMessage('b', T0, 2), countsMessage('a', T0 + 60, 3)], T0 + 120);
        const sums = await sumByWindow(store, ['a', 'b', 'c'], 'wifi', T0, T0 + 120);
        if (sums.some((s) => s.sensorCount !== undefined)) {
          expect(sums.map((s) => s.sensorCount)).toEqual([2, 1]);
        }
      });
    });

    it('a window whose counts are zero is present with 0, unlike a window without data', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('a', T0, 0), countsMessage('b', T0, 0)], T0 + 61);
        expect(plain(await sumByWindow(store, ['a', 'b'], 'wifi', T0, T0 + 120))).toEqual([{ windowStart: T0, devices: 0 }]);
      });
    });

    it('keeps wifi and ble apart', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('a', T0, 5, { ble: 1 }), countsMessage('b', T0, 6, { ble: 30 }), countsMessage('a', T0 + 60, 0, { ble: 4 })], T0 + 121);
        expect(plain(await sumByWindow(store, ['a', 'b'], 'wifi', T0, T0 + 120))).toEqual([
          { windowStart: T0, devices: 11 },
          { windowStart: T0 + 60, devices: 0 },
        ]);
        expect(plain(await sumByWindow(store, ['a', 'b'], 'ble', T0, T0 + 120))).toEqual([
          { windowStart: T0, devices: 31 },
          { windowStart: T0 + 60, devices: 4 },
        ]);
      });
    });

    it('sums per windowStart when sensors use different window lengths', async () => {
      await withStore(async ({ store }) => {
        await store.put(
          [
            countsMessage('minute', T0, 10, { windowSeconds: 60 }),
            countsMessage('short', T0, 1, { windowSeconds: 10 }),
            countsMessage('short', T0 + 10, 2, { windowSeconds: 10 }),
            countsMessage('quarter', T0 + 15, 4, { windowSeconds: 15 }),
          ],
          T0 + 61,
        );
        expect(plain(await sumByWindow(store, ['minute', 'short', 'quarter'], 'wifi', T0, T0 + 60))).toEqual([
          { windowStart: T0, devices: 11 },
          { windowStart: T0 + 10, devices: 2 },
          { windowStart: T0 + 15, devices: 4 },
        ]);
      });
    });

    it('windowKeys lists which windows exist, keys only (no count in any form), like sensorWindows', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('a', T0, 7), countsMessage('b', T0, 9), countsMessage('a', T0 + 60, 3), countsMessage('c', T0, 4)], T0 + 120);
        const keys = await store.windowKeys(['a', 'b', 'a'], T0, T0 + 120);
        expect(keys).toEqual([
          { sensorId: 'a', windowStart: T0 },
          { sensorId: 'b', windowStart: T0 },
          { sensorId: 'a', windowStart: T0 + 60 },
        ]);
        for (const k of keys) expect(Object.keys(k).sort()).toEqual(['sensorId', 'windowStart']);
        const windows = await store.sensorWindows(['a', 'b'], T0, T0 + 120);
        expect(keys).toEqual(windows.map(({ sensorId, windowStart }) => ({ sensorId, windowStart })));
        expect(await store.windowKeys([], T0, T0 + 60)).toEqual([]);
        expect(await store.windowKeys(['a'], T0 + 60, T0)).toEqual([]);
      });
    });

    it('sumByWindow of no sensors or an empty range is empty', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('a', T0, 5)], T0 + 61);
        expect(await sumByWindow(store, [], 'wifi', T0, T0 + 60)).toEqual([]);
        expect(await sumByWindow(store, ['a'], 'wifi', T0, T0)).toEqual([]);
        expect(await sumByWindow(store, ['a'], 'wifi', T0 + 60, T0)).toEqual([]);
        expect(await sumByWindow(store, ['nobody'], 'wifi', T0, T0 + 60)).toEqual([]);
      });
    });

    it('ping answers true while open', async () => {
      await withStore(async ({ store }) => {
        expect(await store.ping()).toBe(true);
      });
    });

    it('after close, ping answers false and put and sumByWindow reject', async () => {
      await withStore(async ({ store }) => {
        await store.close();
        expect(await store.ping()).toBe(false);
        await expect(store.put([countsMessage('a', T0, 1)], T0 + 61)).rejects.toThrow(/closed/);
        await expect(sumByWindow(store, ['a'], 'wifi', T0, T0 + 60)).rejects.toThrow(/closed/);
      });
    });

    it('queues every stored window as unsettled (duplicates not), oldest first; clearUnsettled and requeue', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('b', T0 + 60, 1), countsMessage('a', T0 + 60, 2), countsMessage('a', T0, 3)], T0 + 100);
        await store.put([countsMessage('a', T0, 9)], T0 + 200); // duplicate: not queued again
        expect(await store.unsettled(10)).toEqual([
          { sensorId: 'a', windowStart: T0 },
          { sensorId: 'a', windowStart: T0 + 60 },
          { sensorId: 'b', windowStart: T0 + 60 },
        ]);
        expect(await store.unsettled(2)).toHaveLength(2);
        await store.clearUnsettled([
          { sensorId: 'a', windowStart: T0 },
          { sensorId: 'b', windowStart: T0 + 60 },
          { sensorId: 'nobody', windowStart: T0 },
        ]);
        expect(await store.unsettled(10)).toEqual([{ sensorId: 'a', windowStart: T0 + 60 }]);
        await store.clearUnsettled([{ sensorId: 'a', windowStart: T0 + 60 }]);
        expect(await store.unsettled(10)).toEqual([]);
        // requeue: the stored windows of the given sensors in [from, to)
        expect(await store.requeue(['a'], T0, T0 + 60)).toBe(1);
        expect(await store.unsettled(10)).toEqual([{ sensorId: 'a', windowStart: T0 }]);
        await store.requeue(['a', 'b'], T0, T0 + 3600);
        expect(await store.unsettled(10)).toEqual([
          { sensorId: 'a', windowStart: T0 },
          { sensorId: 'a', windowStart: T0 + 60 },
          { sensorId: 'b', windowStart: T0 + 60 },
        ]);
      });
    });

    it('sensorWindows: the stored windows of the given sensors, both radios, with when they were received', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('b', T0, 4, { ble: 1 }), countsMessage('a', T0, 3, { ble: 2 }), countsMessage('c', T0, 50)], T0 + 61);
        await store.put([countsMessage('a', T0 + 60, 5), countsMessage('a', T0 + 120, 6)], T0 + 130);
        expect(await store.sensorWindows(['a', 'b', 'a'], T0, T0 + 120)).toEqual([
          { sensorId: 'a', windowStart: T0, wifi: 3, ble: 2, wifiRandomized: 1, bleRandomized: 1, receivedAt: T0 + 61 },
          { sensorId: 'b', windowStart: T0, wifi: 4, ble: 1, wifiRandomized: 2, bleRandomized: 0, receivedAt: T0 + 61 },
          { sensorId: 'a', windowStart: T0 + 60, wifi: 5, ble: 0, wifiRandomized: 2, bleRandomized: 0, receivedAt: T0 + 130 },
        ]);
        expect(await store.sensorWindows([], T0, T0 + 120)).toEqual([]);
        expect(await store.sensorWindows(['a'], T0 + 60, T0 + 60)).toEqual([]);
      });
    });

    it('freeze: the first write of a cell wins; cells reads them back by zone and time', async () => {
      await withStore(async ({ store }) => {
        const first = frozenCell('front', T0, [7, true, -2], [3, false, null], ['a', 'b']);
        expect(await store.freeze([first, frozenCell('back', T0, [1, false, null]), frozenCell('front', T0 + 60, [12, true, null], [5, true, 1])])).toEqual([
          true,
          true,
          true,
        ]);
        // the same cell again, with other values: left as it was
        expect(await store.freeze([frozenCell('front', T0, [99, true, 5]), frozenCell('front', T0 + 120, [0, false, null])])).toEqual([false, true]);
        expect(await store.cells(['front'], T0, T0 + 120)).toEqual([first, frozenCell('front', T0 + 60, [12, true, null], [5, true, 1])]);
        expect((await store.cells(null, T0, T0 + 180)).map((c) => [c.zoneId, c.windowStart])).toEqual([
          ['back', T0],
          ['front', T0],
          ['front', T0 + 60],
          ['front', T0 + 120],
        ]);
        expect(await store.cells(['nowhere'], T0, T0 + 180)).toEqual([]);
        expect(await store.cells([], T0, T0 + 180)).toEqual([]);
        expect(await store.freeze([])).toEqual([]);
      });
    });

    it('rollups: per zone, hour and day, the sums of released cells, the suppressed count and the noise, never counted twice', async () => {
      await withStore(async ({ store }) => {
        const H = Math.floor(T0 / 86_400) * 86_400 + 5 * 3600; // 05:00 UTC of T0's day
        await store.freeze([
          frozenCell('front', H, [7, true, 1], [2, false, null]),
          frozenCell('front', H + 60, [3, false, null], [9, true, null]),
          frozenCell('front', H + 3540, [10, true, -3], [6, true, 2]),
          frozenCell('back', H, [20, true, null]),
        ]);
        // a second call in the same hour adds to it; a repeat of a frozen cell does not
        await store.freeze([frozenCell('front', H + 120, [5, true, 0]), frozenCell('front', H, [1000, true, 1000])]);
        await store.freeze([frozenCell('front', H + 3600, [8, true, null], [1, false, null])]);
        const hours = await store.rollups('front', 3600, H, H + 7200);
        expect(hours).toEqual([
          {
            zoneId: 'front',
            step: 3600,
            t: H,
            wifi: { sum: 22, released: 3, suppressed: 1, noise: -2, noised: 3 },
            ble: { sum: 15, released: 2, suppressed: 2, noise: 2, noised: 1 },
          },
          {
            zoneId: 'front',
            step: 3600,
            t: H + 3600,
            wifi: { sum: 8, released: 1, suppressed: 0, noise: 0, noised: 0 },
            ble: { sum: 0, released: 0, suppressed: 1, noise: 0, noised: 0 },
          },
        ]);
        const day = Math.floor(H / 86_400) * 86_400;
        expect(await store.rollups('front', 86_400, day, day + 86_400)).toEqual([
          {
            zoneId: 'front',
            step: 86_400,
            t: day,
            wifi: { sum: 30, released: 4, suppressed: 1, noise: -2, noised: 3 },
            ble: { sum: 15, released: 2, suppressed: 3, noise: 2, noised: 1 },
          },
        ]);
        expect(await store.rollups('back', 3600, H, H + 3600)).toEqual([
          {
            zoneId: 'back',
            step: 3600,
            t: H,
            wifi: { sum: 20, released: 1, suppressed: 0, noise: 0, noised: 0 },
            ble: { sum: 0, released: 0, suppressed: 1, noise: 0, noised: 0 },
          },
        ]);
        // [from, to): the hour at `to` is out
        expect(await store.rollups('front', 3600, H, H + 3600)).toHaveLength(1);
        expect(await store.rollups('nowhere', 3600, H, H + 3600)).toEqual([]);
      });
    });

    it('deleteSensorWindowsBefore deletes settled raw windows before t only; unsettled ones, cells and rollups stay', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('a', T0, 5), countsMessage('b', T0, 6), countsMessage('a', T0 + 60, 7), countsMessage('a', T0 + 120, 8)], T0 + 180);
        await store.freeze([frozenCell('z', T0, [11, true, null])]);
        // a and b at T0 and a at T0 + 120 are settled; a at T0 + 60 is not
        await store.clearUnsettled([{ sensorId: 'a', windowStart: T0 }, { sensorId: 'b', windowStart: T0 }, { sensorId: 'a', windowStart: T0 + 120 }]);
        const deleted = await store.deleteSensorWindowsBefore(T0 + 120);
        if (deleted >= 0) expect(deleted).toBe(2);
        expect((await store.sensorWindows(['a', 'b'], 0, T0 + 3600)).map((w) => [w.sensorId, w.windowStart])).toEqual([
          ['a', T0 + 60],
          ['a', T0 + 120],
        ]);
        expect(await store.unsettled(10)).toEqual([{ sensorId: 'a', windowStart: T0 + 60 }]);
        expect((await store.cells(['z'], 0, T0 + 3600)).map((c) => c.windowStart)).toEqual([T0]);
        expect((await store.rollups('z', 3600, 0, T0 + 3600)).map((r) => r.wifi.sum)).toEqual([11]);
        // a window delivered again after its row was deleted is stored again (and settled again: its cell is frozen)
      });
    });

    it('lastWindows: each sensor\'s latest stored window and its seq, whatever order the windows came in', async () => {
      await withStore(async ({ store }) => {
        if (store.lastWindows === undefined) return;
        await store.put([countsMessage('a', T0 + 60, 1, { seq: 8 }), countsMessage('b', T0, 1, { seq: 3 })], T0 + 120);
        await store.put([countsMessage('a', T0, 1, { seq: 7 }), countsMessage('a', T0 + 60, 1, { seq: 99 })], T0 + 130);
        const last = (await store.lastWindows()).sort((x, y) => (x.sensorId < y.sensorId ? -1 : 1));
        expect(last).toEqual([
          { sensorId: 'a', windowStart: T0 + 60, seq: 8 },
          { sensorId: 'b', windowStart: T0, seq: 3 },
        ]);
      });
    });

    it('deleteMinutesBefore deletes raw windows, queued keys and frozen cells before t; rollups stay, their hours closed', async () => {
      await withStore(async ({ store }) => {
        const day = Math.floor(T0 / 86_400) * 86_400;
        await store.put([countsMessage('a', day - 60, 5), countsMessage('a', day, 6), countsMessage('b', day + 60, 7)], day + 120);
        await store.freeze([frozenCell('z', day - 60, [5, true, null]), frozenCell('z', day, [6, true, null])]);
        const deleted = await store.deleteMinutesBefore(day);
        if (deleted.windows >= 0) expect(deleted).toEqual({ windows: 1, cells: 1 });
        expect(await store.sensorWindows(['a', 'b'], 0, day + 3600)).toEqual([
          { sensorId: 'a', windowStart: day, wifi: 6, ble: 0, wifiRandomized: 3, bleRandomized: 0, receivedAt: day + 120 },
          { sensorId: 'b', windowStart: day + 60, wifi: 7, ble: 0, wifiRandomized: 3, bleRandomized: 0, receivedAt: day + 120 },
        ]);
        expect(plain(await sumByWindow(store, ['a'], 'wifi', 0, day + 3600))).toEqual([{ windowStart: day, devices: 6 }]);
        expect(await store.unsettled(10)).toEqual([
          { sensorId: 'a', windowStart: day },
          { sensorId: 'b', windowStart: day + 60 },
        ]);
        expect((await store.cells(['z'], 0, day + 3600)).map((c) => c.windowStart)).toEqual([day]);
        // the rollups of the deleted minute stay
        expect((await store.rollups('z', 86_400, day - 86_400, day + 86_400)).map((r) => [r.t, r.wifi.sum])).toEqual([
          [day - 86_400, 5],
          [day, 6],
        ]);
        expect((await store.rollups('z', 3600, day - 3600, day)).map((r) => r.wifi.released)).toEqual([1]);
        // the hour whose minutes went is closed; the hour after it is not
        expect(await store.closedHours('z', day - 86_400, day + 86_400)).toEqual([day - 3600]);
        await store.freeze([frozenCell('z', day + 60, [9, true, null])]);
        expect(await store.closedHours('z', day - 86_400, day + 86_400)).toEqual([day - 3600]);
        expect(await store.closedHours('other', day - 86_400, day + 86_400)).toEqual([]);
      });
    });

    it('sensorStats: per sensor the windows stored, first and last window and when the last was received; no counts', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('a', T0 + 60, 5), countsMessage('b', T0, 1)], T0 + 100);
        await store.put([countsMessage('a', T0, 9), countsMessage('a', T0 + 60, 1)], T0 + 200); // the second is a duplicate
        expect(await store.sensorStats()).toEqual([
          { sensorId: 'a', firstWindowStart: T0, lastWindowStart: T0 + 60, lastReceivedAt: T0 + 200, messages: 2 },
          { sensorId: 'b', firstWindowStart: T0, lastWindowStart: T0, lastReceivedAt: T0 + 100, messages: 1 },
        ]);
      });
    });

    it('meta: a value per key, replaced by a later set', async () => {
      await withStore(async ({ store }) => {
        expect(await store.getMeta('release-registry')).toBeUndefined();
        await store.setMeta('release-registry', '{"z":["a"]}');
        await store.setMeta('other-key', 'x "quoted" \\ and more');
        await store.setMeta('release-registry', '{"z":["a","b"]}');
        expect(await store.getMeta('release-registry')).toBe('{"z":["a","b"]}');
        expect(await store.getMeta('other-key')).toBe('x "quoted" \\ and more');
      });
    });

    it('keeps what it stored across close and reopen', async (ctx) => {
      const fixture = await make();
      try {
        if (fixture.reopen === undefined) {
          ctx.skip(`${name} has no reopen`);
          return;
        }
        await fixture.store.put([countsMessage('a', T0, 5, { ble: 2 }), countsMessage('b', T0, 6)], T0 + 61);
        await fixture.store.close();
        const store = await fixture.reopen();
        expect(await store.ping()).toBe(true);
        expect(plain(await sumByWindow(store, ['a', 'b'], 'wifi', T0, T0 + 60))).toEqual([{ windowStart: T0, devices: 11 }]);
        expect(plain(await sumByWindow(store, ['a'], 'ble', T0, T0 + 60))).toEqual([{ windowStart: T0, devices: 2 }]);
        expect(await store.put([countsMessage('a', T0, 9), countsMessage('a', T0 + 60, 1)], T0 + 121)).toEqual(['duplicate', 'stored']);
        // the release layer's data too
        await store.freeze([frozenCell('z', T0, [11, true, 2])]);
        await store.setMeta('release-registry', 'kept');
        await store.close();
        const again = await fixture.reopen();
        expect(await again.cells(['z'], T0, T0 + 60)).toEqual([frozenCell('z', T0, [11, true, 2])]);
        expect((await again.rollups('z', 3600, T0 - 3600, T0 + 3600)).map((r) => r.wifi.sum)).toEqual([11]);
        expect(await again.getMeta('release-registry')).toBe('kept');
        expect((await again.unsettled(10)).length).toBe(3);
      } finally {
        await fixture.cleanup();
      }
    });
  });
}
