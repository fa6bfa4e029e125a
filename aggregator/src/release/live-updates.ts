/**
 * Live updates: after each store write, the zone-minutes it touched are recomputed through the release layer
 * and emitted as 'cell' events once settled (Server-Sent Events carry them to the dashboard). Cells still
 * waiting for sensors are kept in a bounded map and swept when their settle time has passed.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from '../registry.ts';
import type { ReleaseLayer, ReleasedCell } from './release-layer.ts';
import { settleDeadline } from './settle.ts';

export interface LiveUpdatesOptions {
  logger: Logger;
  now?: () => number;
  /** Most zone-minutes waiting to settle; past it the oldest is dropped (and counted). */
  maxPending?: number;
  sweepIntervalMs?: number;
}

interface Events {
  cell: [ReleasedCell];
}

export class LiveUpdates extends EventEmitter<Events> {
  /** Zone-minutes waiting to settle: key `zoneId@windowStart` -> settle deadline (Unix seconds). */
  private readonly pending = new Map<string, { zoneId: string; windowStart: number; deadline: number }>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly maxPending: number;
  private readonly sweepIntervalMs: number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private work: Promise<void> = Promise.resolve();
  droppedPending = 0;

  constructor(
    private readonly release: ReleaseLayer,
    private readonly registry: Registry,
    options: LiveUpdatesOptions,
  ) {
    super();
    this.logger = options.logger;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.maxPending = options.maxPending ?? 100_000;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 5000;
  }

  start(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => this.enqueue(() => this.sweep()), this.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.pending.clear();
    await this.work;
  }

  /** Tells that these windows were newly stored. Work is serialized and never throws to the caller. */
  notifyStored(items: readonly { sensorId: string; windowStart: number }[]): void {
    if (this.listenerCount('cell') === 0) return;
    const keys = new Map<string, { zoneId: string; windowStart: number }>();
    for (const item of items) {
      const zoneId = this.registry.zoneOf(item.sensorId);
      if (zoneId === undefined) continue;
      keys.set(`${zoneId}@${item.windowStart}`, { zoneId, windowStart: item.windowStart });
    }
    if (keys.size === 0) return;
    this.enqueue(async () => {
      for (const [key, cell] of keys) await this.check(key, cell.zoneId, cell.windowStart);
    });
  }

  /** Resolves when the work queued so far is done (tests). */
  idle(): Promise<void> {
    return this.work;
  }

  private enqueue(task: () => Promise<void>): void {
    this.work = this.work.then(task).catch((err: unknown) => {
      this.logger.warn({ err: (err as Error).message }, 'live update failed');
    });
  }

  private async check(key: string, zoneId: string, windowStart: number): Promise<void> {
    const result = await this.release.cells(zoneId, windowStart);
    if (result === 'empty') return;
    if (result === 'pending') {
      if (!this.pending.has(key)) {
        if (this.pending.size >= this.maxPending) {
          const oldest = this.pending.keys().next().value;
          if (oldest !== undefined) this.pending.delete(oldest);
          this.droppedPending++;
        }
        const deadline = settleDeadline(windowStart, this.release);
        this.pending.set(key, { zoneId, windowStart, deadline });
      }
      return;
    }
    this.pending.delete(key);
    for (const cell of result) this.emit('cell', cell);
  }

  private async sweep(): Promise<void> {
    if (this.listenerCount('cell') === 0) {
      this.pending.clear();
      return;
    }
    const now = this.now();
    const due = [...this.pending].filter(([, p]) => p.deadline <= now);
    for (const [key, p] of due) await this.check(key, p.zoneId, p.windowStart);
  }
}
