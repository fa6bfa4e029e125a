/**
 * Live updates: every zone-minute the release layer freezes is emitted once as 'cell' events (one per radio),
 * released through k (and noise, when configured); Server-Sent Events carry them to the dashboard. After each
 * store write, and every `sweepIntervalMs` (cells whose settle time has passed), a settle pass runs.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from '../registry.ts';
import type { FrozenCell } from '../store/types.ts';
import type { ReleaseLayer, ReleasedCell } from './release-layer.ts';

export interface LiveUpdatesOptions {
  logger: Logger;
  /** Kept for compatibility; the release layer's clock decides when a cell has settled. */
  now?: () => number;
  sweepIntervalMs?: number;
}

interface Events {
  /** A newly released base cell as open data gets it (noisy when noise is on), and exact (for admin and owners). */
  cell: [open: ReleasedCell, exact: ReleasedCell];
}

export class LiveUpdates extends EventEmitter<Events> {
  private readonly logger: Logger;
  private readonly sweepIntervalMs: number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private work: Promise<void> = Promise.resolve();
  private readonly onFrozen = (cells: FrozenCell[]) => {
    if (this.listenerCount('cell') === 0) return;
    for (const cell of cells) {
      if (this.registry.zone(cell.zoneId) === undefined) continue;
      const exact = this.release.releasedCells(cell, { exact: true });
      this.release.releasedCells(cell).forEach((open, i) => this.emit('cell', open, exact[i]!));
    }
  };

  constructor(
    private readonly release: ReleaseLayer,
    private readonly registry: Registry,
    options: LiveUpdatesOptions,
  ) {
    super();
    this.logger = options.logger;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 5000;
  }

  start(): void {
    if (this.sweepTimer) return;
    this.release.on('frozen', this.onFrozen);
    this.sweepTimer = setInterval(() => this.enqueue(), this.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.release.off('frozen', this.onFrozen);
    await this.work;
  }

  /** Tells that these windows were newly stored: a settle pass follows. Never throws to the caller. */
  notifyStored(items: readonly { sensorId: string; windowStart: number }[]): void {
    if (items.some((item) => this.registry.zoneOf(item.sensorId) !== undefined)) this.enqueue();
  }

  /** Resolves when the work queued so far is done (tests). */
  async idle(): Promise<void> {
    await this.work;
    await this.release.idle();
  }

  private enqueue(): void {
    this.work = this.work
      .then(() => this.release.settle())
      .then(
        () => undefined,
        (err: unknown) => {
          this.logger.warn({ err: (err as Error).message }, 'live update failed');
        },
      );
  }
}
