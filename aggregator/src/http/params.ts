/**
 * The query parameters of every API route, declared once: the parsers reject any other parameter (a typo
 * such as `stp=3600` must not silently give minute data) and the OpenAPI document lists exactly these.
 */
import { RADIOS, SERIES_STEPS } from '@passant/shared';
import { HttpError } from '../errors.ts';

export interface ParamSpec {
  name: string;
  description: string;
  /** JSON Schema of the value (as text in the URL). */
  schema: Record<string, unknown>;
  /** A valid value, for the documentation and the OpenAPI test. */
  example: string;
}

const FROM: ParamSpec = {
  name: 'from',
  description: 'start, Unix seconds, aligned down to the step (default: `to` minus 24 hours)',
  schema: { type: 'string', pattern: '^\\d{1,12}$' },
  example: '1699920000',
};
const TO: ParamSpec = {
  name: 'to',
  description: 'end (exclusive), Unix seconds, aligned down to the step (default: now)',
  schema: { type: 'string', pattern: '^\\d{1,12}$' },
  example: '1700006400',
};
const RADIO: ParamSpec = { name: 'radio', description: 'which radio (default wifi)', schema: { type: 'string', enum: [...RADIOS] }, example: 'wifi' };

/** The reference period of the index (http/estimates.ts; parsed in series-query.ts). */
export const REFERENCE: ParamSpec = {
  name: 'reference',
  description:
    "from,to (Unix seconds, whole minutes): adds `index`, each bucket's released devices per released zone-minute against the same of this period (= 100); not in the future, at most the longest range of a series",
  schema: { type: 'string', pattern: '^\\d{1,12},\\d{1,12}$' },
  example: '1699315200,1699920000',
};

/** The calendar steps of a series: days, ISO weeks (Monday first) and months in `tz`. */
export const CALENDAR_STEPS = ['day', 'week', 'month'] as const;

/** The comparison's parameters: steps in seconds only. */
export const COMPARE_PARAMS: readonly ParamSpec[] = [
  FROM,
  TO,
  { name: 'step', description: 'bucket length in seconds (default 60)', schema: { type: 'string', enum: SERIES_STEPS.map(String) }, example: '3600' },
  RADIO,
  REFERENCE,
];

/** A series and its CSV: steps in seconds, or calendar days, weeks and months in a time zone. */
export const SERIES_PARAMS: readonly ParamSpec[] = [
  FROM,
  TO,
  {
    name: 'step',
    description:
      'bucket length in seconds (60, 3600, 86400; default 60), or day, week (ISO, Monday first) or month in `tz`; 86400 with a tz other than UTC means day. Calendar buckets start at the local midnight that holds `from` and say how many minutes they cover and how many were released',
    schema: { type: 'string', enum: [...SERIES_STEPS.map(String), ...CALENDAR_STEPS] },
    example: '3600',
  },
  RADIO,
  {
    name: 'tz',
    description: 'IANA time zone of calendar steps, e.g. Europe/Amsterdam (default UTC); a calendar series says its tz, and its CSV shows local times with their offset',
    schema: { type: 'string', pattern: '^[A-Za-z0-9_+\\-/]{1,64}$' },
    example: 'Europe/Amsterdam',
  },
  REFERENCE,
];

export const PROFILE_PARAMS: readonly ParamSpec[] = [
  {
    name: 'weeks',
    description: 'how many weeks before the current hour to average (1 to 52, default 4)',
    schema: { type: 'string', pattern: '^\\d{1,2}$' },
    example: '4',
  },
  { name: 'radio', description: 'which radio (default wifi)', schema: { type: 'string', enum: [...RADIOS] }, example: 'ble' },
  {
    name: 'tz',
    description: 'IANA time zone of the hours of the week, e.g. Europe/Amsterdam (default UTC)',
    schema: { type: 'string', pattern: '^[A-Za-z0-9_+\\-/]{1,64}$' },
    example: 'Europe/Amsterdam',
  },
];

export const ACCESS_LOG_PARAMS: readonly ParamSpec[] = [
  { name: 'from', description: 'only requests at or after this time, Unix seconds', schema: { type: 'string', pattern: '^\\d{1,12}$' }, example: '1699920000' },
  { name: 'to', description: 'only requests before this time, Unix seconds', schema: { type: 'string', pattern: '^\\d{1,12}$' }, example: '1900000000' },
  { name: 'token', description: "only this token's requests (its id, as `token list` shows it)", schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' }, example: 'abc123' },
  { name: 'limit', description: 'most entries, newest first (1 to 10000, default 1000)', schema: { type: 'string', pattern: '^\\d{1,5}$' }, example: '100' },
];

export const EVENTS_PARAMS: readonly ParamSpec[] = [
  { name: 'zone', description: 'only this zone (default: every zone the caller may read)', schema: { type: 'string' }, example: 'front' },
  {
    name: 'access_token',
    description:
      'the API token, for clients that cannot send an Authorization header (the browser EventSource); only this route takes it. Prefer the header: URLs end up in proxy logs',
    schema: { type: 'string' },
    example: '',
  },
];

/** Throws a 400 naming every parameter of `query` that is not in `specs`. */
export function rejectUnknownParams(query: Record<string, unknown>, specs: readonly ParamSpec[]): void {
  const known = new Set(specs.map((s) => s.name));
  const unknown = Object.keys(query).filter((key) => !known.has(key));
  if (unknown.length === 0) return;
  const names = unknown.map((u) => JSON.stringify(u.slice(0, 40))).join(', ');
  const hint = specs.length === 0 ? 'this endpoint takes no query parameters' : `use ${specs.map((s) => s.name).join(', ')}`;
  throw new HttpError(400, 'unknown_parameter', `unknown query parameter${unknown.length > 1 ? 's' : ''} ${names}: ${hint}`);
}

/** The one value of a parameter, or undefined; a repeated parameter is a 400. */
export function singleParam(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new HttpError(400, 'invalid_parameter', `${name} must be given once, as a plain value`);
  }
  return value;
}
