/**
 * A real Mosquitto broker for tests: started on a free port of 127.0.0.1 with its own config file in a temp
 * dir (anonymous access, `user root` so that it does not switch to the mosquitto user, persistence in the temp
 * dir so that sessions survive a restart). Needs the Debian package mosquitto (see requireTool).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, toolPath } from './tools.ts';

export interface Mosquitto {
  port: number;
  url: string;
  /** Starts (or restarts) the broker and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it (SIGTERM: Mosquitto saves its persistence file) and waits for the exit. */
  stop(): Promise<void>;
  /** What it wrote on stderr (its log). */
  log(): string;
}

export async function mosquitto(dir: string, opts: { persistence?: boolean } = {}): Promise<Mosquitto> {
  const bin = toolPath('mosquitto');
  if (bin === null) throw new Error('mosquitto is not installed (Debian package mosquitto)');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'user root',
      `persistence ${opts.persistence === false ? 'false' : 'true'}`,
      `persistence_location ${dir}/`,
      'autosave_interval 0',
      'max_queued_messages 100000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
    ].join('\n') + '\n',
  );
  let child: ChildProcess | null = null;
  let log = '';
  const accepting = async (timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      if (child === null || child.exitCode !== null) throw new Error(`mosquitto exited: ${log.slice(-1000)}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not start listening on ${port}: ${log.slice(-1000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async start() {
      if (child !== null) return;
      child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (b: Buffer) => {
        log += b.toString('utf8');
      });
      await accepting(10_000);
    },
    async stop() {
      const c = child;
      if (c === null) return;
      child = null;
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    log: () => log,
  };
}
