/** A sensor past its last active day (config activeUntil) stops counting: its live source ends, it sends no window after it. */
import { describe, expect, it } from 'vitest';
import { CountsMessageSchema, topics } from '@passant/shared';
import { parseSensorConfig } from '../src/config.ts';
import { startAgent } from '../src/agent.ts';
import { startAedes } from '@passant/test-helpers/aedes-broker';

const DAY_MS = 86_400_000;

describe('activeUntil', () => {
  it('is a real date or unset (undefined)', () => {
    expect(parseSensorConfig({ sensorId: 's-1' }).activeUntil).toBeUndefined();
    expect(parseSensorConfig({ sensorId: 's-1', activeUntil: '2030-02-28' }).activeUntil).toBe('2030-02-28');
    expect(() => parseSensorConfig({ sensorId: 's-1', activeUntil: '2030-02-30' })).toThrow(/activeUntil/);
    expect(() => parseSensorConfig({ sensorId: 's-1', activeUntil: 'tomorrow' })).toThrow(/activeUntil/);
  });

  it('a live sensor whose day has passed stops counting; one still active keeps counting', async () => {
    const broker = await startAedes();
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const yesterday = new Date(today - DAY_MS).toISOString().slice(0, 10);
    const config = (sensorId: string, activeUntil: string) => ({
      sensorId,
      activeUntil,
      mqtt: { url: broker.url, reconnectPeriodMs: 200 },
      outbox: { path: ':memory:' },
      source: { kind: 'simulator' as const, simulator: { backfillHours: 0, seed: 1, utcOffsetHours: 0 } },
      log: { statsIntervalSeconds: 0 },
    });
    const ended = await startAgent(config('s-ended', yesterday));
    const active = await startAgent(config('s-active', new Date(today + DAY_MS).toISOString().slice(0, 10)));
    try {
      // The ended sensor's source ends by itself; the active one's does not until it is closed.
      const outcome = await Promise.race([ended.done.then(() => 'ended'), new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
      expect(outcome).toBe('ended');
      const race = await Promise.race([active.done.then(() => 'ended'), Promise.resolve('running')]);
      expect(race).toBe('running');
      await ended.close();
      const windows = broker.published
        .filter((p) => p.topic === topics.sensorCounts('s-ended'))
        .map((p) => CountsMessageSchema.parse(JSON.parse(p.payload.toString('utf8'))));
      for (const w of windows) expect((w.windowStart + w.windowSeconds) * 1000).toBeLessThanOrEqual(today);
    } finally {
      await ended.close();
      await active.close();
      await broker.close();
    }
  });
});
