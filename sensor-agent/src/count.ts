/**
 * `passant-sensor count FILE...`: counts capture files without a broker and prints one version-1 counts message
 * per window on stdout (JSON lines). It runs the live agent's pipeline: FileSource (the capture parsers) ->
 * WindowCounter (the anonymiser) -> a WindowSink that checks each message against the counts rules and prints it.
 *
 * Start-up: this module and what it imports load no zod (building the shared schemas took 30-40 ms of CPU and
 * 3 MB at every start), no MQTT client, no SQLite and no logger: `@passant/shared/basics` is shared's zod-free
 * part. The rules of the counts message are checked by `countsMessageProblem` below; a test holds it to the
 * shared schema.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_WINDOW_SECONDS, ID_PATTERN, MAX_COUNT, RSSI_BUCKETS, WINDOW_SECONDS_ALLOWED, isAllowedWindowSeconds } from '@passant/shared/basics';
import type { CountsMessage, RadioCounts } from '@passant/shared';
import type { WindowCounts, WindowSink } from './pipeline/types.ts';
import { DEFAULT_FILE_MAX_GAP_SECONDS, WindowCounter } from './pipeline/window-counter.ts';
import { CaptureFileError, FileSource, type FileProgress } from './sources/file-source.ts';
import type { SkipCounts } from './sources/capture/frame-dissector.ts';

const USAGE = `usage: passant-sensor count [--sensor-id ID] [--window SECONDS] [--rssi-floor DBM] [--lateness SECONDS] [--max-gap SECONDS] FILE...
  Counts pcap, pcapng and btsnoop files as one stream, in the order given; prints one counts message per window.
  --sensor-id ID       sensor id in the messages (default: $PASSANT_SENSOR_ID or "local")
  --window SECONDS     window length, one of ${WINDOW_SECONDS_ALLOWED.join(', ')} (default ${DEFAULT_WINDOW_SECONDS})
  --rssi-floor DBM     frames with a lower RSSI are not counted (default: none)
  --lateness SECONDS   how far out of time order records may be (default 60)
  --max-gap SECONDS    a longer stretch without any counted frame is not printed as zero windows but reported
                       on stderr as a gap: a file cannot tell a quiet time from a capture that was off (default 3600)`;

export interface CountOptions {
  windowSeconds?: number;
  rssiFloor?: number | null;
  /** How far out of order records may be (ms); default 60 s. */
  latenessMs?: number;
  /** Longest stretch without a counted frame still printed as zero windows (s); longer ones are gaps. Default 3600. */
  maxGapSeconds?: number;
  onProgress?: (progress: FileProgress) => void;
}

/** A stretch of windows without any counted frame, longer than the gap limit: not emitted. */
export interface CountGap {
  /** Start of the first window of the gap, Unix seconds. */
  from: number;
  /** End of the last window of the gap, Unix seconds. */
  to: number;
  windows: number;
}

export interface CountSummary {
  files: number;
  records: number;
  /** Frames that matched the counting rule (before the RSSI floor). */
  detections: number;
  /** Frames counted in the emitted windows (after the RSSI floor). */
  framesCounted: number;
  windows: number;
  /** Frames that came after their window had closed (more out of order than the lateness allows): not counted. */
  lateFrames: number;
  /** Frames below the RSSI floor: not counted (in the histogram). */
  belowFloorFrames: number;
  /** Gaps, in order (the first 1000); `gapCount` and `gapWindows` count every gap and every window in one. */
  gaps: CountGap[];
  gapCount: number;
  gapWindows: number;
  skipped: SkipCounts;
  warnings: string[];
}

export const DEFAULT_FILE_LATENESS_MS = 60_000;
export { DEFAULT_FILE_MAX_GAP_SECONDS };
const MAX_GAPS_LISTED = 1000;

/**
 * Counts the files as one stream and hands every window, in order, to `sink`. Throws CaptureFileError when a
 * file is missing or corrupt (after the windows before the fault were emitted).
 */
export async function countFiles(files: string[], opts: CountOptions, sink: WindowSink): Promise<CountSummary> {
  let windows = 0;
  let framesCounted = 0;
  const counting: WindowSink = {
    async onWindow(counts: WindowCounts) {
      windows++;
      framesCounted += counts.wifi.frames + counts.ble.frames;
      await sink.onWindow(counts);
    },
  };
  const windowSeconds = opts.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  const gaps: CountGap[] = [];
  let gapCount = 0;
  const counter = new WindowCounter({
    windowSeconds,
    rssiFloor: opts.rssiFloor ?? null,
    latenessMs: opts.latenessMs ?? DEFAULT_FILE_LATENESS_MS,
    maxEmptyWindows: Math.floor((opts.maxGapSeconds ?? DEFAULT_FILE_MAX_GAP_SECONDS) / windowSeconds),
    holdTrailingEmpty: true,
    onGap: (g) => {
      gapCount++;
      if (gaps.length < MAX_GAPS_LISTED) gaps.push({ from: g.windowStart, to: g.windowStart + g.windows * windowSeconds, windows: g.windows });
    },
    sink: counting,
  });
  const source = new FileSource(files, {
    onWatermark: (ms) => counter.advance(ms),
    ...(opts.onProgress !== undefined ? { onProgress: opts.onProgress } : {}),
  });
  try {
    const summary = await source.run(counter);
    await counter.flush();
    const warnings = [...summary.warnings];
    if (counter.lateFrames > 0) {
      warnings.push(`${counter.lateFrames} frames arrived after their window had closed (more out of order than the lateness allows) and were not counted`);
    }
    for (const g of gaps.slice(0, 20)) {
      warnings.push(`no counted frame from ${isoTime(g.from)} to ${isoTime(g.to)} (${g.windows} windows): not printed, since a file cannot tell a quiet time from a capture that was off`);
    }
    if (counter.skippedEmptyWindows > 0) {
      warnings.push(`${counter.skippedEmptyWindows} windows in ${gapCount} gaps without any counted frame were not printed (see --max-gap)`);
    }
    return {
      files: summary.files,
      records: summary.records,
      detections: summary.detections,
      framesCounted,
      windows,
      lateFrames: counter.lateFrames,
      belowFloorFrames: counter.belowFloorFrames,
      gaps,
      gapCount,
      gapWindows: counter.skippedEmptyWindows,
      skipped: summary.skipped,
      warnings,
    };
  } finally {
    // Whatever happened, no key or pseudonym outlives the run; the windows emitted so far are written out.
    counter.destroy();
    await sink.flush?.();
  }
}

const isCount = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= MAX_COUNT;

function radioProblem(name: string, r: RadioCounts): string | null {
  for (const k of ['devices', 'randomized', 'frames'] as const) {
    if (!isCount(r[k])) return `${name}.${k}: must be a whole number from 0 to ${MAX_COUNT}`;
  }
  const h = r.rssiHistogram;
  if (h !== undefined && (!Array.isArray(h) || h.length !== RSSI_BUCKETS || !h.every(isCount))) {
    return `${name}.rssiHistogram: must be ${RSSI_BUCKETS} counts`;
  }
  if (r.randomized > r.devices) return `${name}.randomized: must not exceed devices`;
  if (r.devices > r.frames) return `${name}.devices: must not exceed frames`;
  return null;
}

/**
 * What breaks the rules of a version-1 counts message (those of the shared CountsMessageSchema, which this must
 * agree with: test/capture/count-rules.test.ts), or null. Without zod: `count` starts faster without it. Only the
 * fields' values are checked: the message is made here, field by field, so it has no other field.
 */
export function countsMessageProblem(m: CountsMessage): string | null {
  if (m.v !== 1) return 'v: must be 1';
  if (typeof m.sensorId !== 'string' || !ID_PATTERN.test(m.sensorId)) return `sensorId: must match ${ID_PATTERN.source}`;
  if (!isAllowedWindowSeconds(m.windowSeconds)) return `windowSeconds: must be one of ${WINDOW_SECONDS_ALLOWED.join(', ')}`;
  if (!Number.isInteger(m.windowStart) || m.windowStart < 0 || m.windowStart % m.windowSeconds !== 0) {
    return 'windowStart: must be a multiple of windowSeconds';
  }
  if (!Number.isSafeInteger(m.seq) || m.seq < 0) return 'seq: must be a whole number from 0';
  if (m.rssiFloor !== null && !(Number.isInteger(m.rssiFloor) && m.rssiFloor >= -127 && m.rssiFloor <= 20)) {
    return 'rssiFloor: must be null or a whole number from -127 to 20';
  }
  return radioProblem('wifi', m.wifi) ?? radioProblem('ble', m.ble);
}

/**
 * A WindowSink that turns windows into checked version-1 counts messages and writes them as JSON lines,
 * gathered into writes of up to 64 KiB (a file closes windows by the thousand); `flush()` writes the rest.
 */
export class JsonLinesSink implements WindowSink {
  #seq = 0;
  #pending = '';
  readonly #sensorId: string;
  readonly #out: NodeJS.WritableStream;

  constructor(sensorId: string, out: NodeJS.WritableStream = process.stdout) {
    this.#sensorId = sensorId;
    this.#out = out;
  }

  async onWindow(counts: WindowCounts): Promise<void> {
    const message: CountsMessage = {
      v: 1,
      sensorId: this.#sensorId,
      windowStart: counts.windowStart,
      windowSeconds: counts.windowSeconds,
      seq: this.#seq,
      wifi: counts.wifi,
      ble: counts.ble,
      rssiFloor: counts.rssiFloor,
    };
    const problem = countsMessageProblem(message);
    if (problem !== null) throw new Error(`window ${counts.windowStart} breaks the counts rules: ${problem}`);
    this.#seq++;
    this.#pending += JSON.stringify(message) + '\n';
    if (this.#pending.length >= 65536) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const text = this.#pending;
    this.#pending = '';
    if (!this.#out.write(text)) await new Promise<void>((resolve) => this.#out.once('drain', resolve));
  }
}

function isoTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

interface ParsedArgs {
  files: string[];
  sensorId: string;
  windowSeconds: number;
  rssiFloor: number | null;
  latenessMs: number;
  maxGapSeconds: number;
}

const VALUE_OPTIONS = new Set(['--sensor-id', '--window', '--rssi-floor', '--lateness', '--max-gap']);

/** Parses the command line; returns the problems found (all of them) instead of throwing. */
export function parseCountArgs(args: string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs | { help: true } | { errors: string[] } {
  // RSSI floors are negative: accept `--rssi-floor -70` (node's parseArgs would take -70 for an option).
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (VALUE_OPTIONS.has(a) && i + 1 < args.length && /^-\d/.test(args[i + 1]!)) joined.push(`${a}=${args[++i]}`);
    else joined.push(a);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: joined,
      allowPositionals: true,
      strict: true,
      options: {
        'sensor-id': { type: 'string' },
        window: { type: 'string' },
        'rssi-floor': { type: 'string' },
        lateness: { type: 'string' },
        'max-gap': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return { errors: [err instanceof Error ? err.message : String(err)] };
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { help: true };
  const errors: string[] = [];
  const sensorId = values['sensor-id'] ?? env.PASSANT_SENSOR_ID ?? 'local';
  if (!ID_PATTERN.test(sensorId)) {
    errors.push(`--sensor-id ${JSON.stringify(sensorId)}: must match ^[a-z0-9][a-z0-9-]{0,63}$`);
  }
  const windowSeconds = values.window === undefined ? DEFAULT_WINDOW_SECONDS : Number(values.window);
  if (!isAllowedWindowSeconds(windowSeconds)) {
    errors.push(`--window ${JSON.stringify(values.window)}: must be one of ${WINDOW_SECONDS_ALLOWED.join(', ')}`);
  }
  let rssiFloor: number | null = null;
  if (values['rssi-floor'] !== undefined) {
    rssiFloor = Number(values['rssi-floor']);
    if (!Number.isInteger(rssiFloor) || rssiFloor < -127 || rssiFloor > 20) {
      errors.push(`--rssi-floor ${JSON.stringify(values['rssi-floor'])}: must be an integer from -127 to 20 (dBm)`);
    }
  }
  const latenessSeconds = values.lateness === undefined ? DEFAULT_FILE_LATENESS_MS / 1000 : Number(values.lateness);
  if (!(Number.isFinite(latenessSeconds) && latenessSeconds >= 0 && latenessSeconds <= 86400)) {
    errors.push(`--lateness ${JSON.stringify(values.lateness)}: must be a number of seconds from 0 to 86400`);
  }
  const maxGapSeconds = values['max-gap'] === undefined ? DEFAULT_FILE_MAX_GAP_SECONDS : Number(values['max-gap']);
  if (!(Number.isInteger(maxGapSeconds) && maxGapSeconds >= 0 && maxGapSeconds <= 7 * 86400)) {
    errors.push(`--max-gap ${JSON.stringify(values['max-gap'])}: must be a whole number of seconds from 0 to 604800 (a week)`);
  }
  if (positionals.length === 0) errors.push('no capture file given');
  if (errors.length > 0) return { errors };
  return { files: positionals, sensorId, windowSeconds, rssiFloor, latenessMs: latenessSeconds * 1000, maxGapSeconds };
}

/** The `count` command; returns the exit code (0 ok, 1 unreadable or corrupt input, 2 bad command line). */
export async function countCommand(args: string[]): Promise<number> {
  const parsed = parseCountArgs(args);
  if ('help' in parsed) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if ('errors' in parsed) {
    for (const e of parsed.errors) process.stderr.write(`passant-sensor count: ${e}\n`);
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  const progress = process.stderr.isTTY ? new ProgressLine() : null;
  try {
    const summary = await countFiles(
      parsed.files,
      {
        windowSeconds: parsed.windowSeconds,
        rssiFloor: parsed.rssiFloor,
        latenessMs: parsed.latenessMs,
        maxGapSeconds: parsed.maxGapSeconds,
        ...(progress !== null ? { onProgress: (p: FileProgress) => progress.update(p) } : {}),
      },
      new JsonLinesSink(parsed.sensorId),
    );
    progress?.clear();
    for (const w of summary.warnings) process.stderr.write(`passant-sensor count: warning: ${w}\n`);
    const skipped = summary.skipped;
    process.stderr.write(
      `passant-sensor count: ${summary.files} files, ${summary.records} records, ${summary.framesCounted} frames counted` +
        ` (${summary.detections} matched; not counted: ${skipped.badFcs} bad FCS, ${skipped.badCrc} bad CRC,` +
        ` ${summary.belowFloorFrames} below the RSSI floor, ${summary.lateFrames} out of order beyond the lateness),` +
        ` ${summary.windows} windows printed, ${summary.gapWindows} in ${summary.gapCount} gaps not printed, ${summary.warnings.length} warnings\n`,
    );
    return 0;
  } catch (err) {
    progress?.clear();
    const message = err instanceof CaptureFileError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`passant-sensor count: error: ${message}\n`);
    return 1;
  }
}

/** One self-overwriting progress line on a terminal, at most four updates a second. */
class ProgressLine {
  #last = 0;
  #shown = false;

  update(p: FileProgress): void {
    const now = Date.now();
    if (now - this.#last < 250) return;
    this.#last = now;
    const pct = p.fileBytes > 0 ? Math.floor((100 * p.bytesRead) / p.fileBytes) : 100;
    process.stderr.write(`\r\x1b[Kfile ${p.index + 1}/${p.count} ${pct}% ${p.records} records`);
    this.#shown = true;
  }

  clear(): void {
    if (this.#shown) process.stderr.write('\r\x1b[K');
    this.#shown = false;
  }
}
