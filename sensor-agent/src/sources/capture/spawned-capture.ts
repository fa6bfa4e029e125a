/**
 * Runs a capture tool (tcpdump, btmon, or a configured command) and parses what it writes (pcap, pcapng or
 * btsnoop) as a stream, handing detections to the sink. The frame time is the capture timestamp the tool writes.
 *
 * The tool's stderr goes to the log line by line (clamped, address-like text replaced; capture tools writing a
 * file print no frame data there). Its decoded output, if any, is never read: when the capture comes on another descriptor (btmon), the
 * tool's stdout is discarded. Restarting a tool that died is the caller's business: `run` rejects then.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
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
}

export interface SpawnedCaptureSummary extends SourceSummary {
  skipped: SkipCounts;
  exitCode: number | null;
}

const MAX_STDERR_LINE = 300;

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
    return new Promise<SpawnedCaptureSummary>((resolve, reject) => {
      const stdio: Array<'ignore' | 'pipe'> = outputFd === 3 ? ['ignore', 'ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'];
      const child = spawn(program, args, { stdio });
      this.#child = child;
      let failed: Error | null = null;
      let lastStderr = '';
      let resolveExit!: () => void;
      this.#exited = new Promise<void>((r) => (resolveExit = r));
      log?.info({ program, pid: child.pid }, 'capture tool started');

      const out = child.stdio[outputFd] as Readable;
      out.on('data', (chunk: Buffer) => {
        if (failed !== null) return;
        try {
          parser.push(chunk);
        } catch (err) {
          failed = new CaptureToolError(`${program} wrote an unreadable capture stream: ${(err as Error).message}`, { cause: err });
          child.kill('SIGTERM');
        }
      });
      out.on('error', () => undefined);

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
