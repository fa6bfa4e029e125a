/**
 * The audit's look at the wire: every counts and status message the sensors publish, as the privacy officer's
 * read-only MQTT login receives them, judged by the same schema (shared's zod schema, from which the published
 * JSON Schema is generated) and the same plausibility rules (ingest/plausibility.ts) as the aggregator's door.
 * Per sensor it keeps how many messages came, each violation's reason (never the payload or a value from it: a
 * refused message may carry an address), the versions and the build hashes its status reported.
 */
import { CountsMessageSchema, MAX_PAYLOAD_BYTES, parseTopic, StatusMessageSchema } from '@passant/shared';
import type { CountsMessage } from '@passant/shared';
import type { z } from 'zod';
import { countsImplausibility, nextLastWindow, seqImplausibility, type LastWindow } from '../ingest/plausibility.ts';
import { sensorExpiries } from '../ingest/sensor-expiry.ts';

const PLAIN_VERSION = /^\d{1,6}\.\d{1,6}\.\d{1,6}$/;

export interface SensorWire {
  sensorId: string;
  counts: number;
  status: number;
  /** Violations by reason. */
  violations: Map<string, number>;
  versions: Set<string>;
  /** SHA-256 build hashes the sensor's status reported. */
  builds: Set<string>;
  /** Status messages that reported no build hash. */
  statusWithoutBuild: number;
  /** Status messages whose counts schema differs from the published one. */
  otherSchema: number;
}

/** A schema problem as text without any value of the message (an unknown field's name could be an address). */
function schemaReason(issues: readonly z.core.$ZodIssue[]): string {
  const issue = issues[0]!;
  const at = issue.path.length > 0 ? issue.path.join('.') : 'the message';
  if (issue.code === 'unrecognized_keys') return `schema: unknown field in ${at}`;
  if (issue.code === 'custom') return `schema: ${issue.message} (${at})`;
  return `schema: ${issue.code} at ${at}`;
}

export class WireLedger {
  readonly sensors = new Map<string, SensorWire>();
  /** Messages on topics that are not a sensor's counts or status (or whose id is not a valid id). */
  otherTopics = 0;
  readonly #last = new Map<string, LastWindow>();
  readonly #publishedSchema: string | null;

  readonly #expiries: Map<string, number>;

  /**
   * `publishedSchema`: the deployment's counts JSON Schema, to compare each sensor's status with. `placements`:
   * the configuration's sensor placements; a sensor that still counts after its activeUntil day is a violation.
   */
  constructor(publishedSchema: Record<string, unknown> | null, placements: readonly { id: string; activeUntil?: string | undefined }[] = []) {
    this.#publishedSchema = publishedSchema === null ? null : JSON.stringify(publishedSchema);
    this.#expiries = sensorExpiries(placements);
  }

  #sensor(id: string): SensorWire {
    let s = this.sensors.get(id);
    if (!s) {
      s = { sensorId: id, counts: 0, status: 0, violations: new Map(), versions: new Set(), builds: new Set(), statusWithoutBuild: 0, otherSchema: 0 };
      this.sensors.set(id, s);
    }
    return s;
  }

  #violation(s: SensorWire, reason: string): void {
    s.violations.set(reason, (s.violations.get(reason) ?? 0) + 1);
  }

  /** Judges one message. `payload` is only parsed and checked, never kept. */
  receive(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (parsed === null || parsed.kind !== 'sensor') {
      this.otherTopics++;
      return;
    }
    const s = this.#sensor(parsed.sensorId);
    if (parsed.channel === 'counts') s.counts++;
    else s.status++;
    if (payload.length === 0 && parsed.channel === 'status') return; // a retained status being cleared
    if (payload.length > MAX_PAYLOAD_BYTES) return this.#violation(s, `payload larger than ${MAX_PAYLOAD_BYTES} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.#violation(s, 'not JSON');
    }
    if (parsed.channel === 'counts') this.#counts(s, json);
    else this.#status(s, json);
  }

  #counts(s: SensorWire, json: unknown): void {
    const result = CountsMessageSchema.safeParse(json);
    if (!result.success) return this.#violation(s, schemaReason(result.error.issues));
    const message: CountsMessage = result.data;
    if (message.sensorId !== s.sensorId) return this.#violation(s, 'sensorId differs from the topic');
    const expiry = this.#expiries.get(s.sensorId);
    if (expiry !== undefined && message.windowStart + message.windowSeconds > expiry) this.#violation(s, 'counts after its activeUntil day');
    const counts = countsImplausibility(message);
    if (counts !== null) return this.#violation(s, `implausible: ${counts}`);
    const last = this.#last.get(s.sensorId);
    const seq = seqImplausibility(message, last);
    if (seq !== null) return this.#violation(s, `implausible: ${seq}`);
    this.#last.set(s.sensorId, nextLastWindow(message, last));
  }

  #status(s: SensorWire, json: unknown): void {
    const result = StatusMessageSchema.safeParse(json);
    if (!result.success) return this.#violation(s, `status ${schemaReason(result.error.issues)}`);
    const status = result.data as z.infer<typeof StatusMessageSchema> & { build?: { sha256?: unknown; version?: unknown } };
    if (status.id !== s.sensorId) return this.#violation(s, 'status id differs from the topic');
    if (status.version !== undefined) {
      // kept only as a plain version number: the field is free text, and what is not a version is not repeated
      if (PLAIN_VERSION.test(status.version)) s.versions.add(status.version);
      else this.#violation(s, 'status version is not a plain version number (x.y.z)');
    }
    if (status.state !== 'online') return;
    const sha = status.build?.sha256;
    if (typeof sha === 'string' && /^[0-9a-f]{64}$/.test(sha)) s.builds.add(sha);
    else s.statusWithoutBuild++;
    if (this.#publishedSchema !== null && status.countsSchema !== undefined && JSON.stringify(status.countsSchema) !== this.#publishedSchema) {
      s.otherSchema++;
      this.#violation(s, 'status announces a counts schema other than the published one');
    }
  }
}
