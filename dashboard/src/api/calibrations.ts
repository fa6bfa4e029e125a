/** A zone's calibrations: the list (admin and privacy tokens) and a new fit from manual counts (admin). */
import { isCount, isRecord, isTime, isValue } from './checks.ts';
import { ApiError, REQUEST_TIMEOUT_MS, bad, currentToken, errorOf, getJson, headers, noteRefusal } from './http.ts';
import type { Radio } from './types.ts';

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
  const token = currentToken();
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { ...(headers('application/json', token) as Record<string, string>), 'content-type': 'application/json' },
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
    noteRefusal(err, token);
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
