/**
 * Per-window sums over a set of sensors, read through `sensorWindows` (the only per-sensor read a store has):
 * what the store tests assert on. Not a store method: counts leave the aggregator only through frozen cells.
 */
import type { Radio } from '@passant/shared';
import type { ReleaseStore } from '../../src/store/types.ts';

export interface WindowSum {
  windowStart: number;
  devices: number;
  /** Sensors with a row in the window. */
  sensorCount: number;
}

export async function sumByWindow(
  store: Pick<ReleaseStore, 'sensorWindows'>,
  sensorIds: string[],
  radio: Radio,
  from: number,
  to: number,
): Promise<WindowSum[]> {
  const sums = new Map<number, WindowSum>();
  for (const w of await store.sensorWindows(sensorIds, from, to)) {
    const s = sums.get(w.windowStart) ?? { windowStart: w.windowStart, devices: 0, sensorCount: 0 };
    s.devices += w[radio];
    s.sensorCount += 1;
    sums.set(w.windowStart, s);
  }
  return [...sums.values()].sort((a, b) => a.windowStart - b.windowStart);
}
