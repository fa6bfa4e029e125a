/**
 * Home Assistant bridge: for each zone an API token may read, a Home Assistant MQTT discovery config per radio
 * (`<prefix>/sensor/<node>_<zone>_<radio>/config`, retained) and every released minute of that zone and radio as
 * the sensor's state. It can only ever see what the token sees: it reads the aggregator's public HTTP API
 * (GET /api/v1/zones, and the live stream GET /api/v1/events, which carries the cells released to that token,
 * exact or noisy) and never the store or the sensors' topics. A hidden minute (below k) publishes nothing, so Home
 * Assistant shows the sensor as unavailable once no state came for `expire_after` seconds; a zone the token can no
 * longer read has its config removed (an empty retained payload), which removes the entity.
 *
 * Availability (the bridge's last will on `<topicPrefix>/<node>/status`): `online` while the bridge is connected
 * to the broker and the event stream is open, `offline` while the aggregator cannot be reached, when the bridge
 * stops, and (last will) when it dies. Both links reconnect: mqtt.js on its own, the event stream with a doubling
 * wait. A token the aggregator refuses (401, or 403/404 on /zones) stops the bridge with a clear message.
 * The command line that runs it is home-assistant-command.ts. The parts: the aggregator side, reading the API and
 * its event stream (home-assistant-api.ts), and the discovery documents and their topics
 * (home-assistant-discovery.ts). This file is the bridge itself: its lifecycle (start, retry, stop), its
 * availability, and each released minute published as a state.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { RADIOS, type Radio } from '@passant/shared';
import { AggregatorApi, BridgeFatalError, RetryableError } from './home-assistant-api.ts';
import { DiscoveryDocuments, HomeAssistantNames, ID, type ZoneInfo } from './home-assistant-discovery.ts';

export { BridgeFatalError } from './home-assistant-api.ts';
export { HomeAssistantNames, type DiscoveryConfig } from './home-assistant-discovery.ts';

export interface HomeAssistantBridgeOptions {
  /** The aggregator's base URL (http://host:8080), without /api/v1. */
  apiUrl: string;
  /** API token (Bearer); without one the bridge reads the public zones only. Never logged. */
  token?: string;
  mqttUrl: string;
  /** More mqtt.js options (username, password, ca). */
  mqttOptions?: IClientOptions;
  /** Home Assistant's discovery prefix (default `homeassistant`). */
  discoveryPrefix?: string;
  /** Where state, attributes and availability go (default `passant/home-assistant`). */
  topicPrefix?: string;
  /** Names this bridge in object ids, unique ids and topics (default `passant`), so two bridges can share a broker. */
  nodeId?: string;
  /** The radios published, each its own sensor (default wifi). */
  radios?: readonly Radio[];
  /** Home Assistant marks a sensor unavailable after this long without a state (default 300 s: five minutes). */
  expireAfterSeconds?: number;
  /** How often the readable zones are asked for again (default 60 s). */
  zonesRefreshMs?: number;
  /** First wait after the aggregator could not be reached; it doubles up to `retryMaxMs` (defaults 1 s, 60 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** An event stream silent this long (no event, no keep-alive) is taken as dead and opened again (default 60 s). */
  stallTimeoutMs?: number;
  /** Sent as the origin's and device's software version. */
  version?: string;
  logger: Logger;
}

/** A released cell as the event stream sends it. */
interface EventCell {
  zoneId: string;
  radio: string;
  t: number;
  devices: number | null;
}

export class HomeAssistantBridge {
  /** The bridge's topics, ids and discovery documents. */
  readonly names: HomeAssistantNames;
  private readonly logger: Logger;
  private readonly radios: readonly Radio[];
  private readonly zonesRefreshMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly stallTimeoutMs: number;
  private readonly api: AggregatorApi;
  private readonly discovery: DiscoveryDocuments;
  private client: MqttClient | undefined;
  /** The zones the token reads now (null until the aggregator first answered). */
  private zones: Map<string, ZoneInfo> | null = null;
  /** Zone/radio -> the newest minute published, so a late older minute never replaces a newer state. */
  private readonly lastMinute = new Map<string, number>();
  private streamOpen = false;
  private stopped = false;
  private stream: AbortController | undefined;
  /** Aborts every request to the aggregator when the bridge stops. */
  private readonly stopping = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private fatalError: BridgeFatalError | undefined;
  private readonly done: Promise<BridgeFatalError | undefined>;
  private resolveDone!: (err: BridgeFatalError | undefined) => void;

  constructor(private readonly options: HomeAssistantBridgeOptions) {
    this.logger = options.logger;
    const discoveryPrefix = (options.discoveryPrefix ?? 'homeassistant').replace(/\/+$/, '');
    const topicPrefix = (options.topicPrefix ?? 'passant/home-assistant').replace(/\/+$/, '');
    const nodeId = options.nodeId ?? 'passant';
    this.radios = options.radios ?? ['wifi'];
    const expireAfterSeconds = options.expireAfterSeconds ?? 300;
    this.zonesRefreshMs = options.zonesRefreshMs ?? 60_000;
    this.retryInitialMs = options.retryInitialMs ?? 1000;
    this.retryMaxMs = options.retryMaxMs ?? 60_000;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
    if (!ID.test(nodeId)) throw new Error(`node id ${JSON.stringify(nodeId)} must match ${ID.source}`);
    for (const radio of this.radios) if (!RADIOS.includes(radio)) throw new Error(`unknown radio ${JSON.stringify(radio)} (wifi, ble)`);
    for (const [what, topic] of [['discovery prefix', discoveryPrefix], ['topic prefix', topicPrefix]] as const) {
      if (topic === '' || /[#+]/.test(topic)) throw new Error(`${what} ${JSON.stringify(topic)} must be a topic without wildcards`);
    }
    if (!Number.isInteger(expireAfterSeconds) || expireAfterSeconds < 60) throw new Error('expire_after must be a whole number of seconds, at least 60');
    this.names = new HomeAssistantNames(discoveryPrefix, topicPrefix, nodeId, expireAfterSeconds, options.version);
    this.api = new AggregatorApi(options.apiUrl, options.token, this.stopping.signal);
    this.discovery = new DiscoveryDocuments(this.names, this.radios, { client: () => this.client, zones: () => this.zones }, this.logger);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** The bridge's availability topic (its last will). */
  get availabilityTopic(): string {
    return this.names.availabilityTopic;
  }

  /** Connects to the broker and starts following the aggregator. */
  start(): void {
    if (this.client) return;
    const client = mqtt.connect(this.options.mqttUrl, {
      clientId: `passant-ha-${this.names.nodeId}-${randomBytes(4).toString('hex')}`,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      ...this.options.mqttOptions,
      will: { topic: this.availabilityTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => {
      this.logger.info({ broker: redactUrl(this.options.mqttUrl) }, 'home assistant bridge: connected to the broker');
      void this.onBrokerConnect();
    });
    client.on('error', (err) => this.logger.warn({ err }, 'home assistant bridge: broker error'));
    client.on('offline', () => this.logger.warn('home assistant bridge: broker unreachable, reconnecting'));
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    this.loop = this.run();
  }

  /** Resolves when the bridge has stopped for good: with the error when the aggregator refused it. */
  finished(): Promise<BridgeFatalError | undefined> {
    return this.done;
  }

  /** Publishes `offline`, stops following the aggregator and disconnects. Discovery configs stay (entities stay). */
  async stop(): Promise<void> {
    if (this.stopped) {
      await this.loop;
      return;
    }
    this.stopped = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.stopping.abort();
    this.stream?.abort();
    this.wake?.();
    await this.loop;
    await this.disconnect();
    this.resolveDone(this.fatalError);
  }

  /** Stops the zone refresh (the loop may have started it while stopping), says `offline` when the broker can hear it, disconnects. */
  private async disconnect(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    const client = this.client;
    if (!client) return;
    if (client.connected) await client.publishAsync(this.availabilityTopic, 'offline', { qos: 1, retain: true }).catch(() => undefined);
    await client.endAsync();
  }

  // ---- the aggregator side ----

  private async run(): Promise<void> {
    let waitMs = this.retryInitialMs;
    while (!this.stopped) {
      let opened = false;
      try {
        await this.refreshZones();
        this.refreshTimer ??= setInterval(() => {
          this.refreshZones().catch((err: unknown) => this.onRefreshError(err));
        }, this.zonesRefreshMs);
        await this.follow(() => {
          opened = true;
          waitMs = this.retryInitialMs;
        });
        if (this.stopped) break;
        this.logger.warn({ retryInMs: this.retryInitialMs }, 'home assistant bridge: the event stream ended, opening it again');
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof BridgeFatalError) {
          await this.fail(err);
          return;
        }
        const retry = err instanceof RetryableError ? err.retryAfterMs : undefined;
        this.logger.warn({ err, retryInMs: Math.max(waitMs, retry ?? 0) }, 'home assistant bridge: aggregator unreachable, retrying');
        waitMs = Math.max(waitMs, retry ?? 0);
      } finally {
        this.setStreamOpen(false);
      }
      if (this.stopped) break;
      await this.sleep(opened ? this.retryInitialMs : waitMs);
      if (!opened) waitMs = Math.min(waitMs * 2, this.retryMaxMs);
    }
  }

  private onRefreshError(err: unknown): void {
    if (this.stopped) return;
    if (err instanceof BridgeFatalError) {
      this.fatalError ??= err;
      this.stream?.abort();
      return;
    }
    this.logger.warn({ err }, 'home assistant bridge: could not refresh the zones');
  }

  /** Clears this node's configs when the token is refused (its zones are no longer readable), then stops. */
  private async fail(err: BridgeFatalError): Promise<void> {
    this.fatalError = err;
    this.logger.error({ err }, 'home assistant bridge: stopping');
    if (this.zones !== null) {
      this.zones = new Map();
      await this.discovery.sync();
      const left = this.discovery.publishedCount;
      if (left > 0) this.logger.warn({ configs: left }, 'home assistant bridge: broker unreachable, discovery configs left in place');
    }
    this.stopped = true;
    await this.disconnect();
    this.resolveDone(err);
  }

  /** Reads the zones the token may read now and brings the discovery configs in line. */
  private async refreshZones(): Promise<void> {
    const zones = await this.api.zones();
    if (this.stopped) return;
    const before = this.zones;
    this.zones = zones;
    const gone = before === null ? [] : [...before.keys()].filter((id) => !zones.has(id));
    if (gone.length > 0) this.logger.info({ zones: gone }, 'home assistant bridge: zones no longer readable, removing them');
    if (before === null || gone.length > 0 || [...zones.keys()].some((id) => !before.has(id))) {
      this.logger.info({ zones: [...zones.keys()] }, 'home assistant bridge: zones the token reads');
    }
    await this.discovery.sync();
  }

  /** Opens the event stream and publishes its cells until it ends; `onOpen` runs once it is open. */
  private async follow(onOpen: () => void): Promise<void> {
    const controller = new AbortController();
    this.stream = controller;
    if (this.stopped) return;
    try {
      await this.api.follow(controller, this.stallTimeoutMs, {
        stopped: () => this.stopped,
        fatalError: () => this.fatalError,
        opened: () => {
          this.logger.info('home assistant bridge: following the released minutes');
          onOpen();
          this.setStreamOpen(true);
        },
        event: (data) => this.onCell(data),
      });
    } finally {
      this.stream = undefined;
    }
  }

  /** One released minute: published as the zone's and radio's state (a hidden minute publishes nothing). */
  private onCell(data: string): void {
    let cell: EventCell;
    try {
      cell = JSON.parse(data) as EventCell;
    } catch {
      this.logger.warn({ bytes: data.length }, 'home assistant bridge: an event that is not JSON, skipped');
      return;
    }
    const radio = cell.radio as Radio;
    if (!this.radios.includes(radio) || typeof cell.zoneId !== 'string' || !Number.isInteger(cell.t)) return;
    // Only zones the token reads now (the aggregator filters too); a hidden minute publishes nothing.
    if (!this.zones?.has(cell.zoneId)) return;
    if (typeof cell.devices !== 'number' || !Number.isFinite(cell.devices)) return;
    const key = `${cell.zoneId}/${radio}`;
    if ((this.lastMinute.get(key) ?? -Infinity) >= cell.t) return;
    const client = this.client;
    if (!client?.connected) return; // a later minute comes; a stale one queued now would be shown as current
    this.lastMinute.set(key, cell.t);
    const attributes = { minute_start: new Date(cell.t * 1000).toISOString(), window_seconds: 60 };
    client.publish(this.names.attributesTopic(cell.zoneId, radio), JSON.stringify(attributes), { qos: 1 });
    client.publish(this.names.stateTopic(cell.zoneId, radio), String(cell.devices), { qos: 1 });
  }

  // ---- the broker side ----

  private async onBrokerConnect(): Promise<void> {
    const client = this.client!;
    try {
      // Home Assistant announces its restarts here: configs are sent again. Retained configs of this node
      // (from an earlier run too) come back, so one for a zone no longer readable can be removed.
      await client.subscribeAsync(this.discovery.subscriptions, { qos: 1 });
      await this.discovery.republish(); // the broker may have lost them
      await this.publishAvailability();
    } catch (err) {
      this.logger.warn({ err }, 'home assistant bridge: could not set up on the broker');
    }
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (topic === `${this.names.discoveryPrefix}/status`) {
      if (payload.toString() === 'online') void this.discovery.republish().then(() => this.publishAvailability());
      return;
    }
    this.discovery.onConfig(topic, payload, retained);
  }

  private setStreamOpen(open: boolean): void {
    if (this.streamOpen === open) return;
    this.streamOpen = open;
    void this.publishAvailability();
  }

  private async publishAvailability(): Promise<void> {
    const client = this.client;
    if (!client?.connected || this.stopped) return;
    await client.publishAsync(this.availabilityTopic, this.streamOpen ? 'online' : 'offline', { qos: 1, retain: true }).catch((err: unknown) => {
      this.logger.warn({ err }, 'home assistant bridge: could not publish availability');
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** A broker URL without its password, for logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
