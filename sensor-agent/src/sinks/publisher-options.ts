/**
 * What MqttPublisher (mqtt-publisher.ts) is given and what it reports: its options (the `mqtt` config section,
 * the delivery settings, the outbox, the announced build), its statistics, and the broker URL as logs show it.
 */
import type { Radio } from '@passant/shared';
import type { MqttConnectionConfig } from '@passant/shared/mqtt-options';
import type { SensorBuild } from '../build-info.ts';
import type { Logger } from '../log.ts';
import type { Outbox } from './outbox.ts';
import type { DeliverySettings } from './resend-schedule.ts';

/**
 * The `mqtt` config section: the connection settings both programs share (unset keys are `undefined`; the mqtt.js
 * options are built by the shared builder), and the sensor's own.
 */
export interface MqttPublisherSettings extends MqttConnectionConfig {
  url: string;
  topicBase: string;
  maxInFlight: number;
}

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
