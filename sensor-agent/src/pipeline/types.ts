/**
 * The sensor's internal pipeline: sources -> counter -> sinks.
 *
 * Raw detections (addresses, per-frame RSSI) exist only between `sources/` and `pipeline/`: a source hands the
 * address bytes to `DetectionSink.detect` as a view into its own buffer, the counter turns them into a keyed
 * hash at once, and nothing downstream has a type that can hold an address.
 */
import type { CountsMessage, Radio } from '@passant/shared';

export type { Radio };

export interface DetectionSink {
  /**
   * One counted frame.
   * @param timeMs  time of the frame, Unix milliseconds (may be fractional)
   * @param radio   'wifi' or 'ble'
   * @param buf     buffer that holds the 6 address bytes at `offset`, in transmission order (Wi-Fi: first
   *                octet first, as written aa:bb:..; BLE on air and in HCI reports: least significant octet
   *                first, i.e. reversed from the written form); valid only during the call, never retained
   * @param randomized  Wi-Fi: locally administered bit set; BLE: random address type (TxAdd = 1)
   * @param rssi    dBm, or NaN when the frame has none
   */
  detect(timeMs: number, radio: Radio, buf: Uint8Array, offset: number, randomized: boolean, rssi: number): void;
}

/** Counts of one closed window, without the sensor's identity and sequence number (the publisher adds them). */
export type WindowCounts = Omit<CountsMessage, 'v' | 'sensorId' | 'seq'>;

/** Receives each window once it is closed, in window order. */
export interface WindowSink {
  onWindow(counts: WindowCounts): void | Promise<void>;
  flush?(): Promise<void>;
  close?(): Promise<void>;
}

/** A source of detections: a capture file, a live capture, the simulator. */
export interface Source {
  /** Runs until the source ends (a file) or `close()` is called (live); resolves when done. */
  run(sink: DetectionSink): Promise<SourceSummary>;
  close(): Promise<void>;
  /**
   * Hands on, synchronously, what the source holds but has not read yet (a polled capture). The agent calls it
   * before it closes windows, so a frame that arrived before a window ended is counted in it however long the
   * source's poll interval is.
   */
  readPending?(): void;
}

export interface SourceSummary {
  /** Records read, frames handed to the sink, records skipped with a reason (bad FCS, bad CRC, not counted). */
  records: number;
  detections: number;
  warnings: string[];
}
