/**
 * Live Wi-Fi source: probe requests from a monitor-mode interface, read through
 * `tcpdump -i IFACE -U -w - 'type mgt subtype probe-req'` as a pcap stream on stdout. The command can be replaced
 * (e.g. `tcpdump -r FILE -w -` in tests, or tshark). Optional channel hopping runs `iw dev IFACE set channel N`
 * on a timer, only when channels are configured.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../log.ts';
import type { DetectionSink, Source } from '../pipeline/types.ts';
import { SpawnedCapture, type SpawnedCaptureSummary } from './capture/spawned-capture.ts';

export interface LiveWifiOptions {
  /** Monitor-mode interface. */
  iface: string;
  /** Program, or program and arguments (then `args` is ignored); default tcpdump. */
  command?: string | readonly string[];
  /** Arguments for `command` when it is a program name. */
  args?: readonly string[];
  /** Channels to hop through; none = stay on the interface's channel. */
  channels?: readonly number[];
  /** Time on each channel; default 250 ms. */
  hopMs?: number;
  /** Program that sets the channel, called with `dev IFACE set channel N`; default `iw` (tests pass a recorder). */
  iwCommand?: string;
  logger?: Logger;
}

/** tcpdump's capture filter for probe requests. */
export const PROBE_REQUEST_FILTER = 'type mgt subtype probe-req';

export function defaultWifiCommand(iface: string): string[] {
  return ['tcpdump', '-i', iface, '-U', '-w', '-', PROBE_REQUEST_FILTER];
}

export class LiveWifiSource implements Source {
  readonly #opts: LiveWifiOptions;
  readonly #capture: SpawnedCapture;
  #hopTimer: NodeJS.Timeout | null = null;

  constructor(opts: LiveWifiOptions) {
    this.#opts = opts;
    const command =
      opts.command === undefined
        ? defaultWifiCommand(opts.iface)
        : typeof opts.command === 'string'
          ? [opts.command, ...(opts.args ?? [])]
          : [...opts.command];
    this.#capture = new SpawnedCapture({
      command,
      outputFd: 1,
      ...(command[0] === 'tcpdump' ? { debianPackage: 'tcpdump' } : {}),
      ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    });
  }

  async run(sink: DetectionSink): Promise<SpawnedCaptureSummary> {
    this.#startHopping();
    try {
      return await this.#capture.run(sink);
    } finally {
      this.#stopHopping();
    }
  }

  async close(): Promise<void> {
    this.#stopHopping();
    await this.#capture.close();
  }

  readPending(): void {
    this.#capture.readPending();
  }

  #startHopping(): void {
    const channels = this.#opts.channels ?? [];
    if (channels.length === 0) return;
    const log = this.#opts.logger;
    let i = 0;
    let failures = 0;
    this.#hopTimer = setInterval(() => {
      const channel = channels[i++ % channels.length]!;
      execFile(this.#opts.iwCommand ?? 'iw', ['dev', this.#opts.iface, 'set', 'channel', String(channel)], { timeout: 2000 }, (err) => {
        if (err === null) return;
        failures++;
        // Said once at warn level, then only at debug: a hop that fails every 250 ms must not flood the log.
        if (failures === 1) log?.warn({ iface: this.#opts.iface, channel, err }, 'channel hop failed');
        else log?.debug({ iface: this.#opts.iface, channel, failures }, 'channel hop failed');
      });
    }, this.#opts.hopMs ?? 250);
    this.#hopTimer.unref();
  }

  #stopHopping(): void {
    if (this.#hopTimer !== null) clearInterval(this.#hopTimer);
    this.#hopTimer = null;
  }
}
