/**
 * Sensors that expire: a sensor placed with `transparency.sensors[].activeUntil` (a date, the last day it may count)
 * may count up to the end of that day (UTC: the config has no time zone of its own yet); windows that end after it
 * are refused at the door as `sensor_expired` and stored nowhere. The public sensor register shows such a sensor as
 * ended; the sensor itself stops counting when its own config says so (`sensor.activeUntil`).
 */
const DAY = 86_400;

/** The end (exclusive, Unix seconds) of the last day `activeUntil` (YYYY-MM-DD) names. */
export function endOfActiveDay(activeUntil: string): number {
  return Date.parse(`${activeUntil}T00:00:00Z`) / 1000 + DAY;
}

/** Sensor id -> the end of its last active day, for the sensors that have one. */
export function sensorExpiries(placements: readonly { id: string; activeUntil?: string | undefined }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of placements) if (p.activeUntil !== undefined) out.set(p.id, endOfActiveDay(p.activeUntil));
  return out;
}
