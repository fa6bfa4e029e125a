/**
 * Requests to the aggregator: the token every request sends, timeouts, and errors as ApiError (from the body's
 * `{ error: { code, message } }` or RFC 9457 problem). A refused token signs the page out (useToken's handler).
 */
import { isRecord } from './checks.ts';

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

/** The token requests send now (null: none). */
export function currentToken(): string | null {
  return bearer;
}

/** Signs the page out (the handler given to useToken) when `err` refuses `token` and that is the page's own token. */
export function noteRefusal(err: ApiError, token: string | null): void {
  if (token !== null && token === bearer && isInvalidToken(err)) onInvalidToken?.();
}

export function headers(accept: string, token: string | null): HeadersInit {
  const h: Record<string, string> = { accept };
  if (token !== null) h.authorization = `Bearer ${token}`;
  return h;
}

/** What a request sends besides its path: a method other than GET, a JSON body, a longer time limit. */
export interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  timeoutMs?: number;
}

/** Sends a request with `token` in a header (never a cookie); no answer in time is an ApiError with status 0. */
export async function request(path: string, accept: string, token: string | null, options: RequestOptions = {}): Promise<Response> {
  const sent: Record<string, string> = headers(accept, token) as Record<string, string>;
  if (options.body !== undefined) sent['content-type'] = 'application/json';
  try {
    return await fetch(path, {
      method: options.method ?? 'GET',
      headers: sent,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS),
      // The token is sent by header only; no cookie or other credential is needed or sent along.
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch (err) {
    throw new ApiError(`no answer from ${path.split('?')[0]}`, 0, 'unreachable', { cause: err });
  }
}

/** `res` when it is ok; else its error, thrown (a refusal of the page's own token signs the page out). */
export async function ensureOk(res: Response, path: string, token: string | null): Promise<Response> {
  if (res.ok) return res;
  const err = await errorOf(res, path);
  noteRefusal(err, token);
  throw err;
}

async function readJson(res: Response, path: string): Promise<unknown> {
  try {
    return await res.json();
  } catch (err) {
    throw new ApiError(`${path.split('?')[0]} answered ${res.status} without JSON`, res.status, 'bad_response', { cause: err });
  }
}

/**
 * The error of a response that is not ok, from its body when it has one: `{ error: { code, message } }`, or a
 * problem (RFC 9457: `detail`, with the machine-readable `code` beside it).
 */
export async function errorOf(res: Response, path: string): Promise<ApiError> {
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

export async function getJson(path: string, token: string | null = bearer): Promise<unknown> {
  return readJson(await ensureOk(await request(path, 'application/json', token), path, token), path);
}

export function bad(what: string): ApiError {
  return new ApiError(`the server's answer is not ${what}`, 200, 'bad_response');
}

/** Sends a JSON request (`POST`, `DELETE`) with `token` (the page's own by default) and returns the JSON answer. */
export async function sendJson(method: 'POST' | 'DELETE', path: string, body: unknown, token: string | null = bearer, timeoutMs?: number): Promise<unknown> {
  return readJson(await ensureOk(await request(path, 'application/json', token, { method, body, timeoutMs }), path, token), path);
}
