/**
 * The whole counting pipeline in one process, for `npm start` and for the tests that need a running stack:
 * an embedded MQTT broker (aedes), the aggregator on SQLite, one simulated sensor for every sensor named in the
 * aggregator's zones, and the dashboard served by the aggregator.
 *
 * The simulated sensors first backfill past hours from their model (so charts fill at any hour: a quiet night
 * alone would be all suppressed), then run in real time. Everything goes through the real parts: simulated
 * detections -> keyed hash per window -> counts over MQTT -> strict ingest -> SQLite -> release layer -> HTTP.
 */
import net from 'node:net';
import path from 'node:path';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { parseTopic, parseStoredTopic, TOPIC_BASE } from '@passant/shared';
import { createLogger as createAggregatorLogger, loadConfig, startAggregator, type AggregatorConfig, type RunningAggregator } from '@passant/aggregator';
import { createLogger as createSensorLogger, startAgent, type Agent } from '@passant/sensor-agent';

export interface DemoOptions {
  /** Folder for the SQLite store and the sensors' outboxes. */
  dataDir: string;
  /** Aggregator config file (zones, sites, k); the demo's own when absent. */
  configFile?: string;
  /** Config values on top of the file (tests: k, zones...). */
  overrides?: Record<string, unknown>;
  /** HTTP port of the aggregator and dashboard; 0 picks a free one. */
  httpPort: number;
  /** External broker; when absent an embedded aedes broker is started on `brokerPort`. */
  mqttUrl?: string;
  /** Port of the embedded broker; when taken, a free one is used instead (and said). 0 picks a free one. */
  brokerPort?: number;
  /** Hours of history the simulated sensors backfill at start. */
  backfillHours: number;
  /** Simulated people at the busiest moment, per sensor (cycled). */
  scales?: number[];
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Environment the aggregator's config reads (PASSANT_*); default: none, so tests are not affected by the shell. */
  env?: NodeJS.ProcessEnv;
  /** Runs once the broker and the aggregator are up, before any sensor starts (tests subscribe a recorder here). */
  beforeSensors?: (mqttUrl: string) => Promise<void>;
  /** false: no simulated sensor starts (the zones still name theirs; a test publishes, or starts them with startDemoSensor). */
  simulatedSensors?: boolean;
  /** A sensor's broker login (and CA file, for TLS), for a broker that asks for one. */
  sensorMqtt?: (sensorId: string) => DemoSensorMqtt;
  /** Called with a line of progress for a person watching the terminal. */
  progress?: (line: string) => void;
}

export interface Demo {
  url: string;
  mqttUrl: string;
  config: AggregatorConfig;
  aggregator: RunningAggregator;
  agents: Agent[];
  /** Stops everything in order: sensors, aggregator, broker. Never rejects. */
  close(): Promise<void>;
}

/** A simulated sensor's broker login. */
export interface DemoSensorMqtt {
  username?: string;
  password?: string;
  caFile?: string;
}

export interface DemoSensorOptions {
  sensorId: string;
  mqttUrl: string;
  /** Its outbox is kept under <dataDir>/sensors/<sensorId>/. */
  dataDir: string;
  /** Simulated people at the busiest moment. */
  scale: number;
  seed: number;
  backfillHours: number;
  logLevel: NonNullable<DemoOptions['logLevel']>;
  mqtt?: DemoSensorMqtt;
}

/** One simulated sensor as the demo runs it: the real agent on the simulator source. */
export function startDemoSensor(options: DemoSensorOptions): Promise<Agent> {
  const { sensorId, logLevel } = options;
  return startAgent(
    {
      sensorId,
      mqtt: { ...options.mqtt, url: options.mqttUrl },
      source: { kind: 'simulator', simulator: { scale: options.scale, seed: options.seed, backfillHours: options.backfillHours } },
      outbox: { path: path.join(options.dataDir, 'sensors', sensorId, 'outbox.sqlite') },
      log: { level: logLevel },
    },
    { logger: createSensorLogger({ level: logLevel, base: { name: 'passant-sensor', sensorId } }) },
  );
}

export const DEMO_CONFIG = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../config/demo.yaml');

interface EmbeddedBroker {
  url: string;
  close(): Promise<void>;
}

async function listen(server: net.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

async function startEmbeddedBroker(port: number, progress: (line: string) => void): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker({
    // Like the production ACL (deploy/mosquitto/acl), the demo broker takes under passant/ only Passant's own
    // topics. Besides, aedes 1.2 drops the subscriber's connection when it forwards a topic with an empty level
    // such as passant/sensors//counts; refusing it here keeps the aggregator connected.
    authorizePublish: (_client, packet, callback) => {
      if (packet.topic.startsWith('$SYS/')) return callback(new Error('$SYS/ topics are reserved'));
      if (packet.topic.startsWith(`${TOPIC_BASE}/`) && parseTopic(packet.topic) === null && parseStoredTopic(packet.topic) === null) {
        return callback(new Error('not a Passant topic'));
      }
      callback(null);
    },
  });
  const server = net.createServer(broker.handle);
  let bound: number;
  try {
    bound = await listen(server, port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
    bound = await listen(server, 0);
    progress(`port ${port} is taken (another MQTT broker?): the embedded broker listens on ${bound} instead`);
  }
  return {
    url: `mqtt://127.0.0.1:${bound}`,
    close: async () => {
      // aedes closes its clients' connections; then the listening socket can close.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs `step` with a time limit; a failure or time-out is reported, never thrown (shutdown goes on). */
async function guarded(name: string, step: () => Promise<unknown>, logger: Logger, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      step(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    logger.warn({ step: name, err: (err as Error).message }, 'shutdown step failed');
  } finally {
    clearTimeout(timer);
  }
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const progress = options.progress ?? (() => {});
  const logLevel = options.logLevel ?? 'info';
  const logger = createAggregatorLogger(logLevel);
  const config = loadConfig({
    env: options.env ?? {},
    configFile: options.configFile ?? DEMO_CONFIG,
    overrides: {
      ...options.overrides,
      data: { dir: options.dataDir },
      http: { port: options.httpPort, ...(options.overrides?.http as object | undefined) },
      log: { level: logLevel },
      ...(options.mqttUrl !== undefined ? { mqtt: { ...(options.overrides?.mqtt as object | undefined), url: options.mqttUrl } } : {}),
    },
  });

  let broker: EmbeddedBroker | undefined;
  const cleanups: Array<[string, () => Promise<unknown>]> = [];
  const close = async () => {
    for (const [name, step] of cleanups.reverse()) await guarded(name, step, logger);
    cleanups.length = 0;
  };
  try {
    let mqttUrl = options.mqttUrl;
    if (mqttUrl === undefined) {
      broker = await startEmbeddedBroker(options.brokerPort ?? 1883, progress);
      cleanups.push(['embedded broker', () => broker!.close()]);
      mqttUrl = broker.url;
      progress(`embedded MQTT broker (aedes) on ${mqttUrl}`);
    }
    const aggregator = await startAggregator({ ...config, mqtt: { ...config.mqtt, url: mqttUrl } }, { logger });
    cleanups.push(['aggregator', () => aggregator.close()]);
    await aggregator.mqttReady;
    progress(`aggregator on SQLite in ${path.resolve(options.dataDir)}, serving ${aggregator.url}`);

    await options.beforeSensors?.(mqttUrl);
    const sensorIds = options.simulatedSensors === false ? [] : config.zones.flatMap((z) => z.sensors);
    const scales = options.scales ?? [60, 40, 25];
    if (sensorIds.length > 0) progress(`starting ${sensorIds.length} simulated sensors, backfilling ${options.backfillHours} h of history`);
    const agents = await Promise.all(
      sensorIds.map((sensorId, i) =>
        startDemoSensor({
          sensorId,
          mqttUrl: mqttUrl!,
          dataDir: options.dataDir,
          scale: scales[i % scales.length]!,
          seed: 1000 + i,
          backfillHours: options.backfillHours,
          logLevel,
          mqtt: options.sensorMqtt?.(sensorId),
        }),
      ),
    );
    for (const agent of agents) cleanups.push([`sensor ${agent.sensorId}`, () => agent.close()]);
    // Order of shutdown is the reverse: sensors first, then the aggregator, then the broker.
    return { url: aggregator.url, mqttUrl, config, aggregator, agents, close };
  } catch (err) {
    await close();
    throw err;
  }
}
