/**
 * Sensor health for admins and privacy officers: per sensor its zone, whether its retained status says it is
 * online, when its last message came, and how many minutes of the last hour and day have no message. Never a
 * count: the store is read here only through `windowKeys` (which windows exist) and `sensorStats` (activity), whose
 * types cannot carry one.
 */
import type { SensorHealthTracker } from '../ingest/sensor-health.ts';
import { endOfActiveDay } from '../ingest/sensor-expiry.ts';
import type { ReleaseStore, SensorStats } from '../store/types.ts';

export interface SensorHealthRow {
  sensorId: string;
  zoneId: string;
  state: 'online' | 'offline' | 'unknown';
  online: boolean | null;
  lastMessageAt: number | null;
  lastWindowStart: number | null;
  messagesLastHour: number;
  missingLastHour: number;
  missingLastDay: number;
  version: string | null;
  activeUntil: string | null;
  ended: boolean;
}

export interface SensorHealthReport {
  asOf: number;
  windowSeconds: number;
  sensors: SensorHealthRow[];
}

export interface SensorHealthInput {
  /** The zone sensors: `[sensorId, zoneId]`. */
  sensors: readonly (readonly [string, string])[];
  health: SensorHealthTracker;
  store: Pick<ReleaseStore, 'windowKeys' | 'sensorStats'>;
  /** Now, Unix seconds. */
  now: number;
  windowSeconds: number;
  /** Sensor id -> its last active day (YYYY-MM-DD), for the sensors that have one. */
  activeUntil?: ReadonlyMap<string, string>;
}

/**
 * The report. The hour and day end a window before the current one (its message may still be on its way), so a
 * sensor that sends every window shows 0 missing.
 */
export async function sensorHealthReport(input: SensorHealthInput): Promise<SensorHealthReport> {
  const { windowSeconds } = input;
  const asOf = Math.floor(input.now / windowSeconds) * windowSeconds - windowSeconds;
  const dayFrom = asOf - 86_400;
  const hourFrom = asOf - 3600;
  const ids = input.sensors.map(([sensorId]) => sensorId);
  // Which windows of the last day each sensor has.
  const windows = new Map<string, { day: number; hour: number; last: number }>();
  for (const w of ids.length > 0 ? await input.store.windowKeys(ids, dayFrom, asOf) : []) {
    const entry = windows.get(w.sensorId) ?? { day: 0, hour: 0, last: w.windowStart };
    entry.day++;
    if (w.windowStart >= hourFrom) entry.hour++;
    entry.last = Math.max(entry.last, w.windowStart);
    windows.set(w.sensorId, entry);
  }
  const stats = new Map<string, SensorStats>();
  for (const s of await input.store.sensorStats()) stats.set(s.sensorId, s);
  const sensors: SensorHealthRow[] = input.sensors.map(([sensorId, zoneId]) => {
    const w = windows.get(sensorId);
    const health = input.health.get(sensorId);
    const state = health?.state ?? 'unknown';
    const lastReceived = Math.max(health?.lastCountsAt ?? -1, stats.get(sensorId)?.lastReceivedAt ?? -1);
    return {
      sensorId,
      zoneId,
      state,
      online: state === 'unknown' ? null : state === 'online',
      lastMessageAt: lastReceived >= 0 ? lastReceived : null,
      lastWindowStart: w?.last ?? null,
      messagesLastHour: w?.hour ?? 0,
      missingLastHour: Math.max(0, 3600 / windowSeconds - (w?.hour ?? 0)),
      missingLastDay: Math.max(0, 86_400 / windowSeconds - (w?.day ?? 0)),
      version: health?.version ?? null,
      activeUntil: input.activeUntil?.get(sensorId) ?? null,
      ended: input.activeUntil?.has(sensorId) === true && input.now >= endOfActiveDay(input.activeUntil.get(sensorId)!),
    };
  });
  return { asOf, windowSeconds, sensors };
}
