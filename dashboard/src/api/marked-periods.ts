/** Events: named periods an admin marked (compare-view.ts, event-marks.ts); no counts. */
import type { MarkedPeriodBody } from '@passant/shared';
import { isRecord } from './checks.ts';
import { bad, getJson } from './http.ts';

/**
 * `GET /api/v1/marked-periods`: a named period of zones and sites (a market, street works); no counts. Unix seconds,
 * `to` exclusive. The API's own shape (`@passant/shared`, types only), without what the page does not read.
 */
export type MarkedPeriod = Omit<MarkedPeriodBody, 'createdAt'>;

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
