/** The aggregator's named errors. */
import type { ApiErrorCode } from '@passant/shared';

/** Start-up configuration problems, every one of them: the shared loader's error (both programs throw it). */
export { ConfigError, type ConfigProblem } from '@passant/shared/config-loader';

/** A store that failed to read or write. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** An HTTP request that cannot be answered as asked; becomes a problem (RFC 9457), see `problemOf`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;

  constructor(status: number, code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
}

/** The media type of every error body. */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/**
 * An error body as RFC 9457 problem details: `type` about:blank (the status says what kind of problem it is),
 * `title` the status's phrase, `status`, `detail` what is wrong for people, and the extension member `code`, the
 * machine-readable reason clients branch on (invalid_parameter, zone_not_found, invalid_token, rate_limited...).
 */
export interface Problem {
  type: 'about:blank';
  title: string;
  status: number;
  detail: string;
  code: ApiErrorCode;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemOf(status: number, code: ApiErrorCode, detail: string): Problem {
  return { type: 'about:blank', title: TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error'), status, detail, code };
}
