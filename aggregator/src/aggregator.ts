/**
 * Wires the aggregator together: store, registry, release layer, MQTT ingest, live updates and HTTP.
 * Usable in-process (`npm start`, tests); main.ts is the only place that reads the environment.
 */
import fs from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { withTimeout } from '@passant/shared';
import { TokenStore } from './auth/token-store.ts';
import { AccessLog, addTotals, auditCounters } from './access-log/access-log.ts';
import { CalibrationStore, calibrationsFileOf } from './estimate/calibration-store.ts';
import { EventStore, eventsFileOf } from './events/event-store.ts';
import { InvitationStore, invitationsFileOf } from './auth/invitations.ts';
import { accessLogFileOf, tokensFileOf } from './auth/token-command.ts';
import { parseConfig, redactConfig } from './config.ts';
import type { AggregatorConfig, AggregatorConfigInput } from './config.ts';
import { createHttpApp } from './http/app.ts';
import { AccessPolicy } from './auth/access.ts';
import { NgsiPusher } from './interop/ngsi-push.ts';
import { MqttIngest } from './ingest/mqtt-ingest.ts';
import { REJECT_REASONS } from './ingest/validate-counts.ts';
import { SensorHealthTracker } from './ingest/sensor-health.ts';
import { createLogger } from './logger.ts';
import { AggregatorMetrics } from './metrics.ts';
import { Registry } from './registry.ts';
import { RegistryWatcher } from './registry-watcher.ts';
import { LiveUpdates } from './release/live-updates.ts';
import { noiseSettingsOf } from './release/noise.ts';
import { ReleaseLayer } from './release/release-layer.ts';
import { InfluxStore } from './store/influx-store.ts';
import { SqliteStore } from './store/sqlite-store.ts';
import type { ReleaseStore } from './store/types.ts';

const PACKAGE_JSON = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../package.json');
export const AGGREGATOR_VERSION = (JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;

export interface StartAggregatorOptions {
  /** Root logger; default pino on stdout at config.log.level. */
  logger?: Logger;
  /**
   * A store to use instead of the SQLite file in config.data.dir (InfluxDB, tests). It is closed on close().
   */
  store?: ReleaseStore;
  /** The config file the configuration came from: watched, and zones and sites reloaded when it changes. */
  configFile?: string;
  /** Debounce of the config file watch (tests). */
  configWatchDebounceMs?: number;
  /** Clock, Unix seconds (may be fractional); tests only. */
  now?: () => number;
}

export interface RunningAggregator {
  /** The bound HTTP port (config.http.port, or the one picked when it is 0). */
  httpPort: number;
  /** http://host:port of the API and dashboard. */
  url: string;
  config: AggregatorConfig;
  store: ReleaseStore;
  metrics: AggregatorMetrics;
  registry: Registry;
  release: ReleaseLayer;
  live: LiveUpdates;
  health: SensorHealthTracker;
  ingest: MqttIngest;
  /** The API tokens (auth.tokensFile, or tokens.db in data.dir). */
  tokens: TokenStore;
  /** Reloads zones and sites when the config file changes; undefined without options.configFile. */
  registryWatcher: RegistryWatcher | undefined;
  /** Resolves when the MQTT subscription is in place the first time. */
  mqttReady: Promise<void>;
  /** The NGSI-LD push to a context broker, when ngsiLd.push is enabled. */
  ngsiPush: NgsiPusher | undefined;
  logger: Logger;
  /** Stops ingest, publishes offline, ends MQTT, closes HTTP, closes the store; each step time-limited. Idempotent. */
  close(): Promise<void>;
}

/** The store config.store.kind names: SQLite in data.dir, or InfluxDB (no connection yet: /healthz tells). */
/** How often the SQLite store's WAL is checkpointed (passive: never blocks the ingest). */
const CHECKPOINT_INTERVAL_MS = 1000;

function openStore(config: AggregatorConfig, logger: Logger): ReleaseStore {
  if (config.store.kind === 'influx') {
    return InfluxStore.open(config.influx, { logger: logger.child({ component: 'store', store: 'influx' }) });
  }
  return SqliteStore.open(path.join(config.data.dir, 'passant.db'));
}

/** Runs `step` with a time limit; a failure or time-out is logged and shutdown goes on. */
async function guarded(logger: Logger, name: string, timeoutMs: number, step: () => Promise<void>): Promise<void> {
  try {
    await withTimeout(step(), timeoutMs, name);
  } catch (err) {
    logger.warn({ step: name, err }, 'shutdown step did not finish cleanly');
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts the aggregator. `config` is validated here (defaults filled in); a ConfigError lists every problem.
 * HTTP starts listening before the broker answers; /healthz says 503 until MQTT is connected.
 */
export async function startAggregator(
  configInput: AggregatorConfigInput | AggregatorConfig,
  options: StartAggregatorOptions = {},
): Promise<RunningAggregator> {
  const config = parseConfig(configInput);
  const logger = options.logger ?? createLogger(config.log.level);
  const now = options.now ?? (() => Date.now() / 1000);
  logger.info({ config: redactConfig(config), version: AGGREGATOR_VERSION }, 'starting aggregator');
  if (config.zones.length === 0) logger.warn('no zones configured: counts are stored, but no series can be released');

  const store = options.store ?? openStore(config, logger);
  // SQLite: WAL checkpoints every second from a timer, not inside the ingest's write transactions.
  const checkpointTimer =
    store instanceof SqliteStore ? setInterval(() => store.checkpoint(), CHECKPOINT_INTERVAL_MS).unref() : undefined;
  let tokens: TokenStore;
  let calibrations: CalibrationStore;
  let events: EventStore;
  let invitations: InvitationStore;
  let accessLog: AccessLog;
  try {
    tokens = TokenStore.open(tokensFileOf(config));
    calibrations = CalibrationStore.open(calibrationsFileOf(config.data.dir));
    events = EventStore.open(eventsFileOf(config.data.dir));
    invitations = InvitationStore.open(invitationsFileOf(config.data.dir));
    accessLog = AccessLog.open(accessLogFileOf(config), { retentionDays: config.audit.accessLogDays, now });
  } catch (err) {
    await store.close();
    throw err;
  }
  // The audit's totals count from the first start: earlier runs' totals plus this process's counters, saved every
  // minute and at the end. Old access-log rows are deleted at start and then hourly.
  const auditBase = accessLog.totals();
  if (auditBase.since === undefined) auditBase.since = Math.floor(now());
  accessLog.prune();
  const metrics = new AggregatorMetrics();
  const registry = new Registry(config.zones, config.sites, { sensorStats: () => store.sensorStats() });
  const health = new SensorHealthTracker();
  metrics.sensors.onCollect(() => Object.entries(health.countByState()).map(([state, value]) => ({ labels: { state }, value })));
  let noise;
  try {
    noise = noiseSettingsOf(config.noise);
  } catch (err) {
    await store.close();
    tokens.close();
    throw err;
  }
  const release = new ReleaseLayer(store, registry, {
    k: config.k,
    settleSeconds: config.settleSeconds,
    now,
    noise,
    devicesPerPerson: config.noise.devicesPerPerson,
    baseline: config.baseline.enabled ? config.baseline : null,
    minuteDays: config.retention.minuteDays,
    retentionIntervalMs: config.retention.intervalMinutes * 60_000,
    logger: logger.child({ component: 'release' }),
  });
  release.start();
  const sensorRetention = startSensorWindowRetention(store, config, now, logger.child({ component: 'retention' }));
  if (noise !== null) logger.info({ epsilon: noise.epsilon }, 'noise for released counts is on');
  const live = new LiveUpdates(release, registry, { logger: logger.child({ component: 'live' }), now });
  live.start();
  let registryWatcher: RegistryWatcher | undefined;
  if (options.configFile !== undefined) {
    registryWatcher = new RegistryWatcher({
      file: options.configFile,
      registry,
      running: config,
      logger: logger.child({ component: 'registry' }),
      ...(options.configWatchDebounceMs !== undefined ? { debounceMs: options.configWatchDebounceMs } : {}),
    });
    registryWatcher.start();
  }
  const stopRelease = async () => {
    await sensorRetention.stop();
    await registryWatcher?.close();
    await live.stop();
    await release.stop();
  };

  let ingest: MqttIngest;
  try {
    ingest = new MqttIngest({
      config,
      store,
      metrics,
      health,
      logger: logger.child({ component: 'ingest' }),
      version: AGGREGATOR_VERSION,
      now,
      onWritten: (written) => live.notifyStored(written.filter((w) => w.result === 'stored').map((w) => w.message)),
    });
  } catch (err) {
    await stopRelease();
    await store.close();
    tokens.close();
    throw err;
  }

  const httpLogger = logger.child({ component: 'http' });
  const { app, closeEventStreams } = createHttpApp({
    registry,
    release,
    live,
    store,
    metrics,
    health,
    mqttLink: () => ingest.link,
    logger: httpLogger,
    dashboardDir: config.http.dashboardDir,
    maxSeriesBuckets: config.http.maxSeriesBuckets,
    maxSeriesRangeDays: config.http.maxSeriesRangeDays,
    maxEventClients: config.http.maxEventClients,
    maxEventClientsPerClient: config.http.maxEventClientsPerClient,
    publicAccess: config.auth.public,
    openData: config.openData,
    tokens,
    calibrations,
    events,
    invitations,
    accessLog,
    auditBase,
    sensorActiveUntil: new Map(config.transparency.sensors.flatMap((s) => (s.activeUntil === undefined ? [] : [[s.id, s.activeUntil] as const]))),
    rateLimitPerMinute: config.http.rateLimitPerMinute,
    rateLimitBurst: config.http.rateLimitBurst,
    rateLimitCellsPerUnit: config.http.rateLimitCellsPerUnit,
    trustProxyHops: config.http.trustProxyHops,
    version: AGGREGATOR_VERSION,
    contact: { name: config.transparency.controller.name, email: config.transparency.controller.email, url: config.transparency.controller.website },
    retention: { minuteDays: config.retention.minuteDays, hourRollupDays: null, dayRollupDays: null },
    now,
  });
  const server = createServer(app);
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  let httpPort: number;
  try {
    httpPort = await listen(server, config.http.port, config.http.host);
  } catch (err) {
    await ingest.end(0).catch(() => undefined);
    await stopRelease();
    await store.close();
    tokens.close();
    throw new Error(`cannot listen on ${config.http.host}:${config.http.port}: ${(err as Error).message}`, { cause: err });
  }
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${httpPort}`;
  httpLogger.info({ url, dashboardDir: config.http.dashboardDir }, 'HTTP listening');

  // FIWARE NGSI-LD push (off by default): the public zones as the anonymous caller reads them, auth.public as configured now.
  const push = config.ngsiLd.push;
  const ngsiPusher =
    push.enabled && push.brokerUrl !== undefined
      ? new NgsiPusher({
          registry,
          release,
          access: new AccessPolicy(() => registry.publicAccess ?? config.auth.public),
          calibrations,
          brokerUrl: push.brokerUrl,
          ...(push.tenant === undefined ? {} : { tenant: push.tenant }),
          intervalSeconds: push.intervalSeconds,
          timeoutMs: push.timeoutMs,
          radio: push.radio,
          now,
          logger: logger.child({ module: 'ngsi-push' }),
        })
      : undefined;
  ngsiPusher?.start();

  let statsTimer: NodeJS.Timeout | undefined;
  if (config.log.statsIntervalSeconds > 0) {
    statsTimer = setInterval(() => {
      const m = metrics.ingestMessages;
      logger.info(
        {
          stored: m.get({ result: 'stored', reason: 'none' }),
          duplicate: m.get({ result: 'duplicate', reason: 'none' }),
          rejected: Object.fromEntries(REJECT_REASONS.map((reason) => [reason, m.get({ result: 'rejected', reason })]).filter(([, n]) => n !== 0)),
          storeWrites: metrics.storeWriteSeconds.observations,
          storeWriteErrors: metrics.storeWriteErrors.get(),
          mqttConnected: ingest.connected,
          sensors: health.countByState(),
        },
        'stats',
      );
    }, config.log.statsIntervalSeconds * 1000);
    statsTimer.unref();
  }

  const saveAuditTotals = (): void => {
    try {
      accessLog.saveTotals(addTotals(auditBase, auditCounters(metrics, REJECT_REASONS)));
    } catch (err) {
      logger.warn({ err }, 'saving the audit totals failed');
    }
  };
  const auditTimer = setInterval(() => {
    saveAuditTotals();
    try {
      accessLog.prune();
    } catch (err) {
      logger.warn({ err }, 'pruning the access log failed');
    }
  }, 60_000).unref();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const limit = config.aggregator.shutdownStepTimeoutMs;
      logger.info('stopping aggregator');
      if (statsTimer) clearInterval(statsTimer);
      await guarded(logger, 'stop ingest', limit, () => ingest.stop());
      await guarded(logger, 'publish offline status', limit, () => ingest.publishOffline());
      await guarded(logger, 'end MQTT', limit, () => ingest.end(Math.floor(limit / 2)));
      if (ngsiPusher !== undefined) await guarded(logger, 'stop NGSI-LD push', limit, () => ngsiPusher.close());
      await guarded(logger, 'stop live updates and release jobs', limit, stopRelease);
      await guarded(
        logger,
        'close HTTP',
        limit,
        () =>
          new Promise<void>((resolve, reject) => {
            closeEventStreams();
            // Requests in flight may finish; connections that turn idle (ended event streams, keep-alive) are
            // closed as they do, instead of waiting for their keep-alive time. A connection still busy after a
            // grace period (a client that went away in the middle of an event stream stays "busy") is cut.
            const idle = setInterval(() => server.closeIdleConnections(), 25);
            const cut = setTimeout(() => server.closeAllConnections(), Math.min(1000, Math.floor(limit / 2)));
            server.close((err) => {
              clearInterval(idle);
              clearTimeout(cut);
              if (err) reject(err);
              else resolve();
            });
            server.closeIdleConnections();
          }),
      );
      server.closeAllConnections();
      clearInterval(checkpointTimer);
      await guarded(logger, 'close store', limit, () => store.close());
      tokens.close();
      calibrations.close();
      events.close();
      invitations.close();
      clearInterval(auditTimer);
      saveAuditTotals();
      accessLog.close();
      logger.info('aggregator stopped');
    })();
    return closing;
  };

  return {
    httpPort,
    url,
    config,
    store,
    metrics,
    registry,
    release,
    live,
    health,
    ingest,
    tokens,
    registryWatcher,
    mqttReady: ingest.ready,
    ngsiPush: ngsiPusher,
    logger,
    close,
  };
}

/**
 * Per-sensor rows are kept only as long as the release layer needs them (retention.sensorWindowHours, from the
 * current hour's start): once settled (their zone-minutes frozen) and older, they are deleted, now and every
 * retention.intervalMinutes. The frozen cells and rollups are the release layer's retention (retention.minuteDays).
 */
function startSensorWindowRetention(
  store: ReleaseStore,
  config: AggregatorConfig,
  now: () => number,
  logger: Logger,
): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = running.then(async () => {
      const before = Math.floor(now() / 3600) * 3600 - config.retention.sensorWindowHours * 3600;
      try {
        const deleted = await store.deleteSensorWindowsBefore(before);
        if (deleted !== 0) logger.info({ before, deleted }, 'retention: settled per-sensor windows deleted');
      } catch (err) {
        logger.warn({ err }, 'retention of per-sensor windows failed; tried again at the next interval');
      }
    });
  };
  run();
  const timer = setInterval(run, config.retention.intervalMinutes * 60_000).unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
