/**
 * The counts of one radio in one window, without the schema: the limit on a count and the RSSI histogram's
 * buckets. No zod here, so that a program that only counts (the sensor's `count` command) starts without it;
 * messages.ts re-exports all of this beside the schemas.
 */
import type { RadioCounts } from './messages.ts';

/** Upper bound on any count in one window; far above what one radio can hear, low enough to catch garbage. */
export const MAX_COUNT = 10_000_000;

/**
 * Edges (dBm) of the coarse RSSI histogram. Bucket 0 holds frames below the first edge, bucket i holds
 * [edges[i-1], edges[i]), the last bucket frames at or above the last edge.
 */
export const RSSI_EDGES_DBM = [-95, -85, -75, -65, -55] as const;
export const RSSI_BUCKETS = RSSI_EDGES_DBM.length + 1;

/** Index of the histogram bucket of an RSSI in dBm. */
export function rssiBucket(rssiDbm: number): number {
  let i = 0;
  while (i < RSSI_EDGES_DBM.length && rssiDbm >= RSSI_EDGES_DBM[i]!) i++;
  return i;
}

/** Empty counts for one radio. */
export function emptyRadioCounts(): RadioCounts {
  return { devices: 0, randomized: 0, frames: 0, rssiHistogram: new Array(RSSI_BUCKETS).fill(0) };
}
