/**
 * The response bodies of the aggregator's HTTP API as zod schemas: the single source of the OpenAPI document's
 * schemas (`z.toJSONSchema`), of what the OpenAPI test validates real responses against (through the document),
 * and (as the `...Body` types) of what the aggregator builds and the dashboard reads. The dashboard takes the
 * types only, so no schema library reaches the browser.
 *
 * Size: over 400 lines because it is the list of every response schema of the API, one definition after another.
 */
import { z } from 'zod';
import { ID_PATTERN } from './ids.ts';
import { RADIOS } from './messages.ts';
import { SERIES_STEPS } from './windows.ts';

/** Why the aggregator rejects a counts message: the `reason` label of `passant_ingest_messages_total`. */
export const REJECT_REASONS = [
  'invalid_topic',
  'payload_too_large',
  'invalid_json',
  'invalid_schema',
  'sensor_mismatch',
  'unsupported_window',
  'future_window',
  'window_too_old',
  'randomized_above_devices',
  'devices_above_frames',
  'histogram_above_frames',
  'frames_implausible',
  'devices_implausible',
  'seq_implausible',
  'seq_not_following',
  'seq_reused',
  'sensor_expired',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

const Id = z.string().regex(ID_PATTERN);
const UnixSeconds = z.number().int().describe('Unix seconds');
const Count = z.number().int().nonnegative();
const Radio = z.enum(RADIOS);
const Step = z.union(SERIES_STEPS.map((s) => z.literal(s)) as [z.ZodLiteral<60>, z.ZodLiteral<3600>, z.ZodLiteral<86400>]);

/**
 * Every machine-readable reason an API error can give (the `code` of a problem): one vocabulary, so that the
 * aggregator cannot answer with a code that is not documented here and clients can branch on a closed set.
 */
export const API_ERROR_CODES = [
  // the request
  'bad_request', 'invalid_json', 'invalid_body', 'payload_too_large', 'unsupported_media_type',
  'unknown_parameter', 'invalid_parameter', 'invalid_radio', 'invalid_range', 'invalid_step', 'invalid_time_zone',
  'invalid_reference', 'invalid_format', 'range_too_large', 'range_too_long', 'too_many_buckets',
  // who is asking
  'authentication_required', 'invalid_token', 'forbidden',
  // what was asked for
  'not_found', 'zone_not_found', 'site_not_found', 'token_not_found', 'event_not_found', 'invitation_not_found',
  'invitation_used', 'invitation_expired',
  // resources of the request
  'invalid_calibration', 'cannot_fit', 'invalid_event',
  // limits
  'rate_limited', 'too_many_clients', 'too_many_streams',
  // this aggregator
  'access_log_unavailable', 'calibrations_unavailable', 'events_unavailable', 'invitations_unavailable', 'tokens_unavailable',
  'internal',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** Problem details (RFC 9457), the body of every error, with the extension member `code`. */
export const ProblemSchema = z
  .object({
    type: z.string().describe('about:blank: the status says what kind of problem it is'),
    title: z.string().describe('the status phrase, e.g. Bad Request'),
    status: z.number().int().min(400).max(599),
    detail: z.string().describe('what is wrong, for people'),
    code: z.enum(API_ERROR_CODES).describe('machine-readable reason to branch on'),
  })
  .describe('every error response: problem details (RFC 9457) with the extension member code');

export const CoordinatesSchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});

export const ZoneInfoSchema = z.strictObject({
  id: Id,
  name: z.string().describe('shown as text; may hold any characters'),
  coordinates: CoordinatesSchema.nullable().describe('WGS 84, or null when not configured'),
  site: Id.nullable().describe('the site the zone belongs to, when the caller may read that site; else null'),
});
export const ZoneListSchema = z.array(ZoneInfoSchema).describe('the zones this caller may read, in configuration order');

export const SiteInfoSchema = z.strictObject({
  id: Id,
  name: z.string(),
  coordinates: CoordinatesSchema.nullable().describe('WGS 84, or null when not configured'),
  zones: z.array(Id).describe('ids of the zones in the site'),
});
export const SiteListSchema = z.array(SiteInfoSchema).describe('the sites this caller may read');

export const NoiseSchema = z
  .strictObject({
    epsilon: z.number().positive(),
    mechanism: z.literal('geometric'),
  })
  .describe('present when the values carry noise (noise.enabled, callers without a viewer or admin token)');

/** Released values: non-negative counts, except that noisy values may (rarely) be negative. */
const Devices = z.number().int();

// ---------------------------------------------------------------- estimates and the index (aggregator/src/http/estimates.ts)

const Estimated = z.number().nonnegative().nullable();
const EstimateKind = z.enum(['present', 'passers']);
const EstimateReason = z
  .enum(['ok', 'not_calibrated', 'other_radio', 'baseline_unknown', 'hidden_buckets', 'zone_not_calibrated', 'mixed_kinds'])
  .describe(
    'ok: every bucket with a released cell has an estimate; hidden_buckets: some buckets are null (nothing released in them; a site: in one of its zones); not_calibrated: no calibration for the zone (a site: for none of its zones); other_radio: the calibration is for the other radio; zone_not_calibrated: a site with a zone that has none (a site sums every zone or none); mixed_kinds: a site whose zones have calibrations of different kinds; baseline_unknown: a sensor is still learning its static baseline',
  );

export const EstimateInfoSchema = z
  .strictObject({
    kind: EstimateKind.nullable().describe('present: people, peopleLow, peopleHigh are set; passers: passers, passersLow, passersHigh; null: no estimate'),
    calibrationId: z.string().nullable().describe("the zone's calibration used (GET /zones/{id}/calibrations); null without one, and for a site (see zones)"),
    calibratedAt: UnixSeconds.nullable().describe('when that calibration was made (a site: its oldest zone calibration)'),
    reason: EstimateReason,
    message: z.string().describe('the reason in words, for people'),
    warnings: z
      .array(z.enum(['calibration_old', 'baseline_moved']))
      .describe("calibration_old: over a year old; baseline_moved: the zone's static devices changed since the fit (admin and the zone's own viewers only)"),
    zones: z
      .array(
        z.strictObject({
          zoneId: Id,
          kind: EstimateKind.nullable(),
          calibrationId: z.string().nullable(),
          calibratedAt: UnixSeconds.nullable(),
          reason: EstimateReason,
        }),
      )
      .optional()
      .describe('a site: each zone the caller may read and its calibration'),
  })
  .describe('why the estimates are what they are');

export const ReferenceInfoSchema = z
  .strictObject({
    from: UnixSeconds,
    to: UnixSeconds.describe('exclusive'),
    releasedCells: Count.describe('released base cells (zone-minutes) of the reference period'),
    reason: z.enum(['ok', 'nothing_released']).describe('nothing_released: the reference has no released zone-minute (or no device in them), so every index is null'),
    message: z.string(),
  })
  .describe('the reference period of the index, as used');

/** The estimate fields of a series or a compared period. */
const EstimateFields = {
  people: z.array(Estimated).optional().describe('estimated people present, mean per minute of the bucket (a present calibration); null where not estimable (estimate.reason says why)'),
  peopleLow: z.array(Estimated).optional().describe('lower bound of the 95 % prediction interval of people'),
  peopleHigh: z.array(Estimated).optional().describe('upper bound of the 95 % prediction interval of people'),
  passers: z.array(Estimated).optional().describe('estimated passers in the bucket (a passers calibration); null where not estimable'),
  passersLow: z.array(Estimated).optional().describe('lower bound of the 95 % prediction interval of passers'),
  passersHigh: z.array(Estimated).optional().describe('upper bound of the 95 % prediction interval of passers'),
  estimate: EstimateInfoSchema.optional(),
  index: z
    .array(z.number().nullable())
    .optional()
    .describe('with reference=from,to: released devices per released zone-minute of the bucket against the same of the reference period, x 100; null where the bucket or the reference has no released cell'),
  reference: ReferenceInfoSchema.optional(),
};

export const SeriesSchema = z
  .strictObject({
    t: z.array(UnixSeconds).describe('bucket starts'),
    devices: z.array(Devices.nullable()).describe('sum of the released base cells in the bucket; null when none was released'),
    suppressed: z.array(Count).describe('base cells in the bucket below k (suppressed)'),
    minutes: z
      .array(Count)
      .optional()
      .describe('calendar steps (day, week, month) and requests with tz: base minutes the bucket covers (a 25-hour day: 1500)'),
    released: z
      .array(Count)
      .optional()
      .describe('calendar steps and requests with tz: base minutes of the bucket that were released; devices / released is the mean per released minute'),
    tz: z.string().optional().describe('the time zone of the calendar buckets (IANA name)'),
    noise: NoiseSchema.optional(),
    ...EstimateFields,
  })
  .describe(
    'a released series, columnar (uPlot): t[i], devices[i], suppressed[i]; the API adds the estimates (people or passers, with their interval and the estimate info) to every series, the index when asked',
  );

export const SiteSeriesSchema = SeriesSchema.extend({
  zones: z
    .array(z.strictObject({ id: Id, series: SeriesSchema }))
    .optional()
    .describe(
      'with ?include=zones: the series of each of the site\'s zones the caller may read, exactly as /zones/{id}/series gives it for the same query (a page showing a site and its zones asks once)',
    ),
}).describe('a site\'s released series (see the zone series), and with ?include=zones the series of its zones');

const PeriodSchema = z.strictObject({
  from: UnixSeconds,
  to: UnixSeconds.describe('exclusive'),
  t: z.array(UnixSeconds),
  devices: z.array(Devices.nullable()),
  suppressed: z.array(Count),
  total: Devices.nullable().describe('sum of the released values; null when none was released'),
  suppressedCells: Count.describe('suppressed base cells in the period'),
  ...EstimateFields,
});
const ComparedPeriodSchema = PeriodSchema.extend({
  change: z.number().nullable().describe('percentage change of the current total against this one; null when either total is null or this one is 0'),
});

export const CompareSchema = z
  .strictObject({
    step: Step,
    radio: Radio,
    current: PeriodSchema,
    previous: ComparedPeriodSchema.describe('the period of the same length just before'),
    lastWeek: ComparedPeriodSchema.describe('the same period seven days earlier'),
    noise: NoiseSchema.optional(),
  })
  .describe('a period against the one before and against the same days of the week before');

const Week = z.array(z.number().int().nonnegative()).length(168);
export const ProfileSchema = z
  .strictObject({
    weeks: z.number().int().min(1),
    tz: z.string().describe('IANA time zone of the hours'),
    radio: Radio,
    from: UnixSeconds,
    to: UnixSeconds.describe('exclusive; the start of the current hour'),
    mean: z
      .array(z.number().nullable())
      .length(168)
      .describe('index weekday*24+hour, weekday 0 = Monday: mean of the released hourly values; null where none'),
    hours: Week.describe('hours with a released value, per hour of the week'),
    suppressed: Week.describe('suppressed base cells, per hour of the week'),
    noise: NoiseSchema.optional(),
  })
  .describe('the hour-of-week profile over the last weeks');

export const SensorHealthSchema = z.strictObject({
  sensorId: Id,
  zoneId: Id,
  state: z.enum(['online', 'offline', 'unknown']).describe('from the retained status message'),
  online: z.boolean().nullable().describe('null when no status was seen'),
  lastMessageAt: UnixSeconds.nullable().describe('when the latest counts message was received'),
  lastWindowStart: UnixSeconds.nullable().describe('latest stored window of the last day'),
  messagesLastHour: Count.describe('windows stored for the last full hour'),
  missingLastHour: Count.describe('minutes of the last hour without a message'),
  missingLastDay: Count.describe('minutes of the last day without a message'),
  version: z.string().nullable(),
  activeUntil: z.string().nullable().describe("the sensor's last active day (transparency.sensors[].activeUntil), or null"),
  ended: z.boolean().describe('past its last active day: its counts are refused and stored nowhere'),
  baseline: z
    .strictObject({ wifi: z.number().nullable(), ble: z.number().nullable() })
    .optional()
    .describe(
      'admin tokens only: the devices this sensor always hears (its static baseline: printers, PCs, beacons) for the current hour, per radio, estimated from its own quietest hours; null while it is still learning. The release rule and the people estimates count devices beyond it',
    ),
});
export const SensorHealthListSchema = z
  .strictObject({
    asOf: UnixSeconds.describe('end (exclusive) of the hour and day looked at; a minute before the current one'),
    windowSeconds: z.number().int().positive(),
    sensors: z.array(SensorHealthSchema),
  })
  .describe('health of every sensor in a zone: never counts');

export const UnassignedSensorSchema = z.strictObject({
  sensorId: Id,
  state: z.enum(['online', 'offline', 'unknown']).describe('from the retained status message'),
  lastMessageAt: UnixSeconds.nullable().describe('when its latest counts message was received'),
  lastStatusAt: UnixSeconds.nullable().describe('when its latest status message was received (since the aggregator started)'),
  firstWindowStart: UnixSeconds.nullable(),
  lastWindowStart: UnixSeconds.nullable(),
  messages: Count.describe('windows stored'),
});
export const UnassignedSensorListSchema = z
  .strictObject({ sensors: z.array(UnassignedSensorSchema) })
  .describe('sensors that sent messages but are in no zone: stored, never released');

const ShareSchema = z.number().min(0).max(1).nullable();
export const PrivacyInfoSchema = z
  .strictObject({
    k: z.number().int().describe('a zone-minute with fewer devices than k is suppressed'),
    windowSeconds: z.number().int().positive().describe('length of a base cell'),
    settleSeconds: z.number().int().nonnegative(),
    retention: z.record(z.string(), z.number().nullable()).describe('how long data is kept, in days, by kind (null: for ever)'),
    suppressedShare: z
      .strictObject({
        periodSeconds: z.number().int().positive(),
        wifi: ShareSchema,
        ble: ShareSchema,
      })
      .describe('share of reported zone-minutes that were suppressed over the period, over every zone; null when none'),
    noise: NoiseSchema.nullable().describe('the noise added to public (open) data, or null when off'),
    publicAccess: z.strictObject({
      zones: z.union([z.enum(['none', 'all']), z.array(z.string())]),
      sites: z.union([z.enum(['none', 'all']), z.array(z.string())]),
    }),
    countsSchema: z.record(z.string(), z.unknown()).describe('JSON Schema of exactly what a sensor sends'),
  })
  .describe('what the privacy page shows: no counts');

export const AuditSchema = z
  .strictObject({
    since: UnixSeconds.describe('the aggregator start: the numbers count from there'),
    ingest: z.strictObject({
      stored: Count,
      duplicate: Count,
      rejected: z.record(z.enum(REJECT_REASONS), Count).describe('rejected counts messages by reason'),
    }),
    statusMessages: z.strictObject({
      accepted: Count,
      rejected: Count,
    }),
    tokens: z
      .strictObject({ viewer: Count, admin: Count, privacy: Count, revoked: Count })
      .describe('API tokens by role (valid ones) and revoked ones'),
  })
  .describe('audit data for the privacy officer: what came in and what was refused; never counts of people');

export const MeSchema = z
  .strictObject({
    role: z.enum(['public', 'viewer', 'admin', 'privacy']).describe('public: no token'),
    name: z.string().nullable(),
    tokenId: z.string().nullable(),
    zones: z.union([z.literal('all'), z.array(Id)]).describe('zones this caller may read'),
    sites: z.union([z.literal('all'), z.array(Id)]).describe('sites this caller may read'),
    health: z.boolean().describe('may read /sensors'),
    audit: z.boolean().describe('may read /privacy/audit'),
    admin: z.boolean(),
    included: z
      .strictObject({ zones: ZoneListSchema.optional(), sites: SiteListSchema.optional() })
      .optional()
      .describe('with ?include=: the lists asked for, as /zones and /sites give them to this caller (empty where it may read none)'),
  })
  .describe('who the caller is and what it may read');

export const HealthzSchema = z.strictObject({
  status: z.enum(['ok', 'unavailable']),
  mqtt: z.enum(['connected', 'not-subscribed', 'disconnected']).describe('not-subscribed: connected, but the broker refused the subscription'),
  store: z.enum(['ok', 'failing']).describe('failing: the store does not answer, or cannot write (a failed write, or a failed write probe)'),
  storeError: z.string().max(300).optional().describe('why the store is failing, in the store\'s own words (never a value)'),
  sensors: z.strictObject({ online: Count, offline: Count, unknown: Count }),
  uptimeSeconds: Count,
});

export type ApiErrorBody = z.infer<typeof ProblemSchema>;
export type ZoneInfoBody = z.infer<typeof ZoneInfoSchema>;
export type SiteInfoBody = z.infer<typeof SiteInfoSchema>;
export type NoiseBody = z.infer<typeof NoiseSchema>;
export type SeriesBody = z.infer<typeof SeriesSchema>;
export type EstimateInfoBody = z.infer<typeof EstimateInfoSchema>;
export type ReferenceInfoBody = z.infer<typeof ReferenceInfoSchema>;
export type CompareBody = z.infer<typeof CompareSchema>;
export type ProfileBody = z.infer<typeof ProfileSchema>;
export type SensorHealthBody = z.infer<typeof SensorHealthSchema>;
export type SensorHealthListBody = z.infer<typeof SensorHealthListSchema>;
export type UnassignedSensorBody = z.infer<typeof UnassignedSensorSchema>;
export type PrivacyInfoBody = z.infer<typeof PrivacyInfoSchema>;
export type AuditBody = z.infer<typeof AuditSchema>;
export type MeBody = z.infer<typeof MeSchema>;
export type HealthzBody = z.infer<typeof HealthzSchema>;

// ---------------------------------------------------------------- comparing any two periods (compare-periods)

const ComparedSideSchema = z.strictObject({
  from: UnixSeconds.describe('start of the first bucket'),
  to: UnixSeconds.describe('end of the last bucket (exclusive)'),
  t: z.array(UnixSeconds).describe('bucket starts'),
  devices: z.array(Devices.nullable()).describe('sum of the released base cells in the bucket; null when none was released'),
  suppressed: z.array(Count).describe('base cells in the bucket below k (hidden minutes)'),
  minutes: z.array(Count).optional().describe('calendar steps: base minutes the bucket covers'),
  released: z.array(Count).optional().describe('calendar steps: base minutes of the bucket that were released'),
  total: Devices.nullable().describe('sum of the released values (device-minutes); null when none was released'),
  suppressedCells: Count.describe('hidden (suppressed) zone-minutes in the period'),
  zoneMinutes: Count.describe('zone-minutes the period covers: its minutes times the zones counted'),
  hiddenShare: z.number().min(0).max(1).nullable().describe('suppressedCells / zoneMinutes, four decimals; null for an empty period'),
});

const ZoneSideSchema = z.strictObject({
  total: Devices.nullable(),
  suppressedCells: Count,
  hiddenShare: z.number().min(0).max(1).nullable(),
});

export const ComparePeriodsSchema = z
  .strictObject({
    step: z.union([Step, z.enum(['day', 'week', 'month'])]),
    radio: Radio,
    tz: z.string().describe('IANA time zone of calendar buckets and of local times'),
    offset: z
      .array(Count)
      .describe('offset of bucket i from the start of its period (seconds for steps in seconds, days, weeks or months for calendar steps): period.t[i] and against.t[i] are compared'),
    period: ComparedSideSchema,
    against: ComparedSideSchema,
    change: z.number().nullable().describe('percentage change of period.total against against.total; null when either is null or against.total is 0'),
    caveat: z
      .strictObject({
        moreHidden: z.enum(['period', 'against']).describe('the side with the larger share of hidden minutes'),
        difference: z.number().describe('hiddenShare of that side minus the other side\'s, four decimals'),
      })
      .nullable()
      .describe('set when the hidden shares differ by 0.05 or more: the totals then rest on different shares of the time'),
    zones: z
      .array(
        z.strictObject({
          id: Id,
          name: z.string(),
          period: ZoneSideSchema,
          against: ZoneSideSchema,
          change: z.number().nullable(),
        }),
      )
      .optional()
      .describe('sites: each zone the caller may read, ranked by period total (largest first, null last); the same values as the zone\'s own compare-periods'),
    noise: NoiseSchema.optional(),
  })
  .describe('any two periods compared, from released series only');
export type ComparePeriodsBody = z.infer<typeof ComparePeriodsSchema>;

// ---------------------------------------------------------------- tokens and invitations (aggregator/src/auth/admin-routes.ts)

/** The roles of an API token: viewer reads the zones and sites on it, admin everything, privacy health, audit and the privacy page. */
export const TOKEN_ROLES = ['viewer', 'admin', 'privacy'] as const;

export const TokenInfoSchema = z
  .strictObject({
    id: z.string(),
    role: z.enum(TOKEN_ROLES),
    name: z.string().nullable().describe('a label for people ("shop 12"), or null'),
    zones: z.array(z.string()).describe('zones a viewer may read (empty for admin and privacy)'),
    sites: z.array(z.string()).describe('sites a viewer may read (empty for admin and privacy)'),
    owners: z.array(z.string()).describe('owner labels: a viewer also reads every zone with one of them, as configured now'),
    createdAt: UnixSeconds,
    revokedAt: UnixSeconds.nullable().describe('null while the token is valid'),
    expiresAt: UnixSeconds.nullable().describe('from when the token is refused; null: never'),
  })
  .describe('an API token: never its secret');
export const TokenListSchema = z.strictObject({
  tokens: z.array(TokenInfoSchema.extend({ lastUsedAt: z.number().nullable().describe('last recorded request (access log), Unix seconds') })),
});
export const CreatedTokenSchema = TokenInfoSchema.extend({ token: z.string().describe('the secret: shown only in this answer') });

export const InvitationSchema = z
  .strictObject({
    id: z.string(),
    name: z.string().nullable().describe('whom it is for; the token made from it gets the same name'),
    zones: z.array(z.string()),
    sites: z.array(z.string()),
    owners: z.array(z.string()),
    createdAt: UnixSeconds,
    expiresAt: UnixSeconds.describe('from when the code is refused'),
    tokenExpiresAt: UnixSeconds.nullable().describe('when the token made from it expires; null: never'),
    usedAt: UnixSeconds.nullable(),
    tokenId: z.string().nullable().describe('the token it became, once used'),
  })
  .describe('an invitation: never its code');
export const InvitationListSchema = z.strictObject({ invitations: z.array(InvitationSchema) });
export const CreatedInvitationSchema = InvitationSchema.extend({ code: z.string().describe('the one-time code: shown only in this answer') });

export type TokenRole = (typeof TOKEN_ROLES)[number];
export type TokenInfoBody = z.infer<typeof TokenInfoSchema>;
export type TokenListBody = z.infer<typeof TokenListSchema>;
export type CreatedTokenBody = z.infer<typeof CreatedTokenSchema>;
export type InvitationBody = z.infer<typeof InvitationSchema>;
export type InvitationListBody = z.infer<typeof InvitationListSchema>;
export type CreatedInvitationBody = z.infer<typeof CreatedInvitationSchema>;

// ---------------------------------------------------------------- events: marked periods (aggregator/src/events/routes.ts)

export const MarkedPeriodSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  from: UnixSeconds.describe('start, Unix seconds'),
  to: UnixSeconds.describe('end (exclusive), Unix seconds'),
  zones: z.array(z.string()).describe('the zones it is about that the caller may read'),
  sites: z.array(z.string()).describe('the sites it is about that the caller may read'),
  note: z.string().nullable(),
  createdAt: UnixSeconds,
});
export const MarkedPeriodListSchema = z.strictObject({ events: z.array(MarkedPeriodSchema) });

export type MarkedPeriodBody = z.infer<typeof MarkedPeriodSchema>;
export type MarkedPeriodListBody = z.infer<typeof MarkedPeriodListSchema>;
