/**
 * The API's rate limit (express-rate-limit, routes/context.ts) on a real server: a client gets `burst` units per
 * window of burst / perMinute minutes, then 429 with Retry-After until the window turns; a request that reads many
 * cells pays 1 unit per rateLimitCellsPerUnit cells on top, from the same counter; each token and each address has
 * its own; 0 a minute is no limit. fair-share.test.ts checks the same with the production defaults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';
import { removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';

const ZONES = [{ id: 'front', name: 'Front', sensors: ['s1'] }];
const D = 1_699_920_000;

let broker: TestBroker;
const started: TestAggregator[] = [];

async function aggregator(http: Record<string, number>): Promise<TestAggregator> {
  const agg = await startTestAggregator(broker.url, { aggregator: { id: `rate-${started.length}` }, zones: ZONES, auth: { public: { zones: 'all' } }, http });
  started.push(agg);
  return agg;
}

async function status(agg: TestAggregator, path: string, token?: string): Promise<{ status: number; retryAfter: string | null; code?: string }> {
  const res = await fetch(`${agg.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = (await res.json()) as { code?: string };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), code: body.code };
}

beforeAll(async () => {
  broker = await startAedes();
});

afterAll(async () => {
  for (const agg of started) {
    await agg.close();
    removeDir(agg.dataDir);
  }
  await broker?.close();
});

describe('the rate limit', () => {
  it('allows the burst, then 429 with Retry-After, per token; the window turns and the client is served again', async () => {
    // 3 units a window of 3 s (60 a minute)
    const agg = await aggregator({ rateLimitPerMinute: 60, rateLimitBurst: 3 });
    const a = agg.tokens.create({ role: 'admin' }).token;
    const b = agg.tokens.create({ role: 'admin' }).token;
    const first = [];
    for (let i = 0; i < 4; i++) first.push((await status(agg, '/api/v1/zones', a)).status);
    expect(first).toEqual([200, 200, 200, 429]);
    const limited = await status(agg, '/api/v1/zones', a);
    expect(limited).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(3);
    expect((await status(agg, '/api/v1/zones', b)).status).toBe(200);
    await waitFor(async () => (await status(agg, '/api/v1/zones', a)).status === 200, 'the next window', 10_000);
  });

  it('a read of many cells costs 1 unit per rateLimitCellsPerUnit cells on top of its 1', async () => {
    // 10 units a window; 60 cells a unit: five hours of minutes cost 1 + 5
    const agg = await aggregator({ rateLimitPerMinute: 10, rateLimitBurst: 10, rateLimitCellsPerUnit: 60 });
    const heavy = agg.tokens.create({ role: 'admin' }).token;
    const light = agg.tokens.create({ role: 'admin' }).token;
    expect((await status(agg, `/api/v1/zones/front/series?from=${D}&to=${D + 5 * 3600}&step=60`, heavy)).status).toBe(200);
    const after = [];
    for (let i = 0; i < 5; i++) after.push((await status(agg, '/api/v1/zones', heavy)).status);
    expect(after).toEqual([200, 200, 200, 200, 429]);
    // the same number of cheap requests of another token: all 10 pass, the 11th does not
    const cheap = [];
    for (let i = 0; i < 11; i++) cheap.push((await status(agg, '/api/v1/zones', light)).status);
    expect(cheap).toEqual([...Array(10).fill(200), 429]);
  });

  it('a read never costs more than the burst: the largest request still passes a full window', async () => {
    const agg = await aggregator({ rateLimitPerMinute: 10, rateLimitBurst: 10, rateLimitCellsPerUnit: 1 });
    const token = agg.tokens.create({ role: 'admin' }).token;
    expect((await status(agg, `/api/v1/zones/front/series?from=${D}&to=${D + 5 * 3600}&step=60`, token)).status).toBe(200);
    expect((await status(agg, '/api/v1/zones', token)).status).toBe(429);
  });

  it('0 a minute is no limit, for cheap and heavy reads alike', async () => {
    const agg = await aggregator({ rateLimitPerMinute: 0, rateLimitBurst: 1, rateLimitCellsPerUnit: 1 });
    for (let i = 0; i < 30; i++) {
      expect((await status(agg, `/api/v1/zones/front/series?from=${D}&to=${D + 3600}&step=60`)).status).toBe(200);
    }
  });
});
