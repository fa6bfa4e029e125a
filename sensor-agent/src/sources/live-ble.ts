/**
 * Live BLE source: advertising reports from a BlueZ adapter, read through btmon writing a btsnoop stream
 * (`btmon -i hci0 -w /dev/fd/3`). btmon prints its decoded trace, addresses included, on stdout even while it
 * writes the btsnoop file, so the built-in command writes the capture to an extra pipe (descriptor 3) and its
 * stdout is discarded, never read or logged. A configured command writes the capture (pcap, pcapng or btsnoop)
 * to stdout unless `outputFd` says 3.
 *
 * The adapter must be scanning (e.g. `bluetoothctl scan on`, or passive scanning set up by the system) for
 * advertising reports to appear.
 */
import type { Logger } from '../log.ts';
import type { DetectionSink, Source } from '../pipeline/types.ts';
import { SpawnedCapture, type SpawnedCaptureSummary } from './capture/spawned-capture.ts';

export interface LiveBleOptions {
  /** BlueZ adapter, e.g. hci0. */
  adapter: string;
  /** Program, or program and arguments (then `args` is ignored); default btmon. */
  command?: string | readonly string[];
  args?: readonly string[];
  /** Where the command writes the capture; default 3 for the built-in btmon, 1 (stdout) for a configured command. */
  outputFd?: 1 | 3;
  logger?: Logger;
}

export function defaultBleCommand(adapter: string): string[] {
  return ['btmon', '-i', adapter, '-w', '/dev/fd/3'];
}

export class LiveBleSource implements Source {
  readonly #capture: SpawnedCapture;

  constructor(opts: LiveBleOptions) {
    const builtIn = opts.command === undefined;
    const command = builtIn
      ? defaultBleCommand(opts.adapter)
      : typeof opts.command === 'string'
        ? [opts.command, ...(opts.args ?? [])]
        : [...opts.command!];
    this.#capture = new SpawnedCapture({
      command,
      outputFd: opts.outputFd ?? (builtIn ? 3 : 1),
      ...(command[0] === 'btmon' ? { debianPackage: 'bluez' } : {}),
      ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    });
  }

  run(sink: DetectionSink): Promise<SpawnedCaptureSummary> {
    return this.#capture.run(sink);
  }

  close(): Promise<void> {
    return this.#capture.close();
  }

  readPending(): void {
    this.#capture.readPending();
  }
}
