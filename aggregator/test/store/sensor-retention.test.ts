/**
 * The aggregator keeps per-sensor rows only as long as the release layer needs them: at start (and every
 * retention.intervalMinutes) it deletes the settled rows older than retention.sensorWindowHours (from the current
 * hour's start); frozen cells and rollups stay (unsettled rows too: the store contract tests that). Real SQLite
 * file, real aggregator.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/index.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';
import { makeDataDir, removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';
import { frozenCell } from './store-contract.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startAedes();
});
afterAll(async () => {
  await broker?.close();
});

describe('per-sensor retention', () => {
  it('deletes settled per-sensor rows older than sensorWindowHours at start; keeps newer ones, cells and rollups', async () => {
    const dataDir = makeDataDir();
    const hour = Math.floor(Date.now() / 3_600_000) * 3600;
    const at = (hoursAgo: number) => hour - hoursAgo * 3600;
    const store = SqliteStore.open(path.join(dataDir, 'passant.db'));
    const settledOld = countsMessage('s1', at(30), 9);
    const settledNew = countsMessage('s1', at(10), 7);
    await store.put([settledOld, settledNew], hour);
    await store.freeze([frozenCell('z', at(30), [9, true, null]), frozenCell('z', at(10), [7, true, null])]);
    await store.clearUnsettled([settledOld, settledNew].map((m) => ({ sensorId: m.sensorId, windowStart: m.windowStart })));
    await store.close();

    const agg = await startTestAggregator(
      broker.url,
      { aggregator: { id: 'sensor-retention' }, zones: [{ id: 'z', name: 'Z', sensors: ['s1'] }], retention: { sensorWindowHours: 24 } },
      { dataDir },
    );
    try {
      await waitFor(() => agg.logText().includes('settled per-sensor windows deleted'), 'the retention run at start');
      const rows = await agg.store.sensorWindows(['s1'], 0, hour + 3600);
      expect(rows.map((r) => r.windowStart)).toEqual([at(10)]);
      expect((await agg.store.cells(['z'], 0, hour + 3600)).map((c) => c.windowStart)).toEqual([at(30), at(10)]);
      expect((await agg.store.rollups('z', 3600, 0, hour + 3600)).map((r) => r.t)).toEqual([at(30), at(10)]);
    } finally {
      await agg.close();
      removeDir(dataDir);
    }
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});
