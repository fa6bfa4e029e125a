/**
 * The audit's release check (release-check.ts) against a real aggregator (SQLite file, HTTP): with an honest
 * release layer it pins no suppressed cell; with a broken one (a store whose hour and day rollups sum every cell,
 * suppressed ones included) it finds the cells an hour total gives away, and names them. Without the second half
 * the first would prove nothing.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseCheck } from '../../src/audit/release-check.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { addToRollup, emptyRollupRadio } from '../../src/store/types.ts';
import type { ReleaseStore, Rollup, RollupStep } from '../../src/store/types.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { makeDataDir, removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';

const K = 5;
const BASE = 1_699_920_000 + 10 * 3600; // an hour start
const HOURS = 3;

/** Rollups that sum every frozen cell, suppressed ones included: what a broken release layer would publish. */
function rawRollupStore(file: string): ReleaseStore {
  const inner = SqliteStore.open(file);
  const rollups = async (zoneId: string, step: RollupStep, from: number, to: number): Promise<Rollup[]> => {
    const rows = new Map<number, Rollup>();
    for (const cell of await inner.cells([zoneId], from, to)) {
      const t = Math.floor(cell.windowStart / step) * step;
      const row = rows.get(t) ?? { zoneId, step, t, wifi: emptyRollupRadio(), ble: emptyRollupRadio() };
      for (const radio of ['wifi', 'ble'] as const) addToRollup(row[radio], { ...cell[radio], released: true });
      rows.set(t, row);
    }
    return [...rows.values()].sort((a, b) => a.t - b.t);
  };
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'rollups') return rollups;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

let broker: TestBroker;
beforeAll(async () => {
  broker = await startAedes();
});
afterAll(async () => {
  await broker?.close();
});

async function run(broken: boolean, http: { rateLimitPerMinute: number; rateLimitBurst?: number } = { rateLimitPerMinute: 0 }) {
  const dataDir = makeDataDir();
  const now = BASE + HOURS * 3600 + 3600;
  const store = broken ? rawRollupStore(path.join(dataDir, 'passant.db')) : undefined;
  const agg = await startTestAggregator(
    broker.url,
    {
      k: K,
      zones: [
        { id: 'north', name: 'North', sensors: ['n1', 'n2'] },
        { id: 'south', name: 'South', sensors: ['s1'] },
      ],
      sites: [{ id: 'both', name: 'Both', zones: ['north', 'south'] }],
      auth: { public: { zones: 'all', sites: 'all' } },
      http,
    },
    { dataDir, now: () => now, ...(store ? { store } : {}) },
  );
  try {
    const messages = [];
    for (let t = BASE, i = 0; t < BASE + HOURS * 3600; t += 60, i++) {
      // one suppressed minute per hour in the north (3 devices), the rest released; the south always released
      const north = i % 60 === 17 ? 3 : 6 + (i % 5);
      messages.push(countsMessage('n1', t, north - 1, 6), countsMessage('n2', t, 1, 2), countsMessage('s1', t, 7 + (i % 3), 8));
    }
    await agg.store.put(messages, now - 60);
    await agg.release.settle();
    const token = agg.tokens.create({ role: 'privacy' }).token;
    return await releaseCheck({ apiUrl: agg.url, token, from: BASE, to: BASE + HOURS * 3600 });
  } finally {
    await agg.close();
    removeDir(dataDir);
  }
}

describe('the audit release check', () => {
  it('pins no suppressed cell of an honest release layer, with every series route read', async () => {
    const r = await run(false);
    expect(r.routes).toEqual(expect.arrayContaining(['/api/v1/zones/{id}/series', '/api/v1/sites/{id}/series', '/api/v1/zones/{id}/series.csv']));
    expect(r.suppressedCells).toBe(HOURS);
    expect(r.equations).toBeGreaterThan(r.cells);
    expect(r.recovered).toEqual([]);
    expect(r.errors).toEqual([]);
  }, 60_000);

  it('waits out the API\'s rate limit (429, Retry-After) instead of leaving routes out', async () => {
    const r = await run(false, { rateLimitPerMinute: 1200, rateLimitBurst: 10 });
    expect(r.errors).toEqual([]);
    expect(r.requests).toBeGreaterThan(100);
    expect(r.recovered).toEqual([]);
  }, 120_000);

  it('finds and names the suppressed cells a broken release layer gives away', async () => {
    const r = await run(true);
    expect(r.recovered.map((c) => `${c.zone}@${c.t}/${c.radio}`).sort()).toEqual(
      Array.from({ length: HOURS }, (_, h) => `north@${BASE + h * 3600 + 17 * 60}/wifi`).sort(),
    );
  }, 60_000);
});
