/** Events: named periods an admin marked (compare-view.ts, event-marks.ts); no counts. */
import { isRecord } from './checks.ts';
import { bad, getJson } from './http.ts';

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
