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
