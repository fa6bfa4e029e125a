/**
 * Two aggregators on one real InfluxDB 1.x freeze each cell once, with one value. Each aggregator has its own
 * InfluxStore and release layer on the same database (the scale-out the README describes); their settle passes
 * run at the same moment, while a sensor's window arrives late, right at the settle deadline, through the other
 * aggregator. Many rounds, one zone-minute each: every frozen value either aggregator reports, and what the store
 * holds at the end, must be one and the same cell. (Without a rule that makes the cell's content the same for
 * every aggregator, one froze the cell without the late window and the other with it, and InfluxDB kept the last
 * write: a released value changed after release, the difference being one sensor's count.)
 *
 * Needs InfluxDB 1.x (Debian package "influxdb"): skipped with a message when absent, except under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CountsMessage } from '@passant/shared';
import { Registry } from '../aggregator/src/registry.ts';
import { ReleaseLayer } from '../aggregator/src/release/release-layer.ts';
import { InfluxStore } from '../aggregator/src/store/influx-store.ts';
import type { FrozenCell } from '../aggregator/src/store/types.ts';
import { countsMessage } from '../aggregator/test/helpers/messages.ts';
import { rng } from '../aggregator/test/helpers/rng.ts';
import { influxQuery, startInfluxd, type TestServer } from './helpers/influx.ts';
import { requireTool } from './helpers/tools.ts';

const hasInfluxd = requireTool('influxd', 'influxdb');
const ROUNDS = 100;
const SETTLE = 120;
const K = 3;
const ZONES = [{ id: 'plein', name: 'Plein', sensors: ['s-a', 's-b'] }];

/** The value of a cell as released: what must never change once a cell is frozen. */
function valueOf(c: FrozenCell): string {
  return JSON.stringify({ sensors: c.sensors, wifi: c.wifi, ble: c.ble });
}

describe.skipIf(!hasInfluxd)('two aggregators on one InfluxDB (influxd)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startInfluxd();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it(`${ROUNDS} rounds of a sensor reporting at the settle deadline: no released cell changes after release`, async () => {
    await influxQuery(server.url, 'CREATE DATABASE "two_aggs"');
    const open = () => InfluxStore.open({ url: server.url, apiVersion: 'v1', database: 'two_aggs' });
    const storeA = open();
    const storeB = open();
    let clock = 0;
    const now = () => clock;
    const layer = (store: InfluxStore) =>
      new ReleaseLayer(store, new Registry(ZONES), { k: K, settleSeconds: SETTLE, now, baseline: null, settleBatch: 50 });
    const a = layer(storeA);
    const b = layer(storeB);
    const base = Math.floor(Date.now() / 3_600_000) * 3600 - 6 * 3600;
    const changed: { windowStart: number; versions: string[] }[] = [];
    const random = rng(0x5eed);
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const w = base + round * 60;
        const deadline = w + 60 + SETTLE;
        // s-a's window arrives in time through aggregator A.
        const onTime: CountsMessage = countsMessage('s-a', w, 4, 1);
        await storeA.put([onTime], w + 61);
        // At the moment the settle time may be over (a few seconds past the deadline, as a settle job runs), s-b's
        // window arrives through B while both aggregators settle.
        clock = deadline + 15;
        const late: CountsMessage = countsMessage('s-b', w, 2 + (round % 3), 1);
        // The two settle passes and the late window's write start within a few milliseconds of each other, in a
        // different order each round (seeded), so that they overlap in every way.
        const after = <T>(ms: number, run: () => Promise<T>) => new Promise<T>((resolve, reject) => setTimeout(() => run().then(resolve, reject), ms));
        const [frozenA, frozenB] = await Promise.all([
          after(Math.floor(random() * 12), () => a.settle()),
          after(Math.floor(random() * 12), () => b.settle()),
          after(Math.floor(random() * 12), () => storeB.put([late], clock)),
        ]);
        await Promise.all([a.settle(), b.settle()]);
        const [final] = await storeA.cells(['plein'], w, w + 60);
        expect(final, `round ${round}: the cell is frozen`).toBeDefined();
        const versions = new Set([...frozenA, ...frozenB].filter((c) => c.windowStart === w).map(valueOf));
        versions.add(valueOf(final!));
        if (versions.size > 1) changed.push({ windowStart: w, versions: [...versions] });
      }
    } finally {
      await a.stop();
      await b.stop();
      await storeA.close();
      await storeB.close();
    }
    expect(changed, `cells frozen with two values in ${changed.length} of ${ROUNDS} rounds`).toEqual([]);
  }, 120_000);
});
