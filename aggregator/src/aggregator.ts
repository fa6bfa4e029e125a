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
import { Services } from '@passant/shared';
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

/**
 * Closes the HTTP server: event streams end, requests in flight may finish, connections that turn idle (ended event
 * streams, keep-alive) are closed as they do instead of waiting for their keep-alive time, and a connection still
 * busy after a grace period (a client that went away in the middle of an event stream stays "busy") is cut.
 */
function closeHttp(server: Server, closeEventStreams: () => void, limitMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    closeEventStreams();
    const idle = setInterval(() => server.closeIdleConnections(), 25);
    const cut = setTimeout(() => server.closeAllConnections(), Math.min(1000, Math.floor(limitMs / 2)));
    server.close((err) => {
      clearInterval(idle);
      clearTimeout(cut);
      server.closeAllConnections();
      if (err) reject(err);
      else resolve();
    });
    server.closeIdleConnections();
  });
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

  // Every part is added to `services` as soon as it runs; shutdown, and a failed start, stop them in reverse.
  const limit = config.aggregator.shutdownStepTimeoutMs;
  const services = new Services({ timeoutMs: limit, onStopFailed: (step, err) => logger.warn({ step, err }, 'shutdown step did not finish cleanly') });
  const parts = await services.starting(async () => {
    const store = options.store ?? openStore(config, logger);
    services.add('close the store', () => store.close());
    // SQLite: WAL checkpoints every second from a timer, not inside the ingest's write transactions.
    if (store instanceof SqliteStore) {
      const checkpointTimer = setInterval(() => store.checkpoint(), CHECKPOINT_INTERVAL_MS).unref();
      services.add('stop WAL checkpoints', () => clearInterval(checkpointTimer));
    }
    const tokens = TokenStore.open(tokensFileOf(config));
    services.add('close the token database', () => tokens.close());
    const calibrations = CalibrationStore.open(calibrationsFileOf(config.data.dir));
    services.add('close the calibration database', () => calibrations.close());
    const events = EventStore.open(eventsFileOf(config.data.dir));
    services.add('close the events database', () => events.close());
    const invitations = InvitationStore.open(invitationsFileOf(config.data.dir));
    services.add('close the invitations database', () => invitations.close());
    const accessLog = AccessLog.open(accessLogFileOf(config), { retentionDays: config.audit.accessLogDays, now });
    services.add('close the access log', () => accessLog.close());
    // The audit's totals count from the first start: earlier runs' totals plus this process's counters, saved every
    // minute and at the end. Old access-log rows are deleted at start and then hourly.
    const auditBase = accessLog.totals();
    if (auditBase.since === undefined) auditBase.since = Math.floor(now());
    accessLog.prune();
    const metrics = new AggregatorMetrics();
    const registry = new Registry(config.zones, config.sites, { sensorStats: () => store.sensorStats() });
    const health = new SensorHealthTracker();
    metrics.sensors.onCollect(() => Object.entries(health.countByState()).map(([state, value]) => ({ labels: { state }, value })));
    const noise = noiseSettingsOf(config.noise);
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
    services.add('stop the release jobs', () => release.stop());
    const sensorRetention = startSensorWindowRetention(store, config, now, logger.child({ component: 'retention' }));
    services.add('stop the per-sensor retention', () => sensorRetention.stop());
    if (noise !== null) logger.info({ epsilon: noise.epsilon }, 'noise for released counts is on');
    const live = new LiveUpdates(release, registry, { logger: logger.child({ component: 'live' }), now });
    live.start();
    services.add('stop live updates', () => live.stop());
    let registryWatcher: RegistryWatcher | undefined;
    if (options.configFile !== undefined) {
      const watcher = new RegistryWatcher({
        file: options.configFile,
        registry,
        running: config,
        logger: logger.child({ component: 'registry' }),
        ...(options.configWatchDebounceMs !== undefined ? { debounceMs: options.configWatchDebounceMs } : {}),
      });
      watcher.start();
      services.add('stop watching the config', () => watcher.close());
      registryWatcher = watcher;
    }

    const ingest = new MqttIngest({
      config,
      store,
      metrics,
      health,
      logger: logger.child({ component: 'ingest' }),
      version: AGGREGATOR_VERSION,
      now,
      onWritten: (written) => live.notifyStored(written.filter((w) => w.result === 'stored').map((w) => w.message)),
    });
    // Stopped in reverse: first no new messages (stop), then the retained offline status, then the connection.
    services.add('end MQTT', () => ingest.end(Math.floor(limit / 2)));
    services.add('publish the offline status', () => ingest.publishOffline());
    services.add('stop ingest', () => ingest.stop());

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
      throw new Error(`cannot listen on ${config.http.host}:${config.http.port}: ${(err as Error).message}`, { cause: err });
    }
    services.add('close HTTP', () => closeHttp(server, closeEventStreams, limit));
    const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${httpPort}`;
    httpLogger.info({ url, dashboardDir: config.http.dashboardDir }, 'HTTP listening');

    // FIWARE NGSI-LD push (off by default): the public zones as the anonymous caller reads them, auth.public as configured now.
    const push = config.ngsiLd.push;
    let ngsiPusher: NgsiPusher | undefined;
    if (push.enabled && push.brokerUrl !== undefined) {
      const pusher = new NgsiPusher({
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
      });
      pusher.start();
      services.add('stop the NGSI-LD push', () => pusher.close());
      ngsiPusher = pusher;
    }

    if (config.log.statsIntervalSeconds > 0) {
      const statsTimer = setInterval(() => {
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
      services.add('stop the stats log', () => clearInterval(statsTimer));
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
    // (stopped before the access log closes: added after it)
    services.add('save the audit totals', () => {
      clearInterval(auditTimer);
      saveAuditTotals();
    });
    return { store, tokens, metrics, registry, release, live, health, ingest, registryWatcher, ngsiPusher, httpPort, url };
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      logger.info('stopping aggregator');
      await services.stop();
      logger.info('aggregator stopped');
    })();
    return closing;
  };

  return {
    httpPort: parts.httpPort,
    url: parts.url,
    config,
    store: parts.store,
    metrics: parts.metrics,
    registry: parts.registry,
    release: parts.release,
    live: parts.live,
    health: parts.health,
    ingest: parts.ingest,
    tokens: parts.tokens,
    registryWatcher: parts.registryWatcher,
    mqttReady: parts.ingest.ready,
    ngsiPush: parts.ngsiPusher,
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
