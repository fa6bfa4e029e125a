/**
 * Runs a capture tool (tcpdump, btmon, or a configured command) and parses what it writes (pcap, pcapng or
 * btsnoop) as a stream, handing detections to the sink. The frame time is the capture timestamp the tool writes.
 *
 * The tool's stderr goes to the log line by line (clamped, address-like text replaced; capture tools writing a
 * file print no frame data there). Its decoded output, if any, is never read: when the capture comes on another descriptor (btmon), the
 * tool's stdout is discarded. Restarting a tool that died is the caller's business: `run` rejects then.
 *
 * The capture is read by polling, not as a stream. The tool writes into a FIFO (made in a private temp folder and
 * unlinked at once, so only the two open ends remain); the agent reads its non-blocking end, as much as there is,
 * into one reused buffer, at an interval that aims at about 32 kB a poll (half of what a FIFO holds): up to
 * `maxPollMs` (4 s) for a quiet or slow tool, down to a few ms for a busy one. The agent calls `readPending()`
 * before it closes windows, so a frame written just before a window ends is counted in it whatever the interval. A Node stream would wake the
 * process, allocate a 64 kB buffer and run the stream machinery for every write of the tool (`tcpdump -U` writes
 * once per frame); polling costs a few wake-ups a second whatever the rate, which on a small board is most of the
 * CPU the sensor uses. The FIFO holds 64 kB: when it is full the tool blocks until the next poll, and the kernel's
 * capture buffer (tcpdump -B, 2 MB by default) keeps the frames meanwhile.
 *
 * Once the parser is done with a chunk, the read buffer is overwritten with zeros, so no frame (address bytes)
 * stays in memory the agent owns after it has been counted (see CaptureParser for the bytes it copies).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../log.ts';
import type { DetectionSink, SourceSummary } from '../../pipeline/types.ts';
import { CaptureParser } from './capture-parser.ts';
import { FrameDissector, type SkipCounts } from './frame-dissector.ts';

export interface SpawnedCaptureOptions {
  /** Program and arguments. */
  command: readonly string[];
  /** Descriptor the tool writes the capture to: 1 (stdout, default) or 3 (an extra pipe, e.g. btmon -w /dev/fd/3). */
  outputFd?: 1 | 3;
  logger?: Logger;
  /** Debian package to name when the program is missing. */
  debianPackage?: string;
  /** Time allowed after SIGTERM before SIGKILL; default 5 s. */
  killTimeoutMs?: number;
  /** First poll interval, ms; default 200. */
  pollMs?: number;
  /** Longest poll interval, ms; default 4000. */
  maxPollMs?: number;
  /** Read buffer size; default 64 kB (what a FIFO holds). */
  chunkBytes?: number;
}

export interface SpawnedCaptureSummary extends SourceSummary {
  skipped: SkipCounts;
  exitCode: number | null;
}

const MAX_STDERR_LINE = 300;
/** Reads per poll at most (then the event loop gets a turn, e.g. for the window clock). */
const MAX_READS_PER_POLL = 64;
/** Bytes a poll should find when the tool is busy: half of a Linux FIFO (64 kB), so the tool seldom blocks. */
const TARGET_POLL_BYTES = 32 * 1024;
/** Shortest poll interval, ms. */
const MIN_POLL_MS = 2;

/**
 * A FIFO whose read end is open non-blocking and whose write end is open for the tool; the name is already gone.
 * Needs `mkfifo` (coreutils).
 */
function openFifo(): { readFd: number; writeFd: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-capture-'));
  try {
    const fifo = path.join(dir, 'capture');
    execFileSync('mkfifo', ['-m', '600', fifo], { stdio: 'ignore' });
    const readFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    // Does not block: the read end is open.
    const writeFd = fs.openSync(fifo, fs.constants.O_WRONLY);
    return { readFd, writeFd };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Address-like text, generously: three or more hex octets separated by ':', '-' or ' ' (aa:bb:.., aa-bb-..,
 * a hexdump's "aa bb cc", and the tail of an address cut by a clamp), dotted groups (aabb.ccdd.eeff), and any run
 * of 12 or more hex digits (0xaabbccddeeff, mac_aabbccddeeff). Boundaries are "not a hex digit", not \b, so a
 * prefix such as 0x or _ does not hide an address. Some harmless text (a time 12:34:56) is scrubbed too.
 */
const ADDRESS_LIKE =
  /(?<![0-9a-f])[0-9a-f]{2}(?:[:\- ][0-9a-f]{2}){2,}(?![0-9a-f])|(?<![0-9a-f])[0-9a-f]{4}(?:\.[0-9a-f]{4}){1,2}(?![0-9a-f])|(?<![0-9a-f])[0-9a-f]{12,}(?![0-9a-f])/gi;

/**
 * A tool's stderr line as it may be logged: clamped, and with anything that looks like an address replaced
 * (tcpdump and btmon print none when they write a capture, but a configured command might).
 */
export function scrubToolLine(line: string): string {
  // Scrub first, then clamp: a clamp must not cut an address into a piece the pattern no longer sees.
  return line.replace(ADDRESS_LIKE, '(address)').slice(0, MAX_STDERR_LINE);
}

/** A capture tool that could not be started, or that died with an error. */
export class CaptureToolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CaptureToolError';
  }
}

export class SpawnedCapture {
  readonly #opts: SpawnedCaptureOptions;
  #child: ChildProcess | null = null;
  /** Reads what the FIFO holds now (while running). */
  #readNow: (() => void) | null = null;
  #closing = false;
  #exited: Promise<void> = Promise.resolve();

  constructor(opts: SpawnedCaptureOptions) {
    if (opts.command.length === 0 || opts.command[0]!.length === 0) throw new Error('capture command must not be empty');
    this.#opts = opts;
  }

  /** Starts the tool and parses its output until it exits or `close()` is called. */
  run(sink: DetectionSink): Promise<SpawnedCaptureSummary> {
    const [program, ...args] = this.#opts.command as [string, ...string[]];
    const outputFd = this.#opts.outputFd ?? 1;
    const log = this.#opts.logger;
    const dissector = new FrameDissector(sink);
    const parser = new CaptureParser(dissector);
    const { readFd, writeFd } = openFifo();
    const pollMs = this.#opts.pollMs ?? 200;
    const maxPollMs = Math.max(pollMs, this.#opts.maxPollMs ?? 4000);
    const buf = Buffer.alloc(this.#opts.chunkBytes ?? 65536);
    return new Promise<SpawnedCaptureSummary>((resolve, reject) => {
      const stdio: Array<'ignore' | 'pipe' | number> = outputFd === 3 ? ['ignore', 'ignore', 'pipe', writeFd] : ['ignore', writeFd, 'pipe'];
      let child: ChildProcess;
      try {
        child = spawn(program, args, { stdio });
      } finally {
        // The tool holds its own copy; the FIFO ends (EOF) when the tool closes it.
        fs.closeSync(writeFd);
      }
      this.#child = child;
      let failed: Error | null = null;
      let lastStderr = '';
      let resolveExit!: () => void;
      this.#exited = new Promise<void>((r) => (resolveExit = r));
      log?.info({ program, pid: child.pid }, 'capture tool started');

      let fdOpen = true;
      let timer: NodeJS.Timeout | null = null;
      let interval = pollMs;
      const closeFd = (): void => {
        if (timer !== null) clearTimeout(timer);
        timer = null;
        if (fdOpen) fs.closeSync(readFd);
        fdOpen = false;
      };
      /** Reads what the FIFO holds, at most MAX_READS_PER_POLL reads: 'end' of stream, 'empty' for now, or 'more'. */
      const drain = (): 'end' | 'empty' | 'more' => {
        for (let i = 0; i < MAX_READS_PER_POLL; i++) {
          let n: number;
          try {
            n = fs.readSync(readFd, buf, 0, buf.length, null);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 'empty';
            throw err;
          }
          if (n === 0) return 'end';
          if (failed === null) {
            try {
              parser.push(n === buf.length ? buf : buf.subarray(0, n));
            } catch (err) {
              failed = new CaptureToolError(`${program} wrote an unreadable capture stream: ${(err as Error).message}`, { cause: err });
              child.kill('SIGTERM');
            }
          }
          buf.fill(0, 0, n);
        }
        return 'more';
      };
      const poll = (): void => {
        timer = null;
        if (!fdOpen) return;
        const before = parser.bytes;
        let state: 'end' | 'empty' | 'more';
        try {
          state = drain();
        } catch (err) {
          failed ??= new CaptureToolError(`reading the capture of ${program} failed: ${(err as Error).message}`, { cause: err });
          child.kill('SIGTERM');
          state = 'end';
        }
        if (state === 'end') return closeFd();
        const read = parser.bytes - before;
        // Nothing: wait twice as long (up to maxPollMs). Something: aim at TARGET_POLL_BYTES a poll.
        interval =
          read === 0
            ? Math.min(interval * 2, maxPollMs)
            : Math.max(MIN_POLL_MS, Math.min(maxPollMs, Math.round((interval * TARGET_POLL_BYTES) / read)));
        timer = setTimeout(poll, state === 'more' ? 0 : interval);
      };
      timer = setTimeout(poll, 0);
      this.#readNow = () => {
        if (timer === null || !fdOpen) return;
        clearTimeout(timer);
        poll();
      };

      const stderr = child.stderr!;
      let pendingErr = '';
      stderr.setEncoding('utf8');
      stderr.on('data', (text: string) => {
        pendingErr += text;
        let nl: number;
        while ((nl = pendingErr.indexOf('\n')) >= 0) {
          const line = pendingErr.slice(0, nl).trim();
          pendingErr = pendingErr.slice(nl + 1);
          if (line.length > 0) {
            lastStderr = scrubToolLine(line);
            log?.info({ program, line: lastStderr }, 'capture tool says');
          }
        }
        // A tool that never ends its line must not grow memory.
        if (pendingErr.length > 4096) pendingErr = pendingErr.slice(-MAX_STDERR_LINE);
      });

      child.on('error', (err: NodeJS.ErrnoException) => {
        const hint = err.code === 'ENOENT' ? `not found${this.#opts.debianPackage !== undefined ? ` (install the Debian package "${this.#opts.debianPackage}")` : ''}` : err.message;
        failed ??= new CaptureToolError(`cannot start capture tool ${program}: ${hint}`, { cause: err });
      });

      child.on('close', (code, signal) => {
        this.#child = null;
        this.#readNow = null;
        // What the tool wrote before it ended is still in the FIFO: read it all.
        if (fdOpen) {
          try {
            while (drain() === 'more');
          } catch (err) {
            failed ??= new CaptureToolError(`reading the capture of ${program} failed: ${(err as Error).message}`, { cause: err });
          }
          closeFd();
        }
        resolveExit();
        const summary = (): SpawnedCaptureSummary => ({
          records: parser.records,
          detections: dissector.detections,
          warnings: [...parser.warnings, ...dissector.warnings],
          skipped: { ...dissector.skipped },
          exitCode: code,
        });
        if (failed !== null) return reject(failed);
        // A stream cut short when the tool stops leaves a partial record: a warning, not an error.
        if (parser.bytes > 0) {
          try {
            parser.end();
          } catch (err) {
            if (!this.#closing) return reject(new CaptureToolError(`${program}: ${(err as Error).message}`, { cause: err }));
          }
        }
        log?.info({ program, code, signal, records: parser.records, detections: dissector.detections }, 'capture tool stopped');
        if (this.#closing) return resolve(summary());
        if (code === 0) {
          if (parser.bytes === 0) return reject(new CaptureToolError(`${program} exited without writing a capture${lastStderr !== '' ? `: ${lastStderr}` : ''}`));
          return resolve(summary());
        }
        const why = code !== null ? `exit code ${code}` : `signal ${signal}`;
        reject(new CaptureToolError(`${program} stopped with ${why}${lastStderr !== '' ? `: ${lastStderr}` : ''}`));
      });
    });
  }

  /** Parses what the tool has written so far, now, instead of at the next poll. */
  readPending(): void {
    this.#readNow?.();
  }

  /** Stops the tool (SIGTERM, then SIGKILL after the timeout); `run` then resolves with what was read. */
  async close(): Promise<void> {
    this.#closing = true;
    const child = this.#child;
    if (child === null) return;
    child.kill('SIGTERM');
    const timeoutMs = this.#opts.killTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, timeoutMs);
    });
    await Promise.race([this.#exited, killed]);
    clearTimeout(timer);
    await this.#exited;
  }
}
