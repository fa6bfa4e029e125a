/**
 * The aggregator's HTTP API as the dashboard uses it: who am I, zones and sites, their series, week comparison and
 * hour-of-week profile, CSV, sensor health, the privacy page and audit, and live updates by Server-Sent Events.
 * URLs are relative to the page, which the aggregator serves from the same origin. Every response is checked
 * before use (the API is not trusted to be well-formed); the types come from `@passant/shared` as types only, or
 * are declared here after the aggregator's OpenAPI document (`GET /api/v1/openapi.json`), so no schema library
 * reaches the browser.
 *
 * The token (see auth.ts) goes out as `Authorization: Bearer ...` on every request, and as `access_token` only on
 * the event stream (EventSource cannot send headers). It is never put in a URL the page shows or links to.
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
  SeriesQuery,
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
// reads and its checks below verify: a renamed or retyped field breaks this build, not the page.

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

/** A failed API call: `status` 0 when the server could not be reached or did not answer in time. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(message: string, status: number, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** True for the answer to a token the server does not accept (unknown, revoked, malformed). */
export function isInvalidToken(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401 && err.code === 'invalid_token';
}

/** True when the server wants a token (none was sent) or a better one (403). */
export function needsToken(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 401 || err.status === 403);
}

export const REQUEST_TIMEOUT_MS = 10_000;

let bearer: string | null = null;
let onInvalidToken: (() => void) | null = null;

/**
 * The token sent with every request from now on (null: none). `invalidHandler` runs when the server refuses it
 * (revoked while the page was open): the page then signs out.
 */
export function useToken(token: string | null, invalidHandler: (() => void) | null = null): void {
  bearer = token;
  onInvalidToken = invalidHandler;
}

function headers(accept: string, token: string | null): HeadersInit {
  const h: Record<string, string> = { accept };
  if (token !== null) h.authorization = `Bearer ${token}`;
  return h;
}

async function request(path: string, accept: string, token: string | null): Promise<Response> {
  try {
    return await fetch(path, {
      headers: headers(accept, token),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      // The token is sent by header only; no cookie or other credential is needed or sent along.
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch (err) {
    throw new ApiError(`no answer from ${path.split('?')[0]}`, 0, 'unreachable', { cause: err });
  }
}

/**
 * The error of a response that is not ok, from its body when it has one: `{ error: { code, message } }`, or a
 * problem (RFC 9457: `detail`, with the machine-readable `code` beside it).
 */
async function errorOf(res: Response, path: string): Promise<ApiError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const legacy = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const problem = isRecord(body) && legacy === undefined ? body : undefined;
  const detail = legacy?.message ?? problem?.detail;
  const code = legacy?.code ?? problem?.code;
  const message = typeof detail === 'string' ? detail : `${path.split('?')[0]} answered HTTP ${res.status}`;
  return new ApiError(message, res.status, typeof code === 'string' ? code : 'http_error');
}

async function getJson(path: string, token = bearer): Promise<unknown> {
  const res = await request(path, 'application/json', token);
  if (!res.ok) {
    const err = await errorOf(res, path);
    if (token !== null && token === bearer && isInvalidToken(err)) onInvalidToken?.();
    throw err;
  }
  try {
    return await res.json();
  } catch (err) {
    throw new ApiError(`${path.split('?')[0]} answered ${res.status} without JSON`, res.status, 'bad_response', { cause: err });
  }
}

function bad(what: string): ApiError {
  return new ApiError(`the server's answer is not ${what}`, 200, 'bad_response');
}

// ---- requests --------------------------------------------------------------------------------------------------

/** Who the caller is; with `token`, checks that token (without using it for anything else). */
export async function fetchMe(token: string | null = bearer): Promise<Me> {
  const body = await getJson('api/v1/me', token);
  if (!isMe(body)) throw bad('{role, zones, sites, ...}');
  return { role: body.role, name: body.name, zones: body.zones, sites: body.sites, health: body.health, audit: body.audit, admin: body.admin };
}

export async function fetchZones(): Promise<ZoneInfo[]> {
  const body = await getJson('api/v1/zones');
  if (!Array.isArray(body) || !body.every(isZoneInfo)) throw bad('a list of {id, name}');
  return body.map((z) => ({ id: z.id, name: z.name, site: typeof z.site === 'string' ? z.site : null }));
}

export async function fetchSites(): Promise<SiteInfo[]> {
  const body = await getJson('api/v1/sites');
  if (!Array.isArray(body) || !body.every(isSiteInfo)) throw bad('a list of {id, name, zones}');
  return body.map((s) => ({ id: s.id, name: s.name, zones: [...s.zones] }));
}

function targetPath(target: Target, what: string): string {
  return `api/v1/${target.kind}s/${encodeURIComponent(target.id)}/${what}`;
}

function seriesParams(query: SeriesQuery): URLSearchParams {
  return new URLSearchParams({ from: String(query.from), to: String(query.to), step: String(query.step), radio: query.radio });
}

export async function fetchSeries(target: Target, query: SeriesQuery): Promise<Series> {
  const body = await getJson(`${targetPath(target, 'series')}?${seriesParams(query)}`);
  if (!isSeriesResponse(body)) throw bad('{t[], devices[], suppressed[]}');
  return body;
}

/** `query.from..query.to` against the period before and the same period a week earlier. */
export async function fetchComparison(target: Target, query: SeriesQuery): Promise<Comparison> {
  const body = await getJson(`${targetPath(target, 'compare')}?${seriesParams(query)}`);
  if (!isComparison(body)) throw bad('a comparison {current, previous, lastWeek}');
  return body;
}

export async function fetchProfile(target: Target, query: { weeks: number; radio: Radio; tz: string }): Promise<Profile> {
  const params = new URLSearchParams({ weeks: String(query.weeks), radio: query.radio, tz: query.tz });
  const body = await getJson(`${targetPath(target, 'profile')}?${params}`);
  if (!isProfile(body)) throw bad('an hour-of-week profile of 168 hours');
  return body;
}

/** The CSV URL of a series: no token in it (the download sends the token as a header). */
export function csvUrl(target: Target, query: SeriesQuery): string {
  return `${targetPath(target, 'series.csv')}?${seriesParams(query)}`;
}

/** A file name safe to offer: only letters, digits, dot, dash and underscore. */
export function safeFileName(name: string, fallback: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[._]+/, '').slice(0, 120);
  return cleaned === '' ? fallback : cleaned;
}

/** The file name in a Content-Disposition header (`filename="..."`), or null. */
export function fileNameOf(contentDisposition: string | null): string | null {
  const match = /filename="([^"]{1,200})"/i.exec(contentDisposition ?? '');
  return match ? match[1]! : null;
}

/** Fetches a series as CSV (with the token as a header) and returns the file. */
export async function fetchCsv(target: Target, query: SeriesQuery): Promise<{ blob: Blob; fileName: string }> {
  const path = csvUrl(target, query);
  const res = await request(path, 'text/csv', bearer);
  if (!res.ok) {
    const err = await errorOf(res, path);
    if (bearer !== null && isInvalidToken(err)) onInvalidToken?.();
    throw err;
  }
  const blob = await res.blob();
  const fallback = `passant-${target.kind}-${target.id}-${query.radio}-${query.from}-${query.to}-${query.step}.csv`;
  return { blob, fileName: safeFileName(fileNameOf(res.headers.get('content-disposition')) ?? fallback, 'passant.csv') };
}

/** A stored calibration as the page reads it (`GET /api/v1/zones/:id/calibrations`, admin and privacy tokens). */
export interface CalibrationSummary {
  id: string;
  kind: string;
  radio: string;
  created: number;
  /** Manual counts the fit used. */
  pointsUsed: number | null;
}

/** A zone's calibrations, oldest first; only the fields the page shows (the date and the counts used). */
export async function fetchCalibrations(zoneId: string): Promise<CalibrationSummary[]> {
  const body = await getJson(`api/v1/zones/${encodeURIComponent(zoneId)}/calibrations`);
  if (!isRecord(body) || !Array.isArray(body.calibrations)) throw bad('{zoneId, calibrations[]}');
  return body.calibrations.filter(isRecord).flatMap((c) => {
    if (typeof c.id !== 'string' || typeof c.kind !== 'string' || typeof c.radio !== 'string' || !isTime(c.created)) return [];
    const used = isRecord(c.points) && isCount(c.points.used) ? c.points.used : null;
    return [{ id: c.id, kind: c.kind, radio: c.radio, created: c.created, pointsUsed: used }];
  });
}

/** What the page shows of a calibration just fitted (`POST /api/v1/zones/:id/calibrations`, 201). */
export interface FittedCalibration {
  id: string;
  a: number | null;
  r2: number | null;
  mae: number | null;
  used: number | null;
}

/**
 * Sends manual counts to be fitted (admin). A refusal (400 bad counts, 422 cannot fit, 403 not an admin) is thrown
 * as an ApiError with the server's message.
 */
export async function postCalibration(zoneId: string, body: { kind: string; radio: Radio; counts: { from: number; to: number; people: number }[] }): Promise<FittedCalibration> {
  const path = `api/v1/zones/${encodeURIComponent(zoneId)}/calibrations`;
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { ...(headers('application/json', bearer) as Record<string, string>), 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS * 3),
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch (err) {
    throw new ApiError(`no answer from ${path}`, 0, 'unreachable', { cause: err });
  }
  if (!res.ok) {
    const err = await errorOf(res, path);
    if (bearer !== null && isInvalidToken(err)) onInvalidToken?.();
    throw err;
  }
  const c: unknown = await res.json().catch(() => null);
  if (!isRecord(c) || typeof c.id !== 'string') throw bad('a fitted calibration {id, parameters, statistics, points}');
  const num = (v: unknown) => (isValue(v) ? v : null);
  return {
    id: c.id,
    a: isRecord(c.parameters) ? num(c.parameters.a) : null,
    r2: isRecord(c.statistics) ? num(c.statistics.r2) : null,
    mae: isRecord(c.statistics) ? num(c.statistics.mae) : null,
    used: isRecord(c.points) ? num(c.points.used) : null,
  };
}

export async function fetchSensorHealth(): Promise<SensorHealthReport> {
  const body = await getJson('api/v1/sensors');
  if (!isSensorHealthReport(body)) throw bad('a sensor health report');
  return body;
}

export async function fetchPrivacy(): Promise<PrivacyInfo> {
  const body = await getJson('api/v1/privacy');
  if (!isPrivacyInfo(body)) throw bad('the privacy facts {k, retention, countsSchema, ...}');
  return body;
}

export async function fetchAudit(): Promise<Audit> {
  const body = await getJson('api/v1/privacy/audit');
  if (!isAudit(body)) throw bad('audit data');
  return body;
}

// ---- checks ----------------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** A released value: a count, or (with noise on open data) rarely a small negative number. */
function isValue(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function isStep(value: unknown): value is Comparison['step'] {
  return value === 60 || value === 3600 || value === 86400;
}

function isNullableTime(value: unknown): value is number | null {
  return value === null || isTime(value);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((x) => typeof x === 'string');
}

function isScope(value: unknown): value is PublicScope {
  return value === 'none' || value === 'all' || isStringList(value);
}

function isNoise(value: unknown): value is Noise {
  return isRecord(value) && isValue(value.epsilon) && value.mechanism === 'geometric';
}

function optionalNoise(value: Record<string, unknown>): boolean {
  return value.noise === undefined || isNoise(value.noise);
}

export function isMe(value: unknown): value is Me {
  return (
    isRecord(value) &&
    typeof value.role === 'string' &&
    (ROLES as readonly string[]).includes(value.role) &&
    (value.name === null || typeof value.name === 'string') &&
    (value.zones === 'all' || isStringList(value.zones)) &&
    (value.sites === 'all' || isStringList(value.sites)) &&
    typeof value.health === 'boolean' &&
    typeof value.audit === 'boolean' &&
    typeof value.admin === 'boolean'
  );
}

export function isZoneInfo(value: unknown): value is ZoneInfo {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    value.id !== '' &&
    typeof value.name === 'string' &&
    (value.site === undefined || value.site === null || typeof value.site === 'string')
  );
}

export function isSiteInfo(value: unknown): value is SiteInfo {
  return isRecord(value) && typeof value.id === 'string' && value.id !== '' && typeof value.name === 'string' && isStringList(value.zones);
}

/** True for `{ t: number[], devices: (number|null)[], suppressed: number[] }` with arrays of one length. */
export function isSeriesResponse(value: unknown): value is SeriesResponse {
  if (!isRecord(value)) return false;
  const { t, devices, suppressed } = value;
  return (
    Array.isArray(t) &&
    Array.isArray(devices) &&
    Array.isArray(suppressed) &&
    devices.length === t.length &&
    suppressed.length === t.length &&
    t.every(isTime) &&
    devices.every((x) => x === null || isValue(x)) &&
    suppressed.every(isCount) &&
    optionalNoise(value)
  );
}

function isPeriod(value: unknown): value is Period {
  return (
    isRecord(value) &&
    isTime(value.from) &&
    isTime(value.to) &&
    (value.total === null || isValue(value.total)) &&
    isCount(value.suppressedCells) &&
    value.noise === undefined &&
    isSeriesResponse(value)
  );
}

function isComparedPeriod(value: unknown): value is ComparedPeriod {
  return isRecord(value) && (value.change === null || isValue(value.change)) && isPeriod(value);
}

export function isComparison(value: unknown): value is Comparison {
  if (!isRecord(value) || !isRadio(value.radio) || !isStep(value.step) || !optionalNoise(value)) return false;
  return isPeriod(value.current) && isComparedPeriod(value.previous) && isComparedPeriod(value.lastWeek);
}

export function isProfile(value: unknown): value is Profile {
  if (!isRecord(value)) return false;
  const { mean, hours, suppressed } = value;
  return (
    isCount(value.weeks) &&
    typeof value.tz === 'string' &&
    isRadio(value.radio) &&
    isTime(value.from) &&
    isTime(value.to) &&
    Array.isArray(mean) &&
    mean.length === HOURS_OF_WEEK &&
    mean.every((x) => x === null || isValue(x)) &&
    Array.isArray(hours) &&
    hours.length === HOURS_OF_WEEK &&
    hours.every(isCount) &&
    Array.isArray(suppressed) &&
    suppressed.length === HOURS_OF_WEEK &&
    suppressed.every(isCount) &&
    optionalNoise(value)
  );
}

function isSensorHealth(value: unknown): value is SensorHealth {
  return (
    isRecord(value) &&
    typeof value.sensorId === 'string' &&
    typeof value.zoneId === 'string' &&
    (SENSOR_STATES as readonly unknown[]).includes(value.state) &&
    isNullableTime(value.lastMessageAt) &&
    isNullableTime(value.lastWindowStart) &&
    isCount(value.messagesLastHour) &&
    isCount(value.missingLastHour) &&
    isCount(value.missingLastDay) &&
    (value.version === null || typeof value.version === 'string') &&
    (value.activeUntil === null || typeof value.activeUntil === 'string') &&
    typeof value.ended === 'boolean'
  );
}

export function isSensorHealthReport(value: unknown): value is SensorHealthReport {
  return isRecord(value) && isTime(value.asOf) && isCount(value.windowSeconds) && Array.isArray(value.sensors) && value.sensors.every(isSensorHealth);
}

function isShare(value: unknown): value is number | null {
  return value === null || (isValue(value) && value >= 0 && value <= 1);
}

export function isPrivacyInfo(value: unknown): value is PrivacyInfo {
  if (!isRecord(value)) return false;
  const { retention, suppressedShare: share, publicAccess } = value;
  return (
    isCount(value.k) &&
    isCount(value.windowSeconds) &&
    isCount(value.settleSeconds) &&
    isRecord(retention) &&
    Object.values(retention).every((v) => v === null || isCount(v)) &&
    isRecord(share) &&
    isCount(share.periodSeconds) &&
    isShare(share.wifi) &&
    isShare(share.ble) &&
    (value.noise === null || isNoise(value.noise)) &&
    isRecord(publicAccess) &&
    isScope(publicAccess.zones) &&
    isScope(publicAccess.sites) &&
    isRecord(value.countsSchema)
  );
}

function isCountRecord(value: unknown): value is Record<string, number> {
  return isRecord(value) && Object.values(value).every(isCount);
}

export function isAudit(value: unknown): value is Audit {
  if (!isRecord(value) || !isTime(value.since)) return false;
  const { ingest, statusMessages, tokens } = value;
  return (
    isRecord(ingest) &&
    isCount(ingest.stored) &&
    isCount(ingest.duplicate) &&
    isCountRecord(ingest.rejected) &&
    isRecord(statusMessages) &&
    isCount(statusMessages.accepted) &&
    isCount(statusMessages.rejected) &&
    isCountRecord(tokens)
  );
}

/** The event in an SSE `data` field, or null when it is not a well-formed live event. */
export function parseLiveEvent(data: string): LiveEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  const { zoneId, radio, t, devices, suppressed } = value;
  if (typeof zoneId !== 'string' || !isRadio(radio)) return null;
  if (typeof t !== 'number' || !Number.isInteger(t)) return null;
  if (!(devices === null || isCount(devices)) || !isCount(suppressed)) return null;
  return { zoneId, radio, t, devices, suppressed };
}

// ---- live ------------------------------------------------------------------------------------------------------

export interface LiveFeedHandlers {
  onEvent(event: LiveEvent): void;
  /** The stream is (again) connected. */
  onOpen(): void;
  /** The stream broke; `closed` when the browser gave up on it (it retries by itself otherwise). */
  onError(closed: boolean): void;
}

export interface LiveFeed {
  close(): void;
}

/** The event stream's URL: EventSource cannot send an Authorization header, so a token goes as `access_token`. */
export function eventsUrl(token: string | null): string {
  return token === null ? 'api/v1/events' : `api/v1/events?${new URLSearchParams({ access_token: token })}`;
}

/** Subscribes to `GET /api/v1/events` with the current token; malformed events are ignored. */
export function openLiveFeed(handlers: LiveFeedHandlers): LiveFeed {
  const source = new EventSource(eventsUrl(bearer));
  source.addEventListener('open', () => handlers.onOpen());
  source.addEventListener('error', () => handlers.onError(source.readyState === EventSource.CLOSED));
  source.addEventListener('message', (e: MessageEvent<unknown>) => {
    if (typeof e.data !== 'string') return;
    const event = parseLiveEvent(e.data);
    if (event !== null) handlers.onEvent(event);
  });
  return { close: () => source.close() };
}

// ---- any two periods compared, and exports people open (compare-view.ts) -------------------------------------

/** `GET .../compare-periods`: any two periods in the same step, as the API compares them. */
export type PeriodsComparison = import('@passant/shared').ComparePeriodsBody;

/** The query of a comparison of two periods (Unix seconds; step in seconds or a calendar step in `tz`). */
export interface ComparePeriodsQuery {
  from: number;
  to: number;
  againstFrom: number;
  againstTo: number;
  step: 3600 | 'day' | 'week' | 'month';
  radio: Radio;
  tz: string;
}

function isComparedSide(value: unknown): boolean {
  return (
    isRecord(value) &&
    Array.isArray(value.t) &&
    Array.isArray(value.devices) &&
    Array.isArray(value.suppressed) &&
    value.t.length === value.devices.length &&
    (value.total === null || typeof value.total === 'number') &&
    typeof value.zoneMinutes === 'number' &&
    (value.hiddenShare === null || typeof value.hiddenShare === 'number')
  );
}

export function isPeriodsComparison(value: unknown): value is PeriodsComparison {
  return (
    isRecord(value) &&
    Array.isArray(value.offset) &&
    isComparedSide(value.period) &&
    isComparedSide(value.against) &&
    (value.change === null || typeof value.change === 'number') &&
    (value.caveat === null || isRecord(value.caveat)) &&
    (value.zones === undefined || (Array.isArray(value.zones) && value.zones.every((z) => isRecord(z) && typeof z.id === 'string' && typeof z.name === 'string')))
  );
}

export async function fetchComparePeriods(target: Target, query: ComparePeriodsQuery): Promise<PeriodsComparison> {
  const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const body = await getJson(`${targetPath(target, 'compare-periods')}?${params}`);
  if (!isPeriodsComparison(body)) throw bad('a comparison of two periods {period, against, change}');
  return body;
}

/** The export formats of series.csv for people: English CSV, or Dutch Excel (`;`, decimal comma). */
export type ExportFormat = 'csv' | 'csv-nl';

/** Fetches an export of a period (with the token as a header) and returns the file. */
export async function fetchExport(
  target: Target,
  query: { from: number; to: number; step: 3600 | 'day' | 'week' | 'month'; radio: Radio; tz: string },
  format: ExportFormat,
): Promise<{ blob: Blob; fileName: string }> {
  const params = new URLSearchParams({ from: String(query.from), to: String(query.to), step: String(query.step), radio: query.radio, tz: query.tz, format });
  const path = `${targetPath(target, 'series.csv')}?${params}`;
  const res = await request(path, 'text/csv', bearer);
  if (!res.ok) {
    const err = await errorOf(res, path);
    if (bearer !== null && isInvalidToken(err)) onInvalidToken?.();
    throw err;
  }
  const blob = await res.blob();
  return { blob, fileName: safeFileName(fileNameOf(res.headers.get('content-disposition')) ?? `passant-${target.kind}-${target.id}.csv`, 'passant.csv') };
}

// ---- tokens and invitations (tokens-page.ts, invitation.ts) ----------------------------------------------------

export const TOKEN_ROLES = ['viewer', 'admin', 'privacy'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** An API token as `GET /api/v1/tokens` lists it: never its secret. Times in Unix seconds. */
export interface TokenInfo {
  id: string;
  role: TokenRole;
  name: string | null;
  zones: string[];
  sites: string[];
  owners: string[];
  createdAt: number;
  revokedAt: number | null;
  expiresAt: number | null;
}

export interface TokenListItem extends TokenInfo {
  /** The last recorded request with it (the access log), or null. */
  lastUsedAt: number | null;
}

/** A token just made (`POST /api/v1/tokens`, or an invitation redeemed): the secret is in this answer only. */
export interface CreatedToken extends TokenInfo {
  token: string;
}

export interface NewToken {
  role: TokenRole;
  name: string | null;
  zones: string[];
  sites: string[];
  owners: string[];
  expiresAt: number | null;
}

/** An invitation as `GET /api/v1/invitations` lists it: never its code. */
export interface InvitationInfo {
  id: string;
  name: string | null;
  zones: string[];
  sites: string[];
  owners: string[];
  createdAt: number;
  /** From when the code is refused. */
  expiresAt: number;
  tokenExpiresAt: number | null;
  usedAt: number | null;
  tokenId: string | null;
}

/** An invitation just made: the one-time code is in this answer only. */
export interface CreatedInvitation extends InvitationInfo {
  code: string;
}

export interface NewInvitation {
  name: string | null;
  zones: string[];
  sites: string[];
  owners: string[];
  validDays: number;
}

function isTokenInfo(value: unknown): value is TokenInfo {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    (TOKEN_ROLES as readonly unknown[]).includes(value.role) &&
    (value.name === null || typeof value.name === 'string') &&
    isStringList(value.zones) &&
    isStringList(value.sites) &&
    isStringList(value.owners) &&
    isTime(value.createdAt) &&
    isNullableTime(value.revokedAt) &&
    isNullableTime(value.expiresAt)
  );
}

function tokenInfoOf(value: TokenInfo): TokenInfo {
  const { id, role, name, zones, sites, owners, createdAt, revokedAt, expiresAt } = value;
  return { id, role, name, zones: [...zones], sites: [...sites], owners: [...owners], createdAt, revokedAt, expiresAt };
}

export function isCreatedToken(value: unknown): value is CreatedToken {
  return isTokenInfo(value) && typeof (value as unknown as Record<string, unknown>).token === 'string' && (value as CreatedToken).token !== '';
}

function isInvitationInfo(value: unknown): value is InvitationInfo {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    (value.name === null || typeof value.name === 'string') &&
    isStringList(value.zones) &&
    isStringList(value.sites) &&
    isStringList(value.owners) &&
    isTime(value.createdAt) &&
    isTime(value.expiresAt) &&
    isNullableTime(value.tokenExpiresAt) &&
    isNullableTime(value.usedAt) &&
    (value.tokenId === null || typeof value.tokenId === 'string')
  );
}

function invitationInfoOf(value: InvitationInfo): InvitationInfo {
  const { id, name, zones, sites, owners, createdAt, expiresAt, tokenExpiresAt, usedAt, tokenId } = value;
  return { id, name, zones: [...zones], sites: [...sites], owners: [...owners], createdAt, expiresAt, tokenExpiresAt, usedAt, tokenId };
}

/** Sends a JSON request (`POST`, `DELETE`) with `token` (the page's own by default) and returns the JSON answer. */
async function sendJson(method: 'POST' | 'DELETE', path: string, body: unknown, token: string | null = bearer): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: body === undefined ? headers('application/json', token) : { ...(headers('application/json', token) as Record<string, string>), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch (err) {
    throw new ApiError(`no answer from ${path}`, 0, 'unreachable', { cause: err });
  }
  if (!res.ok) {
    const err = await errorOf(res, path);
    if (token !== null && token === bearer && isInvalidToken(err)) onInvalidToken?.();
    throw err;
  }
  try {
    return await res.json();
  } catch (err) {
    throw new ApiError(`${path} answered ${res.status} without JSON`, res.status, 'bad_response', { cause: err });
  }
}

/** Every token (admin), oldest first, with its last recorded use; never a secret. */
export async function fetchTokens(): Promise<TokenListItem[]> {
  const body = await getJson('api/v1/tokens');
  if (!isRecord(body) || !Array.isArray(body.tokens)) throw bad('{tokens[]}');
  return body.tokens.map((item: unknown) => {
    if (!isTokenInfo(item)) throw bad('a list of tokens {id, role, name, zones, ...}');
    const lastUsedAt = (item as unknown as Record<string, unknown>).lastUsedAt;
    if (!(lastUsedAt === null || (typeof lastUsedAt === 'number' && Number.isFinite(lastUsedAt)))) throw bad('a token with lastUsedAt');
    return { ...tokenInfoOf(item), lastUsedAt: lastUsedAt === null ? null : Math.floor(lastUsedAt) };
  });
}

/** Makes a token (admin); the answer holds its secret, shown once. A refusal (400) carries the server's reason. */
export async function createToken(input: NewToken): Promise<CreatedToken> {
  const body = await sendJson('POST', 'api/v1/tokens', {
    role: input.role,
    ...(input.name === null ? {} : { name: input.name }),
    ...(input.role === 'viewer' ? { zones: input.zones, sites: input.sites, owners: input.owners } : {}),
    ...(input.expiresAt === null ? {} : { expiresAt: input.expiresAt }),
  });
  if (!isCreatedToken(body)) throw bad('a new token {id, token, role, ...}');
  return { ...tokenInfoOf(body), token: body.token };
}

/** Revokes a token (admin); resolves to it as it is now. */
export async function revokeToken(id: string): Promise<TokenInfo> {
  const body = await sendJson('DELETE', `api/v1/tokens/${encodeURIComponent(id)}`, undefined);
  if (!isTokenInfo(body)) throw bad('the revoked token {id, revokedAt, ...}');
  return tokenInfoOf(body);
}

/** Every invitation (admin), newest first; never a code. */
export async function fetchInvitations(): Promise<InvitationInfo[]> {
  const body = await getJson('api/v1/invitations');
  if (!isRecord(body) || !Array.isArray(body.invitations) || !body.invitations.every(isInvitationInfo)) throw bad('{invitations[]}');
  return body.invitations.map(invitationInfoOf);
}

/** Makes an invitation (admin); the answer holds its one-time code. */
export async function createInvitation(input: NewInvitation): Promise<CreatedInvitation> {
  const body = await sendJson('POST', 'api/v1/invitations', {
    ...(input.name === null ? {} : { name: input.name }),
    zones: input.zones,
    sites: input.sites,
    owners: input.owners,
    validDays: input.validDays,
  });
  if (!isInvitationInfo(body) || typeof (body as unknown as Record<string, unknown>).code !== 'string') throw bad('a new invitation {id, code, ...}');
  return { ...invitationInfoOf(body), code: (body as CreatedInvitation).code };
}

/**
 * Uses an invitation code (anyone; sent without a token): resolves to the viewer token it became. A used or
 * expired code is refused with 410 (`invitation_used`, `invitation_expired`), an unknown one with 404.
 */
export async function redeemInvitation(code: string): Promise<CreatedToken> {
  const body = await sendJson('POST', 'api/v1/invitations/redeem', { code }, null);
  if (!isCreatedToken(body)) throw bad('a new token {id, token, role, ...}');
  return { ...tokenInfoOf(body), token: body.token };
}

/** The invitation code in a page address's fragment (`#invite=inv_...`), or null. */
export function invitationCodeOf(hash: string): string | null {
  const match = /^#?invite=([A-Za-z0-9_-]{1,200})$/.exec(hash);
  return match ? match[1]! : null;
}

// ---- events: named periods an admin marked (compare-view.ts, event-marks.ts) ----------------------------------

/** `GET /api/v1/marked-periods`: a named period of zones and sites (a market, street works); no counts. */
export interface MarkedPeriod {
  id: string;
  name: string;
  /** Unix seconds; `to` is exclusive. */
  from: number;
  to: number;
  zones: string[];
  sites: string[];
  note: string | null;
}

function isMarkedPeriod(value: unknown): value is MarkedPeriod {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.name === 'string' &&
    typeof value.from === 'number' &&
    typeof value.to === 'number' &&
    Array.isArray(value.zones) &&
    Array.isArray(value.sites) &&
    (value.note === null || typeof value.note === 'string')
  );
}

/** Every event the reader may see (with only the zones and sites it may read), by start. */
export async function fetchMarkedPeriods(): Promise<MarkedPeriod[]> {
  const body = await getJson('api/v1/marked-periods');
  if (!isRecord(body) || !Array.isArray(body.events) || !body.events.every(isMarkedPeriod)) throw bad('a list of events {events: [...]}');
  return body.events;
}
