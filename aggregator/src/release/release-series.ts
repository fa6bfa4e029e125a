/**
 * The release rule, as pure functions. A base cell is (zone, window): the sum over the zone's sensors of
 * `devices` for one radio. A cell that does not pass the rule is suppressed: it is shown as suppressed, never as a
 * number. The release layer (release-layer.ts) freezes each decision once; a coarser bucket is the sum of the
 * released base cells in it plus the number of suppressed cells in it, so no combination of outputs gives back a
 * suppressed value.
 */

/** One sensor's part of a base cell for one radio: its devices, and its static baseline for the cell's hour. */
export interface CellPart {
  devices: number;
  /**
   * Devices the sensor always hears (static-baseline.ts); 0 when the baseline is turned off. Null while unknown
   * (a new sensor still learning): nothing of its devices can be shown to be moving, so its part counts 0.
   */
  baseline: number | null;
}

/**
 * How many devices beyond the static ones a cell certainly rests on: the largest over the zone's sensors of
 * (devices - baseline). Each sensor's moving devices are distinct devices, so the zone holds at least that many;
 * summing over the sensors instead would count a device that two sensors hear twice, and let two people pass
 * k = 4 in a zone of two sensors.
 */
export function movingDevices(parts: readonly CellPart[]): number {
  let best = 0;
  for (const p of parts) if (p.baseline !== null) best = Math.max(best, p.devices - p.baseline);
  return best;
}

/**
 * The release rule about people: a base cell is released when it certainly rests on at least k devices that are
 * not always there. Its released value is still the sum of the sensors' devices (static ones and devices heard
 * by two sensors included: the API says so); only the decision looks at moving devices.
 */
export function releasedByPeopleRule(parts: readonly CellPart[], k: number): boolean {
  return movingDevices(parts) >= k;
}
