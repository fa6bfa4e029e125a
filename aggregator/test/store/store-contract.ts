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
import type { CountsStore, WindowSum } from '../../src/store/types.ts';

export interface StoreFixture {
  store: CountsStore;
  cleanup(): Promise<void>;
  reopen?(): Promise<CountsStore>;
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
        expect(plain(await store.sumByWindow(['a', 'b'], 'wifi', T0, T0 + 120))).toEqual([
          { windowStart: T0, devices: 7 },
          { windowStart: T0 + 60, devices: 5 },
        ]);
      });
    });

    it('an empty batch stores nothing', async () => {
      await withStore(async ({ store }) => {
        expect(await store.put([], T0)).toEqual([]);
        expect(await store.sumByWindow(['a'], 'wifi', 0, T0 + 3600)).toEqual([]);
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
        expect(plain(await store.sumByWindow(['a'], 'wifi', T0, T0 + 120))).toEqual([
          { windowStart: T0, devices: 5 },
          { windowStart: T0 + 60, devices: 1 },
        ]);
        expect(plain(await store.sumByWindow(['a'], 'ble', T0, T0 + 60))).toEqual([{ windowStart: T0, devices: 2 }]);
      });
    });

    it('a repeat within one batch is a duplicate of the first', async () => {
      await withStore(async ({ store }) => {
        const results = await store.put(
          [countsMessage('a', T0, 4), countsMessage('b', T0, 1), countsMessage('a', T0, 7), countsMessage('a', T0, 4)],
          T0 + 61,
        );
        expect(results).toEqual(['stored', 'stored', 'duplicate', 'duplicate']);
        expect(plain(await store.sumByWindow(['a'], 'wifi', T0, T0 + 60))).toEqual([{ windowStart: T0, devices: 4 }]);
      });
    });

    it('concurrent puts of the same key store it once', async () => {
      await withStore(async ({ store }) => {
        const [first, second] = await Promise.all([
          store.put([countsMessage('a', T0, 4)], T0 + 61),
          store.put([countsMessage('a', T0, 9)], T0 + 62),
        ]);
        expect([...first!, ...second!].sort()).toEqual(['duplicate', 'stored']);
        const sums = await store.sumByWindow(['a'], 'wifi', T0, T0 + 60);
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

        const sums = await store.sumByWindow(sensors, 'wifi', T0, T0 + 100 * 60);
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
        expect(plain(await store.sumByWindow(['a', 'b'], 'wifi', T0, T0 + 300))).toEqual([
          { windowStart: T0, devices: 11 },
          { windowStart: T0 + 60, devices: 23 },
          { windowStart: T0 + 120, devices: 2 },
        ]);
        // a window inside the range that only one of the sensors reported
        expect(plain(await store.sumByWindow(['b'], 'wifi', T0 + 60, T0 + 301))).toEqual([{ windowStart: T0 + 60, devices: 20 }]);
        expect(plain(await store.sumByWindow(['a', 'b', 'c'], 'wifi', T0 + 60, T0 + 301))).toEqual([
          { windowStart: T0 + 60, devices: 123 },
          { windowStart: T0 + 120, devices: 2 },
          { windowStart: T0 + 180, devices: 100 },
          { windowStart: T0 + 300, devices: 7 },
        ]);
        // a sensor id listed twice counts once
        expect(plain(await store.sumByWindow(['a', 'a'], 'wifi', T0, T0 + 60))).toEqual([{ windowStart: T0, devices: 1 }]);
      });
    });

    it('sumByWindow reports sensorCount, when it does, as the sensors with a row in the window', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('a', T0, 1), countsMessage('b', T0, 2), countsMessage('a', T0 + 60, 3)], T0 + 120);
        const sums = await store.sumByWindow(['a', 'b', 'c'], 'wifi', T0, T0 + 120);
        if (sums.some((s) => s.sensorCount !== undefined)) {
          expect(sums.map((s) => s.sensorCount)).toEqual([2, 1]);
        }
      });
    });

    it('a window whose counts are zero is present with 0, unlike a window without data', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('a', T0, 0), countsMessage('b', T0, 0)], T0 + 61);
        expect(plain(await store.sumByWindow(['a', 'b'], 'wifi', T0, T0 + 120))).toEqual([{ windowStart: T0, devices: 0 }]);
      });
    });

    it('keeps wifi and ble apart', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('a', T0, 5, { ble: 1 }), countsMessage('b', T0, 6, { ble: 30 }), countsMessage('a', T0 + 60, 0, { ble: 4 })], T0 + 121);
        expect(plain(await store.sumByWindow(['a', 'b'], 'wifi', T0, T0 + 120))).toEqual([
          { windowStart: T0, devices: 11 },
          { windowStart: T0 + 60, devices: 0 },
        ]);
        expect(plain(await store.sumByWindow(['a', 'b'], 'ble', T0, T0 + 120))).toEqual([
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
        expect(plain(await store.sumByWindow(['minute', 'short', 'quarter'], 'wifi', T0, T0 + 60))).toEqual([
          { windowStart: T0, devices: 11 },
          { windowStart: T0 + 10, devices: 2 },
          { windowStart: T0 + 15, devices: 4 },
        ]);
      });
    });

    it('sumByWindow of no sensors or an empty range is empty', async () => {
      await withStore(async ({ store }) => {
        await store.put([countsMessage('a', T0, 5)], T0 + 61);
        expect(await store.sumByWindow([], 'wifi', T0, T0 + 60)).toEqual([]);
        expect(await store.sumByWindow(['a'], 'wifi', T0, T0)).toEqual([]);
        expect(await store.sumByWindow(['a'], 'wifi', T0 + 60, T0)).toEqual([]);
        expect(await store.sumByWindow(['nobody'], 'wifi', T0, T0 + 60)).toEqual([]);
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
        await expect(store.sumByWindow(['a'], 'wifi', T0, T0 + 60)).rejects.toThrow(/closed/);
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
        expect(plain(await store.sumByWindow(['a', 'b'], 'wifi', T0, T0 + 60))).toEqual([{ windowStart: T0, devices: 11 }]);
        expect(plain(await store.sumByWindow(['a'], 'ble', T0, T0 + 60))).toEqual([{ windowStart: T0, devices: 2 }]);
        expect(await store.put([countsMessage('a', T0, 9), countsMessage('a', T0 + 60, 1)], T0 + 121)).toEqual(['duplicate', 'stored']);
      } finally {
        await fixture.cleanup();
      }
    });
  });
}
