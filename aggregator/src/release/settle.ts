/**
 * When a fresh base cell may be released. Sensors of one zone report a minute in separate messages; if the
 * cell were released after each, the difference between two releases would be one sensor's count, possibly
 * below k. So a cell is released when every sensor of the zone has reported it, or `settleSeconds` after its
 * window ended (a sensor that never reports must not hold the zone back for ever).
 */
export interface SettleOptions {
  settleSeconds: number;
  windowSeconds: number;
}

/** The time (Unix seconds) at which the cell of `windowStart` is released even when sensors are missing. */
export function settleDeadline(windowStart: number, options: SettleOptions): number {
  return windowStart + options.windowSeconds + options.settleSeconds;
}
