import { z } from 'zod';
import { ID_PATTERN } from './ids.ts';
import { WINDOW_SECONDS_ALLOWED } from './windows.ts';
import { MAX_COUNT, RSSI_BUCKETS, RSSI_EDGES_DBM } from './radio-counts.ts';

/**
 * The version-1 message contract. Every object is strict: an unknown field is an
 * error, so no field that could carry an identifier can slip through.
 */

// The count limit and the RSSI buckets live in radio-counts.ts (no zod there: see basics.ts); exported here too.
export { MAX_COUNT, RSSI_BUCKETS, RSSI_EDGES_DBM, emptyRadioCounts, rssiBucket } from './radio-counts.ts';

export const SensorIdSchema = z.string().regex(ID_PATTERN, 'must match ^[a-z0-9][a-z0-9-]{0,63}$');

const count = z.number().int().nonnegative().max(MAX_COUNT);

/**
 * The fields of one radio's counts, without the rules that tie them to each other: the aggregator parses with
 * this and judges those rules itself (aggregator/src/ingest/plausibility.ts), so that it can count a breach by
 * its own reason. Senders validate with RadioCountsSchema, which holds the rules.
 */
export const RadioCountsShapeSchema = z.strictObject({
  devices: count.describe('distinct devices (distinct keyed hashes of the address) in the window'),
  randomized: count.describe('how many of those use a randomized address'),
  frames: count.describe('frames counted'),
  rssiHistogram: z
    .array(count)
    .length(RSSI_BUCKETS)
    .optional()
    .describe(
      `frames per RSSI bucket, edges ${RSSI_EDGES_DBM.join(', ')} dBm, before the RSSI floor; frames without RSSI are not in it. ` +
        'Optional: sent only while a sensor is being set up (to choose the floor); the aggregator never stores it',
    ),
});

type RadioCountsShape = z.infer<typeof RadioCountsShapeSchema>;

export const RadioCountsSchema = RadioCountsShapeSchema.refine((r) => r.randomized <= r.devices, {
  message: 'randomized must not exceed devices',
  path: ['randomized'],
}).refine((r) => r.devices <= r.frames, { message: 'devices must not exceed frames', path: ['devices'] });

export const RADIOS = ['wifi', 'ble'] as const;
export type Radio = (typeof RADIOS)[number];

const countsMessageFields = <R extends z.ZodType<RadioCountsShape>>(radio: R) =>
  z.strictObject({
    v: z.literal(1),
    sensorId: SensorIdSchema,
    windowStart: z.number().int().nonnegative().describe('Unix seconds, a multiple of windowSeconds'),
    windowSeconds: z
      .number()
      .int()
      .refine((s) => (WINDOW_SECONDS_ALLOWED as readonly number[]).includes(s), {
        message: `must be one of ${WINDOW_SECONDS_ALLOWED.join(', ')}`,
      }),
    seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).describe('per-sensor message counter'),
    wifi: radio,
    ble: radio,
    rssiFloor: z.number().int().min(-127).max(20).nullable().describe('dBm; frames below it were not counted'),
  });

const multipleOfWindow = {
  message: 'windowStart must be a multiple of windowSeconds',
  path: ['windowStart'],
};

/** The message's fields and types without the rules between counts (the aggregator's parse; see RadioCountsShapeSchema). */
export const CountsMessageShapeSchema = countsMessageFields(RadioCountsShapeSchema).refine(
  (m) => m.windowStart % m.windowSeconds === 0,
  multipleOfWindow,
);

export const CountsMessageSchema = countsMessageFields(RadioCountsSchema).refine(
  (m) => m.windowStart % m.windowSeconds === 0,
  multipleOfWindow,
);

export type RadioCounts = z.infer<typeof RadioCountsSchema>;
export type CountsMessage = z.infer<typeof CountsMessageSchema>;

export const StatusStateSchema = z.enum(['online', 'offline']);

export const StatusMessageSchema = z.strictObject({
  v: z.literal(1),
  state: StatusStateSchema,
  role: z.enum(['sensor', 'aggregator']),
  id: SensorIdSchema,
  version: z.string().max(64).optional(),
  startedAt: z.number().int().nonnegative().optional(),
  windowSeconds: z.number().int().positive().optional(),
  radios: z.array(z.enum(RADIOS)).max(2).optional().describe('what the sender counts'),
  countsSchema: z.record(z.string(), z.unknown()).optional().describe('JSON Schema of the counts message it sends'),
  build: z
    .strictObject({
      version: z.string().max(64),
      commit: z.string().regex(/^[0-9a-f]{7,40}$/).nullable().describe('git commit the code was built from; null when unknown'),
      sha256: z.string().regex(/^[0-9a-f]{64}$/).describe('SHA-256 of the code the sender runs'),
    })
    .optional()
    .describe("the sender's build, to check which code a deployed sensor runs"),
});
export type StatusMessage = z.infer<typeof StatusMessageSchema>;

/** Maximum payload size the aggregator accepts; a counts message is a few hundred bytes. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;
