/**
 * Starts a real Mosquitto for a test: its own config, password file, ACL and (optionally) TLS material in a fresh
 * temp dir, on free loopback ports. Check for the binary first:
 *
 *   const hasMosquitto = requireTool('mosquitto', 'mosquitto');
 *   it.skipIf(!hasMosquitto)('...', async () => {
 *     const broker = await startMosquitto({ passwords: { 's-001': 'pw' }, acl: 'pattern write passant/sensors/%u/counts' });
 *     try { ... mqtt.connectAsync(broker.url, { username: 's-001', password: 'pw' }) ... } finally { await broker.stop(); }
 *   });
 *
 * Stable API (other tests depend on it):
 * - `startMosquitto(options)` resolves once every listener accepts TCP connections.
 *   - `config`: extra mosquitto.conf lines, appended to the generated config.
 *   - `tls`: also a TLS listener (127.0.0.1), with a CA and a server certificate for localhost/127.0.0.1 made by
 *     deploy/mosquitto/make-certs.sh (needs openssl). `caFile` is what a client must trust.
 *   - `passwords`: logins (user name -> password), hashed with mosquitto_passwd. With any login given, anonymous
 *     clients are refused; without, they are allowed.
 *   - `acl`: the text of an acl_file.
 *   - `persistence`: `persistence true` in `<dir>/data/` (default false).
 *   - `configFile(files)`: the whole config text instead of the generated one (for tests of a given config, such
 *     as the production one); it receives the ports and file paths. `config` lines are still appended.
 *   A `user root` line is added when the config has none, so that Mosquitto started as root reads the temp files.
 * - The broker: `port`/`url` (plain MQTT), `tlsPort`/`tlsUrl`/`caFile` (with `tls`), `dir` (the temp dir),
 *   `log()` (everything Mosquitto logged so far), `restart()` (SIGTERM, wait, start again on the same ports with
 *   the same files: retained messages and sessions survive only with persistence), `stop()` (SIGTERM, wait for
 *   the exit, then remove the temp dir; `log()` still answers afterwards). Both are safe to call twice.
 *   For an outage of some length: `stop({ keepDir: true })` (SIGTERM, wait, the files stay; `signal: 'SIGKILL'` for
 *   a crash), later `start()`
 *   (again on the same ports with the same files; does nothing while it runs). `stop()` still removes the dir.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, toolPath } from './tools.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The certificate script of the production setup; the tests use the same procedure as an operator. */
export const MAKE_CERTS_SCRIPT = path.join(REPO_ROOT, 'deploy/mosquitto/make-certs.sh');

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const START_ATTEMPTS = 3;
/** Mosquitto's log (log_dest file) and what it wrote to stdout/stderr (start-up errors), in the temp dir. */
const LOG_FILE = 'mosquitto.log';
const OUTPUT_FILE = 'mosquitto.out';

export interface StartMosquittoOptions {
  /** Extra mosquitto.conf lines appended to the config. */
  config?: string;
  /** Also open a TLS listener with a fresh CA and server certificate (localhost, 127.0.0.1). */
  tls?: boolean;
  /** Logins: user name -> password. When any is given, anonymous clients are refused. */
  passwords?: Record<string, string>;
  /** Content of the acl_file. */
  acl?: string;
  /** Keep sessions and retained messages on disk in `<dir>/data/` (default false). */
  persistence?: boolean;
  /** The complete config text, instead of the generated one. */
  configFile?: (files: MosquittoFiles) => string;
}

/** Ports and paths of one test broker, handed to `configFile`. */
export interface MosquittoFiles {
  dir: string;
  port: number;
  tlsPort?: number;
  /** Set when `passwords` was given. */
  passwordFile?: string;
  /** Set when `acl` was given. */
  aclFile?: string;
  /** Set with `tls`: the directory with ca.crt, server.crt, server.key. */
  certsDir?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** `<dir>/data/`, created; used for persistence. */
  dataDir: string;
}

export interface MosquittoBroker {
  port: number;
  /** `mqtt://127.0.0.1:<port>` */
  url: string;
  tlsPort?: number;
  /** `mqtts://127.0.0.1:<tlsPort>` */
  tlsUrl?: string;
  /** The CA certificate (PEM file) that signed the server certificate. */
  caFile?: string;
  /** The temp dir with the config, logins, ACL, certificates and data. */
  dir: string;
  /** Path of the config file Mosquitto runs with. */
  configPath: string;
  /** Everything Mosquitto has logged so far (all starts). */
  log(): string;
  /** Stops (SIGTERM) and starts again on the same ports with the same files. */
  restart(): Promise<void>;
  /** Starts it again after `stop({ keepDir: true })`, on the same ports with the same files; nothing while it runs. */
  start(): Promise<void>;
  /**
   * Stops (SIGTERM, wait) and removes the temp dir; with `keepDir`, the files stay for `start()`. `signal: 'SIGKILL'`
   * kills it instead, as a crash would (no persistence saved at exit).
   */
  stop(options?: { keepDir?: boolean; signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
}

export async function startMosquitto(options: StartMosquittoOptions = {}): Promise<MosquittoBroker> {
  const binary = toolPath('mosquitto');
  if (binary === null) throw new Error('mosquitto is not installed (Debian package "mosquitto"); check with requireTool first');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-mosquitto-'));
  try {
    const files = prepareFiles(dir, options);
    const logFile = path.join(dir, LOG_FILE);
    const outputFile = path.join(dir, OUTPUT_FILE);
    const readLog = () => readText(logFile) + readText(outputFile);
    const configPath = path.join(dir, 'mosquitto.conf');

    let child: ChildProcess | undefined;
    let lastError: unknown;
    for (let attempt = 1; attempt <= START_ATTEMPTS && child === undefined; attempt++) {
      files.port = await freePort();
      if (options.tls) files.tlsPort = await freePort();
      fs.writeFileSync(configPath, renderConfig(files, options));
      try {
        child = await launch(binary, configPath, outputFile, readLog, portsOf(files));
      } catch (err) {
        lastError = err;
        // Another process may have taken a port between freePort() and Mosquitto's bind: try new ports.
        if (!readLog().includes('Address already in use')) break;
      }
    }
    if (child === undefined) throw lastError;

    let running: ChildProcess | undefined = child;
    let removed = false;
    let finalLog = '';
    const broker: MosquittoBroker = {
      port: files.port,
      url: `mqtt://127.0.0.1:${files.port}`,
      dir,
      configPath,
      log: () => (removed ? finalLog : readLog()),
      async restart() {
        await broker.stop({ keepDir: true });
        await broker.start();
      },
      async start() {
        if (removed) throw new Error('this Mosquitto was stopped and its files removed; start a new one');
        if (running) return;
        running = await launch(binary, configPath, outputFile, readLog, portsOf(files));
      },
      async stop(options = {}) {
        if (running) await terminate(running, options.signal);
        running = undefined;
        if (!options.keepDir && !removed) {
          finalLog = readLog();
          removed = true;
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    };
    if (files.tlsPort !== undefined) {
      broker.tlsPort = files.tlsPort;
      broker.tlsUrl = `mqtts://127.0.0.1:${files.tlsPort}`;
      broker.caFile = files.caFile;
    }
    return broker;
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Makes a CA and a server certificate for `hosts` in `outDir` with deploy/mosquitto/make-certs.sh; returns the
 * paths. Useful for a second, untrusted CA as well.
 */
export function makeCertificates(
  outDir: string,
  hosts: string[] = ['localhost', '127.0.0.1'],
): { caFile: string; caKeyFile: string; certFile: string; keyFile: string } {
  if (toolPath('openssl') === null) throw new Error('openssl is not installed (Debian package "openssl")');
  execFileSync('bash', [MAKE_CERTS_SCRIPT, outDir, ...hosts], { stdio: 'pipe' });
  return {
    caFile: path.join(outDir, 'ca.crt'),
    caKeyFile: path.join(outDir, 'ca.key'),
    certFile: path.join(outDir, 'server.crt'),
    keyFile: path.join(outDir, 'server.key'),
  };
}

/** Writes a Mosquitto password file with hashed passwords (mosquitto_passwd -U, one process for all logins). */
export function writePasswordFile(file: string, passwords: Record<string, string>): void {
  const lines = Object.entries(passwords).map(([user, password]) => {
    if (/[:\n]/.test(user) || password.includes('\n')) throw new Error(`login ${JSON.stringify(user)}: no ':' or newline allowed`);
    return `${user}:${password}\n`;
  });
  fs.writeFileSync(file, lines.join(''), { mode: 0o640 });
  const passwd = toolPath('mosquitto_passwd');
  if (passwd === null) throw new Error('mosquitto_passwd is not installed (Debian package "mosquitto")');
  execFileSync(passwd, ['-U', file], { stdio: 'pipe' });
}

function prepareFiles(dir: string, options: StartMosquittoOptions): MosquittoFiles {
  const dataDir = path.join(dir, 'data') + path.sep;
  fs.mkdirSync(dataDir);
  const files: MosquittoFiles = { dir, port: 0, dataDir };
  if (options.passwords !== undefined) {
    files.passwordFile = path.join(dir, 'passwd');
    writePasswordFile(files.passwordFile, options.passwords);
  }
  if (options.acl !== undefined) {
    files.aclFile = path.join(dir, 'acl');
    fs.writeFileSync(files.aclFile, options.acl.endsWith('\n') ? options.acl : `${options.acl}\n`);
  }
  if (options.tls) {
    files.certsDir = path.join(dir, 'certs');
    const certs = makeCertificates(files.certsDir);
    files.caFile = certs.caFile;
    files.certFile = certs.certFile;
    files.keyFile = certs.keyFile;
  }
  return files;
}

function renderConfig(files: MosquittoFiles, options: StartMosquittoOptions): string {
  let text: string;
  if (options.configFile) {
    text = options.configFile(files);
  } else {
    const lines = [
      'per_listener_settings false',
      `allow_anonymous ${files.passwordFile === undefined ? 'true' : 'false'}`,
      ...(files.passwordFile ? [`password_file ${files.passwordFile}`] : []),
      ...(files.aclFile ? [`acl_file ${files.aclFile}`] : []),
      options.persistence ? 'persistence true' : 'persistence false',
      ...(options.persistence ? [`persistence_location ${files.dataDir}`] : []),
      'log_dest stdout',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      `listener ${files.port} 127.0.0.1`,
    ];
    if (files.tlsPort !== undefined) {
      lines.push(
        `listener ${files.tlsPort} 127.0.0.1`,
        `cafile ${files.caFile}`,
        `certfile ${files.certFile}`,
        `keyfile ${files.keyFile}`,
        'tls_version tlsv1.2',
      );
    }
    text = `${lines.join('\n')}\n`;
  }
  // Started as root, Mosquitto switches to the user `mosquitto`, which cannot read a root-owned temp dir.
  if (!/^\s*user\s+\S+/m.test(text)) text = `user root\n${text}`;
  // Mosquitto does not flush its stdout when that is not a terminal; a log file is written line by line, so
  // log() shows what has happened so far.
  text += `\n# added by test/helpers/mosquitto.ts\nlog_dest file ${path.join(files.dir, LOG_FILE)}\n`;
  if (options.config) text += `\n${options.config}\n`;
  return text;
}

function portsOf(files: MosquittoFiles): number[] {
  return files.tlsPort === undefined ? [files.port] : [files.port, files.tlsPort];
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Spawns Mosquitto (stdout and stderr to `outputFile`) and resolves when every port accepts a TCP connection. */
async function launch(
  binary: string,
  configPath: string,
  outputFile: string,
  readLog: () => string,
  ports: number[],
): Promise<ChildProcess> {
  const fd = fs.openSync(outputFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(binary, ['-c', configPath], { stdio: ['ignore', fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  child.once('error', (err) => {
    exited = `could not start: ${err.message}`;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (const port of ports) {
    for (;;) {
      if (exited !== null) {
        throw new Error(`mosquitto ${exited}; its log:\n${readLog().slice(-2000)}`);
      }
      if (await canConnect(port)) break;
      if (Date.now() > deadline) {
        await terminate(child);
        throw new Error(`mosquitto did not accept connections on port ${port} within ${READY_TIMEOUT_MS} ms; its log:\n${readLog().slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return child;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** SIGTERM, then wait for the exit; SIGKILL if it has not exited after STOP_TIMEOUT_MS. */
async function terminate(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}
