import { z } from 'zod';
import { ID_PATTERN } from './ids.ts';

/** Every Passant topic lives under this base; only these helpers build or parse topics. */
export const TOPIC_BASE = 'passant';

export type SensorChannel = 'counts' | 'status';

function checkId(id: string): string {
  if (!ID_PATTERN.test(id)) throw new Error(`invalid id for a topic: ${JSON.stringify(id.slice(0, 80))}`);
  return id;
}

export const topics = {
  sensorCounts: (sensorId: string, base = TOPIC_BASE) => `${base}/sensors/${checkId(sensorId)}/counts`,
  sensorStatus: (sensorId: string, base = TOPIC_BASE) => `${base}/sensors/${checkId(sensorId)}/status`,
  /** Aggregator -> one sensor: which of its counts messages are stored (end-to-end delivery; see StoredAckSchema). */
  sensorStored: (sensorId: string, base = TOPIC_BASE) => `${base}/sensors/${checkId(sensorId)}/stored`,
  aggregatorStatus: (instanceId: string, base = TOPIC_BASE) => `${base}/aggregators/${checkId(instanceId)}/status`,
  /** Subscription filters. */
  allSensorCounts: (base = TOPIC_BASE) => `${base}/sensors/+/counts`,
  allSensorStatus: (base = TOPIC_BASE) => `${base}/sensors/+/status`,
  /** MQTT shared subscription: the broker spreads messages over every member of `group`. */
  shared: (group: string, filter: string) => `$share/${checkId(group)}/${filter}`,
} as const;

export type ParsedTopic =
  | { kind: 'sensor'; sensorId: string; channel: SensorChannel }
  | { kind: 'aggregator'; instanceId: string; channel: 'status' };

/** Parses a Passant topic; returns null for anything that is not exactly one (including bad ids). */
export function parseTopic(topic: string, base = TOPIC_BASE): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== base) return null;
  const [, kind, id, channel] = parts as [string, string, string, string];
  if (!ID_PATTERN.test(id)) return null;
  if (kind === 'sensors' && (channel === 'counts' || channel === 'status')) {
    return { kind: 'sensor', sensorId: id, channel };
  }
  if (kind === 'aggregators' && channel === 'status') return { kind: 'aggregator', instanceId: id, channel };
  return null;
}

/** Most seqs in one stored acknowledgement; an aggregator splits longer lists into several messages. */
export const MAX_STORED_SEQS = 1000;

/**
 * What an aggregator publishes (QoS 1, not retained) on `passant/sensors/{id}/stored` after a store batch has
 * committed: the seqs of that sensor's counts messages that are now durable in the store (stored now, or found
 * already stored). The sensor frees exactly those outbox rows; a broker's PUBACK frees nothing. Strict: an
 * unknown field is an error.
 */
export const StoredAckSchema = z.strictObject({
  v: z.literal(1),
  seqs: z.array(z.number().int().nonnegative().max(2 ** 32 - 1)).min(1).max(MAX_STORED_SEQS),
});
export type StoredAck = z.infer<typeof StoredAckSchema>;

/** The sensor id of a `passant/sensors/{id}/stored` topic, or null for any other topic. */
export function parseStoredTopic(topic: string, base = TOPIC_BASE): string | null {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== base || parts[1] !== 'sensors' || parts[3] !== 'stored') return null;
  return ID_PATTERN.test(parts[2]!) ? parts[2]! : null;
}
