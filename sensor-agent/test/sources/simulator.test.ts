import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { DetectionSink, Radio } from '../../src/pipeline/types.ts';
import { WindowCounter } from '../../src/pipeline/window-counter.ts';
import type { WindowCounts } from '../../src/pipeline/types.ts';
import { Simulator, dayCurve, simulateRange } from '../../src/sources/simulator.ts';

/** Monday 2024-03-18 00:00 UTC. */
const MONDAY = Date.UTC(2024, 2, 18);
const HOUR = 3_600_000;

/** Digest of every detection (time, radio, address bytes, flags, rssi), to compare runs. */
class DigestSink implements DetectionSink {
  readonly hash = createHash('sha256');
  #digest: string | null = null;
  frames = 0;
  detect(timeMs: number, radio: Radio, buf: Uint8Array, offset: number, randomized: boolean, rssi: number): void {
    this.frames++;
    this.hash.update(`${timeMs}|${radio}|${randomized}|${rssi}|`);
    this.hash.update(buf.subarray(offset, offset + 6));
  }
  digest(): string {
    this.#digest ??= this.hash.digest('hex');
    return this.#digest;
  }
}

/** Test-only: keeps distinct addresses (as hex) and checks the time order. */
class AddressSink implements DetectionSink {
  readonly addresses = new Map<string, { radio: Radio; randomized: boolean }>();
  frames = 0;
  lastMs = -Infinity;
  outOfOrder = 0;
  detect(timeMs: number, radio: Radio, buf: Uint8Array, offset: number, randomized: boolean): void {
    this.frames++;
    if (timeMs < this.lastMs) this.outOfOrder++;
    this.lastMs = timeMs;
    this.addresses.set(`${radio}:${Buffer.from(buf.subarray(offset, offset + 6)).toString('hex')}`, { radio, randomized });
  }
}

describe('simulator', () => {
  it('is deterministic with a seed, whatever the chunking or starting point', () => {
    const opts = { scale: 30, seed: 7, utcOffsetHours: 1 };
    const from = MONDAY + 14 * HOUR;
    const to = from + 2 * HOUR;
    const a = new DigestSink();
    simulateRange(opts, from, to, a);
    const b = new DigestSink();
    simulateRange(opts, from, to, b);
    expect(a.frames).toBeGreaterThan(500);
    expect(b.frames).toBe(a.frames);
    expect(b.digest()).toBe(a.digest());

    // The same range reached in odd-sized steps (as the live mode does) or after a backfill from earlier.
    const c = new DigestSink();
    const sim = new Simulator(opts);
    const warm = new DigestSink();
    sim.backfill(from - 3 * HOUR, from, warm);
    for (let t = from; t < to; ) {
      const next = Math.min(to, t + 7_321);
      sim.backfill(t, next, c);
      t = next;
    }
    expect(c.frames).toBe(a.frames);
    expect(c.digest()).toBe(a.digest());

    const other = new DigestSink();
    simulateRange({ ...opts, seed: 8 }, from, to, other);
    expect(other.digest()).not.toBe(a.digest());
  });

  it('follows the day curve: nights are quiet, afternoons busy, Saturday busier than Sunday', () => {
    expect(dayCurve(MONDAY + 3.5 * HOUR, 0)).toBeLessThan(0.05);
    expect(dayCurve(MONDAY + 16.5 * HOUR, 0)).toBeGreaterThan(0.5);
    // The time zone moves the curve: 16:30 in UTC+2 is 14:30 UTC.
    expect(dayCurve(MONDAY + 14.5 * HOUR, 2)).toBeCloseTo(dayCurve(MONDAY + 16.5 * HOUR, 0), 6);
    const saturday = MONDAY + 5 * 24 * HOUR;
    const sunday = saturday + 24 * HOUR;
    expect(dayCurve(saturday + 15 * HOUR, 0)).toBeGreaterThan(dayCurve(sunday + 15 * HOUR, 0));

    // And the simulated traffic follows it (static devices only add a constant floor).
    const opts = { scale: 40, seed: 3, utcOffsetHours: 0, staticDevices: 2 };
    const night = new AddressSink();
    simulateRange(opts, MONDAY + 3 * HOUR, MONDAY + 4 * HOUR, night);
    const afternoon = new AddressSink();
    simulateRange(opts, MONDAY + 15 * HOUR, MONDAY + 16 * HOUR, afternoon);
    expect(afternoon.frames).toBeGreaterThan(5 * night.frames);
    expect(afternoon.addresses.size).toBeGreaterThan(5 * night.addresses.size);
  });

  it('emits in time order, both radios, randomized and universal addresses with the right bits', () => {
    const sink = new AddressSink();
    simulateRange({ scale: 40, seed: 5, utcOffsetHours: 0 }, MONDAY + 12 * HOUR, MONDAY + 13 * HOUR, sink);
    expect(sink.outOfOrder).toBe(0);
    const all = [...sink.addresses.entries()];
    const wifi = all.filter(([, v]) => v.radio === 'wifi');
    const ble = all.filter(([, v]) => v.radio === 'ble');
    expect(wifi.length).toBeGreaterThan(10);
    expect(ble.length).toBeGreaterThan(5);
    for (const [key, v] of wifi) {
      const first = parseInt(key.slice(5, 7), 16);
      expect(first & 0x01).toBe(0); // never a group address
      expect((first & 0x02) !== 0).toBe(v.randomized); // locally administered = randomized
    }
    expect(wifi.some(([, v]) => !v.randomized)).toBe(true); // static devices and some older phones
    expect(ble.some(([, v]) => v.randomized)).toBe(true);
  });

  it('rotates randomized addresses: more addresses than devices', () => {
    const base = { scale: 40, seed: 11, utcOffsetHours: 0, staticDevices: 4 };
    const from = MONDAY + 13 * HOUR;
    const to = from + 3 * HOUR;
    // With a rotation longer than the range every device keeps one address: addresses = devices.
    const steady = new AddressSink();
    simulateRange({ ...base, rotationMinutes: 1440 }, from, to, steady);
    const rotating = new AddressSink();
    simulateRange({ ...base, rotationMinutes: 5 }, from, to, rotating);
    // Same crowd, same frames: only the addresses differ.
    expect(rotating.frames).toBe(steady.frames);
    expect(rotating.addresses.size).toBeGreaterThan(steady.addresses.size * 1.3);
    const universal = (s: AddressSink) => [...s.addresses.values()].filter((v) => !v.randomized).length;
    expect(universal(rotating)).toBe(universal(steady));
  });

  it('backfills two days for three sensors in a few seconds, through the window counter', async () => {
    const t0 = performance.now();
    let windows = 0;
    let devices = 0;
    const to = MONDAY + 48 * HOUR;
    for (const seed of [1, 2, 3]) {
      const counter = new WindowCounter({
        windowSeconds: 60,
        rssiFloor: null,
        sink: {
          onWindow(c: WindowCounts) {
            windows++;
            devices += c.wifi.devices + c.ble.devices;
          },
        },
      });
      counter.startAt(MONDAY);
      new Simulator({ seed, utcOffsetHours: 1 }).backfill(MONDAY, to, counter);
      await counter.advance(to);
    }
    const ms = performance.now() - t0;
    expect(windows).toBe(3 * 48 * 60);
    expect(devices).toBeGreaterThan(3 * 48 * 60); // on average more than one device per window
    expect(ms).toBeLessThan(5000);
  });

  it('runs live: emits frames as time passes and stops on close', async () => {
    // Time is the subject: the simulator's tick timer runs on fake timers, its clock is injected.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      let now = MONDAY + 15 * HOUR;
      const sim = new Simulator({ seed: 2, utcOffsetHours: 0, now: () => now, tickMs: 10 });
      const sink = new AddressSink();
      const run = sim.run(sink);
      expect(vi.getTimerCount()).toBe(1); // the tick
      for (let i = 0; i < 20; i++) {
        now += 30_000;
        const before = sink.frames;
        vi.advanceTimersByTime(10); // one tick
        expect(sink.lastMs).toBeLessThanOrEqual(now);
        expect(sink.frames).toBeGreaterThanOrEqual(before);
      }
      expect(sink.lastMs).toBeGreaterThan(now - 60_000); // the ticks kept up with the clock
      await sim.close();
      const summary = await run;
      expect(sink.frames).toBeGreaterThan(20);
      expect(summary.detections).toBe(sink.frames);
      expect(sink.lastMs).toBeLessThanOrEqual(now);
      // Stopped: no timer is left, and ten minutes of clock and a hundred tick periods later nothing more came.
      expect(vi.getTimerCount()).toBe(0);
      const after = sink.frames;
      now += 600_000;
      vi.advanceTimersByTime(1000);
      expect(sink.frames).toBe(after);
    } finally {
      vi.useRealTimers();
    }
  });
});
