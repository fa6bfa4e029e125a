/**
 * The messages the publisher sends and reads (see mqtt-publisher.ts), each checked against its strict schema of
 * @passant/shared: a window's counts message (built, validated, as JSON text), the sensor's status (`online`
 * with the build and the JSON Schema of the counts message, or `offline`), and the `stored` acknowledgement of an
 * aggregator. Errors name fields and reasons, never values.
 */
import { CountsMessageSchema, StatusMessageSchema, StoredAckSchema, countsMessageJsonSchema, type CountsMessage, type Radio, type StatusMessage } from '@passant/shared';
import type { SensorBuild } from '../build-info.ts';
import type { WindowCounts } from '../pipeline/types.ts';

/** A window that the schema refuses; the message says which fields and why, never their values. */
export class InvalidCountsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCountsError';
  }
}

/** What a status message says about the sensor. */
export interface StatusFields {
  sensorId: string;
  windowSeconds: number;
  radios: Radio[];
  version?: string | undefined;
  build?: SensorBuild | undefined;
  /** Unix seconds. */
  startedAt: number;
}

/** Paths and reasons of a failed parse (the values stay out). */
function issues(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** The status message (retained on the status topic; `offline` is also the last will). */
export function statusMessage(s: StatusFields, state: 'online' | 'offline'): StatusMessage {
  const status: StatusMessage = {
    v: 1,
    state,
    role: 'sensor',
    id: s.sensorId,
    ...(s.version !== undefined ? { version: s.version } : {}),
    startedAt: s.startedAt,
    windowSeconds: s.windowSeconds,
    radios: [...s.radios],
    ...(state === 'online' ? { countsSchema: countsMessageJsonSchema() } : {}),
    ...(state === 'online' && s.build !== undefined ? { build: s.build } : {}),
  };
  return StatusMessageSchema.parse(status);
}

/**
 * One radio's counts as they leave the sensor: the RSSI histogram (a signal trace, in a small window close to
 * one device's) only in setup mode, where it serves to choose the RSSI floor.
 */
function radio(r: WindowCounts['wifi'], sendRssiHistogram: boolean): WindowCounts['wifi'] {
  if (sendRssiHistogram) return r;
  const { rssiHistogram: _left, ...rest } = r;
  return rest;
}

/** The counts message of one window with its sequence number, validated, as JSON text; throws InvalidCountsError. */
export function countsPayload(sensorId: string, counts: WindowCounts, seq: number, sendRssiHistogram: boolean): string {
  const message: CountsMessage = {
    v: 1,
    sensorId,
    windowStart: counts.windowStart,
    windowSeconds: counts.windowSeconds,
    seq,
    wifi: radio(counts.wifi, sendRssiHistogram),
    ble: radio(counts.ble, sendRssiHistogram),
    rssiFloor: counts.rssiFloor,
  };
  const parsed = CountsMessageSchema.safeParse(message);
  if (!parsed.success) throw new InvalidCountsError(issues(parsed.error));
  return JSON.stringify(parsed.data);
}

/** The seqs a `stored` acknowledgement reports; throws (the reason only) when it is not a valid one. */
export function storedSeqs(payload: Buffer): number[] {
  const parsed = StoredAckSchema.safeParse(JSON.parse(payload.toString('utf8')));
  if (!parsed.success) throw new Error(issues(parsed.error));
  return parsed.data.seqs;
}
