/** The plausibility rules at the door (plausibility.ts), as pure functions: honest sequences pass, tampered ones do not. */
import { CountsMessageSchema, RSSI_BUCKETS } from '@passant/shared';
import type { CountsMessage } from '@passant/shared';
import { describe, expect, it } from 'vitest';
import {
  countsImplausibility,
  MAX_DEVICES_PER_MINUTE,
  MAX_FRAMES_PER_MINUTE,
  MAX_SEQ,
  nextLastWindow,
  seqImplausibility,
} from '../../src/ingest/plausibility.ts';
import type { LastWindow, PlausibilityReason } from '../../src/ingest/plausibility.ts';
import { validateCounts } from '../../src/index.ts';
import { countsMessage } from '../helpers/messages.ts';

const T = 1_700_000_040;
/** The tamper case: the address a4:c3:f0:12:34:56 as a number. */
const ADDRESS = 0xa4c3f0123456;

function message(patch: (m: CountsMessage) => void = () => undefined): CountsMessage {
  const m = structuredClone(countsMessage('s1', T, 5, 2));
  patch(m);
  return m;
}

describe('countsImplausibility', () => {
  it('passes what honest sensors send: the test messages, no histogram, a histogram below the floor, empty windows', () => {
    expect(countsImplausibility(message())).toBeNull();
    expect(countsImplausibility(message((m) => delete m.wifi.rssiHistogram))).toBeNull();
    // Floor -75: frames in the buckets below it are in the histogram, not in frames.
    expect(
      countsImplausibility(
        message((m) => {
          m.rssiFloor = -75;
          m.wifi.frames = 10;
          m.wifi.rssiHistogram = [500, 400, 300, 4, 3, 3];
        }),
      ),
    ).toBeNull();
    expect(countsImplausibility(message((m) => Object.assign(m.wifi, { devices: 0, randomized: 0, frames: 0, rssiHistogram: new Array(RSSI_BUCKETS).fill(0) })))).toBeNull();
    // Frames without RSSI count in frames but in no bucket.
    expect(countsImplausibility(message((m) => (m.ble.rssiHistogram = new Array(RSSI_BUCKETS).fill(0))))).toBeNull();
    // At the caps.
    expect(
      countsImplausibility(
        message((m) => {
          m.wifi.devices = MAX_DEVICES_PER_MINUTE;
          m.wifi.frames = MAX_FRAMES_PER_MINUTE.wifi;
          m.wifi.rssiHistogram = [0, 0, 0, 0, 0, MAX_FRAMES_PER_MINUTE.wifi];
          m.seq = MAX_SEQ;
        }),
      ),
    ).toBeNull();
  });

  const cases: [string, (m: CountsMessage) => void, PlausibilityReason][] = [
    ['randomized above devices', (m: CountsMessage) => (m.ble.randomized = m.ble.devices + 1), 'randomized_above_devices'],
    ['devices above frames', (m: CountsMessage) => (m.wifi.devices = m.wifi.frames + 1), 'devices_above_frames'],
    ['a histogram above the frames (no floor)', (m: CountsMessage): void => {
      m.rssiFloor = null;
      m.wifi.rssiHistogram = [1, 0, m.wifi.frames, 0, 0, 0];
    }, 'histogram_above_frames'],
    ['counted buckets above the frames (floor -85)', (m: CountsMessage): void => {
      m.rssiFloor = -85;
      m.wifi.rssiHistogram = [m.wifi.frames, m.wifi.frames, m.wifi.frames, 1, 0, 0];
    }, 'histogram_above_frames'],
    ['more Wi-Fi frames than a channel carries', (m: CountsMessage) => (m.wifi.frames = MAX_FRAMES_PER_MINUTE.wifi + 1), 'frames_implausible'],
    ['more BLE frames than a channel carries', (m: CountsMessage) => (m.ble.frames = MAX_FRAMES_PER_MINUTE.ble + 1), 'frames_implausible'],
    ['a bucket below the floor beyond the channel', (m: CountsMessage): void => {
      m.rssiFloor = -55;
      m.ble.rssiHistogram = [MAX_FRAMES_PER_MINUTE.ble + 1, 0, 0, 0, 0, 0];
    }, 'frames_implausible'],
    ['more devices than one radio can hear', (m: CountsMessage): void => {
      m.wifi.devices = MAX_DEVICES_PER_MINUTE + 1;
      m.wifi.frames = MAX_DEVICES_PER_MINUTE + 1;
    }, 'devices_implausible'],
    ['an address as seq', (m: CountsMessage) => (m.seq = ADDRESS), 'seq_implausible'],
  ];
  it.each(cases)('rejects %s', (_name, patch, reason) => {
    expect(countsImplausibility(message(patch))).toBe(reason);
  });

  it("the issue's tamper case: the address in seq and in a histogram bucket is refused at the door, by reason, never stored", () => {
    const opts = { now: T + 60, maxFutureSeconds: 120 };
    const topic = 'passant/sensors/s1/counts';
    // The schema alone took the address as seq (below 2^53).
    const inSeq = message((m) => (m.seq = ADDRESS));
    expect(CountsMessageSchema.safeParse(inSeq).success).toBe(true);
    expect(validateCounts(topic, JSON.stringify(inSeq), opts)).toMatchObject({ ok: false, reason: 'seq_implausible' });
    // In a bucket, whole (above any count) or in 16-bit pieces beside frames made to fit.
    const whole = message((m) => (m.wifi.rssiHistogram![3] = ADDRESS));
    expect(validateCounts(topic, JSON.stringify(whole), opts).ok).toBe(false);
    const pieces = message((m) => {
      m.rssiFloor = null;
      m.wifi.rssiHistogram = [0xa4c3, 0xf012, 0x3456, 0, 0, 0];
    });
    expect(validateCounts(topic, JSON.stringify(pieces), opts)).toMatchObject({ ok: false, reason: 'histogram_above_frames' });
  });
});

describe('seqImplausibility', () => {
  /** Runs a sensor's messages through the rule as the ingest does; returns the verdict of each. */
  function run(messages: { windowStart: number; seq: number }[], start?: LastWindow): (string | null)[] {
    let last = start;
    return messages.map((m) => {
      const reason = seqImplausibility(m, last);
      if (reason === null) last = nextLastWindow(m, last);
      return reason;
    });
  }

  it('passes an honest sensor: in order, with gaps (empty or dropped windows), late and repeated windows, a replayed outbox', () => {
    expect(
      run([
        { windowStart: T, seq: 0 },
        { windowStart: T + 60, seq: 1 },
        { windowStart: T + 300, seq: 2 }, // windows in between had nothing to send
        { windowStart: T + 360, seq: 9 }, // seqs used by messages the outbox dropped
        { windowStart: T + 60, seq: 1 }, // MQTT redelivery
        { windowStart: T + 120, seq: 10 }, // a late window (backfill) with a newer seq
        { windowStart: T + 360, seq: 11 }, // the same window again under another seq: the store keeps the first
        { windowStart: T + 420, seq: 12 },
      ]),
    ).toEqual([null, null, null, null, null, null, null, null]);
    // The first message of a sensor the store does not know: nothing to follow.
    expect(run([{ windowStart: T, seq: 123_456 }])).toEqual([null]);
  });

  it('rejects a newer window with a smaller seq, and a seq reused for another window', () => {
    const last = { windowStart: T + 600, seq: 50 };
    expect(run([{ windowStart: T + 660, seq: 49 }], last)).toEqual(['seq_not_following']);
    expect(run([{ windowStart: T + 660, seq: 50 }], last)).toEqual(['seq_reused']);
    expect(run([{ windowStart: T, seq: 50 }], last)).toEqual(['seq_reused']);
    // what follows a rejected message is judged against the last accepted one
    expect(run([{ windowStart: T + 660, seq: 3 }, { windowStart: T + 720, seq: 51 }], last)).toEqual(['seq_not_following', null]);
  });
});
