/**
 * Publishes closed windows over MQTT: a `WindowSink` that adds `v`, `sensorId` and `seq`, validates the message
 * against the strict `CountsMessageSchema` before anything leaves, and puts it in the on-disk outbox. The outbox
 * is then sent in order to `passant/sensors/{id}/counts` with QoS 1 (not retained).
 *
 * End-to-end delivery: a message leaves the outbox only when an aggregator says it is stored, on
 * `passant/sensors/{id}/stored` (`{ "v": 1, "seqs": [...] }`, validated with the strict StoredAckSchema; anything
 * else there is ignored and counted). The broker's PUBACK only paces the sending (`maxInFlight`): a message the
 * broker acknowledged but no aggregator reported stored is sent again, so a broker that lost it after its PUBACK
 * (a crash before its persistence was saved) does not lose it for good: after `delivery.retryInitialMs`, then
 * twice as long each time up to `delivery.retryMaxMs`, once an aggregator has reported stored a message sent after
 * it (evidence that this one was lost, not waiting in the broker's queue for an aggregator that is away);
 * without such evidence, after `delivery.retryMaxMs`. The aggregator's writes are idempotent and it
 * acknowledges duplicates too, so a second copy costs nothing but bytes.
 *
 * Availability: a retained `online` status (version, start time, window length, radios and the JSON Schema of
 * the counts message) on every connect; the broker's last will publishes a retained `offline` when the
 * connection dies; `close()` publishes a retained `offline` itself.
 *
 * The client connects in the background (`mqtt.connect`, not `connectAsync`): the agent must count, and fill
 * its outbox, while the broker is away, also at start-up. Session: `clean: false` with a fixed client id
 * (`passant-sensor-<id>`), so messages in flight when the connection drops are resent by mqtt.js on reconnect and
 * `stored` acknowledgements published while the sensor is away wait for it at the broker.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  CountsMessageSchema,
  StatusMessageSchema,
  StoredAckSchema,
  countsMessageJsonSchema,
  topics,
  withTimeout,
  type CountsMessage,
  type Radio,
  type StatusMessage,
} from '@passant/shared';
import { mqttClientOptions } from '@passant/shared/mqtt-options';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { WindowCounts, WindowSink } from '../pipeline/types.ts';
import type { Outbox, OutboxEntry } from './outbox.ts';
import type { SensorBuild } from '../build-info.ts';

/** The `mqtt` config section (unset keys are `undefined`; the mqtt.js options are built by the shared builder). */
export interface MqttPublisherSettings {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  rejectUnauthorized: boolean;
  topicBase: string;
  reconnectPeriodMs: number;
  connectTimeoutMs: number;
  keepaliveSeconds: number;
  maxInFlight: number;
}

/** When a message the broker took but no aggregator reported stored is sent again. */
export interface DeliverySettings {
  /** First wait after the PUBACK, ms. */
  retryInitialMs: number;
  /** The wait doubles with every try up to this, ms. */
  retryMaxMs: number;
}

export const DEFAULT_DELIVERY: DeliverySettings = { retryInitialMs: 60_000, retryMaxMs: 3_600_000 };

export interface MqttPublisherOptions {
  sensorId: string;
  windowSeconds: number;
  /** What this sensor counts (announced in the status). */
  radios: Radio[];
  mqtt: MqttPublisherSettings;
  /** Re-sending of messages not reported stored; default DEFAULT_DELIVERY. */
  delivery?: DeliverySettings;
  /** Send the RSSI histogram (setup mode); default false: the messages leave it out. */
  sendRssiHistogram?: boolean;
  outbox: Outbox;
  logger?: Logger;
  /** Software version announced in the status. */
  version?: string;
  /** The build (version, commit, SHA-256 of the code) announced in the `online` status. */
  build?: SensorBuild;
  /** Unix seconds; default now. */
  startedAt?: number;
}

export interface PublisherStats {
  /** Windows accepted into the outbox by this process. */
  enqueued: number;
  /** Messages acknowledged by the broker (PUBACK; this process, re-sends included). */
  published: number;
  /** Messages an aggregator reported stored, freed from the outbox (this process). */
  stored: number;
  /** Messages sent again because no aggregator reported them stored in time. */
  resent: number;
  /** Messages on the stored topic that were not a valid acknowledgement (ignored). */
  ackRejected: number;
  /** Messages the broker acknowledged and no aggregator reported stored yet. */
  awaitingStore: number;
  /** Windows refused by the schema (should stay 0). */
  invalid: number;
  /** Messages waiting in the outbox (including those in flight and those awaiting the aggregator). */
  queued: number;
  inFlight: number;
  /** Messages the full outbox dropped (this process / over the outbox's life). */
  dropped: number;
  droppedTotal: number;
  connected: boolean;
  /** Successful connections (1 + reconnections). */
  connects: number;
  /** Times the re-send timer woke the process (once per due re-send time, not at a fixed pace). */
  retryWakeups: number;
}

/** A window that the schema refuses; the message says which fields and why, never their values. */
export class InvalidCountsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCountsError';
  }
}

/** Broker URL without user name or password, for logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}

/** Most windows committed to the outbox in one transaction. */
const COMMIT_CHUNK = 1000;

export class MqttPublisher implements WindowSink {
  readonly #o: MqttPublisherOptions;
  readonly #log: Logger;
  readonly #outbox: Outbox;
  readonly #client: MqttClient;
  readonly #countsTopic: string;
  readonly #statusTopic: string;
  readonly #storedTopic: string;
  readonly #delivery: DeliverySettings;
  readonly #startedAt: number;
  /** Windows received, not yet committed to the outbox (committed at the next turn of the event loop). */
  #pending: WindowCounts[] = [];
  #commitScheduled: NodeJS.Immediate | null = null;
  /** Outbox ids handed to mqtt.js and not yet acknowledged by the broker, with the try they are. */
  readonly #inFlight = new Map<number, number>();
  /** Outbox ids the broker acknowledged and no aggregator reported stored: when to send them again, which try. */
  readonly #awaiting = new Map<number, { due: number; tries: number; order: number; sentAt: number }>();
  /** Counts PUBACKs: a row's `order` says which rows the broker took before it. */
  #pubackOrder = 0;
  /** The highest `order` among rows reported stored: the aggregator has worked past everything sent before it. */
  #storedOrder = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  /** When the retry timer fires (ms since the epoch); Infinity when it is not set. */
  #retryAt = Infinity;
  #subscribed = false;
  /** Highest outbox id handed to mqtt.js. */
  #lastSentId = 0;
  #closing = false;
  #closed = false;
  #drainWaiters = new Set<() => void>();
  #errorsSinceConnect = 0;
  #wasConnected = false;
  #stats = { enqueued: 0, published: 0, stored: 0, resent: 0, ackRejected: 0, invalid: 0, connects: 0, retryWakeups: 0 };

  private constructor(o: MqttPublisherOptions) {
    this.#o = o;
    this.#log = (o.logger ?? silentLogger()).child({ component: 'mqtt-publisher' });
    this.#outbox = o.outbox;
    this.#countsTopic = topics.sensorCounts(o.sensorId, o.mqtt.topicBase);
    this.#statusTopic = topics.sensorStatus(o.sensorId, o.mqtt.topicBase);
    this.#storedTopic = topics.sensorStored(o.sensorId, o.mqtt.topicBase);
    this.#delivery = o.delivery ?? DEFAULT_DELIVERY;
    this.#startedAt = o.startedAt ?? Math.floor(Date.now() / 1000);
    this.#client = mqtt.connect(o.mqtt.url, this.#clientOptions());
    this.#client.on('connect', (connack) => this.#onConnect(connack.sessionPresent));
    this.#client.on('close', () => this.#onClose());
    this.#client.on('error', (err) => this.#onError(err));
    this.#client.on('reconnect', () => this.#log.debug('reconnecting to the broker'));
    this.#client.on('message', (topic, payload) => this.#onMessage(topic, payload));
  }

  /** Creates the publisher and starts connecting in the background; windows are accepted at once. */
  static start(o: MqttPublisherOptions): MqttPublisher {
    return new MqttPublisher(o);
  }

  /** The underlying mqtt.js client (tests, diagnostics). */
  get mqttClient(): MqttClient {
    return this.#client;
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  stats(): PublisherStats {
    return {
      ...this.#stats,
      queued: this.#outbox.closed ? 0 : this.#outbox.size + this.#pending.length,
      inFlight: this.#inFlight.size,
      awaitingStore: this.#awaiting.size,
      dropped: this.#outbox.closed ? 0 : this.#outbox.dropped,
      droppedTotal: this.#outbox.closed ? 0 : this.#outbox.droppedTotal,
      connected: this.#client.connected,
    };
  }

  /** Takes one closed window: it is committed to the outbox at the next turn of the event loop, then sent. */
  onWindow(counts: WindowCounts): void {
    if (this.#closed) {
      this.#log.warn({ windowStart: counts.windowStart }, 'window after close; not sent');
      return;
    }
    this.#pending.push(counts);
    this.#commitScheduled ??= setImmediate(() => {
      this.#commitScheduled = null;
      this.#commit();
    });
  }

  /** Commits every window received so far to the outbox (on disk). */
  async flush(): Promise<void> {
    this.#commit();
  }

  /**
   * Waits until the outbox is empty (every message reported stored by an aggregator) or `timeoutMs` passed; true
   * when empty. Sending goes on only while connected.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    return this.#waitUntil(() => this.#isDrained(), timeoutMs);
  }

  /**
   * Waits until every message is with the broker (PUBACK; possibly not yet stored) or `timeoutMs` passed; true
   * then. A shutdown waits for this, not for the aggregator, which may be away for long.
   */
  async sent(timeoutMs: number): Promise<boolean> {
    return this.#waitUntil(() => this.#isSent(), timeoutMs);
  }

  async #waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
    this.#commit();
    this.#pump();
    if (check()) return true;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.#drainWaiters.delete(waiter);
        resolve(ok);
      };
      const waiter = (): void => {
        if (check()) done(true);
      };
      const timer = setTimeout(() => done(check()), timeoutMs);
      this.#drainWaiters.add(waiter);
    });
  }

  /** Resolves when connected (true) or after `timeoutMs` (false). */
  async waitConnected(timeoutMs: number): Promise<boolean> {
    if (this.#client.connected) return true;
    return new Promise<boolean>((resolve) => {
      const onConnect = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#client.removeListener('connect', onConnect);
        resolve(false);
      }, timeoutMs);
      this.#client.once('connect', onConnect);
    });
  }

  /**
   * Publishes the retained `offline` status (when connected) and disconnects cleanly; each step within
   * `timeoutMs`. Windows still in the outbox stay there for the next start. Does not close the outbox.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.#closing = true;
    this.#commit();
    this.#closed = true;
    if (this.#client.connected) {
      // A connection that dies meanwhile ends the wait (the broker then publishes the last will instead).
      let onClose: (() => void) | undefined;
      const lost = new Promise<void>((_, reject) => {
        onClose = () => reject(new Error('connection closed'));
        this.#client.once('close', onClose);
      });
      lost.catch(() => undefined);
      try {
        await withTimeout(
          Promise.race([this.#client.publishAsync(this.#statusTopic, JSON.stringify(this.#status('offline')), { qos: 1, retain: true }), lost]),
          timeoutMs,
          'offline status',
        );
      } catch (err) {
        this.#log.warn({ err }, 'could not publish the offline status');
      } finally {
        this.#client.removeListener('close', onClose!);
      }
    }
    const connected = this.#client.connected;
    try {
      await withTimeout(this.#client.endAsync(!connected), timeoutMs, 'disconnect');
    } catch (err) {
      this.#log.warn({ err }, 'clean disconnect failed; closing the connection');
      await withTimeout(this.#client.endAsync(true), timeoutMs, 'forced disconnect').catch(() => undefined);
    }
    this.#clearRetryTimer();
    for (const w of [...this.#drainWaiters]) w();
    this.#log.info({ ...this.stats(), connected: false }, 'publisher closed');
  }

  #clientOptions(): IClientOptions {
    return mqttClientOptions(this.#o.mqtt, {
      clientId: `passant-sensor-${this.#o.sensorId}`,
      will: { topic: this.#statusTopic, payload: JSON.stringify(this.#status('offline')) },
      extra: {
        reconnectOnConnackError: true,
        // Subscribed anew on every connect (#onConnect), which also covers a session the broker lost.
        resubscribe: false,
        queueQoSZero: false,
        // No table of 65,536 pre-made two-byte buffers (mqtt-packet's number cache): about 7 MB of heap to save
        // microseconds per packet, for a sensor that sends a few packets a minute.
        writeCache: false,
      },
    });
  }

  #status(state: 'online' | 'offline'): StatusMessage {
    const status: StatusMessage = {
      v: 1,
      state,
      role: 'sensor',
      id: this.#o.sensorId,
      ...(this.#o.version !== undefined ? { version: this.#o.version } : {}),
      startedAt: this.#startedAt,
      windowSeconds: this.#o.windowSeconds,
      radios: [...this.#o.radios],
      ...(state === 'online' ? { countsSchema: countsMessageJsonSchema() } : {}),
      ...(state === 'online' && this.#o.build !== undefined ? { build: this.#o.build } : {}),
    };
    return StatusMessageSchema.parse(status);
  }

  #onConnect(sessionPresent: boolean): void {
    this.#stats.connects++;
    this.#wasConnected = true;
    this.#errorsSinceConnect = 0;
    this.#log.info(
      { url: safeUrl(this.#o.mqtt.url), sessionPresent, queued: this.stats().queued },
      this.#stats.connects === 1 ? 'connected to the broker' : 'reconnected to the broker',
    );
    this.#client
      .publishAsync(this.#statusTopic, JSON.stringify(this.#status('online')), { qos: 1, retain: true })
      .catch((err: unknown) => this.#log.warn({ err }, 'could not publish the online status'));
    this.#subscribeStored();
    this.#pump();
  }

  /** Subscribes to this sensor's `stored` acknowledgements (QoS 1, so they wait in the session while it is away). */
  #subscribeStored(): void {
    this.#client
      .subscribeAsync(this.#storedTopic, { qos: 1 })
      .then((granted) => {
        if (granted.some((g) => g.qos === 128)) {
          this.#subscribed = false;
          // Nothing can be freed then: the outbox keeps every message and re-sends them until the bound drops them.
          this.#log.error({ topic: this.#storedTopic }, 'the broker refused the subscription to the stored acknowledgements (ACL?); the outbox cannot be emptied');
          return;
        }
        this.#subscribed = true;
      })
      .catch((err: unknown) => this.#log.warn({ err }, 'could not subscribe to the stored acknowledgements; trying again on the next connect'));
  }

  /** Whether the subscription to the stored acknowledgements is in place (this connection). */
  get subscribed(): boolean {
    return this.#subscribed && this.#client.connected;
  }

  /** A message on the stored topic: frees exactly the seqs an aggregator reported stored. */
  #onMessage(topic: string, payload: Buffer): void {
    if (topic !== this.#storedTopic) return;
    let seqs: number[];
    try {
      const parsed = StoredAckSchema.safeParse(JSON.parse(payload.toString('utf8')));
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
      seqs = parsed.data.seqs;
    } catch (err) {
      this.#stats.ackRejected++;
      // The reason and the size only, never the content.
      this.#log.warn({ reason: (err as Error).message.slice(0, 200), bytes: payload.byteLength }, 'ignored a message on the stored topic that is not a valid acknowledgement');
      return;
    }
    if (this.#outbox.closed) return;
    let ids: number[];
    try {
      ids = this.#outbox.removeSeqs(seqs);
    } catch (err) {
      // Kept: sent again later, and acknowledged again (the aggregator acknowledges duplicates too).
      this.#log.error({ err }, 'could not remove stored messages from the outbox');
      return;
    }
    for (const id of ids) {
      const a = this.#awaiting.get(id);
      if (a !== undefined && a.order > this.#storedOrder) this.#storedOrder = a.order;
      this.#awaiting.delete(id);
    }
    this.#stats.stored += ids.length;
    // The report may bring re-sends forward (messages sent before it no longer wait for retryMaxMs), or leave
    // nothing to wait for.
    this.#scheduleRetries();
    this.#log.debug({ acknowledged: seqs.length, freed: ids.length }, 'stored acknowledgement');
    this.#notifyWaiters();
  }

  #onClose(): void {
    if (this.#wasConnected && !this.#closing) {
      this.#log.warn({ queued: this.stats().queued }, 'connection to the broker lost; counts wait in the outbox');
    }
    this.#wasConnected = false;
  }

  #onError(err: Error): void {
    this.#errorsSinceConnect++;
    // The first error of an outage at warn, the retries' at debug: a broker away for a day is not 1440 warnings.
    const level = this.#errorsSinceConnect === 1 ? 'warn' : 'debug';
    this.#log[level]({ err, url: safeUrl(this.#o.mqtt.url) }, 'broker connection error');
  }

  /**
   * One radio's counts as they leave the sensor: the RSSI histogram (a signal trace, in a small window close to
   * one device's) only in setup mode, where it serves to choose the RSSI floor.
   */
  #radio(r: WindowCounts['wifi']): WindowCounts['wifi'] {
    if (this.#o.sendRssiHistogram === true) return r;
    const { rssiHistogram: _left, ...rest } = r;
    return rest;
  }

  /** Builds and validates the message of one window with its sequence number; throws InvalidCountsError. */
  #build(counts: WindowCounts, seq: number): string {
    const message: CountsMessage = {
      v: 1,
      sensorId: this.#o.sensorId,
      windowStart: counts.windowStart,
      windowSeconds: counts.windowSeconds,
      seq,
      wifi: this.#radio(counts.wifi),
      ble: this.#radio(counts.ble),
      rssiFloor: counts.rssiFloor,
    };
    const parsed = CountsMessageSchema.safeParse(message);
    if (!parsed.success) {
      // Paths and messages only: the values stay out of the log.
      throw new InvalidCountsError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
    }
    return JSON.stringify(parsed.data);
  }

  #commit(): void {
    if (this.#commitScheduled !== null) {
      clearImmediate(this.#commitScheduled);
      this.#commitScheduled = null;
    }
    // At most COMMIT_CHUNK windows per transaction: a burst of windows (a clock that jumped) neither makes one huge
    // transaction nor grows the file far beyond the outbox's bound before the oldest are dropped.
    while (this.#pending.length > 0 && !this.#outbox.closed) {
      if (!this.#commitChunk(this.#pending.splice(0, COMMIT_CHUNK))) break;
    }
    this.#pump();
  }

  /** Commits one chunk of windows; false when the outbox could not be written (the windows wait in memory). */
  #commitChunk(batch: WindowCounts[]): boolean {
    const builders = batch.map((counts) => (seq: number) => this.#build(counts, seq));
    let seqs: number[];
    try {
      const dropsBefore = this.#outbox.dropped;
      seqs = this.#outbox.enqueueMany(
        builders,
        (err, i) => {
          this.#stats.invalid++;
          this.#log.error({ windowStart: batch[i]!.windowStart, reason: (err as Error).message }, 'window refused by the counts schema; not sent');
        },
        Math.max(...batch.map((c) => c.windowStart)),
      );
      const dropped = this.#outbox.dropped - dropsBefore;
      if (dropped > 0) {
        // Rows the bound dropped wait for nothing any more.
        const oldest = this.#outbox.peek(0, 1)[0]?.id ?? Infinity;
        for (const id of this.#awaiting.keys()) if (id < oldest) this.#awaiting.delete(id);
        this.#log.warn({ dropped, droppedTotal: this.#outbox.droppedTotal, maxMessages: this.#outbox.maxMessages, maxBytes: this.#outbox.maxBytes }, 'outbox full: dropped the oldest counts');
      }
    } catch (err) {
      // Disk trouble: keep the windows in memory (bounded like the outbox) and try again with the next window.
      this.#pending = batch.concat(this.#pending).slice(-this.#outbox.maxMessages);
      this.#log.error({ err, pending: this.#pending.length }, 'could not write to the outbox; will retry');
      return false;
    }
    this.#stats.enqueued += seqs.length;
    if (this.#log.isLevelEnabled('debug')) {
      let k = 0;
      for (const counts of batch) {
        // Counts only (never anything derived from an address).
        this.#log.debug(
          {
            windowStart: counts.windowStart,
            seq: seqs[k++],
            wifi: { devices: counts.wifi.devices, randomized: counts.wifi.randomized, frames: counts.wifi.frames },
            ble: { devices: counts.ble.devices, randomized: counts.ble.randomized, frames: counts.ble.frames },
          },
          'window queued',
        );
      }
    }
    return true;
  }

  /** Sends outbox messages in order while connected, at most `maxInFlight` unacknowledged at once; then re-sends. */
  #pump(): void {
    if (!this.#client.connected || this.#closed || this.#outbox.closed) return;
    const max = this.#o.mqtt.maxInFlight;
    for (let rounds = 0; this.#inFlight.size < max && rounds < 1000; rounds++) {
      const rows = this.#outbox.peek(this.#lastSentId, max - this.#inFlight.size);
      if (rows.length === 0) break;
      for (const row of rows) {
        this.#lastSentId = row.id;
        if (this.#inFlight.has(row.id) || this.#awaiting.has(row.id)) continue;
        this.#send(row, 1);
      }
    }
    this.#resendDue();
  }

  /**
   * Sends again, in queue order, the messages whose wait for a stored acknowledgement is over and that look lost:
   * an aggregator has since reported stored a message the broker took after them (so it is working, and has
   * worked past them), or `retryMaxMs` passed since they were sent. While no aggregator reports anything (it is
   * away: the broker queues for it) nothing is sent again before `retryMaxMs`, so an outage does not fill the
   * broker's queue with copies.
   */
  #resendDue(): void {
    if (this.#awaiting.size === 0 || !this.#client.connected || this.#closed || this.#outbox.closed) return;
    const max = this.#o.mqtt.maxInFlight;
    const now = Date.now();
    for (const [id, a] of this.#awaiting) {
      if (this.#inFlight.size >= max) break;
      if (a.due > now || (a.order > this.#storedOrder && now - a.sentAt < this.#delivery.retryMaxMs)) continue;
      this.#awaiting.delete(id);
      const row = this.#outbox.get(id);
      if (row === undefined) continue; // stored meanwhile, or dropped by the bound
      this.#stats.resent++;
      this.#log.debug({ seq: row.seq, tries: a.tries + 1 }, 'counts message not reported stored; sending it again');
      this.#send(row, a.tries + 1);
    }
  }

  /**
   * When a message awaiting its stored report becomes due for a re-send as things stand: after its wait, and,
   * until an aggregator has reported stored something the broker took after it, not before `retryMaxMs`.
   */
  #resendAt(a: { due: number; order: number; sentAt: number }): number {
    return a.order > this.#storedOrder ? Math.max(a.due, a.sentAt + this.#delivery.retryMaxMs) : a.due;
  }

  /**
   * One timer, set to the earliest re-send among the messages awaiting their stored report (a full look at them:
   * after the timer fired, and when a stored report may have brought re-sends forward). None while nothing awaits:
   * a sensor whose aggregator is away sleeps until a re-send is due instead of looking every second. Re-sends due
   * now that could not go (not connected, `maxInFlight` reached) are left out: the next connect or PUBACK sends
   * them (#pump).
   */
  #scheduleRetries(after = -Infinity): void {
    let next = Infinity;
    for (const a of this.#awaiting.values()) {
      const at = this.#resendAt(a);
      if (at > after && at < next) next = at;
    }
    this.#clearRetryTimer();
    this.#armRetryTimer(next);
  }

  /** Moves the retry timer forward to `at` (ms since the epoch) when it is set later or not at all. */
  #armRetryTimer(at: number): void {
    if (this.#closed || at === Infinity || (this.#retryTimer !== null && this.#retryAt <= at)) return;
    this.#clearRetryTimer();
    this.#retryAt = at;
    // setTimeout takes at most 2^31 - 1 ms; a later re-send is looked at again then.
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#retryAt = Infinity;
      this.#stats.retryWakeups++;
      this.#resendDue();
      this.#scheduleRetries(Date.now());
    }, Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1));
    this.#retryTimer.unref();
  }

  #clearRetryTimer(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#retryAt = Infinity;
  }

  #send(row: OutboxEntry, tries: number): void {
    this.#inFlight.set(row.id, tries);
    this.#client.publish(this.#countsTopic, row.payload, { qos: 1, retain: false }, (err) => {
      this.#inFlight.delete(row.id);
      if (err) {
        // Not acknowledged (connection closed by end()): it stays in the outbox and goes again later.
        this.#lastSentId = Math.min(this.#lastSentId, row.id - 1);
        this.#log.debug({ seq: row.seq, reason: err.message }, 'counts message not acknowledged; kept in the outbox');
        this.#notifyWaiters();
        return;
      }
      this.#stats.published++;
      // With the broker now; it stays in the outbox until an aggregator reports it stored (unless that came first).
      if (!this.#outbox.closed && this.#outbox.get(row.id) !== undefined) {
        const wait = Math.min(this.#delivery.retryMaxMs, this.#delivery.retryInitialMs * 2 ** Math.min(tries - 1, 30));
        const now = Date.now();
        const a = { due: now + wait, tries, order: ++this.#pubackOrder, sentAt: now };
        this.#awaiting.set(row.id, a);
        this.#armRetryTimer(this.#resendAt(a));
      }
      this.#notifyWaiters();
      this.#pump();
    });
  }

  #notifyWaiters(): void {
    for (const w of [...this.#drainWaiters]) w();
  }

  /** Nothing waits for the broker: no window pending, nothing in flight, every outbox row acknowledged by it. */
  #isSent(): boolean {
    if (this.#pending.length > 0 || this.#inFlight.size > 0) return false;
    if (this.#outbox.closed) return true;
    return this.#outbox.size <= this.#awaiting.size;
  }

  /** Nothing waits: no window pending, nothing in flight, and the outbox empty (every message stored). */
  #isDrained(): boolean {
    if (this.#pending.length > 0 || this.#inFlight.size > 0) return false;
    if (this.#outbox.closed) return true;
    return this.#outbox.size === 0;
  }
}
