/**
 * The anonymiser (docs/architecture.md, "Where an address may live"): counts distinct addresses per radio and clock-aligned window through a
 * keyed hash whose key is drawn fresh for every window and zeroed, together with the set of pseudonyms, as soon
 * as the window closes. Nothing that leaves this class can identify an address: a closed window is reduced to
 * `WindowCounts` (numbers only) and handed to the `WindowSink`.
 *
 * Counting rule per radio and window: `frames` = frames counted, `devices` = distinct addresses among them,
 * `randomized` = how many of those were randomized. A frame with an RSSI below `rssiFloor` is not counted at all;
 * every frame with an RSSI goes into the histogram, floor or not.
 *
 * Several windows may be open at once (out-of-order capture files), each with its own key. Windows close in
 * order through `advance(nowMs)` (the live clock or a file's watermark) and `flush()` (end of input); every window
 * from the first one to the last is emitted, empty ones with zeros, except that a run of more than
 * `maxEmptyWindows` empty windows (a clock that jumped, a bogus timestamp in a file, a capture that was off) is
 * skipped and counted, and reported to `onGap`.
 *
 * Bounded work: memory holds only the open windows (those with frames) and, between closing and the sink, one
 * entry per window with frames and one per run of empty windows: empty windows are made one at a time as the sink
 * takes them, never gathered, so a time span a few frames claim costs no memory.
 */
// From the zod-free part of shared: `count` runs this counter without loading the schemas.
import { MAX_COUNT, RSSI_BUCKETS, emptyRadioCounts, isAllowedWindowSeconds, rssiBucket } from '@passant/shared/basics';
import type { RadioCounts } from '@passant/shared';
import { KeyedHash } from './keyed-hash.ts';
import { PseudonymSet } from './pseudonym-set.ts';
import type { DetectionSink, Radio, WindowCounts, WindowSink } from './types.ts';

export interface WindowCounterOptions {
  /** Window length in seconds, one of WINDOW_SECONDS_ALLOWED; default 60. */
  windowSeconds: number;
  /** dBm; frames with an RSSI below it are not counted (they still go in the histogram). null = no floor. */
  rssiFloor: number | null;
  /** Gets each closed window, in order. */
  sink: WindowSink;
  /** How long after a window's end frames may still arrive (out-of-order files); default 0. */
  latenessMs?: number;
  /** Longest run of empty windows still emitted; a longer gap is skipped (see `skippedEmptyWindows`). Default: a week. */
  maxEmptyWindows?: number;
  /**
   * Capture files: empty windows at the end of what is closed are held back until a frame (or the end of input)
   * shows whether they are a quiet stretch or part of a gap, so that a gap is never cut in two by a watermark.
   * Live sources leave this off: their empty windows go out as the clock passes them. Default false.
   */
  holdTrailingEmpty?: boolean;
  /** Told about each skipped run of empty windows: the first window's start and how many (Unix seconds). */
  onGap?: (gap: { windowStart: number; windows: number }) => void;
}

/** What waits between closing and the sink: a closed window, or a run of empty windows made one at a time. */
type Pending = WindowCounts | { emptyFrom: number; emptyTo: number };

/** Key of the test-only accessor of the internal state (`counter[INSPECT_STATE]()`). */
export const INSPECT_STATE = Symbol('passant.windowCounter.inspectState');

/** What the test-only accessor shows of one open window: live references, so a test can see them being zeroed. */
export interface OpenWindowState {
  windowStart: number;
  hash: KeyedHash;
  /** null until the window counted a frame of that radio. */
  wifi: PseudonymSet | null;
  ble: PseudonymSet | null;
}

interface RadioState {
  /** Allocated on the first frame counted (a Wi-Fi capture never needs the BLE set). */
  set: PseudonymSet | null;
  frames: number;
  histogram: number[];
}

interface OpenWindow {
  index: number;
  hash: KeyedHash;
  wifi: RadioState;
  ble: RadioState;
}

const DEFAULT_MAX_EMPTY_WINDOWS_SECONDS = 7 * 86400;
/**
 * Capture files: the longest stretch without a counted frame still emitted as zero windows (an hour). A longer one
 * is a gap: a file cannot tell a quiet time from a capture that was off, and its claimed span must not cost work.
 */
export const DEFAULT_FILE_MAX_GAP_SECONDS = 3600;
const MAX_SPARE_SETS = 64;
/** Sets grown beyond this many slots (a crowd) are not kept for reuse: they go back to the allocator. */
const MAX_SPARE_CAPACITY = 1 << 16;

export class WindowCounter implements DetectionSink {
  readonly #windowSeconds: number;
  readonly #windowMs: number;
  readonly #rssiFloor: number | null;
  readonly #sink: WindowSink;
  readonly #latenessMs: number;
  readonly #maxEmptyWindows: number;
  readonly #onGap: WindowCounterOptions['onGap'];
  readonly #holdTrailingEmpty: boolean;
  readonly #open = new Map<number, OpenWindow>();
  /** The window of the previous frame (most frames fall in the same window as the one before). */
  #last: OpenWindow | null = null;
  /** Index of the next window to emit; null until the first frame or `startAt`. */
  #emitFrom: number | null = null;
  /** Once a window was emitted (or `startAt` fixed the start), frames before `#emitFrom` are late. */
  #emitFixed = false;
  /** Highest window index that saw a frame. */
  #maxSeen = -Infinity;
  #lateFrames = 0;
  #belowFloorFrames = 0;
  #skippedEmptyWindows = 0;
  #chain: Promise<void> = Promise.resolve();
  /** Cleared (all-zero) sets ready for reuse. */
  #spareSets: PseudonymSet[] = [];

  constructor(opts: WindowCounterOptions) {
    const windowSeconds = opts.windowSeconds ?? 60;
    if (!isAllowedWindowSeconds(windowSeconds)) throw new RangeError(`windowSeconds ${windowSeconds} is not an allowed window length`);
    if (opts.rssiFloor !== null && !(Number.isInteger(opts.rssiFloor) && opts.rssiFloor >= -127 && opts.rssiFloor <= 20)) {
      throw new RangeError(`rssiFloor must be an integer from -127 to 20 dBm or null, got ${opts.rssiFloor}`);
    }
    const latenessMs = opts.latenessMs ?? 0;
    if (!(latenessMs >= 0)) throw new RangeError(`latenessMs must be >= 0, got ${latenessMs}`);
    this.#windowSeconds = windowSeconds;
    this.#windowMs = windowSeconds * 1000;
    this.#rssiFloor = opts.rssiFloor;
    this.#sink = opts.sink;
    this.#latenessMs = latenessMs;
    this.#maxEmptyWindows = opts.maxEmptyWindows ?? DEFAULT_MAX_EMPTY_WINDOWS_SECONDS / windowSeconds;
    this.#onGap = opts.onGap;
    this.#holdTrailingEmpty = opts.holdTrailingEmpty ?? false;
  }

  /** Frames not counted because their RSSI was below the floor (they are in the histogram). */
  get belowFloorFrames(): number {
    return this.#belowFloorFrames;
  }

  /** Frames dropped because their window had already closed. */
  get lateFrames(): number {
    return this.#lateFrames;
  }

  /** Empty windows not emitted because they were part of a gap longer than `maxEmptyWindows`. */
  get skippedEmptyWindows(): number {
    return this.#skippedEmptyWindows;
  }

  get windowSeconds(): number {
    return this.#windowSeconds;
  }

  detect(timeMs: number, radio: Radio, buf: Uint8Array, offset: number, randomized: boolean, rssi: number): void {
    const index = Math.floor(timeMs / this.#windowMs);
    let w = this.#last;
    if (w === null || w.index !== index) {
      w = this.#windowFor(index);
      if (w === null) return;
    }
    const r = radio === 'wifi' ? w.wifi : w.ble;
    if (rssi === rssi) {
      // Has an RSSI (not NaN): histogram before the floor.
      r.histogram[rssiBucket(rssi)]!++;
      if (this.#rssiFloor !== null && rssi < this.#rssiFloor) {
        this.#belowFloorFrames++;
        return;
      }
    }
    r.frames++;
    const lo = w.hash.hash6(buf, offset);
    (r.set ??= this.#newSet()).add(w.hash.hi, lo, randomized);
  }

  /** Live mode: the first window to emit is the one holding `startMs`; windows are emitted, even empty, from there on. */
  startAt(startMs: number): void {
    const index = Math.floor(startMs / this.#windowMs);
    for (const w of this.#open.values()) {
      if (w.index < index) this.#forget(w);
    }
    this.#emitFrom = index;
    this.#emitFixed = true;
  }

  /** Closes (emits, in order, empty ones included) every window whose end <= nowMs - latenessMs. */
  advance(nowMs: number): Promise<void> {
    return this.#closeBefore(Math.floor((nowMs - this.#latenessMs) / this.#windowMs));
  }

  /**
   * Closes every window that ends at or before `endMs`, without waiting out the lateness: for input known to be
   * complete up to `endMs` (a simulator's backfill).
   */
  closeEndedBy(endMs: number): Promise<void> {
    return this.#closeBefore(Math.floor(endMs / this.#windowMs));
  }

  /** Closes every open window up to and including the last one that saw a frame (end of file, shutdown). */
  flush(): Promise<void> {
    return this.#closeBefore(this.#maxSeen + 1);
  }

  /** Zeroes and drops every open window without emitting it (abandoning the counts, e.g. after a fatal error). */
  destroy(): void {
    for (const w of this.#open.values()) this.#forget(w);
  }

  /** Test-only: live references to the open windows' keys and pseudonym sets. */
  [INSPECT_STATE](): OpenWindowState[] {
    return [...this.#open.values()].map((w) => ({
      windowStart: w.index * this.#windowSeconds,
      hash: w.hash,
      wifi: w.wifi.set,
      ble: w.ble.set,
    }));
  }

  #newSet(): PseudonymSet {
    return this.#spareSets.pop() ?? new PseudonymSet();
  }

  /** Zeroes a window's set and keeps it for reuse (fewer allocations at thousands of windows a second in files). */
  #releaseSet(r: RadioState): void {
    const set = r.set;
    if (set === null) return;
    set.clear();
    r.set = null;
    if (this.#spareSets.length < MAX_SPARE_SETS && set.capacity <= MAX_SPARE_CAPACITY) this.#spareSets.push(set);
  }

  #windowFor(index: number): OpenWindow | null {
    if (!Number.isFinite(index)) {
      // No usable time: the frame cannot be placed in any window.
      this.#lateFrames++;
      return null;
    }
    if (this.#emitFrom !== null && index < this.#emitFrom) {
      if (this.#emitFixed) {
        this.#lateFrames++;
        return null;
      }
      this.#emitFrom = index;
    }
    let w = this.#open.get(index);
    if (w === undefined) {
      w = { index, hash: new KeyedHash(), wifi: newRadioState(), ble: newRadioState() };
      this.#open.set(index, w);
      if (this.#emitFrom === null) this.#emitFrom = index;
      if (index > this.#maxSeen) this.#maxSeen = index;
    }
    this.#last = w;
    return w;
  }

  /** Emits every window with index < limit (in order) and returns when the sink has taken them all. */
  #closeBefore(limit: number): Promise<void> {
    const out: Pending[] = [];
    if (this.#emitFrom !== null) {
      const start = this.#emitFrom;
      let index = start;
      // The open windows below the limit, in order: the runs between them are empty.
      const closing = [...this.#open.keys()].filter((k) => k >= index && k < limit).sort((x, y) => x - y);
      let next = 0;
      while (index < limit) {
        const w = this.#open.get(index);
        if (w !== undefined) {
          out.push(this.#close(w));
          index++;
          continue;
        }
        // A run of empty windows up to the next open one (or the limit).
        while (next < closing.length && closing[next]! <= index) next++;
        const end = next < closing.length ? closing[next]! : limit;
        // Nothing after this run yet: it may still grow into a gap.
        if (end === limit && this.#holdTrailingEmpty) break;
        const run = end - index;
        if (run > this.#maxEmptyWindows) {
          this.#skippedEmptyWindows += run;
          this.#onGap?.({ windowStart: index * this.#windowSeconds, windows: run });
        } else {
          out.push({ emptyFrom: index, emptyTo: end });
        }
        index = end;
      }
      this.#emitFrom = index;
      if (index > start) this.#emitFixed = true;
    }
    if (out.length === 0) return this.#chain;
    const sink = this.#sink;
    const done = this.#chain.then(async () => {
      for (const item of out) {
        if ('emptyFrom' in item) {
          for (let i = item.emptyFrom; i < item.emptyTo; i++) await sink.onWindow(this.#counts(i, null));
        } else {
          await sink.onWindow(item);
        }
      }
    });
    // A failing sink rejects this call's promise but does not block the windows after it.
    this.#chain = done.catch(() => undefined);
    return done;
  }

  #close(w: OpenWindow): WindowCounts {
    const counts = this.#counts(w.index, w);
    this.#forget(w);
    return counts;
  }

  /** Zeroes the window's key and pseudonym sets and drops it. */
  #forget(w: OpenWindow): void {
    w.hash.destroy();
    this.#releaseSet(w.wifi);
    this.#releaseSet(w.ble);
    this.#open.delete(w.index);
    if (this.#last === w) this.#last = null;
  }

  #counts(index: number, w: OpenWindow | null): WindowCounts {
    return {
      windowStart: index * this.#windowSeconds,
      windowSeconds: this.#windowSeconds,
      wifi: radioCounts(w?.wifi),
      ble: radioCounts(w?.ble),
      rssiFloor: this.#rssiFloor,
    };
  }
}

function newRadioState(): RadioState {
  return { set: null, frames: 0, histogram: new Array<number>(RSSI_BUCKETS).fill(0) };
}

function radioCounts(r: RadioState | undefined): RadioCounts {
  if (r === undefined) return emptyRadioCounts();
  // Clamped to the schema's bound (far above what one radio hears in a window) so a window is never unpublishable.
  return {
    devices: Math.min(r.set?.size ?? 0, MAX_COUNT),
    randomized: Math.min(r.set?.randomized ?? 0, MAX_COUNT),
    frames: Math.min(r.frames, MAX_COUNT),
    rssiHistogram: r.histogram.map((n) => Math.min(n, MAX_COUNT)),
  };
}
