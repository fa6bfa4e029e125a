/**
 * The release layer's jobs: the registry sync (sensors that joined a zone have their retained windows queued
 * again), retention (minute data older than the retention period are deleted), and starting and stopping the
 * background work, the settler's interval included. Syncs and retention runs take their turn in the settler's
 * queue (settler.ts), so they never run beside a settle pass.
 */
import type { Registry } from '../registry.ts';
import type { DeleteResult, ReleaseStore } from '../store/types.ts';
import { retentionCutoff, type ReleaseParams } from './params.ts';
import type { Settler } from './settler.ts';

const REGISTRY_META_KEY = 'release-registry';

export class ReleaseJobs {
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private started = false;

  constructor(
    private readonly store: ReleaseStore,
    private readonly registry: Registry,
    private readonly params: ReleaseParams,
    private readonly settler: Settler,
  ) {}

  /**
   * Starts the background jobs: registry sync (now and on every registry change), retention (now and every
   * retentionIntervalMs) and the settler's interval (every settleIntervalMs). Their failures are logged, never
   * thrown.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe = this.registry.onChange((change) => {
      if (!change.metadataOnly) void this.syncRegistry().catch((err: unknown) => this.warn('registry sync failed', err));
    });
    void this.syncRegistry().catch((err: unknown) => this.warn('registry sync failed', err));
    if (this.params.minuteDays !== undefined) {
      void this.applyRetention().catch((err: unknown) => this.warn('retention failed', err));
      const retention = setInterval(() => void this.applyRetention().catch((err: unknown) => this.warn('retention failed', err)), this.params.retentionIntervalMs);
      retention.unref();
      this.timers.push(retention);
    }
    this.settler.start();
  }

  /** Stops the background jobs and waits for the running one. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.settler.stop();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.started = false;
    await this.settler.idle();
  }

  private warn(what: string, err: unknown): void {
    this.params.logger?.warn({ err }, what);
  }

  /**
   * Brings the store in line with the registry: windows of sensors that joined a zone since the last sync (kept
   * in the store's meta) are queued again, so they settle into that zone wherever it has no frozen cell.
   */
  syncRegistry(): Promise<number> {
    return this.settler.serialized(async () => {
      const current = this.registry.sensorMap();
      const raw = await this.store.getMeta(REGISTRY_META_KEY);
      let previous: Record<string, string[]> = {};
      if (raw !== undefined) {
        try {
          previous = JSON.parse(raw) as Record<string, string[]>;
        } catch {
          previous = {};
        }
      }
      const joined = new Set<string>();
      for (const [zoneId, sensors] of Object.entries(current)) {
        const before = new Set(previous[zoneId] ?? []);
        for (const s of sensors) if (!before.has(s)) joined.add(s);
      }
      let queued = 0;
      if (joined.size > 0) {
        const stats = (await this.store.sensorStats()).filter((s) => joined.has(s.sensorId));
        if (stats.length > 0) {
          const first = Math.min(...stats.map((s) => s.firstWindowStart));
          const from = Math.max(first, retentionCutoff(this.params) ?? first);
          const to = Math.max(...stats.map((s) => s.lastWindowStart)) + this.params.windowSeconds;
          queued = await this.store.requeue([...joined], from, to);
        }
      }
      await this.store.setMeta(REGISTRY_META_KEY, JSON.stringify(current));
      if (queued > 0) this.params.logger?.info({ sensors: joined.size, windows: queued }, 'sensors joined zones: their retained windows are settled again');
      return queued;
    });
  }

  /** Deletes minute data older than the retention period (whole UTC days). Null when minute data are kept for ever. */
  applyRetention(): Promise<DeleteResult | null> {
    return this.settler.serialized(async () => {
      const cutoff = retentionCutoff(this.params);
      if (cutoff === null) return null;
      const result = await this.store.deleteMinutesBefore(cutoff);
      if (result.windows !== 0 || result.cells !== 0) this.params.logger?.info({ before: cutoff, ...result }, 'retention: minute data deleted');
      return result;
    });
  }
}
