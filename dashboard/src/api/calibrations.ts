/** A zone's calibrations: the list (admin and privacy tokens) and a new fit from manual counts (admin). */
import { isCount, isRecord, isTime, isValue } from './checks.ts';
import { REQUEST_TIMEOUT_MS, bad, getJson, sendJson } from './http.ts';
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
  // a fit takes longer than a read: three times the usual time limit
  const c = await sendJson('POST', `api/v1/zones/${encodeURIComponent(zoneId)}/calibrations`, body, undefined, REQUEST_TIMEOUT_MS * 3);
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
