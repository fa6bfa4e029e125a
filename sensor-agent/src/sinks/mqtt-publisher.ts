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
 * The client connects in the background (`mqtt.connect`, not `connectAsync`): the agent must count, and fill its
 * outbox, while the broker is away, also at start-up. Session: `clean: false` with a fixed client id
 * (`passant-sensor-<id>`), so messages in flight when the connection drops are resent by mqtt.js on reconnect and
 * `stored` acknowledgements published while the sensor is away wait for it at the broker.
 *
 * This file holds the connection's life and the sending; the parts are apart: mqtt-connect.ts (the client and its
 * options), publisher-messages.ts (the messages and their schemas), window-commit.ts (windows into the outbox),
 * resend-schedule.ts (when a message not reported stored goes again), publisher-options.ts (options, statistics).
 * What is left, a little over 400 lines, is one piece: the pending, in-flight and waiting state its methods share.
 */
import type { MqttClient } from 'mqtt';
import { topics, withTimeout, type StatusMessage } from '@passant/shared';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { WindowCounts, WindowSink } from '../pipeline/types.ts';
import type { Outbox, OutboxEntry } from './outbox.ts';
import { connectMqtt, sensorClientOptions } from './mqtt-connect.ts';
import { countsPayload, statusMessage, storedSeqs } from './publisher-messages.ts';
import { DEFAULT_DELIVERY, ResendSchedule } from './resend-schedule.ts';
import { commitWindows } from './window-commit.ts';
import { safeUrl, type MqttPublisherOptions, type PublisherStats } from './publisher-options.ts';

export { InvalidCountsError } from './publisher-messages.ts';
export { DEFAULT_DELIVERY, type DeliverySettings } from './resend-schedule.ts';
export { safeUrl, type MqttPublisherOptions, type MqttPublisherSettings, type PublisherStats } from './publisher-options.ts';

export class MqttPublisher implements WindowSink {
  readonly #o: MqttPublisherOptions;
  readonly #log: Logger;
  readonly #outbox: Outbox;
  readonly #client: MqttClient;
  readonly #countsTopic: string;
  readonly #statusTopic: string;
  readonly #storedTopic: string;
  readonly #startedAt: number;
  /** Windows received, not yet committed to the outbox (committed at the next turn of the event loop). */
  #pending: WindowCounts[] = [];
  #commitScheduled: NodeJS.Immediate | null = null;
  /** Outbox ids handed to mqtt.js and not yet acknowledged by the broker, with the try they are. */
  readonly #inFlight = new Map<number, number>();
  /** Outbox ids the broker acknowledged and no aggregator reported stored: when to send them again, which try. */
  readonly #resends: ResendSchedule;
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
    this.#resends = new ResendSchedule(
      o.delivery ?? DEFAULT_DELIVERY,
      () => !this.#closed,
      (now) => {
        this.#stats.retryWakeups++;
        this.#resendDue(now);
      },
    );
    this.#startedAt = o.startedAt ?? Math.floor(Date.now() / 1000);
    this.#client = connectMqtt(o.mqtt.url, sensorClientOptions(o.mqtt, o.sensorId, this.#statusTopic, JSON.stringify(this.#status('offline'))));
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
      awaitingStore: this.#resends.size,
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
    this.#resends.clearTimer();
    for (const w of [...this.#drainWaiters]) w();
    this.#log.info({ ...this.stats(), connected: false }, 'publisher closed');
  }

  #status(state: 'online' | 'offline'): StatusMessage {
    const o = this.#o;
    return statusMessage({ sensorId: o.sensorId, windowSeconds: o.windowSeconds, radios: o.radios, version: o.version, build: o.build, startedAt: this.#startedAt }, state);
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
      seqs = storedSeqs(payload);
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
    this.#stats.stored += ids.length;
    // The report may bring re-sends forward (messages sent before it no longer wait for retryMaxMs), or leave
    // nothing to wait for.
    this.#resends.stored(ids);
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

  /** Builds and validates the message of one window with its sequence number; throws InvalidCountsError. */
  #build(counts: WindowCounts, seq: number): string {
    return countsPayload(this.#o.sensorId, counts, seq, this.#o.sendRssiHistogram === true);
  }

  #commit(): void {
    if (this.#commitScheduled !== null) {
      clearImmediate(this.#commitScheduled);
      this.#commitScheduled = null;
    }
    this.#pending = commitWindows(this.#pending, {
      outbox: this.#outbox,
      log: this.#log,
      build: (counts, seq) => this.#build(counts, seq),
      stats: this.#stats,
      forgetBefore: (id) => this.#resends.forgetBefore(id),
    });
    this.#pump();
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
        if (this.#inFlight.has(row.id) || this.#resends.has(row.id)) continue;
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
  #resendDue(now = Date.now()): void {
    if (this.#resends.size === 0 || !this.#client.connected || this.#closed || this.#outbox.closed) return;
    const max = this.#o.mqtt.maxInFlight;
    this.#resends.takeDue(
      () => this.#inFlight.size < max,
      (id, tries) => {
        const row = this.#outbox.get(id);
        if (row === undefined) return; // stored meanwhile, or dropped by the bound
        this.#stats.resent++;
        this.#log.debug({ seq: row.seq, tries: tries + 1 }, 'counts message not reported stored; sending it again');
        this.#send(row, tries + 1);
      },
      now,
    );
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
      if (!this.#outbox.closed && this.#outbox.get(row.id) !== undefined) this.#resends.acknowledged(row.id, tries);
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
    return this.#outbox.size <= this.#resends.size;
  }

  /** Nothing waits: no window pending, nothing in flight, and the outbox empty (every message stored). */
  #isDrained(): boolean {
    if (this.#pending.length > 0 || this.#inFlight.size > 0) return false;
    if (this.#outbox.closed) return true;
    return this.#outbox.size === 0;
  }
}
