/**
 * Runs the aggregator as a child process (`node aggregator/bin/passant-aggregator.js`, configured only through
 * PASSANT_* environment variables, as an operator would) and reads its /metrics.
 *
 *   const agg = await spawnAggregator({ id: 'agg-a', mqttUrl, dataDir, shareGroup: 'ingest' });
 *   const m = await agg.metrics(); // { stored, duplicate, rejected, storeWriteErrors, ... }
 *   agg.kill('SIGKILL');           // or: await agg.stop() (SIGTERM, wait; SIGKILL after a time limit)
 *
 * `spawnAggregator` resolves once the aggregator has subscribed: it watches the retained status topic
 * `passant/aggregators/<id>/status` and waits for a live (not retained) `online` message, which the aggregator
 * publishes after its subscription is granted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { topics } from '@passant/shared';
import { fetchMetrics, metricValue } from '@passant/test-helpers/metrics';
import { freePort } from '@passant/test-helpers/tools';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const AGGREGATOR_BIN = path.join(REPO_ROOT, 'aggregator/bin/passant-aggregator.js');

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 8_000;
const OUTPUT_LINES_KEPT = 200;

export interface SpawnAggregatorOptions {
  /** PASSANT_AGGREGATOR_ID; the MQTT client id is passant-aggregator-<id>. */
  id: string;
  mqttUrl: string;
  /** PASSANT_DATA_DIR: the SQLite store is passant.db in it. */
  dataDir: string;
  /** PASSANT_MQTT_SHARE_GROUP. */
  shareGroup?: string;
  /** HTTP port; a free one when absent. */
  httpPort?: number;
  /** PASSANT_LOG_LEVEL (default info). */
  logLevel?: string;
  /** More environment variables (they win over the ones set here). */
  env?: Record<string, string>;
  /** Script run with node instead of the aggregator's bin (it must read the same environment). */
  script?: string;
  /** Node options before the script, e.g. ['--import', 'tsx'] for a TypeScript script. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

/** The ingest figures of /metrics. */
export interface IngestMetrics {
  stored: number;
  duplicate: number;
  rejected: number;
  storeWriteErrors: number;
  mqttConnects: number;
  /** Store writes (transactions) and how many of them took at most 1 ms. */
  storeWrites: number;
  storeWritesWithin1Ms: number;
  /** Seconds spent in store writes. */
  storeWriteSeconds: number;
  /** Messages written by those writes (sum of the batch sizes). */
  storeBatchMessages: number;
}

export interface AggregatorProcess {
  id: string;
  pid: number;
  /** http://127.0.0.1:<port> */
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code or signal name when the process has ended. */
  exited: Promise<string>;
  /** The last lines the process wrote (stdout and stderr), for error messages. */
  output(): string;
  /** GET /metrics, parsed. */
  metrics(timeoutMs?: number): Promise<IngestMetrics>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM and wait (SIGKILL after a time limit). Safe to call twice and after a kill. */
  stop(): Promise<void>;
}

export function parseIngestMetrics(text: string): IngestMetrics {
  return {
    stored: metricValue(text, 'passant_ingest_messages_total', { result: 'stored' }),
    duplicate: metricValue(text, 'passant_ingest_messages_total', { result: 'duplicate' }),
    rejected: metricValue(text, 'passant_ingest_messages_total', { result: 'rejected' }),
    storeWriteErrors: metricValue(text, 'passant_store_write_errors_total'),
    mqttConnects: metricValue(text, 'passant_mqtt_connects_total'),
    storeWrites: metricValue(text, 'passant_store_write_seconds_count'),
    storeWritesWithin1Ms: metricValue(text, 'passant_store_write_seconds_bucket', { le: '0.001' }),
    storeWriteSeconds: metricValue(text, 'passant_store_write_seconds_sum'),
    storeBatchMessages: metricValue(text, 'passant_store_batch_messages_sum'),
  };
}

/** The child's environment: the parent's without any PASSANT_* variable, plus `vars`. */
function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PASSANT_')) env[key] = value;
  return { ...env, ...vars };
}

/** Resolves when a live `online` status of aggregator `id` arrives; subscribe before the aggregator starts. */
async function watchOnline(mqttUrl: string, id: string): Promise<{ online: Promise<void>; close: () => Promise<void> }> {
  const client = await mqtt.connectAsync(mqttUrl, { clientId: `watch-${id}-${process.pid}-${Date.now() % 100_000}`, clean: true, reconnectPeriod: 0 });
  const topic = topics.aggregatorStatus(id);
  let resolveOnline!: () => void;
  const online = new Promise<void>((resolve) => (resolveOnline = resolve));
  client.on('message', (t, payload, packet) => {
    if (t !== topic || packet.retain) return;
    try {
      if ((JSON.parse(payload.toString('utf8')) as { state?: string }).state === 'online') resolveOnline();
    } catch {
      // not a status message: ignore
    }
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return { online, close: () => client.endAsync(true) };
}

export async function spawnAggregator(options: SpawnAggregatorOptions): Promise<AggregatorProcess> {
  const httpPort = options.httpPort ?? (await freePort());
  const vars: Record<string, string> = {
    PASSANT_AGGREGATOR_ID: options.id,
    PASSANT_MQTT_URL: options.mqttUrl,
    PASSANT_DATA_DIR: options.dataDir,
    PASSANT_HTTP_PORT: String(httpPort),
    PASSANT_HTTP_HOST: '127.0.0.1',
    PASSANT_LOG_LEVEL: options.logLevel ?? 'info',
    PASSANT_LOG_STATS_INTERVAL_SECONDS: '0',
    PASSANT_MQTT_RECONNECT_PERIOD_MS: '250',
    PASSANT_AGGREGATOR_SHUTDOWN_STEP_TIMEOUT_MS: '2000',
    // Benchmarks and tests read /metrics without a token.
    PASSANT_AUTH_PUBLIC_METRICS: 'true',
    ...(options.shareGroup !== undefined ? { PASSANT_MQTT_SHARE_GROUP: options.shareGroup } : {}),
    ...options.env,
  };
  const watcher = await watchOnline(options.mqttUrl, options.id);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      lines.push(line);
      if (lines.length > OUTPUT_LINES_KEPT) lines.shift();
    }
  };
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script ?? AGGREGATOR_BIN], {
    cwd: REPO_ROOT,
    env: childEnv(vars),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`));
    child.once('error', (err) => resolve(`spawn error: ${err.message}`));
  });
  const output = () => lines.join('\n');
  const url = `http://127.0.0.1:${httpPort}`;

  const proc: AggregatorProcess = {
    id: options.id,
    pid: child.pid ?? -1,
    url,
    child,
    exited,
    output,
    async metrics(timeoutMs = 5000) {
      return parseIngestMetrics(await fetchMetrics(url, timeoutMs));
    },
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };

  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await Promise.race([
      watcher.online.then(() => 'online'),
      exited.then((how) => `exited (${how})`),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`not online within ${readyTimeoutMs} ms`), readyTimeoutMs);
      }),
    ]);
    if (outcome !== 'online') {
      await proc.stop();
      throw new Error(`aggregator ${options.id} ${outcome}; its output:\n${output().slice(-3000)}`);
    }
  } finally {
    clearTimeout(timer);
    await watcher.close();
  }
  return proc;
}
