/**
 * Plausibility of a counts message: the rules that every message of an honest sensor keeps, beyond its schema.
 * A message that breaks one was made or changed by something other than a sensor, for example to carry an
 * address in a number field (the smallest such case: a 48-bit address as `seq`, or as a histogram bucket).
 * Pure functions only, so the ingest and an audit of the wire run the same rules.
 *
 * The rules and why an honest sensor keeps them:
 * - `randomized <= devices <= frames`: every device was seen in at least one counted frame; randomized devices are
 *   some of the devices.
 * - The RSSI histogram counts frames with an RSSI before the floor; `frames` counts frames at or above the floor
 *   (and frames without RSSI). So the buckets whose lower edge is at or above the floor (every bucket when there is
 *   no floor) hold only counted frames: their sum is at most `frames`. Buckets below the floor are bounded by
 *   what a radio can hear (next rule).
 * - What one radio can hear in a window (MAX_FRAMES_PER_MINUTE, MAX_DEVICES_PER_MINUTE, scaled to the window).
 * - `seq` counts the sensor's messages, one per window: it stays below MAX_SEQ, grows with the windows (a window
 *   newer than the sensor's last has a greater seq) and is never used for two windows.
 */
import { RADIOS, RSSI_EDGES_DBM } from '@passant/shared';
import type { CountsMessage, RejectReason } from '@passant/shared';

/**
 * Frames one radio can take in per minute, back to back with no gap wasted. Wi-Fi: a sensor listens on one
 * channel; any frame takes at least 34 us there (20 us of preamble and signal field, one 4 us data symbol, and
 * at least 10 us (SIFS) before the next frame), so under 1.8 million a minute. Bluetooth LE: advertisements on
 * the primary channels use the 1 Mbit/s PHY, and the shortest one that carries an address is 16 bytes (128 us):
 * under 470,000 a minute on the one channel a scanner listens to. Both are far above any real count (a busy
 * street: a few thousand frames a minute) and far below an address (2^48).
 */
export const MAX_FRAMES_PER_MINUTE: Readonly<Record<(typeof RADIOS)[number], number>> = { wifi: 1_800_000, ble: 470_000 };

/**
 * Distinct devices one radio can hear in a minute: 100,000. A sensor hears perhaps 100 m around it (about
 * 30,000 m2); even a packed crowd there (3 people a square metre, a phone each) is under 100,000 devices,
 * and each of them must send frames the channel has room for.
 */
export const MAX_DEVICES_PER_MINUTE = 100_000;

/**
 * Largest `seq`: 2^32 - 1. A sensor sends one message per window (at least 5 s), so reaching it takes 680 years;
 * a 48-bit address does not fit below it.
 */
export const MAX_SEQ = 2 ** 32 - 1;

/** What the ingest knows of a sensor's latest stored window: its start and its seq. */
export interface LastWindow {
  windowStart: number;
  seq: number;
}

export type PlausibilityReason = Extract<
  RejectReason,
  | 'randomized_above_devices'
  | 'devices_above_frames'
  | 'histogram_above_frames'
  | 'frames_implausible'
  | 'devices_implausible'
  | 'seq_implausible'
  | 'seq_not_following'
  | 'seq_reused'
>;

/** The first rule a message breaks on its own (its counts), or null. Never looks at anything but the message. */
export function countsImplausibility(message: CountsMessage): PlausibilityReason | null {
  const scale = message.windowSeconds / 60;
  for (const radio of RADIOS) {
    const r = message[radio];
    if (r.randomized > r.devices) return 'randomized_above_devices';
    if (r.devices > r.frames) return 'devices_above_frames';
    const maxFrames = Math.ceil(MAX_FRAMES_PER_MINUTE[radio] * scale);
    if (r.frames > maxFrames) return 'frames_implausible';
    if (r.devices > Math.ceil(MAX_DEVICES_PER_MINUTE * scale)) return 'devices_implausible';
    const histogram = r.rssiHistogram;
    if (histogram !== undefined) {
      let counted = 0;
      for (let i = 0; i < histogram.length; i++) {
        const bucket = histogram[i]!;
        if (bucket > maxFrames) return 'frames_implausible';
        // Bucket i holds [edge[i-1], edge[i]); bucket 0 has no lower edge.
        const lowerEdge = i === 0 ? -Infinity : RSSI_EDGES_DBM[i - 1]!;
        if (message.rssiFloor === null || lowerEdge >= message.rssiFloor) counted += bucket;
      }
      if (counted > r.frames) return 'histogram_above_frames';
    }
  }
  if (message.seq > MAX_SEQ) return 'seq_implausible';
  return null;
}

/**
 * Whether `seq` follows the sensor's latest stored window `last` (undefined: none known). A window newer than
 * `last` needs a greater seq; a window other than `last`'s may not reuse its seq. The same window again (a
 * redelivery, or a sensor that sent it twice) is left to the store, which keeps the first.
 */
export function seqImplausibility(message: Pick<CountsMessage, 'windowStart' | 'seq'>, last: LastWindow | undefined): PlausibilityReason | null {
  if (last === undefined || message.windowStart === last.windowStart) return null;
  if (message.seq === last.seq) return 'seq_reused';
  if (message.windowStart > last.windowStart && message.seq < last.seq) return 'seq_not_following';
  return null;
}

/** The window that becomes the sensor's latest once `message` is accepted. */
export function nextLastWindow(message: Pick<CountsMessage, 'windowStart' | 'seq'>, last: LastWindow | undefined): LastWindow {
  if (last === undefined || message.windowStart > last.windowStart) return { windowStart: message.windowStart, seq: message.seq };
  return last;
}
