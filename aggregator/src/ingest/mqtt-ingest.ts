/**
 * MQTT ingest: a persistent QoS 1 session (clean: false, a fixed client id), so counts published while the
 * aggregator is away wait at the broker. Each counts message is validated, then written through the batch
 * writer; with ackMode 'stored' the PUBACK is sent only after the write's transaction committed, so a crash
 * before the write means redelivery, not loss.
 *
 * mqtt.js reads the next packet only once the previous PUBACK is written, so waiting for the store before
 * acknowledging would write one message per transaction. PubackDeferral (puback-deferral.ts) holds the PUBACKs
 * instead of the packet stream: mqtt.js reads ahead (at most `2 x ingest.batchMaxSize` messages unacknowledged,
 * see `maxUnacked`), the batch writer sees many messages per transaction, and each PUBACK leaves once its batch
 * is committed, in the order the messages came. Without the private hook it needs (another mqtt.js), the ingest
 * stays serial and says so in a warning.
 * Sensor status messages feed the health tracker. The aggregator's own status is retained, with a last will.
 *
 * At the door a message must also be plausible (plausibility.ts): its counts on their own (validate-counts.ts),
 * and its seq against the sensor's latest window, which the ingest keeps per sensor (read from the store at start,
 * then from the messages it accepts). A last window older than the per-sensor retention is forgotten, so a
 * sensor whose seq started again (its outbox file lost) is taken again after that long without messages.
 * A window older than the minute data's retention (or a configured earliest date) is rejected as window_too_old.
 *
 * Size: somewhat over 400 lines: one connection's life (subscribe, validate, write, acknowledge, status); the
 * PUBACK deferral, plausibility and the batch writer are already their own modules.
 */
import mqtt from 'mqtt';
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { parseTopic, StatusMessageSchema, topics } from '@passant/shared';
import type { CountsMessage, HealthzBody, StatusMessage } from '@passant/shared';
import { mqttClientOptions } from '@passant/shared/mqtt-options';
import type { AggregatorConfig } from '../config.ts';
import type { AggregatorMetrics } from '../metrics.ts';
import type { CountsStore, PutResult } from '../store/types.ts';
import { BatchWriter } from './batch-writer.ts';
import type { WrittenMessage } from './batch-writer.ts';
import { DeliveryAcks } from './delivery-acks.ts';
import { PubackDeferral } from './puback-deferral.ts';
import type { SensorHealthTracker } from './sensor-health.ts';
import { nextLastWindow, seqImplausibility } from './plausibility.ts';
import type { LastWindow } from './plausibility.ts';
import { sensorExpiries } from './sensor-expiry.ts';
import { validateCounts, validateSensorStatus } from './validate-counts.ts';
import type { RejectReason } from './validate-counts.ts';

export interface MqttIngestOptions {
  config: AggregatorConfig;
  store: CountsStore;
  metrics: AggregatorMetrics;
  health: SensorHealthTracker;
  logger: Logger;
  /** Package version, published in the aggregator's status. */
  version: string;
  /** Called after each store write with what it stored (live updates). Must not throw. */
  onWritten?: (written: WrittenMessage[]) => void;
  /** Now, Unix seconds (may be fractional). */
  now?: () => number;
  /**
   * Most QoS 1 messages received and not yet acknowledged (PUBACK held until stored); past it mqtt.js stops
   * reading. Default: twice `ingest.batchMaxSize`, so one batch can fill while the previous one is written.
   */
  maxUnacked?: number;
}

/** Rejection log lines per reason are limited to one per this period; the rest are counted in the next line. */
const REJECT_LOG_PERIOD_MS = 10_000;

export function clientIdOf(instanceId: string): string {
  return `passant-aggregator-${instanceId}`;
}

export class MqttIngest {
  readonly client: MqttClient;
  readonly instanceId: string;
  readonly countsFilter: string;
  readonly statusFilter: string;
  /** Resolves once the first subscription is in place (messages published before it may not reach a new session). */
  readonly ready: Promise<void>;
  private readonly writer: BatchWriter;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly startedAt: number;
  private stopping = false;
  private subscribed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private subscribeTimer: NodeJS.Timeout | undefined;
  private readonly rejectLog = new Map<RejectReason, { at: number; skipped: number }>();
  /** Holds PUBACKs until the store write; undefined when this mqtt.js lacks the hook (serial acknowledgements). */
  private acks: PubackDeferral | undefined;
  /** Tells each sensor which of its messages are stored (the sensor frees its outbox rows only then). */
  readonly deliveryAcks: DeliveryAcks;
  /** Each sensor's latest accepted window and its seq (the seq rule). */
  private readonly lastWindows = new Map<string, LastWindow>();
  /** Resolves once lastWindows holds what the store knows; messages that come before wait for it. */
  private seeding: Promise<void> | undefined;
  /** Sensor id -> the end of its last active day (transparency.sensors[].activeUntil). */
  private readonly expiries: Map<string, number>;

  constructor(private readonly options: MqttIngestOptions) {
    const { config, logger } = options;
    this.logger = logger;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.startedAt = Math.floor(this.now());
    this.instanceId = config.aggregator.id;
    this.expiries = sensorExpiries(config.transparency.sensors);
    const base = topics.allSensorCounts();
    this.countsFilter = config.mqtt.shareGroup ? topics.shared(config.mqtt.shareGroup, base) : base;
    this.statusFilter = topics.allSensorStatus();
    this.writer = new BatchWriter(options.store, {
      maxSize: config.ingest.batchMaxSize,
      maxDelayMs: config.ingest.batchMaxDelayMs,
      metrics: options.metrics,
      now: this.now,
      onWritten: (written) => this.onWritten(written),
    });

    const lastWindows = options.store.lastWindows?.();
    if (lastWindows !== undefined) {
      this.seeding = lastWindows.then(
        (list) => {
          for (const l of list) if (!this.lastWindows.has(l.sensorId)) this.lastWindows.set(l.sensorId, { windowStart: l.windowStart, seq: l.seq });
          this.seeding = undefined;
        },
        (err: unknown) => {
          this.logger.warn({ err }, 'cannot read the sensors\' last windows from the store; the seq rule starts from the next messages');
          this.seeding = undefined;
        },
      );
    }

    this.client = mqtt.connect(config.mqtt.url, this.clientOptions());
    this.deliveryAcks = new DeliveryAcks(this.client, logger);
    const maxUnacked = options.maxUnacked ?? 2 * config.ingest.batchMaxSize;
    this.acks = PubackDeferral.install(this.client, { maxHeld: maxUnacked });
    if (this.acks === undefined) {
      this.logger.warn('this mqtt.js has no _sendPacket to hold PUBACKs with; acknowledging one message at a time (slower ingest)');
    }
    options.metrics.ingestUnacked.onCollect(() => [{ labels: {}, value: this.unacked }]);
    // Every incoming PUBLISH goes through here. mqtt.js makes the PUBACK when `done` is called without error, and
    // reads the next packet once that PUBACK is written (or, deferred, held).
    this.client.handleMessage = (packet, done) => this.handleMessage(packet as IPublishPacket, done);
    let resolveReady!: () => void;
    this.ready = new Promise<void>((resolve) => (resolveReady = resolve));
    this.client.on('connect', (connack) => {
      options.metrics.mqttConnected.set(1);
      options.metrics.mqttConnects.inc();
      this.logger.info({ sessionPresent: connack.sessionPresent, clientId: clientIdOf(this.instanceId) }, 'MQTT connected');
      this.trySubscribe(resolveReady, false);
    });
    this.client.on('close', () => {
      if (options.metrics.mqttConnected.get() === 1 && !this.stopping) this.logger.warn('MQTT connection lost; reconnecting');
      options.metrics.mqttConnected.set(0);
    });
    this.client.on('error', (err) => {
      this.logger.warn({ err }, 'MQTT error');
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /**
   * The broker link as /healthz reports it: 'connected' (and subscribed: counts flow), 'not-subscribed' (the broker
   * took the login but refused the subscription, e.g. an ACL mistake; retried), or 'disconnected'.
   */
  get link(): HealthzBody['mqtt'] {
    if (!this.client.connected) return 'disconnected';
    return this.subscribed ? 'connected' : 'not-subscribed';
  }

  /** QoS 1 messages received whose PUBACK is held until they are stored. */
  get unacked(): number {
    return this.acks?.held ?? 0;
  }

  private clientOptions(): IClientOptions {
    const { mqtt: m, aggregator } = this.options.config;
    // mqtt.js traces every packet through `debug` (a few calls per message, about 3 % of the ingest's time even
    // when nothing prints). Off unless an operator asks for it with DEBUG=mqttjs* (it prints packets verbatim).
    const quiet = !/mqttjs/.test(process.env.DEBUG ?? '');
    return mqttClientOptions(m, {
      clientId: clientIdOf(aggregator.id),
      will: { topic: topics.aggregatorStatus(aggregator.id), payload: this.statusPayload('offline') },
      extra: { resubscribe: true, ...(quiet ? { log: () => undefined } : {}) },
    });
  }

  private statusPayload(state: 'online' | 'offline'): string {
    const status: StatusMessage = StatusMessageSchema.parse({
      v: 1,
      state,
      role: 'aggregator',
      id: this.instanceId,
      version: this.options.version,
      startedAt: this.startedAt,
    });
    return JSON.stringify(status);
  }

  /**
   * Subscribes and publishes the online status (`afterConnect`). A refused subscription (or a failed status
   * publish) is tried again while connected, every `mqtt.reconnectPeriodMs` (at least a second); /healthz says 503
   * meanwhile. A reconnect tries anew anyway.
   */
  private trySubscribe(resolveReady: () => void, retry: boolean): void {
    void this.afterConnect().then(resolveReady, (err: unknown) => {
      // The first failure of a connection at warn, its retries at debug.
      this.logger[retry ? 'debug' : 'warn']({ err }, 'MQTT subscribe or status publish failed');
      if (this.subscribeTimer !== undefined || this.stopping) return;
      this.subscribeTimer = setTimeout(() => {
        this.subscribeTimer = undefined;
        if (!this.stopping && this.client.connected) this.trySubscribe(resolveReady, true);
      }, Math.max(1000, this.options.config.mqtt.reconnectPeriodMs));
      this.subscribeTimer.unref();
    });
  }

  private async afterConnect(): Promise<void> {
    if (!this.subscribed) {
      // Later reconnects: mqtt.js resubscribes when the broker lost the session (resubscribe: true).
      const granted = await this.client.subscribeAsync({ [this.countsFilter]: { qos: 1 }, [this.statusFilter]: { qos: 1 } });
      const refused = granted.filter((g) => g.qos === 128);
      if (refused.length > 0) {
        throw new Error(`the broker refused the subscription to ${refused.map((g) => g.topic).join(', ')}`);
      }
      this.subscribed = true;
      this.logger.info({ counts: this.countsFilter, status: this.statusFilter }, 'subscribed');
    }
    await this.client.publishAsync(topics.aggregatorStatus(this.instanceId), this.statusPayload('online'), { qos: 1, retain: true });
  }

  private handleMessage(packet: IPublishPacket, done: (err?: Error) => void): void {
    const acks = this.acks;
    if (acks !== undefined && packet.qos === 1 && packet.messageId !== undefined && !this.stopping) {
      // Deferred: the PUBACK mqtt.js makes now is held until the message is stored, the next packet is read at once.
      const ticket = acks.track(packet.messageId);
      done();
      if (!acks.captured(ticket)) {
        // mqtt.js did not hand the PUBACK over inside the callback any more: stay correct, go serial.
        this.acks = undefined;
        this.logger.warn('mqtt.js did not pass the PUBACK through _sendPacket as expected; acknowledging one message at a time from now on');
      }
      this.onPublish(packet, (ack) => (ack ? acks.release(ticket) : acks.discard(ticket)));
      return;
    }
    this.onPublish(packet, (ack) => done(ack ? undefined : new Error('not acknowledged')));
  }

  /**
   * Handles one PUBLISH and calls `settle` exactly once: true to acknowledge it. Callbacks rather than a promise
   * per message: this runs for every message the aggregator takes in.
   */
  private onPublish(packet: IPublishPacket, settle: (ack: boolean) => void): void {
    // While stopping, nothing is acknowledged: the broker keeps it for the next session.
    if (this.stopping) return settle(false);
    // Until the sensors' last windows are read from the store (a persistent session may deliver before that), in order.
    if (this.seeding !== undefined) {
      void this.seeding.then(() => this.onPublish(packet, settle));
      return;
    }
    let message: CountsMessage;
    try {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const parsed = parseTopic(String(packet.topic));
      if (parsed?.kind === 'sensor' && parsed.channel === 'status') {
        this.onSensorStatus(parsed.sensorId, payload);
        return settle(true);
      }
      const { metrics, config } = this.options;
      const now = this.now();
      const minWindowStart = this.minWindowStart(now);
      const verdict = validateCounts(parsed, payload, {
        now,
        maxFutureSeconds: config.ingest.maxFutureSeconds,
        minWindowStart,
        activeUntil: (sensorId) => this.expiries.get(sensorId),
      });
      if (!verdict.ok) {
        metrics.ingestMessages.inc({ result: 'rejected', reason: verdict.reason });
        this.logRejected(verdict.reason, payload.byteLength, verdict.issues);
        return settle(true); // acknowledged: a bad message stays bad, redelivery would not help
      }
      message = verdict.message;
      let last = this.lastWindows.get(message.sensorId);
      if (last !== undefined && last.windowStart < this.seqHorizon(now)) last = undefined;
      const seqReason = seqImplausibility(message, last);
      if (seqReason !== null) {
        metrics.ingestMessages.inc({ result: 'rejected', reason: seqReason });
        this.logRejected(seqReason, payload.byteLength);
        return settle(true);
      }
      this.lastWindows.set(message.sensorId, nextLastWindow(message, last));
      this.options.health.onCounts(message.sensorId, Math.floor(this.now()));
    } catch (err) {
      this.logger.error({ err }, 'message handler failed');
      return settle(false);
    }
    if (this.options.config.ingest.ackMode === 'received') {
      this.writer.add(message, (err) => {
        if (err !== undefined) this.guarded(() => this.onStoreFailure(err, false));
      });
      return settle(true);
    }
    // The batch writer calls this for every message of a batch in turn: it must not throw.
    this.writer.add(message, (err) =>
      this.guarded(() => {
        if (err === undefined) return settle(true);
        this.onStoreFailure(err, true);
        settle(false);
      }),
    );
  }

  /**
   * Earliest windowStart taken: the start of the minute data's retention (a window older than it could not be
   * released: its hour is closed and its zone-minutes deleted) or the configured earliest date, whichever is later.
   * Not the per-sensor rows' shorter retention: a sensor back after a few days offline replays its outbox (a week),
   * and those windows are good data; their rows go once settled.
   */
  private minWindowStart(now: number): number {
    const { retention, ingest } = this.options.config;
    const horizon = Math.floor(now / 86_400) * 86_400 - retention.minuteDays * 86_400;
    return Math.max(horizon, ingest.earliestWindowStart ?? 0);
  }

  /** A sensor's last window is forgotten once older than this (the per-sensor rows' retention): its seq may start again. */
  private seqHorizon(now: number): number {
    return Math.floor(now / 3600) * 3600 - this.options.config.retention.sensorWindowHours * 3600;
  }

  private guarded(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.logger.error({ err }, 'acknowledging a stored message failed');
    }
  }

  private onWritten(written: WrittenMessage[]): void {
    // Stored or found stored: durable either way, so the sensors may free those rows.
    this.guarded(() => this.deliveryAcks.onStored(written));
    // Counted once per batch and result, not per message: this runs for every message the aggregator takes in.
    const byResult = new Map<PutResult, number>();
    for (const w of written) byResult.set(w.result, (byResult.get(w.result) ?? 0) + 1);
    for (const [result, n] of byResult) this.options.metrics.ingestMessages.inc({ result, reason: 'none' }, n);
    if (this.logger.isLevelEnabled('debug')) {
      for (const { message, result } of written) {
        this.logger.debug({ sensorId: message.sensorId, windowStart: message.windowStart, result }, 'counts');
      }
    }
    try {
      this.options.onWritten?.(written);
    } catch (err) {
      this.logger.warn({ err }, 'after-write hook failed');
    }
  }

  private onStoreFailure(err: unknown, willRedeliver: boolean): void {
    this.logger.error(
      { err, redelivery: willRedeliver },
      willRedeliver ? 'store write failed; the message is not acknowledged' : 'store write failed; the message is lost (ackMode received)',
    );
    if (!willRedeliver || this.retryTimer || this.stopping) return;
    // The broker resends unacknowledged QoS 1 messages when the session reconnects.
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopping) return;
      this.logger.info('restarting the MQTT connection so that unacknowledged messages are redelivered');
      this.client.stream?.destroy();
      // mqtt.js reconnects on its own after the stream closes, but a stream destroyed while it was still busy (a
      // connect under way, a takeover at the broker) can leave it neither connected nor reconnecting: then ask it to.
      const watchdog = setInterval(() => {
        if (this.stopping || this.client.connected) return clearInterval(watchdog);
        if (!this.client.reconnecting && !this.client.disconnecting) {
          this.logger.info('MQTT is neither connected nor reconnecting after a restart; reconnecting');
          this.client.reconnect();
        }
      }, Math.max(1000, this.options.config.mqtt.reconnectPeriodMs * 5));
      watchdog.unref();
    }, this.options.config.ingest.storeRetryDelayMs);
    this.retryTimer.unref();
  }

  private onSensorStatus(sensorId: string, payload: Buffer | Uint8Array): void {
    const { metrics, health } = this.options;
    if (payload.byteLength === 0) {
      health.onStatusCleared(sensorId);
      metrics.statusMessages.inc({ result: 'accepted', reason: 'cleared' });
      return;
    }
    const verdict = validateSensorStatus(sensorId, payload);
    if (!verdict.ok) {
      metrics.statusMessages.inc({ result: 'rejected', reason: verdict.reason });
      this.logger.debug({ reason: verdict.reason, bytes: payload.byteLength }, 'sensor status rejected');
      return;
    }
    health.onStatus(sensorId, verdict.message, Math.floor(this.now()));
    metrics.statusMessages.inc({ result: 'accepted', reason: 'none' });
    this.logger.debug({ sensorId, state: verdict.message.state }, 'sensor status');
  }

  /** Logs a rejection by reason and size only (never the content), at most once per period per reason. */
  private logRejected(reason: RejectReason, bytes: number, issues?: { code: string; path: string }[]): void {
    const nowMs = Date.now();
    const last = this.rejectLog.get(reason);
    if (last && nowMs - last.at < REJECT_LOG_PERIOD_MS) {
      last.skipped++;
      return;
    }
    this.rejectLog.set(reason, { at: nowMs, skipped: 0 });
    this.logger.warn({ reason, bytes, issues, similarNotLogged: last?.skipped ?? 0 }, 'counts message rejected');
  }

  /**
   * Stops taking messages (later ones stay unacknowledged at the broker), waits for pending writes and lets the
   * PUBACKs of what they stored leave.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.subscribeTimer) clearTimeout(this.subscribeTimer);
    this.subscribeTimer = undefined;
    await this.writer.flush();
    // The handlers of what was just written settle in the microtasks that follow; one event loop turn later their
    // PUBACKs are on the wire.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Publishes the retained offline status (a clean disconnect does not trigger the last will). */
  async publishOffline(): Promise<void> {
    if (!this.client.connected) return;
    await this.client.publishAsync(topics.aggregatorStatus(this.instanceId), this.statusPayload('offline'), { qos: 1, retain: true });
  }

  /**
   * Ends the MQTT connection: cleanly (waiting for in-flight publishes) for up to `graceMs`, then forced.
   * With 0, forced at once.
   */
  async end(graceMs: number): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    let timer: NodeJS.Timeout | undefined;
    const clean =
      graceMs > 0
        ? await Promise.race([
            this.client.endAsync(false).then(() => true),
            new Promise<boolean>((resolve) => {
              timer = setTimeout(() => resolve(false), graceMs);
            }),
          ]).finally(() => clearTimeout(timer))
        : false;
    if (!clean) await this.client.endAsync(true);
    this.options.metrics.mqttConnected.set(0);
  }
}
