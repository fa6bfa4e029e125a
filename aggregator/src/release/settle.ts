/**
 * When a fresh base cell may be released. Sensors of one zone report a minute in separate messages; if the
 * cell were released after each, the difference between two releases would be one sensor's count, possibly
 * below k. So a cell is released when every sensor of the zone has reported it, or `settleSeconds` after its
 * window ended (a sensor that never reports must not hold the zone back for ever).
 */
export interface SettleOptions {
  /** Number of sensors in the zone. */
  zoneSensors: number;
  /** Now, Unix seconds. */
  now: number;
  settleSeconds: number;
  windowSeconds: number;
}

export function isSettled(
  cell: { windowStart: number; sensorCount?: number | undefined },
  options: SettleOptions,
): boolean {
  if (cell.sensorCount !== undefined && cell.sensorCount >= options.zoneSensors) return true;
  return options.now >= settleDeadline(cell.windowStart, options);
}

/** The time (Unix seconds) at which the cell of `windowStart` is released even when sensors are missing. */
export function settleDeadline(windowStart: number, options: Pick<SettleOptions, 'settleSeconds' | 'windowSeconds'>): number {
  return windowStart + options.windowSeconds + options.settleSeconds;
}
