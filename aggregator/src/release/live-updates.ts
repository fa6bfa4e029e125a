/**
 * Live updates: every zone-minute the release layer freezes is emitted once as 'cell' events (one per radio),
 * released through k (and noise, when configured); Server-Sent Events carry them to the dashboard. This module
 * settles nothing itself: it tells the release layer's settler that windows were stored (`notifyStored`, which
 * asks for a pass soon), and the settler's interval freezes cells whose settle time has passed.
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
}

interface Events {
  /** A newly released base cell as open data gets it (noisy when noise is on), and exact (for admin and owners). */
  cell: [open: ReleasedCell, exact: ReleasedCell];
}

export class LiveUpdates extends EventEmitter<Events> {
  private started = false;
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
    _options: LiveUpdatesOptions,
  ) {
    super();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.release.on('frozen', this.onFrozen);
  }

  async stop(): Promise<void> {
    this.started = false;
    this.release.off('frozen', this.onFrozen);
    await this.release.idle();
  }

  /** Tells that these windows were newly stored: the settler runs a pass soon. Never throws to the caller. */
  notifyStored(items: readonly { sensorId: string; windowStart: number }[]): void {
    if (items.some((item) => this.registry.zoneOf(item.sensorId) !== undefined)) this.release.notifyStored();
  }

  /** Resolves when the work queued so far is done (tests). */
  async idle(): Promise<void> {
    await this.release.idle();
  }
}
