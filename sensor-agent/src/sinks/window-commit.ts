/**
 * How MqttPublisher (mqtt-publisher.ts) puts closed windows into the outbox: in transactions of at most
 * COMMIT_CHUNK windows, each message built and checked against the schema as it gets its sequence number (a
 * refused one is counted and logged, its number not used), rows the outbox's bound dropped forgotten by the
 * re-send schedule, and, when the disk fails, the windows kept in memory (bounded like the outbox) for the next try.
 */
import type { Logger } from '../log.ts';
import type { WindowCounts } from '../pipeline/types.ts';
import type { Outbox } from './outbox.ts';

/** Most windows committed to the outbox in one transaction. */
const COMMIT_CHUNK = 1000;

export interface CommitContext {
  outbox: Outbox;
  log: Logger;
  /** The message of one window with its sequence number; throws to refuse it. */
  build: (counts: WindowCounts, seq: number) => string;
  /** Counters the publisher reports. */
  stats: { enqueued: number; invalid: number };
  /** Outbox rows below this id were dropped by the bound. */
  forgetBefore: (oldestId: number) => void;
}

/**
 * Commits `pending` to the outbox; returns the windows still waiting (none, unless the disk failed or the outbox
 * is closed). At most COMMIT_CHUNK windows per transaction: a burst of windows (a clock that jumped) neither makes
 * one huge transaction nor grows the file far beyond the outbox's bound before the oldest are dropped.
 */
export function commitWindows(pending: WindowCounts[], c: CommitContext): WindowCounts[] {
  let left = pending;
  while (left.length > 0 && !c.outbox.closed) {
    const batch = left.splice(0, COMMIT_CHUNK);
    const failed = commitChunk(batch, c);
    if (failed !== null) {
      // Disk trouble: keep the windows in memory (bounded like the outbox) and try again with the next window.
      left = batch.concat(left).slice(-c.outbox.maxMessages);
      c.log.error({ err: failed.err, pending: left.length }, 'could not write to the outbox; will retry');
      break;
    }
  }
  return left;
}

/** Commits one chunk of windows; null when done, the error when the outbox could not be written. */
function commitChunk(batch: WindowCounts[], c: CommitContext): { err: unknown } | null {
  const { outbox, log } = c;
  const builders = batch.map((counts) => (seq: number) => c.build(counts, seq));
  let seqs: number[];
  try {
    const dropsBefore = outbox.dropped;
    seqs = outbox.enqueueMany(
      builders,
      (err, i) => {
        c.stats.invalid++;
        log.error({ windowStart: batch[i]!.windowStart, reason: (err as Error).message }, 'window refused by the counts schema; not sent');
      },
      Math.max(...batch.map((w) => w.windowStart)),
    );
    const dropped = outbox.dropped - dropsBefore;
    if (dropped > 0) {
      // Rows the bound dropped wait for nothing any more.
      c.forgetBefore(outbox.peek(0, 1)[0]?.id ?? Infinity);
      log.warn({ dropped, droppedTotal: outbox.droppedTotal, maxMessages: outbox.maxMessages, maxBytes: outbox.maxBytes }, 'outbox full: dropped the oldest counts');
    }
  } catch (err) {
    return { err };
  }
  c.stats.enqueued += seqs.length;
  if (log.isLevelEnabled('debug')) {
    let k = 0;
    for (const counts of batch) {
      // Counts only (never anything derived from an address).
      log.debug(
        {
          windowStart: counts.windowStart,
          seq: seqs[k++],
          wifi: { devices: counts.wifi.devices, randomized: counts.wifi.randomized, frames: counts.wifi.frames },
          ble: { devices: counts.ble.devices, randomized: counts.ble.randomized, frames: counts.ble.frames },
        },
        'window queued',
      );
    }
  }
  return null;
}
