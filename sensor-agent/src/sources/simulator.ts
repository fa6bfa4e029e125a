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
 *
 * The parts (simulator/): the day curve (day-curve.ts), the deterministic randomness (random.ts), one radio's
 * address recipe and frame schedule (radios.ts), and the crowd that arrives, stays and leaves (crowd.ts). This
 * file is the simulator as a `Source`: a past period at once, then live.
 */
import type { DetectionSink, Source, SourceSummary } from '../pipeline/types.ts';
import { Crowd, resolveOptions, type SimulatorOptions } from './simulator/crowd.ts';

export { Crowd, type SimulatorOptions } from './simulator/crowd.ts';
export { dayCurve } from './simulator/day-curve.ts';

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
