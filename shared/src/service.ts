/**
 * One lifecycle for the parts of a program. A part that runs (a store, a subscription, a timer, a server) is added
 * to `Services` as soon as it runs, with how to stop it. `stop()` stops every part, the last added first, each with
 * a time limit; a part that fails or takes too long is reported (`onStopFailed`) and the others still stop. A
 * program starts its parts inside `services.starting(...)`: when a later part fails to start, the parts already
 * running are stopped before the error goes on, so no failed start leaves a database open or a timer running.
 */
import { withTimeout } from './timeout.ts';

export interface Service {
  /** What stopping it does, for the log: `close the store`, `end MQTT`. */
  readonly name: string;
  stop(): void | Promise<void>;
}

export interface ServicesOptions {
  /** Time limit of each part's stop. */
  timeoutMs: number;
  /** Called for a part that failed to stop or timed out (stopping goes on). */
  onStopFailed(name: string, err: unknown): void;
}

export class Services {
  private readonly running: Service[] = [];
  private readonly options: ServicesOptions;
  private stopping: Promise<void> | undefined;

  constructor(options: ServicesOptions) {
    this.options = options;
  }

  /** A part runs from now on: it is stopped with the others (before every part added earlier). */
  add(name: string, stop: () => void | Promise<void>): void {
    if (this.stopping !== undefined) throw new Error(`cannot add "${name}": the services are stopping`);
    this.running.push({ name, stop });
  }

  /** What is running, in the order it is stopped. */
  names(): string[] {
    return this.running.map((s) => s.name).reverse();
  }

  /** Runs `start`; if it throws, stops what it added (and what ran before) and throws its error. */
  async starting<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops every part, the last added first; resolves when all have stopped or given up. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      while (this.running.length > 0) {
        const part = this.running.pop()!;
        try {
          await withTimeout(Promise.resolve().then(() => part.stop()), this.options.timeoutMs, part.name);
        } catch (err) {
          this.options.onStopFailed(part.name, err);
        }
      }
    })();
    return this.stopping;
  }
}
