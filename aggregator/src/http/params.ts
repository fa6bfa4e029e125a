/**
 * The query parameters of every API route, declared once as zod objects: the route table (routes/) validates each
 * request against them (any other parameter is refused: a typo such as `stp=3600` must not silently give minute
 * data; a repeated one too) and the OpenAPI document lists exactly these. Each field says what it is (describe), a
 * valid value (meta example, for the documentation and the OpenAPI test) and the error code of a bad value (meta
 * errorCode, default invalid_parameter). The route parsers (series-query.ts) then check what a schema cannot say
 * (ranges, time zones, bucket counts).
 *
 * Query keys are lower camelCase (the Dutch API Design Rules). A name kept from before that rule is an alias:
 * `access_token` is read as `accessToken`.
 */
import { z } from 'zod';
import { RADIOS, SERIES_STEPS, type ApiErrorCode } from '@passant/shared';
import { HttpError } from '../errors.ts';

/** What a field's meta may hold besides zod's own. */
export interface ParamMeta {
  example?: string;
  /** The error code of a bad value (default invalid_parameter). */
  errorCode?: ApiErrorCode;
}

/** A query: optional string fields (a URL holds text), each described. */
export type QuerySchema = z.ZodObject<Record<string, z.ZodOptional<z.ZodType<string>>>>;

export interface ParamSpec {
  name: string;
  description: string;
  /** JSON Schema of the value (as text in the URL). */
  schema: Record<string, unknown>;
  /** A valid value, for the documentation and the OpenAPI test ('' when none can be shown). */
  example: string;
}

/** An optional query parameter in whole Unix seconds, as a string of digits (the routes that take times use it). */
export const unix = (name: string, description: string, example: string) =>
  z
    .string()
    .regex(/^\d{1,12}$/, { error: (issue) => `${name} must be a time in whole Unix seconds (digits only), got ${JSON.stringify(String(issue.input).slice(0, 40))}` })
    .optional()
    .describe(description)
    .meta({ example });

const FROM = unix('from', 'start, Unix seconds, aligned down to the step (default: `to` minus 24 hours)', '1699920000');
const TO = unix('to', 'end (exclusive), Unix seconds, aligned down to the step (default: now)', '1700006400');
const radio = (example: string) =>
  z
    .enum(RADIOS, { error: (issue) => `radio must be one of ${RADIOS.join(', ')}, got ${JSON.stringify(String(issue.input).slice(0, 40))}` })
    .optional()
    .describe('which radio (default wifi)')
    .meta({ example, errorCode: 'invalid_radio' });
const timeZone = (description: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_+\-/]{1,64}$/, {
      error: (issue) => `tz must be an IANA time zone such as Europe/Amsterdam or UTC, got ${JSON.stringify(String(issue.input).slice(0, 64))}`,
    })
    .optional()
    .describe(description)
    .meta({ example: 'Europe/Amsterdam', errorCode: 'invalid_time_zone' });

/** The reference period of the index (http/estimates.ts; series-query.ts checks order, length and the future). */
const REFERENCE = z
  .string()
  .regex(/^\d{1,12},\d{1,12}$/, { error: (issue) => `reference must be from,to in whole Unix seconds, got ${JSON.stringify(String(issue.input).slice(0, 40))}` })
  .optional()
  .describe(
    "from,to (Unix seconds, whole minutes): adds `index`, each bucket's released devices per released zone-minute against the same of this period (= 100); not in the future, at most the longest range of a series",
  )
  .meta({ example: '1699315200,1699920000', errorCode: 'invalid_reference' });

/** The calendar steps of a series: days, ISO weeks (Monday first) and months in `tz`. */
export const CALENDAR_STEPS = ['day', 'week', 'month'] as const;

const SECOND_STEPS = SERIES_STEPS.map(String) as [string, ...string[]];

/** The comparison's query: steps in seconds only. */
export const COMPARE_QUERY = z.object({
  from: FROM,
  to: TO,
  step: z
    .enum(SECOND_STEPS, { error: (issue) => `step must be one of ${SERIES_STEPS.join(', ')} (seconds), got ${JSON.stringify(String(issue.input).slice(0, 40))}` })
    .optional()
    .describe('bucket length in seconds (default 60)')
    .meta({ example: '3600', errorCode: 'invalid_step' }),
  radio: radio('wifi'),
  reference: REFERENCE,
});

/** A series and its CSV: steps in seconds, or calendar days, weeks and months in a time zone. */
export const SERIES_QUERY = z.object({
  from: FROM,
  to: TO,
  step: z
    .enum([...SECOND_STEPS, ...CALENDAR_STEPS], {
      error: (issue) =>
        `step must be one of ${SERIES_STEPS.join(', ')} (seconds), or ${CALENDAR_STEPS.join(', ')}; got ${JSON.stringify(String(issue.input).slice(0, 40))}`,
    })
    .optional()
    .describe(
      'bucket length in seconds (60, 3600, 86400; default 60), or day, week (ISO, Monday first) or month in `tz`; 86400 with a tz other than UTC means day. Calendar buckets start at the local midnight that holds `from` and say how many minutes they cover and how many were released',
    )
    .meta({ example: '3600', errorCode: 'invalid_step' }),
  radio: radio('wifi'),
  tz: timeZone('IANA time zone of calendar steps, e.g. Europe/Amsterdam (default UTC); a calendar series says its tz, and its CSV shows local times with their offset'),
  reference: REFERENCE,
});

export const PROFILE_QUERY = z.object({
  weeks: z
    .string()
    .regex(/^\d{1,2}$/, { error: (issue) => `weeks must be a whole number from 1 to 52, got ${JSON.stringify(String(issue.input).slice(0, 40))}` })
    .optional()
    .describe('how many weeks before the current hour to average (1 to 52, default 4)')
    .meta({ example: '4' }),
  radio: radio('ble'),
  tz: timeZone('IANA time zone of the hours of the week, e.g. Europe/Amsterdam (default UTC)'),
});

export const ACCESS_LOG_QUERY = z.object({
  from: unix('from', 'only requests at or after this time, Unix seconds', '1699920000'),
  to: unix('to', 'only requests before this time, Unix seconds', '1900000000'),
  token: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'token must be a token id (letters, digits, - and _)' })
    .optional()
    .describe("only this token's requests (its id, as `token list` shows it)")
    .meta({ example: 'abc123' }),
  limit: z
    .string()
    .regex(/^\d{1,5}$/, { error: 'limit must be a whole number from 1 to 10000' })
    .optional()
    .describe('most entries, newest first (1 to 10000, default 1000)')
    .meta({ example: '100' }),
});

export const EVENTS_QUERY = z.object({
  zone: z.string().optional().describe('only this zone (default: every zone the caller may read)').meta({ example: 'front' }),
  accessToken: z
    .string()
    .optional()
    .describe(
      'the API token, for clients that cannot send an Authorization header (the browser EventSource); only this route takes it (also as access_token, its name before 2026-12). Prefer the header: URLs end up in proxy logs',
    ),
});

/** Old query names still accepted, by route query: old -> new. */
export const EVENTS_ALIASES: Readonly<Record<string, string>> = { access_token: 'accessToken' };

/** The site series' own parameter: its zones' series in the same answer. */
export const SITE_SERIES_QUERY = SERIES_QUERY.extend({
  include: z
    .literal('zones', { error: 'include must be zones' })
    .optional()
    .describe(
      "also the series of each of the site's zones the caller may read, as /zones/{id}/series gives them for the same query: one request for a site and its zones (counted against the rate limit as both)",
    )
    .meta({ example: 'zones' }),
});

export const ME_QUERY = z.object({
  include: z
    .string()
    .regex(/^(zones|sites)(,(zones|sites))?$/, { error: 'include must be zones, sites or zones,sites' })
    .optional()
    .describe(
      'also the lists this caller may read, as /zones and /sites give them (an empty list where it may read none): zones, sites or zones,sites. A page that starts needs all three: one request instead of three in a row',
    )
    .meta({ example: 'zones,sites' }),
});

/** A route without query parameters. */
export const NO_QUERY = z.object({});

/** The fields of a query schema as documented parameters. */
export function paramSpecs(query: QuerySchema): ParamSpec[] {
  return Object.entries(query.shape).map(([name, field]) => {
    const meta = (field.meta() ?? {}) as ParamMeta;
    const { $schema: _dialect, example: _example, errorCode: _code, description: _description, ...schema } = z.toJSONSchema(field, {
      target: 'draft-2020-12',
      io: 'input',
    }) as Record<string, unknown>;
    return { name, description: field.description ?? '', schema, example: meta.example ?? '' };
  });
}

export const SERIES_PARAMS: readonly ParamSpec[] = paramSpecs(SERIES_QUERY);
export const COMPARE_PARAMS: readonly ParamSpec[] = paramSpecs(COMPARE_QUERY);
export const PROFILE_PARAMS: readonly ParamSpec[] = paramSpecs(PROFILE_QUERY);
export const ACCESS_LOG_PARAMS: readonly ParamSpec[] = paramSpecs(ACCESS_LOG_QUERY);
export const EVENTS_PARAMS: readonly ParamSpec[] = paramSpecs(EVENTS_QUERY);

/**
 * Checks `query` against `schema`: unknown names (after `aliases`, which are renamed in place) and repeated
 * parameters are a 400, and so is a value the schema refuses (with the field's error code). Returns the query.
 */
export function validateQuery(query: Record<string, unknown>, schema: QuerySchema, aliases: Readonly<Record<string, string>> = {}): Record<string, string | undefined> {
  for (const [old, name] of Object.entries(aliases)) {
    if (query[old] === undefined) continue;
    if (query[name] !== undefined) throw new HttpError(400, 'invalid_parameter', `send ${name} once: as ${name} or as ${old}, not both`);
    query[name] = query[old];
    delete query[old];
  }
  const names = Object.keys(schema.shape);
  rejectUnknownParams(query, names);
  for (const name of names) singleParam(query, name);
  const result = schema.safeParse(query);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0] ?? '');
    const code = ((schema.shape[name]?.meta() ?? {}) as ParamMeta).errorCode ?? 'invalid_parameter';
    throw new HttpError(400, code, issue.message);
  }
  return result.data;
}

/** Throws a 400 naming every parameter of `query` that is not in `specs` (names, or documented parameters). */
export function rejectUnknownParams(query: Record<string, unknown>, specs: readonly (ParamSpec | string)[]): void {
  const names = specs.map((s) => (typeof s === 'string' ? s : s.name));
  const known = new Set(names);
  const unknown = Object.keys(query).filter((key) => !known.has(key));
  if (unknown.length === 0) return;
  const quoted = unknown.map((u) => JSON.stringify(u.slice(0, 40))).join(', ');
  const hint = names.length === 0 ? 'this endpoint takes no query parameters' : `use ${names.join(', ')}`;
  throw new HttpError(400, 'unknown_parameter', `unknown query parameter${unknown.length > 1 ? 's' : ''} ${quoted}: ${hint}`);
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
