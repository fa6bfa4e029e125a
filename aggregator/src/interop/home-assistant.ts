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
 * The command line that runs it is home-assistant-command.ts.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { RADIOS, type Radio } from '@passant/shared';

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

/** A zone as GET /api/v1/zones lists it (the fields the bridge uses). */
interface ZoneInfo {
  id: string;
  name: string;
}

/** A released cell as the event stream sends it. */
interface EventCell {
  zoneId: string;
  radio: string;
  t: number;
  devices: number | null;
}

/** The aggregator refused the bridge for good (bad token, wrong URL): retrying cannot help. */
export class BridgeFatalError extends Error {}

/** Refused for now (aggregator down, 5xx, 429): retried with backoff. */
class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const RADIO_NAMES: Record<Radio, string> = { wifi: 'Wi-Fi devices', ble: 'Bluetooth devices' };

/** Home Assistant's discovery payload of one zone and radio (abbreviations not used, so it reads as documented). */
export interface DiscoveryConfig {
  name: string;
  unique_id: string;
  state_topic: string;
  json_attributes_topic: string;
  state_class: 'measurement';
  unit_of_measurement: string;
  suggested_display_precision: number;
  icon: string;
  availability_topic: string;
  payload_available: string;
  payload_not_available: string;
  expire_after: number;
  device: { identifiers: string[]; name: string; manufacturer: string; model: string; sw_version?: string; configuration_url?: string };
  origin: { name: string; sw_version?: string };
}

export class HomeAssistantBridge {
  private readonly logger: Logger;
  private readonly apiUrl: string;
  private readonly discoveryPrefix: string;
  private readonly topicPrefix: string;
  private readonly nodeId: string;
  private readonly radios: readonly Radio[];
  private readonly expireAfterSeconds: number;
  private readonly zonesRefreshMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly stallTimeoutMs: number;
  private client: MqttClient | undefined;
  /** The zones the token reads now (null until the aggregator first answered). */
  private zones: Map<string, ZoneInfo> | null = null;
  /** Discovery topic -> the payload published there (retained) by this bridge. */
  private readonly published = new Map<string, string>();
  /** Retained discovery configs of this node seen on the broker (from an earlier run too). */
  private readonly seenConfigs = new Set<string>();
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
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.discoveryPrefix = (options.discoveryPrefix ?? 'homeassistant').replace(/\/+$/, '');
    this.topicPrefix = (options.topicPrefix ?? 'passant/home-assistant').replace(/\/+$/, '');
    this.nodeId = options.nodeId ?? 'passant';
    this.radios = options.radios ?? ['wifi'];
    this.expireAfterSeconds = options.expireAfterSeconds ?? 300;
    this.zonesRefreshMs = options.zonesRefreshMs ?? 60_000;
    this.retryInitialMs = options.retryInitialMs ?? 1000;
    this.retryMaxMs = options.retryMaxMs ?? 60_000;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
    if (!ID.test(this.nodeId)) throw new Error(`node id ${JSON.stringify(this.nodeId)} must match ${ID.source}`);
    for (const radio of this.radios) if (!RADIOS.includes(radio)) throw new Error(`unknown radio ${JSON.stringify(radio)} (wifi, ble)`);
    for (const [what, topic] of [['discovery prefix', this.discoveryPrefix], ['topic prefix', this.topicPrefix]] as const) {
      if (topic === '' || /[#+]/.test(topic)) throw new Error(`${what} ${JSON.stringify(topic)} must be a topic without wildcards`);
    }
    if (!Number.isInteger(this.expireAfterSeconds) || this.expireAfterSeconds < 60) throw new Error('expire_after must be a whole number of seconds, at least 60');
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** The bridge's availability topic (its last will). */
  get availabilityTopic(): string {
    return `${this.topicPrefix}/${this.nodeId}/status`;
  }

  objectId(zoneId: string, radio: Radio): string {
    return `${this.nodeId}_${zoneId}_${radio}`;
  }

  configTopic(zoneId: string, radio: Radio): string {
    return `${this.discoveryPrefix}/sensor/${this.objectId(zoneId, radio)}/config`;
  }

  stateTopic(zoneId: string, radio: Radio): string {
    return `${this.topicPrefix}/${this.nodeId}/${zoneId}/${radio}/state`;
  }

  attributesTopic(zoneId: string, radio: Radio): string {
    return `${this.topicPrefix}/${this.nodeId}/${zoneId}/${radio}/attributes`;
  }

  /** The discovery config of a zone and radio. */
  discoveryConfig(zone: ZoneInfo, radio: Radio): DiscoveryConfig {
    const version = this.options.version;
    return {
      name: RADIO_NAMES[radio],
      unique_id: this.objectId(zone.id, radio),
      state_topic: this.stateTopic(zone.id, radio),
      json_attributes_topic: this.attributesTopic(zone.id, radio),
      state_class: 'measurement',
      unit_of_measurement: 'devices',
      suggested_display_precision: 0,
      icon: 'mdi:walk',
      availability_topic: this.availabilityTopic,
      payload_available: 'online',
      payload_not_available: 'offline',
      expire_after: this.expireAfterSeconds,
      device: {
        identifiers: [`${this.nodeId}_${zone.id}`],
        name: zone.name,
        manufacturer: 'Passant',
        model: 'Passant zone',
        ...(version ? { sw_version: version } : {}),
      },
      origin: { name: 'Passant', ...(version ? { sw_version: version } : {}) },
    };
  }

  /** Connects to the broker and starts following the aggregator. */
  start(): void {
    if (this.client) return;
    const client = mqtt.connect(this.options.mqttUrl, {
      clientId: `passant-ha-${this.nodeId}-${randomBytes(4).toString('hex')}`,
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
    const client = this.client;
    if (client) {
      if (client.connected) {
        await client.publishAsync(this.availabilityTopic, 'offline', { qos: 1, retain: true }).catch(() => undefined);
      }
      await client.endAsync();
    }
    this.resolveDone(this.fatalError);
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
      await this.syncConfigs();
      if (this.published.size > 0) this.logger.warn({ configs: this.published.size }, 'home assistant bridge: broker unreachable, discovery configs left in place');
    }
    this.stopped = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    const client = this.client;
    if (client) {
      if (client.connected) await client.publishAsync(this.availabilityTopic, 'offline', { qos: 1, retain: true }).catch(() => undefined);
      await client.endAsync();
    }
    this.resolveDone(err);
  }

  private headers(): Record<string, string> {
    return this.options.token ? { authorization: `Bearer ${this.options.token}`, accept: 'application/json' } : { accept: 'application/json' };
  }

  /** Turns a refusal into a fatal or retryable error, with the aggregator's own message (never the token). */
  private async refusal(res: Response, what: string): Promise<Error> {
    let detail = '';
    try {
      const body = (await res.json()) as { error?: { message?: unknown }; detail?: unknown; title?: unknown };
      const message = body.error?.message ?? body.detail ?? body.title;
      if (typeof message === 'string') detail = `: ${message.slice(0, 200)}`;
    } catch {
      // not JSON
    }
    if (res.status === 401) {
      return new BridgeFatalError(
        this.options.token
          ? `the aggregator refused the token (401${detail}); check the token file, or whether the token was revoked`
          : `the aggregator needs a token (401${detail}); give one with --token-file or PASSANT_HA_TOKEN`,
      );
    }
    if (res.status === 403 || res.status === 404) {
      return new BridgeFatalError(`${what} answered ${res.status}${detail}; check --api (the aggregator's base URL) and the token's role`);
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    return new RetryableError(`${what} answered ${res.status}${detail}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
  }

  /** Reads the zones the token may read now and brings the discovery configs in line. */
  private async refreshZones(): Promise<void> {
    let res: Response;
    try {
      res = await fetch(`${this.apiUrl}/api/v1/zones`, { headers: this.headers(), signal: AbortSignal.any([AbortSignal.timeout(15_000), this.stopping.signal]) });
    } catch (err) {
      throw new RetryableError(`GET /api/v1/zones failed: ${networkReason(err)}`);
    }
    if (res.status !== 200) throw await this.refusal(res, 'GET /api/v1/zones');
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      throw new RetryableError(`GET /api/v1/zones: not JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(body)) throw new RetryableError('GET /api/v1/zones: not a list of zones');
    const zones = new Map<string, ZoneInfo>();
    for (const item of body as unknown[]) {
      const zone = item as Partial<ZoneInfo>;
      if (typeof zone?.id !== 'string' || !ID.test(zone.id) || typeof zone.name !== 'string') continue;
      zones.set(zone.id, { id: zone.id, name: zone.name });
    }
    if (this.stopped) return;
    const before = this.zones;
    this.zones = zones;
    const gone = before === null ? [] : [...before.keys()].filter((id) => !zones.has(id));
    if (gone.length > 0) this.logger.info({ zones: gone }, 'home assistant bridge: zones no longer readable, removing them');
    if (before === null || gone.length > 0 || [...zones.keys()].some((id) => !before.has(id))) {
      this.logger.info({ zones: [...zones.keys()] }, 'home assistant bridge: zones the token reads');
    }
    await this.syncConfigs();
  }

  /** Opens the event stream and publishes its cells until it ends; `onOpen` runs once it is open. */
  private async follow(onOpen: () => void): Promise<void> {
    const controller = new AbortController();
    this.stream = controller;
    if (this.stopped) return;
    let stall: NodeJS.Timeout | undefined;
    let stalled = false;
    const arm = () => {
      clearTimeout(stall);
      stall = setTimeout(() => {
        stalled = true;
        controller.abort();
      }, this.stallTimeoutMs);
    };
    try {
      arm();
      let res: Response;
      try {
        res = await fetch(`${this.apiUrl}/api/v1/events`, { headers: { ...this.headers(), accept: 'text/event-stream' }, signal: controller.signal });
      } catch (err) {
        if (this.stopped) return;
        throw new RetryableError(`GET /api/v1/events failed: ${stalled ? 'no answer' : networkReason(err)}`);
      }
      if (res.status !== 200 || res.body === null) throw await this.refusal(res, 'GET /api/v1/events');
      this.logger.info('home assistant bridge: following the released minutes');
      onOpen();
      this.setStreamOpen(true);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          arm();
          buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split('\n')
              .filter((line) => line.startsWith('data:'))
              .map((line) => line.slice(5).replace(/^ /, ''))
              .join('\n');
            if (data !== '') this.onCell(data);
          }
          if (buffer.length > 1_000_000) throw new RetryableError('the event stream sent an event over 1 MB');
        }
      } catch (err) {
        if (this.stopped || err instanceof RetryableError) throw err;
        if (this.fatalError) throw this.fatalError;
        throw new RetryableError(stalled ? `the event stream was silent for ${this.stallTimeoutMs} ms` : `the event stream broke: ${networkReason(err)}`);
      }
      if (this.fatalError) throw this.fatalError;
    } finally {
      clearTimeout(stall);
      this.stream = undefined;
    }
  }

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
    client.publish(this.attributesTopic(cell.zoneId, radio), JSON.stringify(attributes), { qos: 1 });
    client.publish(this.stateTopic(cell.zoneId, radio), String(cell.devices), { qos: 1 });
  }

  // ---- the broker side ----

  private async onBrokerConnect(): Promise<void> {
    const client = this.client!;
    try {
      // Home Assistant announces its restarts here: configs are sent again. Retained configs of this node
      // (from an earlier run too) come back, so one for a zone no longer readable can be removed.
      await client.subscribeAsync([`${this.discoveryPrefix}/status`, `${this.discoveryPrefix}/sensor/+/config`], { qos: 1 });
      this.published.clear(); // the broker may have lost them: publish every config again
      await this.syncConfigs();
      await this.publishAvailability();
    } catch (err) {
      this.logger.warn({ err }, 'home assistant bridge: could not set up on the broker');
    }
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (topic === `${this.discoveryPrefix}/status`) {
      if (payload.toString() === 'online') {
        this.published.clear();
        void this.syncConfigs().then(() => this.publishAvailability());
      }
      return;
    }
    const match = /^(.*)\/sensor\/([^/]+)\/config$/.exec(topic);
    if (!match || match[1] !== this.discoveryPrefix || !match[2]!.startsWith(`${this.nodeId}_`)) return;
    if (payload.length === 0) {
      this.seenConfigs.delete(topic);
      return;
    }
    if (!retained) return;
    try {
      const config = JSON.parse(payload.toString()) as { availability_topic?: unknown };
      if (config.availability_topic !== this.availabilityTopic) return; // another bridge's
    } catch {
      return;
    }
    this.seenConfigs.add(topic);
    if (this.zones !== null && !this.wantedConfigs().has(topic)) void this.syncConfigs();
  }

  /** Discovery topic -> payload for the zones read now. */
  private wantedConfigs(): Map<string, string> {
    const wanted = new Map<string, string>();
    for (const zone of this.zones?.values() ?? []) {
      for (const radio of this.radios) wanted.set(this.configTopic(zone.id, radio), JSON.stringify(this.discoveryConfig(zone, radio)));
    }
    return wanted;
  }

  private syncing: Promise<void> = Promise.resolve();

  /** Publishes new or changed configs, removes those of zones no longer read (serialised). */
  private syncConfigs(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncOnce()).catch((err: unknown) => {
      this.logger.warn({ err }, 'home assistant bridge: could not publish the discovery configs');
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const client = this.client;
    if (this.zones === null || !client?.connected) return;
    const wanted = this.wantedConfigs();
    for (const topic of new Set([...this.published.keys(), ...this.seenConfigs])) {
      if (wanted.has(topic)) continue;
      await client.publishAsync(topic, '', { qos: 1, retain: true });
      this.published.delete(topic);
      this.seenConfigs.delete(topic);
    }
    for (const [topic, payload] of wanted) {
      if (this.published.get(topic) === payload) continue;
      await client.publishAsync(topic, payload, { qos: 1, retain: true });
      this.published.set(topic, payload);
    }
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

/** The reason of a failed fetch (undici hides it in `cause`), without the URL's credentials. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
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
