/**
 * Groups store writes: messages submitted while a write is running, or within `maxDelayMs`, go into one
 * store call (one SQLite transaction), at most `maxSize` at a time. Writes run one after another, in order.
 * `submit` resolves with the message's result once it is stored, so the caller can acknowledge then; `add` does
 * the same with a callback (the ingest's path: no promise per message).
 */
import type { CountsMessage } from '@passant/shared';
import type { AggregatorMetrics } from '../metrics.ts';
import type { CountsStore, PutResult } from '../store/types.ts';

export interface WrittenMessage {
  message: CountsMessage;
  result: PutResult;
}

export interface BatchWriterOptions {
  maxSize: number;
  maxDelayMs: number;
  metrics: AggregatorMetrics;
  /** Now, Unix seconds (stored as received_at). */
  now?: () => number;
  /** Called after each successful write with its results (metrics, live updates). Must not throw. */
  onWritten?: (written: WrittenMessage[]) => void;
}

/** Called once a message's batch is written (`err` undefined) or failed. Must not throw. */
export type WrittenCallback = (err: unknown, result?: PutResult) => void;

interface Pending {
  message: CountsMessage;
  done: WrittenCallback;
}

export class BatchWriter {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly store: CountsStore,
    private readonly options: BatchWriterOptions,
  ) {}

  submit(message: CountsMessage): Promise<PutResult> {
    return new Promise<PutResult>((resolve, reject) => {
      this.add(message, (err, result) => (err === undefined ? resolve(result!) : reject(err)));
    });
  }

  add(message: CountsMessage, done: WrittenCallback): void {
    this.queue.push({ message, done });
    this.schedule();
  }

  /** Messages waiting for a write. */
  get pending(): number {
    return this.queue.length;
  }

  /** Writes everything submitted so far and waits for it (errors stay with the submitters). */
  async flush(): Promise<void> {
    this.clearTimer();
    while (this.writing || this.queue.length > 0) {
      if (this.writing) await this.writing;
      else this.writeNext();
    }
  }

  private schedule(): void {
    if (this.writing || this.timer) return;
    if (this.queue.length >= this.options.maxSize) {
      this.writeNext();
      return;
    }
    const run = () => {
      this.timer = undefined;
      if (!this.writing) this.writeNext();
    };
    this.timer = this.options.maxDelayMs > 0 ? setTimeout(run, this.options.maxDelayMs) : setImmediate(run);
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  private writeNext(): void {
    if (this.queue.length === 0) return;
    this.clearTimer();
    const batch = this.queue.splice(0, this.options.maxSize);
    const { metrics } = this.options;
    const started = performance.now();
    const receivedAt = Math.floor(this.options.now ? this.options.now() : Date.now() / 1000);
    this.writing = this.store
      .put(
        batch.map((p) => p.message),
        receivedAt,
      )
      .then(
        (results) => {
          metrics.storeWriteSeconds.observe((performance.now() - started) / 1000);
          metrics.storeBatchMessages.observe(batch.length);
          const written = batch.map((p, i) => ({ message: p.message, result: results[i] ?? 'stored' }));
          this.options.onWritten?.(written);
          for (let i = 0; i < batch.length; i++) batch[i]!.done(undefined, written[i]!.result);
        },
        (err: unknown) => {
          metrics.storeWriteErrors.inc({}, 1);
          for (const p of batch) p.done(err ?? new Error('store write failed'));
        },
      )
      .finally(() => {
        this.writing = undefined;
        if (this.queue.length > 0) this.schedule();
      });
  }
}
