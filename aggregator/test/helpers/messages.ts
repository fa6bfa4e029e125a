/** Builders of valid counts messages for tests. */
import { emptyRadioCounts, RSSI_BUCKETS } from '@passant/shared';
import type { CountsMessage } from '@passant/shared';

let seq = 0;

/** A valid counts message; `wifi`/`ble` are device counts (frames and histogram follow from them). */
export function countsMessage(sensorId: string, windowStart: number, wifi = 0, ble = 0): CountsMessage {
  const radio = (devices: number) => {
    const r = emptyRadioCounts();
    r.devices = devices;
    r.randomized = Math.floor(devices / 2);
    r.frames = devices * 3;
    r.rssiHistogram = new Array<number>(RSSI_BUCKETS).fill(0);
    r.rssiHistogram[2] = devices * 3;
    return r;
  };
  return { v: 1, sensorId, windowStart, windowSeconds: 60, seq: seq++, wifi: radio(wifi), ble: radio(ble), rssiFloor: -90 };
}

/** Start of the minute `minutesAgo` minutes before now. */
export function minuteAgo(minutesAgo: number): number {
  return Math.floor(Date.now() / 60_000) * 60 - minutesAgo * 60;
}
