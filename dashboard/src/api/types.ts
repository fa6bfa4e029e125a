/**
 * The dashboard's view of the API's types: radios, targets, and the response types, which are the API's own
 * (`@passant/shared`, types only) narrowed to the fields the dashboard reads and checks.ts verifies.
 */
import type {
  AuditBody,
  CompareBody,
  MeBody,
  NoiseBody,
  PrivacyInfoBody,
  ProfileBody,
  Radio,
  SensorHealthBody,
  SensorHealthListBody,
  SeriesResponse,
  SiteInfoBody,
  ZoneInfoBody,
} from '@passant/shared';

export type { Radio };

export const RADIOS: readonly Radio[] = ['wifi', 'ble'];

export function isRadio(value: unknown): value is Radio {
  return typeof value === 'string' && (RADIOS as readonly string[]).includes(value);
}

export type TargetKind = 'zone' | 'site';

/** A zone or a site: what a series, a comparison, a profile or a CSV is asked for. */
export interface Target {
  kind: TargetKind;
  id: string;
}

// The response types are the API's own (`@passant/shared`, api-schemas.ts), narrowed to the fields the dashboard
// reads and checks.ts verifies: a renamed or retyped field breaks this build, not the page.

/** A zone; `site` is the zone's site when the caller may read it, else null. */
export type ZoneInfo = Pick<ZoneInfoBody, 'id' | 'name' | 'site'>;

export type SiteInfo = Pick<SiteInfoBody, 'id' | 'name' | 'zones'>;

export type Role = MeBody['role'];
export const ROLES = ['public', 'viewer', 'admin', 'privacy'] as const satisfies readonly Role[];

/** `GET /api/v1/me`: who the caller is and what it may read. */
export type Me = Omit<MeBody, 'tokenId'>;

export type Noise = NoiseBody;

export type Series = SeriesResponse;

/** One period of a comparison (`total`: sum of the released values, null when none was released). */
export type Period = CompareBody['current'];

/** `change`: percentage change of the current total against this period; null when either total is null or this one is 0. */
export type ComparedPeriod = CompareBody['previous'];

/** `GET /api/v1/{zones|sites}/:id/compare`. */
export type Comparison = CompareBody;

export const HOURS_OF_WEEK = 168;

/** `GET /api/v1/{zones|sites}/:id/profile`: index weekday*24+hour, weekday 0 = Monday. */
export type Profile = ProfileBody;

export const SENSOR_STATES = ['online', 'offline', 'unknown'] as const satisfies readonly SensorHealthBody['state'][];
export type SensorState = SensorHealthBody['state'];

export type SensorHealth = Omit<SensorHealthBody, 'online'>;

/** `GET /api/v1/sensors`: health only, never counts. */
export type SensorHealthReport = Omit<SensorHealthListBody, 'sensors'> & { sensors: SensorHealth[] };

export type PublicScope = PrivacyInfoBody['publicAccess']['zones'];

/** `GET /api/v1/privacy`. */
export type PrivacyInfo = PrivacyInfoBody;

/** `GET /api/v1/privacy/audit`: the rejection reasons and token roles as the server lists them. */
export type Audit = Omit<AuditBody, 'ingest' | 'tokens'> & {
  ingest: Omit<AuditBody['ingest'], 'rejected'> & { rejected: Record<string, number> };
  tokens: Record<string, number>;
};

/** A live update, as `GET /api/v1/events` sends it (the `data` of a `message` event). */
export interface LiveEvent {
  zoneId: string;
  radio: Radio;
  t: number;
  devices: number | null;
  suppressed: number;
}

