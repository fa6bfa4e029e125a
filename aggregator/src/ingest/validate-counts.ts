/**
 * Validation of one counts message from the broker, as a pure function. Input is hostile until proven
 * otherwise: size first, then UTF-8 and JSON, then the strict schema (an unknown key, `__proto__` included,
 * is an error: JSON.parse makes `__proto__` an own property, never a prototype, and the strict schema rejects
 * it), then the checks that tie the message to its topic and to the clock, then the rules between its counts
 * that every honest sensor keeps (plausibility.ts). The seq rules need the sensor's last window: the ingest
 * applies them.
 */
import { CountsMessageShapeSchema, MAX_PAYLOAD_BYTES, parseTopic, StatusMessageSchema } from '@passant/shared';
import type { CountsMessage, ParsedTopic, RejectReason, StatusMessage } from '@passant/shared';
import { countsImplausibility } from './plausibility.ts';

export { REJECT_REASONS } from '@passant/shared/api-schemas';
export type { RejectReason } from '@passant/shared';

/** Window length the aggregator takes for now; the release layer's base cell is this long. */
export const SUPPORTED_WINDOW_SECONDS = 60;

export type Verdict<T> =
  | { ok: true; message: T }
  | {
      ok: false;
      reason: RejectReason;
      /** Schema issue codes and paths (schema keys only, never values): safe to log. */
      issues?: { code: string; path: string }[];
    };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function toBytes(payload: Uint8Array | string): Uint8Array {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
}

/** Size, UTF-8 and JSON checks shared by counts and status messages. */
function parseJson(payload: Uint8Array | string): { ok: true; value: unknown } | { ok: false; reason: RejectReason } {
  const bytes = toBytes(payload);
  if (bytes.byteLength > MAX_PAYLOAD_BYTES) return { ok: false, reason: 'payload_too_large' };
  try {
    return { ok: true, value: JSON.parse(utf8.decode(bytes)) as unknown };
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
}

function issuesOf(error: { issues: readonly { code: string; path: readonly PropertyKey[] }[] }) {
  return error.issues.slice(0, 10).map((i) => ({ code: i.code, path: i.path.map(String).join('.') }));
}

export interface ValidateCountsOptions {
  /** Now, Unix seconds. */
  now: number;
  /** How far in the future a window may start (clock skew). */
  maxFutureSeconds: number;
  /** Earliest windowStart taken (older: window_too_old); undefined: no lower bound. */
  minWindowStart?: number;
  /** The end (exclusive, Unix seconds) of a sensor's last active day, if it has one (later windows: sensor_expired). */
  activeUntil?: (sensorId: string) => number | undefined;
}

/** `topic` as received, or already parsed (the ingest parses it once to tell counts from status). */
export function validateCounts(topic: string | ParsedTopic | null, payload: Uint8Array | string, options: ValidateCountsOptions): Verdict<CountsMessage> {
  const parsedTopic = typeof topic === 'string' ? parseTopic(topic) : topic;
  if (parsedTopic === null || parsedTopic.kind !== 'sensor' || parsedTopic.channel !== 'counts') {
    return { ok: false, reason: 'invalid_topic' };
  }
  const json = parseJson(payload);
  if (!json.ok) return json;
  const result = CountsMessageShapeSchema.safeParse(json.value);
  if (!result.success) return { ok: false, reason: 'invalid_schema', issues: issuesOf(result.error) };
  const message: CountsMessage = result.data;
  if (message.sensorId !== parsedTopic.sensorId) return { ok: false, reason: 'sensor_mismatch' };
  if (message.windowSeconds !== SUPPORTED_WINDOW_SECONDS) return { ok: false, reason: 'unsupported_window' };
  if (message.windowStart > options.now + options.maxFutureSeconds) return { ok: false, reason: 'future_window' };
  if (options.minWindowStart !== undefined && message.windowStart < options.minWindowStart) return { ok: false, reason: 'window_too_old' };
  const end = options.activeUntil?.(message.sensorId);
  if (end !== undefined && message.windowStart + message.windowSeconds > end) return { ok: false, reason: 'sensor_expired' };
  const implausible = countsImplausibility(message);
  if (implausible !== null) return { ok: false, reason: implausible };
  return { ok: true, message };
}

/** A sensor status message on `passant/sensors/{id}/status`; the id and role must match the topic. */
export function validateSensorStatus(sensorId: string, payload: Uint8Array | string): Verdict<StatusMessage> {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const result = StatusMessageSchema.safeParse(json.value);
  if (!result.success) return { ok: false, reason: 'invalid_schema', issues: issuesOf(result.error) };
  if (result.data.id !== sensorId || result.data.role !== 'sensor') return { ok: false, reason: 'sensor_mismatch' };
  return { ok: true, message: result.data };
}
