import { CountsMessageSchema, type Radio } from '@passant/shared';
import { describe, expect, it } from 'vitest';
import type { WindowCounts, WindowSink } from '../../src/pipeline/types.ts';
import { INSPECT_STATE, WindowCounter, type WindowCounterOptions } from '../../src/pipeline/window-counter.ts';
import { waitFor } from '@passant/test-helpers/wait';

const MIN = 60_000;
/** A clock-aligned base time (Unix ms) for the tests. */
const T0 = 1_700_000_040_000;

class ArraySink implements WindowSink {
  windows: WindowCounts[] = [];
  onWindow(counts: WindowCounts): void {
    this.windows.push(counts);
  }
}

function mac(text: string): Uint8Array {
  return Uint8Array.from(text.split(':').map((x) => parseInt(x, 16)));
}

function counter(opts: Partial<WindowCounterOptions> = {}): { c: WindowCounter; sink: ArraySink } {
  const sink = new ArraySink();
  return { c: new WindowCounter({ windowSeconds: 60, rssiFloor: null, sink, ...opts }), sink };
}

interface Frame {
  t: number;
  radio?: Radio;
  addr: string;
  rnd?: boolean;
  rssi?: number;
}

function feed(c: WindowCounter, frames: Frame[]): void {
  for (const f of frames) {
    // Address bytes inside a bigger buffer, at an offset, as a parser hands them over.
    const buf = new Uint8Array(16);
    buf.set(mac(f.addr), 7);
    c.detect(f.t, f.radio ?? 'wifi', buf, 7, f.rnd ?? false, f.rssi ?? NaN);
  }
}

function pick(w: WindowCounts, radio: Radio): [number, number, number] {
  return [w[radio].devices, w[radio].randomized, w[radio].frames];
}

describe('WindowCounter counting rule', () => {
  const cases: Array<{ name: string; frames: Frame[]; floor?: number | null; wifi: [number, number, number]; ble: [number, number, number] }> = [
    { name: 'no frames in the window', frames: [{ t: T0, radio: 'ble', addr: '01:02:03:04:05:06' }], wifi: [0, 0, 0], ble: [1, 0, 1] },
    {
      name: 'one device, three frames',
      frames: [0, 1, 2].map((i) => ({ t: T0 + i * 1000, addr: 'aa:bb:cc:dd:ee:01' })),
      wifi: [1, 0, 3],
      ble: [0, 0, 0],
    },
    {
      name: 'distinct devices, some randomized',
      frames: [
        { t: T0, addr: '00:11:22:33:44:55' },
        { t: T0 + 1, addr: '02:11:22:33:44:55', rnd: true },
        { t: T0 + 2, addr: '02:11:22:33:44:55', rnd: true },
        { t: T0 + 3, addr: '06:00:00:00:00:01', rnd: true },
      ],
      wifi: [3, 2, 4],
      ble: [0, 0, 0],
    },
    {
      name: 'radios are counted apart, the same bytes on both radios count on each',
      frames: [
        { t: T0, addr: '00:11:22:33:44:55' },
        { t: T0 + 5, radio: 'ble', addr: '00:11:22:33:44:55', rnd: true },
        { t: T0 + 6, radio: 'ble', addr: '00:11:22:33:44:56' },
      ],
      wifi: [1, 0, 1],
      ble: [2, 1, 2],
    },
    {
      name: 'below the RSSI floor: neither frames nor devices; no RSSI: counted',
      floor: -80,
      frames: [
        { t: T0, addr: '00:00:00:00:00:01', rssi: -81 },
        { t: T0 + 1, addr: '00:00:00:00:00:02', rssi: -80 },
        { t: T0 + 2, addr: '00:00:00:00:00:02', rssi: -90 },
        { t: T0 + 3, addr: '00:00:00:00:00:03' },
      ],
      wifi: [2, 0, 2],
      ble: [0, 0, 0],
    },
  ];
  for (const tc of cases) {
    it(tc.name, async () => {
      const { c, sink } = counter({ rssiFloor: tc.floor ?? null });
      feed(c, tc.frames);
      await c.flush();
      expect(sink.windows).toHaveLength(1);
      expect(sink.windows[0]!.windowStart).toBe(T0 / 1000);
      expect(pick(sink.windows[0]!, 'wifi')).toEqual(tc.wifi);
      expect(pick(sink.windows[0]!, 'ble')).toEqual(tc.ble);
    });
  }

  it('puts every frame with RSSI in the histogram, before the floor; frames without RSSI are not in it', async () => {
    const { c, sink } = counter({ rssiFloor: -70 });
    feed(c, [
      { t: T0, addr: '00:00:00:00:00:01', rssi: -100 }, // bucket 0 (< -95)
      { t: T0, addr: '00:00:00:00:00:01', rssi: -95 }, // bucket 1
      { t: T0, addr: '00:00:00:00:00:01', rssi: -60 }, // bucket 4 ([-65, -55))
      { t: T0, addr: '00:00:00:00:00:01', rssi: -30 }, // bucket 5
      { t: T0, addr: '00:00:00:00:00:01' },
      { t: T0, radio: 'ble', addr: '00:00:00:00:00:01', rssi: -76 }, // ble bucket 2
    ]);
    await c.flush();
    const w = sink.windows[0]!;
    expect(w.wifi.rssiHistogram).toEqual([1, 1, 0, 0, 1, 1]);
    expect(w.wifi.frames).toBe(3);
    expect(w.ble.rssiHistogram).toEqual([0, 0, 1, 0, 0, 0]);
    expect(w.ble.frames).toBe(0);
    expect(w.rssiFloor).toBe(-70);
  });

  it('emits messages that pass the shared schema once v, sensorId and seq are added', async () => {
    const { c, sink } = counter({ windowSeconds: 30, rssiFloor: -90 });
    feed(c, [
      { t: T0, addr: '02:00:00:00:00:01', rnd: true, rssi: -50 },
      { t: T0 + 95_000, radio: 'ble', addr: '00:00:00:00:00:01', rssi: -60 },
    ]);
    await c.flush();
    expect(sink.windows.map((w) => w.windowStart - T0 / 1000)).toEqual([0, 30, 60, 90]);
    sink.windows.forEach((w, seq) => {
      expect(CountsMessageSchema.safeParse({ v: 1, sensorId: 'test-1', seq, ...w }).success).toBe(true);
    });
  });
});

describe('WindowCounter windows', () => {
  it('emits every window from the first frame to the last, empty ones with zeros', async () => {
    const { c, sink } = counter();
    feed(c, [
      { t: T0 + 10, addr: '00:00:00:00:00:01' },
      { t: T0 + 3 * MIN + 10, addr: '00:00:00:00:00:01' },
    ]);
    await c.flush();
    expect(sink.windows.map((w) => [w.windowStart - T0 / 1000, w.wifi.frames])).toEqual([
      [0, 1],
      [60, 0],
      [120, 0],
      [180, 1],
    ]);
  });

  it('aligns windows to the clock', async () => {
    const { c, sink } = counter({ windowSeconds: 300 });
    feed(c, [{ t: 1_700_000_123_456, addr: '00:00:00:00:00:01' }]);
    await c.flush();
    expect(sink.windows[0]!.windowStart).toBe(1_700_000_100);
  });

  it('counts out-of-order frames within the lateness in their own windows, and drops later ones as late', async () => {
    const { c, sink } = counter({ latenessMs: 2 * MIN });
    feed(c, [
      { t: T0 + MIN + 1, addr: '00:00:00:00:00:01' },
      { t: T0 + 5, addr: '00:00:00:00:00:02' }, // earlier window, before any was closed: becomes the first window
      { t: T0 + 2 * MIN, addr: '00:00:00:00:00:03' },
      { t: T0 + 6, addr: '00:00:00:00:00:02' },
    ]);
    await c.advance(T0 + 2 * MIN + 30_000); // closes nothing yet: window 0 ends at T0+1min, + 2 min lateness
    expect(sink.windows).toHaveLength(0);
    await c.advance(T0 + 3 * MIN); // closes window 0
    expect(sink.windows.map((w) => w.wifi.frames)).toEqual([2]);
    feed(c, [{ t: T0 + 7, addr: '00:00:00:00:00:09' }]); // window 0 is closed: late
    expect(c.lateFrames).toBe(1);
    feed(c, [{ t: T0 + MIN + 7, addr: '00:00:00:00:00:09' }]); // window 1 still open
    await c.flush();
    expect(sink.windows.map((w) => pick(w, 'wifi'))).toEqual([
      [1, 0, 2],
      [2, 0, 2],
      [1, 0, 1],
    ]);
  });

  it('live mode: startAt + advance emit windows from the start on, empty ones included', async () => {
    const { c, sink } = counter();
    c.startAt(T0 + 30_000);
    await c.advance(T0 + 59_999);
    expect(sink.windows).toHaveLength(0);
    feed(c, [{ t: T0 + 2 * MIN + 1, addr: '00:00:00:00:00:01' }]);
    feed(c, [{ t: T0 - 1, addr: '00:00:00:00:00:01' }]); // before the start: late
    expect(c.lateFrames).toBe(1);
    await c.advance(T0 + 3 * MIN);
    expect(sink.windows.map((w) => [w.windowStart - T0 / 1000, w.wifi.frames])).toEqual([
      [0, 0],
      [60, 0],
      [120, 1],
    ]);
    await c.advance(T0 + 4 * MIN);
    expect(sink.windows).toHaveLength(4);
    await c.flush(); // nothing open after the last frame's window
    expect(sink.windows).toHaveLength(4);
  });

  it('skips a run of empty windows longer than maxEmptyWindows (a clock jump) and counts it', async () => {
    const { c, sink } = counter({ maxEmptyWindows: 10 });
    feed(c, [
      { t: T0, addr: '00:00:00:00:00:01' },
      { t: T0 + 5 * MIN, addr: '00:00:00:00:00:01' },
      { t: T0 + 1000 * MIN, addr: '00:00:00:00:00:01' },
    ]);
    await c.flush();
    expect(sink.windows).toHaveLength(7);
    expect(sink.windows.at(-1)!.windowStart).toBe(T0 / 1000 + 1000 * 60);
    expect(c.skippedEmptyWindows).toBe(994);
  });

  it('hands windows to an async sink one at a time, in order', async () => {
    // The sink holds each window until the test lets it go (no timing involved): a window handed over while
    // another is held counts as an overlap. Every window is handed over in the end, so none overlapped.
    const order: number[] = [];
    const gates: (() => void)[] = [];
    let busy = false;
    let overlaps = 0;
    const sink: WindowSink = {
      async onWindow(w) {
        if (busy) overlaps++;
        busy = true;
        await new Promise<void>((release) => gates.push(release));
        order.push(w.windowStart);
        busy = false;
      },
    };
    const c = new WindowCounter({ windowSeconds: 60, rssiFloor: null, sink });
    c.startAt(T0);
    const a = c.advance(T0 + 2 * MIN);
    const b = c.advance(T0 + 4 * MIN);
    for (let i = 1; i <= 4; i++) {
      await waitFor(() => gates.length >= i, `window ${i} handed to the sink`, 5000);
      gates[i - 1]!();
    }
    await Promise.all([a, b]);
    expect(gates).toHaveLength(4);
    expect(overlaps).toBe(0);
    expect(order.map((s) => s - T0 / 1000)).toEqual([0, 60, 120, 180]);
  });

  it('rejects bad options', () => {
    const sink = new ArraySink();
    expect(() => new WindowCounter({ windowSeconds: 7, rssiFloor: null, sink })).toThrow(/windowSeconds/);
    expect(() => new WindowCounter({ windowSeconds: 60, rssiFloor: -200, sink })).toThrow(/rssiFloor/);
    expect(() => new WindowCounter({ windowSeconds: 60, rssiFloor: null, sink, latenessMs: -1 })).toThrow(/latenessMs/);
  });
});

describe('WindowCounter forgetting (privacy)', () => {
  const A = '3c:22:fb:12:34:56';

  it('gives every window its own key: the same address gets unrelated hashes in two windows', () => {
    const { c } = counter({ latenessMs: 10 * MIN });
    feed(c, [
      { t: T0, addr: A },
      { t: T0 + MIN, addr: A },
      { t: T0 + 2 * MIN, addr: A },
    ]);
    const open = c[INSPECT_STATE]();
    expect(open).toHaveLength(3);
    const bytes = mac(A);
    const hashes = open.map((w) => {
      const lo = w.hash.hash6(bytes, 0);
      return `${w.hash.hi}:${lo}`;
    });
    expect(new Set(hashes).size).toBe(3);
    c.destroy();
  });

  it('zeroes the key and the pseudonym set when a window closes, and keeps nothing of it', async () => {
    const { c, sink } = counter();
    feed(c, [
      { t: T0, addr: A },
      { t: T0 + 1, radio: 'ble', addr: A, rnd: true },
    ]);
    const [w] = c[INSPECT_STATE]();
    expect(w!.hash.destroyed).toBe(false);
    expect(w!.wifi!.size).toBe(1);
    expect(w!.ble!.size).toBe(1);
    await c.advance(T0 + MIN);
    expect(sink.windows).toHaveLength(1);
    expect(w!.hash.destroyed).toBe(true);
    expect(w!.wifi!.isZeroed()).toBe(true);
    expect(w!.ble!.isZeroed()).toBe(true);
    expect(c[INSPECT_STATE]()).toHaveLength(0);
    // The emitted counts hold numbers only.
    expect(JSON.stringify(sink.windows[0])).not.toMatch(/3c|fb|56/i);
  });

  it('destroy() zeroes open windows without emitting them', () => {
    const { c, sink } = counter();
    feed(c, [{ t: T0, addr: A }]);
    const [w] = c[INSPECT_STATE]();
    c.destroy();
    expect(w!.hash.destroyed).toBe(true);
    expect(w!.wifi!.isZeroed()).toBe(true);
    expect(sink.windows).toHaveLength(0);
  });

  it('bounded work: many open windows of one frame each hold small tables, and a long empty stretch is never gathered', async () => {
    // A capture whose frames fall in 2000 different minutes, all open at once before anything closes.
    const { c, sink } = counter({ latenessMs: 10 * 365 * 1440 * MIN, maxEmptyWindows: 60, holdTrailingEmpty: true });
    feed(c, Array.from({ length: 2000 }, (_, i) => ({ t: T0 + i * 10_081 * MIN, addr: '02:00:00:00:00:01' })));
    const open = c[INSPECT_STATE]();
    expect(open).toHaveLength(2000);
    // 9 bytes a slot: at most 64 slots (576 bytes) each, not 1024 (9 KB) each.
    expect(open.reduce((n, w) => n + (w.wifi?.capacity ?? 0), 0)).toBeLessThanOrEqual(2000 * 64);
    await c.flush();
    // Two thousand windows, 1999 gaps of 10,080 empty windows: none of those 20 million made.
    expect(sink.windows).toHaveLength(2000);
    expect(c.skippedEmptyWindows).toBe(1999 * 10_080);
  });
});
