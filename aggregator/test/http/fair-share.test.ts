/**
 * Fair shares: one client cannot take what the others need. Rate limits weigh a request by the cells it reads, so a
 * client flooding with maximum-range comparisons is refused (429) after a request or two while another client is
 * still served; live-update streams are limited per client (token, or address) as well as in all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';
import { removeDir, startTestAggregator } from '../helpers/aggregator.ts';
import type { TestAggregator } from '../helpers/aggregator.ts';
import { readEvents } from '../helpers/events.ts';
import type { EventStream } from '../helpers/events.ts';

let broker: TestBroker;
let agg: TestAggregator;
const ZONES = [
  { id: 'front', name: 'Front', sensors: ['s1'] },
  { id: 'back', name: 'Back', sensors: ['s2'] },
];

beforeAll(async () => {
  broker = await startAedes();
  agg = await startTestAggregator(broker.url, {
    k: 5,
    zones: ZONES,
    sites: [{ id: 'town', name: 'Town', zones: ['front', 'back'] }],
    aggregator: { id: 'fair-share' },
    auth: { public: { zones: 'all', sites: 'all' } },
    // the defaults for the rate; 3 streams per client
    http: { maxEventClients: 100, maxEventClientsPerClient: 3, trustProxyHops: 1 },
  });
});

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await broker?.close();
});

async function get(path: string, token?: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${agg.url}${path}`, { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  await res.arrayBuffer();
  return res.status;
}

describe('fair shares', () => {
  it('the index\'s reference period is paid for: a year of reference costs its hours, a request without one does not', async () => {
    const withRef = agg.tokens.create({ role: 'admin', name: 'index reader' }).token;
    const without = agg.tokens.create({ role: 'admin', name: 'plain reader' }).token;
    const to = Math.floor(Date.now() / 86_400_000) * 86_400;
    const from = to - 86_400;
    // a year of reference, ending a day ago: 8,760 hours of a site of two zones, about 12 units each time
    const reference = `${from - 365 * 86_400},${from}`;
    const answers = (token: string, ref: boolean) =>
      Promise.all(Array.from({ length: 20 }, () => get(`/api/v1/sites/town/series?from=${from}&to=${to}&step=86400${ref ? `&reference=${reference}` : ''}`, token)));
    const plain = await answers(without, false);
    expect(plain.every((s) => s === 200)).toBe(true);
    const indexed = await answers(withRef, true);
    expect(indexed.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(indexed.filter((s) => s === 200).length).toBeLessThanOrEqual(120 / 12 + 1);
  });

  it('a flood of maximum-range comparisons is refused for its client (429) while another client is served (200)', async () => {
    const a = agg.tokens.create({ role: 'admin', name: 'flooder' }).token;
    const b = agg.tokens.create({ role: 'admin', name: 'neighbour' }).token;
    const c = agg.tokens.create({ role: 'admin', name: 'another neighbour' }).token;
    // The most one request may ask: http.maxSeriesBuckets (50,000) minutes of a site of two zones, three periods.
    const to = Math.floor(Date.now() / 60_000) * 60;
    const from = to - 50_000 * 60;
    const heavy = `/api/v1/sites/town/compare?from=${from}&to=${to}&step=60`;
    const flood = await Promise.all(Array.from({ length: 30 }, () => get(heavy, a)));
    const served = flood.filter((s) => s === 200).length;
    expect(flood.filter((s) => s === 429).length).toBe(30 - served);
    // One request may cost at most the burst (120 units): with 600 units a minute, hardly one more fits.
    expect(served).toBeGreaterThanOrEqual(1);
    expect(served).toBeLessThanOrEqual(2);
    // A's next heavy request waits too (its bucket refills at 10 units a second; one costs 120).
    expect(await get(heavy, a)).toBe(429);
    // B and C, meanwhile, are served: a small read, and the same heavy request (it empties C's own bucket: a
    // maximum-range comparison costs a whole burst).
    expect(await get('/api/v1/zones/front/series?step=3600', b)).toBe(200);
    expect(await get(heavy, c)).toBe(200);
    expect(await get('/healthz')).not.toBe(429);
    // anonymous clients are weighed per address
    expect(await get('/api/v1/zones/front/series?step=3600', undefined, { 'x-forwarded-for': '198.51.100.1' })).toBe(200);
  });

  it('event streams are limited per client: the fourth of one client gets 429, another client still gets a stream', async () => {
    const a = agg.tokens.create({ role: 'viewer', zones: ['front'] }).token;
    const b = agg.tokens.create({ role: 'viewer', zones: ['back'] }).token;
    const streams: EventStream[] = [];
    try {
      for (let i = 0; i < 3; i++) streams.push(await readEvents(`${agg.url}/api/v1/events`, () => false, { token: a }));
      expect(streams.map((s) => s.status)).toEqual([200, 200, 200]);
      await waitFor(() => agg.metrics.eventClients.get() === 3, 'three streams', 15_000);
      const fourth = await fetch(`${agg.url}/api/v1/events`, { headers: { authorization: `Bearer ${a}` } });
      expect(fourth.status).toBe(429);
      expect(((await fourth.json()) as { code: string }).code).toBe('too_many_streams');
      const other = await readEvents(`${agg.url}/api/v1/events`, () => false, { token: b });
      streams.push(other);
      expect(other.status).toBe(200);
      // without a token, per address: three from one address, and another address still gets one
      const anonymous = (address: string) =>
        fetch(`${agg.url}/api/v1/events`, { headers: { 'x-forwarded-for': address }, signal: AbortSignal.timeout(30_000) });
      const held: Response[] = [];
      for (let i = 0; i < 3; i++) held.push(await anonymous('203.0.113.9'));
      expect(held.map((r) => r.status)).toEqual([200, 200, 200]);
      const refused = await anonymous('203.0.113.9');
      expect(refused.status).toBe(429);
      await refused.arrayBuffer();
      const elsewhere = await anonymous('203.0.113.10');
      expect(elsewhere.status).toBe(200);
      for (const r of [...held, elsewhere]) await r.body?.cancel();
      // a closed stream frees its slot
      await streams[0]!.stop();
      await waitFor(() => agg.metrics.eventClients.get() === 3, 'the closed streams to be gone', 15_000);
      const again = await readEvents(`${agg.url}/api/v1/events`, () => false, { token: a });
      streams.push(again);
      expect(again.status).toBe(200);
    } finally {
      for (const s of streams) await s.stop();
    }
  });
});
