/**
 * Logging: pino, JSON lines, one child logger per component (`component` field). Info for lifecycle and the
 * periodic stats line, debug for per-window detail (counts only).
 *
 * What never goes into a log: an address (any spelling), a keyed hash, a rejected payload, a password.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface CreateLoggerOptions {
  level?: LevelWithSilent;
  /** File descriptor to write to; default 1 (stdout). */
  fd?: number;
  /** Fields on every line (e.g. `{ sensorId }`). */
  base?: Record<string, unknown>;
}

/**
 * The agent's root logger. Writes synchronously: a sensor logs a few lines a minute, and a line must not be lost
 * when the process is killed right after it.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Defence in depth: the password never reaches a log line even if a config object is logged by mistake.
      redact: { paths: ['password', '*.password', '*.*.password', 'mqtt.password'], censor: '(redacted)' },
    },
    pino.destination({ dest: options.fd ?? 1, sync: true }),
  );
}

/** A logger that drops everything (library use without a logger). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
