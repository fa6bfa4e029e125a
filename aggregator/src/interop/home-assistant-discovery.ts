/**
 * The Home Assistant bridge's discovery side (home-assistant.ts): the names of its topics and ids, the MQTT
 * discovery document of each zone and radio, and keeping the retained documents on the broker in line with the
 * zones the token reads (new and changed ones published, those of zones no longer read removed, also when an
 * earlier run of this bridge left them).
 */
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Radio } from '@passant/shared';

/** A node id, and a zone id the bridge publishes (ids go into topics and Home Assistant's object ids). */
export const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A zone as GET /api/v1/zones lists it (the fields the bridge uses). */
export interface ZoneInfo {
  id: string;
  name: string;
}

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

const RADIO_NAMES: Record<Radio, string> = { wifi: 'Wi-Fi devices', ble: 'Bluetooth devices' };

/** Where one bridge publishes, and what it publishes as discovery. */
export class HomeAssistantNames {
  constructor(
    readonly discoveryPrefix: string,
    readonly topicPrefix: string,
    readonly nodeId: string,
    private readonly expireAfterSeconds: number,
    private readonly version: string | undefined,
  ) {}

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
    const version = this.version;
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
}

/** What the discovery documents need from the bridge: its broker link and the zones the token reads now. */
export interface DiscoveryHost {
  client(): MqttClient | undefined;
  /** null until the aggregator first answered. */
  zones(): ReadonlyMap<string, ZoneInfo> | null;
}

/** The retained discovery documents of one bridge on the broker. */
export class DiscoveryDocuments {
  /** Discovery topic -> the payload published there (retained) by this bridge. */
  private readonly published = new Map<string, string>();
  /** Retained discovery configs of this node seen on the broker (from an earlier run too). */
  private readonly seenConfigs = new Set<string>();
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    private readonly names: HomeAssistantNames,
    private readonly radios: readonly Radio[],
    private readonly host: DiscoveryHost,
    private readonly logger: Logger,
  ) {}

  /** The topics to subscribe to: Home Assistant's restarts, and the configs on the broker (to find this node's). */
  get subscriptions(): string[] {
    return [`${this.names.discoveryPrefix}/status`, `${this.names.discoveryPrefix}/sensor/+/config`];
  }

  /** How many documents this bridge has published and not removed. */
  get publishedCount(): number {
    return this.published.size;
  }

  /** The broker may have lost them, or Home Assistant restarted: publish every config again. */
  republish(): Promise<void> {
    this.published.clear();
    return this.sync();
  }

  /** A message on a config topic: notes a retained config of this node, and removes it when its zone is no longer read. */
  onConfig(topic: string, payload: Buffer, retained: boolean): void {
    const match = /^(.*)\/sensor\/([^/]+)\/config$/.exec(topic);
    if (!match || match[1] !== this.names.discoveryPrefix || !match[2]!.startsWith(`${this.names.nodeId}_`)) return;
    if (payload.length === 0) {
      this.seenConfigs.delete(topic);
      return;
    }
    if (!retained) return;
    try {
      const config = JSON.parse(payload.toString()) as { availability_topic?: unknown };
      if (config.availability_topic !== this.names.availabilityTopic) return; // another bridge's
    } catch {
      return;
    }
    this.seenConfigs.add(topic);
    if (this.host.zones() !== null && !this.wanted().has(topic)) void this.sync();
  }

  /** Publishes new or changed configs, removes those of zones no longer read (serialised). */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncOnce()).catch((err: unknown) => {
      this.logger.warn({ err }, 'home assistant bridge: could not publish the discovery configs');
    });
    return this.syncing;
  }

  /** Discovery topic -> payload for the zones read now. */
  private wanted(): Map<string, string> {
    const wanted = new Map<string, string>();
    for (const zone of this.host.zones()?.values() ?? []) {
      for (const radio of this.radios) wanted.set(this.names.configTopic(zone.id, radio), JSON.stringify(this.names.discoveryConfig(zone, radio)));
    }
    return wanted;
  }

  private async syncOnce(): Promise<void> {
    const client = this.host.client();
    if (this.host.zones() === null || !client?.connected) return;
    const wanted = this.wanted();
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
}
