/**
 * Sensor health, in memory: the last status each sensor published (retained, with the broker's last will)
 * and when its last counts arrived. Sensors appear in output only as health, never with their counts.
 */
import type { StatusMessage } from '@passant/shared';

export type SensorState = 'online' | 'offline' | 'unknown';

export interface SensorHealth {
  sensorId: string;
  /** From the last status message; 'unknown' when only counts were seen. */
  state: SensorState;
  /** Unix seconds of the last status message. */
  lastStatusAt: number | null;
  /** Unix seconds of the last valid counts message. */
  lastCountsAt: number | null;
  /** Valid counts messages since the aggregator started. */
  countsMessages: number;
  version: string | null;
  startedAt: number | null;
}

/** Sensors tracked at most; past it the one heard from least recently is forgotten. */
const MAX_SENSORS = 10_000;

export class SensorHealthTracker {
  private readonly sensors = new Map<string, SensorHealth>();

  private entry(sensorId: string): SensorHealth {
    let health = this.sensors.get(sensorId);
    if (health) {
      // Re-insert so that Map order is least recently heard first.
      this.sensors.delete(sensorId);
    } else {
      health = {
        sensorId,
        state: 'unknown',
        lastStatusAt: null,
        lastCountsAt: null,
        countsMessages: 0,
        version: null,
        startedAt: null,
      };
      if (this.sensors.size >= MAX_SENSORS) {
        const oldest = this.sensors.keys().next().value;
        if (oldest !== undefined) this.sensors.delete(oldest);
      }
    }
    this.sensors.set(sensorId, health);
    return health;
  }

  onStatus(sensorId: string, status: StatusMessage, now: number): void {
    const health = this.entry(sensorId);
    health.state = status.state;
    health.lastStatusAt = now;
    health.version = status.version ?? null;
    health.startedAt = status.startedAt ?? null;
  }

  /** An empty retained message cleared the sensor's status. */
  onStatusCleared(sensorId: string): void {
    const health = this.sensors.get(sensorId);
    if (health) health.state = 'unknown';
  }

  onCounts(sensorId: string, now: number): void {
    const health = this.entry(sensorId);
    health.lastCountsAt = now;
    health.countsMessages++;
  }

  get(sensorId: string): SensorHealth | undefined {
    const health = this.sensors.get(sensorId);
    return health ? { ...health } : undefined;
  }

  list(): SensorHealth[] {
    return [...this.sensors.values()].map((h) => ({ ...h })).sort((a, b) => a.sensorId.localeCompare(b.sensorId));
  }

  countByState(): Record<SensorState, number> {
    const out: Record<SensorState, number> = { online: 0, offline: 0, unknown: 0 };
    for (const h of this.sensors.values()) out[h.state]++;
    return out;
  }
}
