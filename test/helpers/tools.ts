/**
 * Helpers for tests that need a system tool (Mosquitto, tcpdump, tshark, Chromium) or a free TCP port.
 *
 * `requireTool(name, debianPackage)`: true when the tool is on this machine. When it is absent, it throws under
 * CI=true (a missing tool must fail CI) and otherwise prints why and returns false, so the test can skip:
 *
 *   const hasMosquitto = requireTool('mosquitto', 'mosquitto');
 *   it.skipIf(!hasMosquitto)('...', async () => { ... });
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Directories searched besides PATH: daemons such as mosquitto live in sbin, often not on a user's PATH. */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of an executable called `name`, or null when none is found. */
export function toolPath(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

const warned = new Set<string>();

/**
 * True when the tool `name` is installed. When it is not: throws under CI=true, otherwise writes one line
 * naming the Debian package to stderr and returns false.
 */
export function requireTool(name: string, debianPackage: string): boolean {
  if (toolPath(name) !== null) return true;
  const message = `${name} is not installed: install the Debian package "${debianPackage}" (apt-get install ${debianPackage}) to run this test`;
  if (process.env.CI === 'true') throw new Error(`${message} (required under CI=true)`);
  if (!warned.has(name)) {
    warned.add(name);
    process.stderr.write(`skipping: ${message}\n`);
  }
  return false;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for programs, such as Mosquitto, that cannot take port 0). */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
