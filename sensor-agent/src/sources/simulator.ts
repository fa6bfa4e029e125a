/**
 * Simulated crowd for demos and tests: people arrive following a day curve (quiet nights, busy
 * afternoons, busier Saturdays, quiet Sundays), stay for a while (passers-by a minute or two, shoppers longer),
 * and carry phones that probe for Wi-Fi and advertise over BLE with randomized addresses that rotate every
 * `rotationMinutes` or so. A few static devices (PCs, a printer, a beacon) with universal addresses never leave.
 *
 * The simulator emits detections into a `DetectionSink`, address bytes in one reused buffer, so simulated data go
 * through the very same WindowCounter and keyed hash as real captures. It holds no address: each address is
 * recomputed from the device's seed and the rotation epoch when a frame is emitted.
 *
 * Deterministic: the frames in a time range depend only on the options (seed...) and the range, not on where
 * the simulation started or how it was chunked. Arrivals are drawn per 10-minute segment from a seed derived
 * from (seed, segment); every device draws its frame times from its own generator.
 *
 * Per-frame work is kept small (a device sends a frame or two a minute per radio) so that `backfill` of two days
 * for three sensors takes well under a few seconds.
 */
import type { DetectionSink, Radio, Source, SourceSummary } from '../pipeline/types.ts';

export interface SimulatorOptions {
  /** People present at the busiest moment of the week (each with a phone and/or a BLE device; static devices come on top). Default 40. */
  scale?: number;
  /** Default 1. */
  seed?: number;
  /** Devices that never leave, with universal addresses. Default 4. */
  staticDevices?: number;
  /** Mean time between address rotations of a phone, minutes. Default 15. */
  rotationMinutes?: number;
  /** Time zone of the day curve, hours east of UTC; null or absent = this machine's local time zone now. */
  utcOffsetHours?: number | null;
  /** Clock for the live mode (Unix ms). Default Date.now. */
  now?: () => number;
  /** Live mode: how often frames up to "now" are emitted, ms. Default 250. */
  tickMs?: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Arrivals are drawn per segment of this length. */
const SEGMENT_MS = 10 * MINUTE_MS;
/** Frames are generated and sorted per chunk of this length. */
const CHUNK_MS = MINUTE_MS;

/** Visitors: share of passers-by; the rest are shoppers. */
const PASSER_BY_SHARE = 0.65;
const PASSER_BY_DWELL = { minMs: 0.5 * MINUTE_MS, meanExtraMs: 1.5 * MINUTE_MS, maxMs: 10 * MINUTE_MS };
const SHOPPER_DWELL = { minMs: 5 * MINUTE_MS, meanExtraMs: 20 * MINUTE_MS, maxMs: 120 * MINUTE_MS };
const MAX_DWELL_MS = SHOPPER_DWELL.maxMs;
/** Mean dwell (uncapped approximation), for the arrival rate that gives `scale` devices present at the peak. */
const MEAN_DWELL_MS =
  PASSER_BY_SHARE * (PASSER_BY_DWELL.minMs + PASSER_BY_DWELL.meanExtraMs) +
  (1 - PASSER_BY_SHARE) * (SHOPPER_DWELL.minMs + SHOPPER_DWELL.meanExtraMs);

/** What a visitor carries. */
const P_WIFI = 0.85;
const P_WIFI_RANDOMIZED = 0.92;
const P_BLE = 0.45;
const P_BLE_RANDOM = 0.9;

/** Wi-Fi: a burst of 1-3 probe requests every 30-90 s. BLE: one advertisement every 15-45 s (scaled down from reality). */
const WIFI_BURST_GAP_MS = [30_000, 90_000] as const;
const WIFI_FRAME_GAP_MS = 20;
const BLE_GAP_MS = [15_000, 45_000] as const;

/**
 * Relative traffic per local hour (0-23), peak of the week = 1: a shopping street. Weekdays build up to the late
 * afternoon, Friday has a longer evening, Saturday is the busiest day, Sunday afternoon is quieter.
 */
const WEEKDAY = [0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.12, 0.22, 0.32, 0.42, 0.52, 0.62, 0.6, 0.6, 0.64, 0.7, 0.62, 0.45, 0.3, 0.2, 0.12, 0.07, 0.04];
const FRIDAY = [0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.12, 0.22, 0.32, 0.45, 0.55, 0.66, 0.65, 0.66, 0.72, 0.8, 0.75, 0.6, 0.5, 0.4, 0.25, 0.12, 0.06];
const SATURDAY = [0.04, 0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.12, 0.3, 0.5, 0.68, 0.82, 0.9, 1.0, 1.0, 0.95, 0.8, 0.55, 0.35, 0.25, 0.18, 0.12, 0.07];
const SUNDAY = [0.05, 0.03, 0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.04, 0.08, 0.15, 0.25, 0.38, 0.45, 0.5, 0.5, 0.45, 0.35, 0.22, 0.14, 0.1, 0.07, 0.04, 0.03];
/** Index by day of week, 0 = Sunday. */
const WEEK = [SUNDAY, WEEKDAY, WEEKDAY, WEEKDAY, WEEKDAY, FRIDAY, SATURDAY];

/**
 * Share (0..1) of the week's peak traffic at Unix time `ms`, in a time zone `utcOffsetHours` east of UTC;
 * linear between the middles of the hours.
 */
export function dayCurve(ms: number, utcOffsetHours: number): number {
  const local = ms + utcOffsetHours * HOUR_MS - HOUR_MS / 2;
  const hourIndex = Math.floor(local / HOUR_MS);
  const frac = (local - hourIndex * HOUR_MS) / HOUR_MS;
  return lerp(hourValue(hourIndex), hourValue(hourIndex + 1), frac);
}

function hourValue(hourIndex: number): number {
  const day = Math.floor(hourIndex / 24);
  const hour = hourIndex - day * 24;
  // 1970-01-01 was a Thursday (4).
  const dow = (((day + 4) % 7) + 7) % 7;
  return WEEK[dow]![hour]!;
}

function lerp(a: number, b: number, f: number): number {
  return a + (b - a) * f;
}

// ---- deterministic randomness (no allocation) ----

/** 32-bit integer mixer (lowbias32). */
function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Hash of up to four integers (each taken modulo 2^32, larger ones folded). */
function hash4(a: number, b: number, c = 0, d = 0): number {
  let h = mix32((a >>> 0) ^ 0x9e3779b9);
  h = mix32(h ^ (b >>> 0) ^ (Math.floor(b / 0x100000000) * 0x85ebca6b));
  h = mix32(h ^ (c >>> 0) ^ (Math.floor(c / 0x100000000) * 0xc2b2ae35));
  h = mix32(h ^ (d >>> 0));
  return h;
}

/** mulberry32 step on a state held by the caller; returns [0, 1). */
class Rng {
  state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}

// ---- devices ----

/** Address kinds: how the 6 bytes are shaped. */
const ADDR_WIFI_RANDOM = 0;
const ADDR_WIFI_UNIVERSAL = 1;
const ADDR_BLE_RANDOM = 2;
const ADDR_BLE_PUBLIC = 3;
type AddressKind = 0 | 1 | 2 | 3;

/** A few real-looking OUIs for universal addresses (the first three octets). */
const OUIS = [0x3c2eff, 0xf0d1a9, 0x001a11, 0x8c8590, 0xa4c361, 0x28cfe9];

/** One radio of one device: its frame schedule and its address recipe (no address is stored). */
interface RadioState {
  radio: Radio;
  kind: AddressKind;
  randomized: boolean;
  /** Address seed; the address is a function of (seed, epoch). */
  addrSeed: number;
  /** Rotation: epoch = floor((t + phase) / period); period Infinity = never rotates. */
  rotationMs: number;
  rotationPhaseMs: number;
  rssiBase: number;
  rng: Rng;
  nextMs: number;
  /** Wi-Fi: frames left in the current burst. */
  burstLeft: number;
  /** Static devices: fixed time between frames (0 = random gaps, visitors); frame k is at phase + k * period. */
  periodMs: number;
  periodPhaseMs: number;
  periodIndex: number;
}

interface Visitor {
  arriveMs: number;
  leaveMs: number;
  radios: RadioState[];
}

interface PendingFrame {
  t: number;
  r: RadioState;
  rssi: number;
}

/** Writes the 6 address bytes of `r` at time `t` into `out` (transmission order, first octet first). */
function addressInto(out: Uint8Array, r: RadioState, t: number): void {
  const epoch = Number.isFinite(r.rotationMs) ? Math.floor((t + r.rotationPhaseMs) / r.rotationMs) : 0;
  const h1 = hash4(r.addrSeed, epoch, 1);
  const h2 = hash4(r.addrSeed, epoch, 2);
  switch (r.kind) {
    case ADDR_WIFI_RANDOM:
      // Locally administered, unicast: bit 0x02 set, bit 0x01 clear in the first octet.
      out[0] = ((h1 >>> 24) & 0xfc) | 0x02;
      break;
    case ADDR_BLE_RANDOM:
      // Resolvable private address: the two most significant bits of the first octet are 0b01.
      out[0] = ((h1 >>> 24) & 0x3f) | 0x40;
      break;
    default: {
      const oui = OUIS[r.addrSeed % OUIS.length]!;
      out[0] = (oui >>> 16) & 0xff;
      out[1] = (oui >>> 8) & 0xff;
      out[2] = oui & 0xff;
      out[3] = (h2 >>> 16) & 0xff;
      out[4] = (h2 >>> 8) & 0xff;
      out[5] = h2 & 0xff;
      return;
    }
  }
  out[1] = (h1 >>> 16) & 0xff;
  out[2] = (h1 >>> 8) & 0xff;
  out[3] = h1 & 0xff;
  out[4] = (h2 >>> 8) & 0xff;
  out[5] = h2 & 0xff;
}

function clampRssi(x: number): number {
  return Math.max(-100, Math.min(-30, Math.round(x)));
}

interface ResolvedOptions {
  scale: number;
  seed: number;
  staticDevices: number;
  rotationMs: number;
  utcOffsetHours: number;
}

function resolveOptions(o: SimulatorOptions): ResolvedOptions {
  const scale = o.scale ?? 40;
  if (!(Number.isFinite(scale) && scale >= 0)) throw new RangeError(`simulator scale must be >= 0, got ${scale}`);
  const rotationMinutes = o.rotationMinutes ?? 15;
  if (!(rotationMinutes > 0)) throw new RangeError(`rotationMinutes must be > 0, got ${rotationMinutes}`);
  return {
    scale,
    seed: (o.seed ?? 1) >>> 0,
    staticDevices: Math.max(0, Math.floor(o.staticDevices ?? 4)),
    rotationMs: rotationMinutes * MINUTE_MS,
    utcOffsetHours: o.utcOffsetHours ?? -new Date().getTimezoneOffset() / 60,
  };
}

/**
 * The model, advancing through time. `emitUntil(toMs, sink)` emits, in time order, every frame with a time in
 * [cursor, toMs) and moves the cursor to toMs.
 */
export class Crowd {
  readonly #o: ResolvedOptions;
  readonly #statics: RadioState[] = [];
  /** Visitors by arrival time; dropped once they have left. */
  #active: Visitor[] = [];
  #nextSegment: number;
  #cursor: number;
  readonly #scratch = Buffer.alloc(6);
  readonly #pending: PendingFrame[] = [];
  /** Visitors that arrived (were generated) since the start, including those before the start still present. */
  visitors = 0;
  frames = 0;

  constructor(options: SimulatorOptions, startMs: number) {
    this.#o = resolveOptions(options);
    this.#cursor = startMs;
    this.#nextSegment = Math.floor((startMs - MAX_DWELL_MS) / SEGMENT_MS);
    for (let i = 0; i < this.#o.staticDevices; i++) this.#statics.push(this.#staticDevice(i));
  }

  get cursorMs(): number {
    return this.#cursor;
  }

  /** Emits every frame in [cursor, toMs) in time order; returns how many. */
  emitUntil(toMs: number, sink: DetectionSink): number {
    let emitted = 0;
    while (this.#cursor < toMs) {
      const chunkEnd = Math.min(toMs, (Math.floor(this.#cursor / CHUNK_MS) + 1) * CHUNK_MS);
      emitted += this.#emitChunk(this.#cursor, chunkEnd, sink);
      this.#cursor = chunkEnd;
    }
    return emitted;
  }

  #emitChunk(from: number, to: number, sink: DetectionSink): number {
    while (this.#nextSegment * SEGMENT_MS < to) this.#generateSegment(this.#nextSegment++);
    const pending = this.#pending;
    pending.length = 0;

    let keep = 0;
    for (let i = 0; i < this.#active.length; i++) {
      const v = this.#active[i]!;
      if (v.leaveMs > from) this.#active[keep++] = v;
      if (v.arriveMs >= to) continue;
      for (const r of v.radios) this.#schedule(r, Math.min(to, v.leaveMs), from, pending);
    }
    this.#active.length = keep;
    for (const r of this.#statics) this.#schedule(r, to, from, pending);

    pending.sort((a, b) => a.t - b.t);
    const buf = this.#scratch;
    for (const f of pending) {
      addressInto(buf, f.r, f.t);
      sink.detect(f.t, f.r.radio, buf, 0, f.r.randomized, f.rssi);
    }
    buf.fill(0);
    const n = pending.length;
    pending.length = 0;
    this.frames += n;
    return n;
  }

  /** Draws the radio's frames before `until`; those at or after `from` go into `out`. */
  #schedule(r: RadioState, until: number, from: number, out: PendingFrame[]): void {
    while (r.nextMs < until) {
      const t = r.nextMs;
      if (r.periodMs > 0) {
        // Static device: RSSI noise from the frame's own time, so it does not depend on where the simulation started.
        r.rng.state = hash4(r.addrSeed, Math.floor(t));
        if (t >= from) out.push({ t, r, rssi: clampRssi(r.rssiBase + r.rng.range(-3, 3)) });
        // From the index, not by adding: the times are then bit-identical wherever the simulation started.
        r.periodIndex++;
        r.nextMs = r.periodPhaseMs + r.periodIndex * r.periodMs;
        continue;
      }
      const rssi = clampRssi(r.rssiBase + r.rng.range(-6, 6));
      if (t >= from) out.push({ t, r, rssi });
      if (r.radio === 'wifi') {
        if (r.burstLeft > 1) {
          r.burstLeft--;
          r.nextMs = t + WIFI_FRAME_GAP_MS;
        } else {
          r.burstLeft = 1 + Math.floor(r.rng.next() * 3);
          r.nextMs = t + r.rng.range(WIFI_BURST_GAP_MS[0], WIFI_BURST_GAP_MS[1]);
        }
      } else {
        r.nextMs = t + r.rng.range(BLE_GAP_MS[0], BLE_GAP_MS[1]);
      }
    }
  }

  #generateSegment(segment: number): void {
    const o = this.#o;
    if (o.scale <= 0) return;
    const rng = new Rng(hash4(o.seed, segment, 0xa771));
    // Thinning: candidates at the peak rate, each kept with probability curve(t).
    const meanGapMs = MEAN_DWELL_MS / o.scale;
    const start = segment * SEGMENT_MS;
    const end = start + SEGMENT_MS;
    let t = start;
    for (let k = 0; ; k++) {
      t += rng.exp(meanGapMs);
      if (t >= end) break;
      if (rng.next() >= dayCurve(t, o.utcOffsetHours)) continue;
      const v = this.#visitor(t, hash4(o.seed, segment, k + 1, 0x715));
      if (v.leaveMs > this.#cursor) {
        this.#active.push(v);
        this.visitors++;
      }
    }
  }

  #visitor(arriveMs: number, seed: number): Visitor {
    const rng = new Rng(seed);
    const dwell = rng.next() < PASSER_BY_SHARE ? PASSER_BY_DWELL : SHOPPER_DWELL;
    const dwellMs = Math.min(dwell.maxMs, dwell.minMs + rng.exp(dwell.meanExtraMs));
    const nearness = rng.range(-85, -55);
    const radios: RadioState[] = [];
    // Every draw happens whatever the outcome, so options change only what they are about.
    const hasWifi = rng.next() < P_WIFI;
    const wifiRandom = rng.next() < P_WIFI_RANDOMIZED;
    const hasBle = rng.next() < P_BLE;
    const bleRandom = rng.next() < P_BLE_RANDOM;
    const wifiRot = this.#o.rotationMs * rng.range(0.75, 1.25);
    const bleRot = this.#o.rotationMs * rng.range(0.75, 1.25);
    const wifiPhase = rng.next();
    const blePhase = rng.next();
    const wifiFirst = rng.range(0, WIFI_BURST_GAP_MS[1]);
    const bleFirst = rng.range(0, BLE_GAP_MS[1]);
    if (hasWifi) {
      radios.push({
        radio: 'wifi',
        kind: wifiRandom ? ADDR_WIFI_RANDOM : ADDR_WIFI_UNIVERSAL,
        randomized: wifiRandom,
        addrSeed: hash4(seed, 0x3f1),
        rotationMs: wifiRandom ? wifiRot : Infinity,
        rotationPhaseMs: wifiPhase * wifiRot,
        rssiBase: nearness,
        rng: new Rng(hash4(seed, 0x3f2)),
        nextMs: arriveMs + wifiFirst,
        burstLeft: 1,
        periodMs: 0,
        periodPhaseMs: 0,
        periodIndex: 0,
      });
    }
    if (hasBle) {
      radios.push({
        radio: 'ble',
        kind: bleRandom ? ADDR_BLE_RANDOM : ADDR_BLE_PUBLIC,
        randomized: bleRandom,
        addrSeed: hash4(seed, 0xb1e),
        rotationMs: bleRandom ? bleRot : Infinity,
        rotationPhaseMs: blePhase * bleRot,
        rssiBase: nearness - 5,
        rng: new Rng(hash4(seed, 0xb1f)),
        nextMs: arriveMs + bleFirst,
        burstLeft: 1,
        periodMs: 0,
        periodPhaseMs: 0,
        periodIndex: 0,
      });
    }
    return { arriveMs, leaveMs: arriveMs + dwellMs, radios };
  }

  /** Static device i: every fourth a BLE beacon with a public address, the others Wi-Fi with universal addresses. */
  #staticDevice(i: number): RadioState {
    const seed = hash4(this.#o.seed, 0x57a7, i);
    const rng = new Rng(seed);
    const ble = i % 4 === 3;
    const periodMs = ble ? 20_000 : rng.range(60_000, 120_000);
    // A fixed period from a fixed phase: the schedule is the same wherever the simulation starts.
    const phase = rng.next() * periodMs;
    const k = Math.ceil((this.#cursor - phase) / periodMs);
    return {
      radio: ble ? 'ble' : 'wifi',
      kind: ble ? ADDR_BLE_PUBLIC : ADDR_WIFI_UNIVERSAL,
      randomized: false,
      addrSeed: seed,
      rotationMs: Infinity,
      rotationPhaseMs: 0,
      rssiBase: rng.range(-80, -60),
      rng: new Rng(0),
      nextMs: phase + k * periodMs,
      burstLeft: 1,
      periodMs,
      periodPhaseMs: phase,
      periodIndex: k,
    };
  }
}

/**
 * Emits the model's frames for [fromMs, toMs) into `sink`, in time order, as fast as it can (a pure function of
 * the options and the range). Returns the number of frames.
 */
export function simulateRange(options: SimulatorOptions, fromMs: number, toMs: number, sink: DetectionSink): number {
  return new Crowd(options, fromMs).emitUntil(toMs, sink);
}

/**
 * The simulator as a `Source`. `backfill(fromMs, toMs, sink)` first generates a past period fast; `run(sink)`
 * then continues live (from where the backfill ended, or from now), emitting frames as time passes.
 */
export class Simulator implements Source {
  readonly #options: SimulatorOptions;
  readonly #now: () => number;
  readonly #tickMs: number;
  #crowd: Crowd | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stop: (() => void) | null = null;
  #closed = false;

  constructor(options: SimulatorOptions = {}) {
    resolveOptions(options);
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#tickMs = options.tickMs ?? 250;
  }

  /** Frames emitted so far. */
  get frames(): number {
    return this.#crowd?.frames ?? 0;
  }

  /** Generates the frames of [fromMs, toMs) at once. A later `backfill` or `run` continues from `toMs`. */
  backfill(fromMs: number, toMs: number, sink: DetectionSink): number {
    if (this.#crowd === null) this.#crowd = new Crowd(this.#options, fromMs);
    if (fromMs < this.#crowd.cursorMs) {
      throw new RangeError(`backfill from ${fromMs} is before the simulation's current time ${this.#crowd.cursorMs}`);
    }
    if (fromMs > this.#crowd.cursorMs) this.#crowd = new Crowd(this.#options, fromMs);
    return this.#crowd.emitUntil(toMs, sink);
  }

  run(sink: DetectionSink): Promise<SourceSummary> {
    if (this.#closed) return Promise.resolve({ records: 0, detections: 0, warnings: [] });
    const start = this.#now();
    if (this.#crowd === null || this.#crowd.cursorMs > start) this.#crowd = new Crowd(this.#options, start);
    const crowd = this.#crowd;
    const first = crowd.frames;
    return new Promise<SourceSummary>((resolve) => {
      const tick = (): void => {
        crowd.emitUntil(Math.max(crowd.cursorMs, this.#now()), sink);
      };
      tick();
      this.#timer = setInterval(tick, this.#tickMs);
      this.#stop = () => {
        if (this.#timer !== null) clearInterval(this.#timer);
        this.#timer = null;
        const n = crowd.frames - first;
        resolve({ records: n, detections: n, warnings: [] });
      };
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stop?.();
    this.#stop = null;
  }
}
