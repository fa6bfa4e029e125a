/**
 * The aggregator's HTTP API as the dashboard uses it: zones, a zone's series, and live updates by Server-Sent
 * Events. URLs are relative to the page, which the aggregator serves from the same origin. Every response is
 * checked before use (the API is not trusted to be well-formed); the types come from `@passant/shared`, as
 * types only, so no schema library reaches the browser.
 */
import type { ApiError as ApiErrorBody, Radio, SeriesQuery, SeriesResponse, ZoneInfo } from '@passant/shared';

export type { Radio, ZoneInfo };

export const RADIOS: readonly Radio[] = ['wifi', 'ble'];

export function isRadio(value: unknown): value is Radio {
  return typeof value === 'string' && (RADIOS as readonly string[]).includes(value);
}

/** One newly released minute of a zone, as `GET /api/v1/events` sends it (the `data` of a `message` event). */
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

export const REQUEST_TIMEOUT_MS = 10_000;

async function getJson(path: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    throw new ApiError(`no answer from ${path}`, 0, 'unreachable', { cause: err });
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    throw new ApiError(`${path} answered ${res.status} without JSON`, res.status, 'bad_response', { cause: err });
  }
  if (!res.ok) {
    const error = isRecord(body) && isRecord(body.error) ? (body as unknown as ApiErrorBody).error : undefined;
    const message = typeof error?.message === 'string' ? error.message : `HTTP ${res.status}`;
    throw new ApiError(message, res.status, typeof error?.code === 'string' ? error.code : 'http_error');
  }
  return body;
}

export async function fetchZones(): Promise<ZoneInfo[]> {
  const body = await getJson('api/v1/zones');
  if (!Array.isArray(body) || !body.every(isZoneInfo)) {
    throw new ApiError('the zone list is not a list of {id, name}', 200, 'bad_response');
  }
  return body.map((z) => ({ id: z.id, name: z.name }));
}

export async function fetchSeries(zoneId: string, query: SeriesQuery): Promise<SeriesResponse> {
  const params = new URLSearchParams({
    from: String(query.from),
    to: String(query.to),
    step: String(query.step),
    radio: query.radio,
  });
  const body = await getJson(`api/v1/zones/${encodeURIComponent(zoneId)}/series?${params}`);
  if (!isSeriesResponse(body)) throw new ApiError('the series is not {t[], devices[], suppressed[]}', 200, 'bad_response');
  return body;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

export function isZoneInfo(value: unknown): value is ZoneInfo {
  return isRecord(value) && typeof value.id === 'string' && value.id !== '' && typeof value.name === 'string';
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
    t.every((x) => typeof x === 'number' && Number.isInteger(x)) &&
    devices.every((x) => x === null || isCount(x)) &&
    suppressed.every(isCount)
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

/** Subscribes to `GET /api/v1/events`; malformed events are ignored. */
export function openLiveFeed(handlers: LiveFeedHandlers): LiveFeed {
  const source = new EventSource('api/v1/events');
  source.addEventListener('open', () => handlers.onOpen());
  source.addEventListener('error', () => handlers.onError(source.readyState === EventSource.CLOSED));
  source.addEventListener('message', (e: MessageEvent<unknown>) => {
    if (typeof e.data !== 'string') return;
    const event = parseLiveEvent(e.data);
    if (event !== null) handlers.onEvent(event);
  });
  return { close: () => source.close() };
}
