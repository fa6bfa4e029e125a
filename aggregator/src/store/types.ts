/**
 * The store interface (one contract suite runs against every implementation). Stores hold exact
 * per-sensor counts; only the release layer turns them into output.
 */
import type { CountsMessage, Radio } from '@passant/shared';

export type PutResult = 'stored' | 'duplicate';

/** Per-window sum of `devices` over a set of sensors (a zone's base cell before the release layer). */
export interface WindowSum {
  windowStart: number;
  devices: number;
  /**
   * How many of the asked sensors have a row for this window. Optional: when a store gives it, the release
   * layer releases a fresh zone-minute as soon as every sensor of the zone has reported; without it, only
   * after the settle time.
   */
  sensorCount?: number;
}

export interface CountsStore {
  /**
   * Stores windows idempotently on (sensorId, windowStart): the first write wins, a later one for the same
   * key is a duplicate and changes nothing. Results are in input order.
   */
  put(messages: CountsMessage[], receivedAt: number): Promise<PutResult[]>;
  /** Sum of devices per window over `sensorIds` for windows in [from, to), ascending. Windows with no data are absent. */
  sumByWindow(sensorIds: string[], radio: Radio, from: number, to: number): Promise<WindowSum[]>;
  /** True when the store answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
