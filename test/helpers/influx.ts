/**
 * Real time-series servers for store tests, each started by the test on free loopback ports with its own
 * config and temp dirs, and stopped (and its files removed) by the test:
 *
 * - `startInfluxd()`: InfluxDB 1.x (Debian package `influxdb`, binary `influxd`, 1.6.7 on Debian 12): the
 *   `/write` + `/query` API the store's `v1` mode speaks.
 * - `startVictoriaMetrics()`: Debian package `victoria-metrics`. It accepts the InfluxDB v2 write protocol
 *   (`/api/v2/write`) but has no InfluxQL, so it checks the store's v2 write path only; read back with
 *   `exportSeries()`.
 *
 *   const hasInfluxd = requireTool('influxd', 'influxdb');
 *   it.skipIf(!hasInfluxd)('...', async () => { const server = await startInfluxd(); try { ... } finally { await server.stop(); } });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, toolPath } from './tools.ts';

export interface TestServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** The server's temp dir (config, data); removed by `stop()`. */
  dir: string;
  /** Stops the process, restarts it on the same port and data: for "survives a server restart" tests. */
  restart(): Promise<void>;
  /** Stops the process (SIGTERM, then SIGKILL after a time limit) and removes its temp dir. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
/** Bounded number of attempts when a free port is taken between probing and binding. */
const START_ATTEMPTS = 3;

interface Launch {
  binary: string;
  args: string[];
  /** URL polled until it answers with a 2xx status. */
  readyUrl: string;
}

/** A child process plus the last lines it wrote, for error messages when it does not come up. */
class Child {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly proc: ChildProcess;

  constructor(launch: Launch) {
    this.proc = spawn(launch.binary, launch.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString('utf8'));
      if (this.output.length > 50) this.output.shift();
    };
    this.proc.stdout?.on('data', keep);
    this.proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code) => resolve(code));
      this.proc.once('error', (err) => {
        this.output.push(String(err));
        resolve(null);
      });
    });
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function waitReady(child: Child, url: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!child.running) break;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await child.stop();
  throw new Error(`server did not become ready at ${url} within ${START_TIMEOUT_MS} ms; its output:\n${child.output.join('').slice(-2000)}`);
}

async function startServer(name: string, prepare: (dir: string, port: number) => Promise<Launch>): Promise<TestServer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `passant-${name}-`));
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const launch = await prepare(dir, port);
    let child = new Child(launch);
    try {
      await waitReady(child, launch.readyUrl);
    } catch (err) {
      lastError = err;
      continue;
    }
    return {
      url: `http://127.0.0.1:${port}`,
      dir,
      async restart() {
        await child.stop();
        child = new Child(launch);
        await waitReady(child, launch.readyUrl);
      },
      async stop() {
        await child.stop();
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  }
  await fs.rm(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(`${name} did not start`);
}

function requirePath(binary: string, debianPackage: string): string {
  const found = toolPath(binary);
  if (found === null) throw new Error(`${binary} not found: install the Debian package "${debianPackage}"`);
  return found;
}

/**
 * Starts InfluxDB 1.x (`influxd run -config FILE`) on free loopback ports, with its meta, data and WAL dirs in a
 * temp dir and usage reporting off. Create a database with `influxQuery(url, 'CREATE DATABASE x')`. With
 * `auth: true` the server demands credentials; until the first user exists it takes `CREATE USER ... WITH ALL
 * PRIVILEGES` without them.
 */
export async function startInfluxd(options: { auth?: boolean } = {}): Promise<TestServer> {
  const binary = requirePath('influxd', 'influxdb');
  return startServer('influxd', async (dir, httpPort) => {
    const rpcPort = await freePort();
    const conf = path.join(dir, 'influxd.conf');
    const q = (p: string) => JSON.stringify(path.join(dir, p));
    await fs.writeFile(
      conf,
      [
        'reporting-disabled = true',
        `bind-address = "127.0.0.1:${rpcPort}"`,
        '[meta]',
        `  dir = ${q('meta')}`,
        '[data]',
        `  dir = ${q('data')}`,
        `  wal-dir = ${q('wal')}`,
        '  query-log-enabled = false',
        '[http]',
        `  bind-address = "127.0.0.1:${httpPort}"`,
        '  log-enabled = false',
        `  auth-enabled = ${options.auth === true}`,
        '[monitor]',
        '  store-enabled = false',
        '[continuous_queries]',
        '  enabled = false',
        '[logging]',
        '  level = "warn"',
        '',
      ].join('\n'),
    );
    return { binary, args: ['run', '-config', conf], readyUrl: `http://127.0.0.1:${httpPort}/ping` };
  });
}

/**
 * Starts VictoriaMetrics on a free loopback port with its storage in a temp dir; `args` are further flags (for
 * example `-promscrape.config=FILE` to scrape Prometheus targets).
 */
export async function startVictoriaMetrics(options: { args?: readonly string[] } = {}): Promise<TestServer> {
  const binary = requirePath('victoria-metrics', 'victoria-metrics');
  return startServer('victoria-metrics', async (dir, port) => ({
    binary,
    args: [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${path.join(dir, 'data')}`,
      '-loggerLevel=ERROR',
      // samples written moments ago are otherwise hidden from queries for 30 s
      '-search.latencyOffset=0s',
      ...(options.args ?? []),
    ],
    readyUrl: `http://127.0.0.1:${port}/health`,
  }));
}

/** One InfluxQL answer (`/query`, one statement). */
export interface InfluxQlAnswer {
  results: {
    error?: string;
    series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
  }[];
}

/** Runs InfluxQL on an InfluxDB 1.x server (`POST /query`, times in seconds); throws on an HTTP or statement error. */
export async function influxQuery(
  url: string,
  query: string,
  options: { database?: string; username?: string; password?: string } = {},
): Promise<InfluxQlAnswer> {
  const params = new URLSearchParams({ epoch: 's' });
  if (options.database !== undefined) params.set('db', options.database);
  if (options.username !== undefined) params.set('u', options.username);
  if (options.password !== undefined) params.set('p', options.password);
  const res = await fetch(`${url}/query?${params}`, {
    method: 'POST',
    body: new URLSearchParams({ q: query }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { error?: string; results?: { error?: string }[] };
  const error = body.error ?? body.results?.find((r) => r.error !== undefined)?.error;
  if (!res.ok || error !== undefined) throw new Error(`InfluxQL ${JSON.stringify(query)} failed (HTTP ${res.status}): ${error}`);
  return body as InfluxQlAnswer;
}

/** One series from VictoriaMetrics' `/api/v1/export` (JSON lines). */
export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  /** Milliseconds. */
  timestamps: number[];
}

/** Makes everything VictoriaMetrics received searchable, then exports the series matching `match` (a series selector). */
export async function exportSeries(url: string, match: string): Promise<ExportedSeries[]> {
  const flush = await fetch(`${url}/internal/force_flush`, { signal: AbortSignal.timeout(10_000) });
  await flush.arrayBuffer();
  if (!flush.ok) throw new Error(`force_flush failed: HTTP ${flush.status}`);
  const res = await fetch(`${url}/api/v1/export`, {
    method: 'POST',
    body: new URLSearchParams({ 'match[]': match }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`export failed: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ExportedSeries);
}
