/**
 * The static baseline per sensor, shown to admins (GET /api/v1/sensors): the devices a sensor always hears,
 * estimated from its own quietest hours, as the release rule uses it. A sensor hears 4 Wi-Fi devices all night
 * and 4 plus the passers-by in the day: its baseline is 4; a sensor with no history is still learning (null); a
 * privacy officer's report has no baseline at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage } from '../helpers/messages.ts';

const DAY_START = 1_699_920_000; // a UTC midnight
const HOURS = 36;
const NOW = DAY_START + HOURS * 3600;

let broker: TestBroker;
let agg: TestAggregator;

beforeAll(async () => {
  broker = await startAedes();
  agg = await startTestAggregator(
    broker.url,
    {
      k: 5,
      zones: [
        { id: 'street', name: 'Street', sensors: ['office'] },
        { id: 'square', name: 'Square', sensors: ['new'] },
      ],
      retention: { minuteDays: 30 },
      // (the test helper turns the baseline off for tests of a few minutes of data; this one has a night and a day)
      baseline: { enabled: true },
    },
    { now: () => NOW },
  );
  const messages = [];
  for (let t = DAY_START; t < NOW; t += 60) {
    const hour = Math.floor((t - DAY_START) / 3600) % 24;
    // 4 fixed devices (Wi-Fi), 1 beacon (BLE); from 08:00 to 20:00 also people passing
    const passers = hour >= 8 && hour < 20 ? 6 + ((t / 60) % 7) : 0;
    messages.push(countsMessage('office', t, 4 + passers, 1 + Math.floor(passers / 3)));
  }
  messages.push(countsMessage('new', NOW - 120, 9, 2));
  await agg.store.put(messages, NOW - 60);
});

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await broker?.close();
});

async function sensors(token: string): Promise<{ sensorId: string; baseline?: { wifi: number | null; ble: number | null } }[]> {
  const res = await fetch(`${agg.url}/api/v1/sensors`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { sensors: { sensorId: string; baseline?: { wifi: number | null; ble: number | null } }[] }).sensors;
}

describe('the static baseline per sensor', () => {
  it('an admin sees the devices each sensor always hears: the night level, or null while it learns', async () => {
    const list = await sensors(agg.tokens.create({ role: 'admin' }).token);
    expect(list.find((s) => s.sensorId === 'office')?.baseline).toEqual({ wifi: 4, ble: 1 });
    expect(list.find((s) => s.sensorId === 'new')?.baseline).toEqual({ wifi: null, ble: null });
  });

  it('a privacy officer reads sensor health without it', async () => {
    const list = await sensors(agg.tokens.create({ role: 'privacy' }).token);
    expect(list.map((s) => s.sensorId).sort()).toEqual(['new', 'office']);
    expect(list.every((s) => !('baseline' in s))).toBe(true);
  });
});
