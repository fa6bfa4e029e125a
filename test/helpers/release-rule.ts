/**
 * The release rule as tests compute it from what the sensors published: a zone-minute is released when one of
 * its sensors heard at least k devices beyond its static baseline (aggregator/src/release/static-baseline.ts,
 * with the aggregator's default options), computed here from the published windows, not read from the aggregator.
 */
import type { CountsMessage, Radio } from '@passant/shared';
import { releasedByPeopleRule } from '../../aggregator/src/release/release-series.ts';
import { baselineAt, DEFAULT_BASELINE_OPTIONS, hourBuckets, type BaselineOptions } from '../../aggregator/src/release/static-baseline.ts';

export type Published = ReadonlyMap<string, CountsMessage>;

/** Decides cells like the aggregator does, from the published windows (keyed `${sensorId}@${windowStart}`). */
export function releaseRuleOf(published: Published, k: number, options: BaselineOptions | null = DEFAULT_BASELINE_OPTIONS) {
  const buckets = new Map<string, Map<number, number[]>>();
  const baselines = new Map<string, number | null>();
  const bucketsOf = (sensorId: string, radio: Radio) => {
    const key = `${sensorId}/${radio}`;
    let b = buckets.get(key);
    if (b === undefined) {
      const minutes = [...published.values()].filter((m) => m.sensorId === sensorId).map((m) => ({ windowStart: m.windowStart, value: m[radio].devices }));
      b = hourBuckets(minutes);
      buckets.set(key, b);
    }
    return b;
  };
  const baseline = (sensorId: string, radio: Radio, t: number): number | null => {
    if (options === null) return 0; // the baseline turned off
    const hour = Math.floor(t / 3600) * 3600;
    const key = `${sensorId}/${radio}@${hour}`;
    if (!baselines.has(key)) baselines.set(key, baselineAt(bucketsOf(sensorId, radio), hour, options));
    return baselines.get(key)!;
  };
  /** Whether the cell made of these windows (one zone, one minute) is released. */
  return (windows: readonly CountsMessage[], radio: Radio): boolean =>
    releasedByPeopleRule(
      windows.map((m) => ({ devices: m[radio].devices, baseline: baseline(m.sensorId, radio, m.windowStart) })),
      k,
    );
}
