/**
 * The simulator's crowd model (simulator.ts): visitors arrive per 10-minute segment, thinned by the day curve,
 * stay a passer-by's or a shopper's while with the radios they carry, and a few static devices never leave.
 * `Crowd` advances through time and emits every frame in order into a `DetectionSink`.
 */
import type { DetectionSink } from '../../pipeline/types.ts';
import { dayCurve } from './day-curve.ts';
import { hash4, Rng } from './random.ts';
import { addressInto, BLE_GAP_MS, scheduleFrames, staticRadio, visitorRadio, WIFI_BURST_GAP_MS, type PendingFrame, type RadioState } from './radios.ts';

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

interface Visitor {
  arriveMs: number;
  leaveMs: number;
  radios: RadioState[];
}

interface ResolvedOptions {
  scale: number;
  seed: number;
  staticDevices: number;
  rotationMs: number;
  utcOffsetHours: number;
}

/** The options with their defaults; throws a RangeError on a scale or rotation that cannot be simulated. */
export function resolveOptions(o: SimulatorOptions): ResolvedOptions {
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
    for (let i = 0; i < this.#o.staticDevices; i++) this.#statics.push(staticRadio(this.#o.seed, i, startMs));
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
      for (const r of v.radios) scheduleFrames(r, Math.min(to, v.leaveMs), from, pending);
    }
    this.#active.length = keep;
    for (const r of this.#statics) scheduleFrames(r, to, from, pending);

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
      radios.push(visitorRadio({ radio: 'wifi', randomized: wifiRandom, visitorSeed: seed, salt: 0x3f1, rotationMs: wifiRot, phase: wifiPhase, rssiBase: nearness, firstMs: arriveMs + wifiFirst }));
    }
    if (hasBle) {
      radios.push(visitorRadio({ radio: 'ble', randomized: bleRandom, visitorSeed: seed, salt: 0xb1e, rotationMs: bleRot, phase: blePhase, rssiBase: nearness - 5, firstMs: arriveMs + bleFirst }));
    }
    return { arriveMs, leaveMs: arriveMs + dwellMs, radios };
  }
}
