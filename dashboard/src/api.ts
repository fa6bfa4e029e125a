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
// One module per resource under api/: http.ts (requests, token, errors), checks.ts, types.ts, series.ts,
// compare.ts, calibrations.ts, health.ts, admin.ts (tokens, invitations), marked-periods.ts, live.ts. This index
// re-exports what the pages use, so they import from './api.ts' alone.
export * from './api/types.ts';
export { ApiError, REQUEST_TIMEOUT_MS, isInvalidToken, needsToken, useToken } from './api/http.ts';
export { isAudit, isComparison, isMe, isPrivacyInfo, isProfile, isSensorHealthReport, isSeriesResponse, isSiteInfo, isZoneInfo, parseLiveEvent } from './api/checks.ts';
export { csvUrl, fetchComparison, fetchCsv, fetchMe, fetchMeAndLists, fetchProfile, fetchSeries, fetchSiteWithZones, fetchSites, fetchZones, fileNameOf, safeFileName, type MeAndLists } from './api/series.ts';
export * from './api/compare.ts';
export * from './api/calibrations.ts';
export * from './api/health.ts';
export * from './api/admin.ts';
export * from './api/marked-periods.ts';
export * from './api/live.ts';
