/**
 * Runs `passant-sensor` (the real bin, through tsx) as a child process for tests, with a clean environment
 * (only PATH and HOME from the parent, plus what the test gives), and collects its stdout and stderr.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SENSOR_BIN = fileURLToPath(new URL('../../bin/passant-sensor.js', import.meta.url));

export interface AgentProcess {
  child: ChildProcessWithoutNullStreams;
  /** Raw bytes written to stdout and stderr so far. */
  stdout(): Buffer;
  stderr(): Buffer;
  /** stdout parsed as JSON lines (lines that are not JSON are skipped). */
  logLines(): Record<string, unknown>[];
  /** Resolves with the first log line matching `pred`, or rejects after `timeoutMs`. */
  waitForLog(pred: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** Sends a signal and waits for the exit (SIGKILL after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

export function spawnSensor(args: string[], env: Record<string, string>): AgentProcess {
  const child = spawn(process.execPath, [SENSOR_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  const logLines = (): Record<string, unknown>[] => {
    const lines: Record<string, unknown>[] = [];
    for (const line of Buffer.concat(out).toString('utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a partial last line
      }
    }
    return lines;
  };
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    child,
    stdout: () => Buffer.concat(out),
    stderr: () => Buffer.concat(err),
    logLines,
    exited,
    async waitForLog(pred, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = logLines().find(pred);
        if (hit !== undefined) return hit;
        if (done) throw new Error(`passant-sensor exited before the expected log line; stderr: ${Buffer.concat(err).toString('utf8').slice(-2000)}`);
        if (Date.now() > deadline) throw new Error('timed out waiting for a log line from passant-sensor');
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (!done) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
