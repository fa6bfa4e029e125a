/** Any two periods compared (compare-view.ts), and the exports people open (English CSV, Dutch Excel). */
import { isRecord } from './checks.ts';
import { bad, getJson } from './http.ts';
import { fetchCsvFile, targetPath } from './series.ts';
import type { Radio, Target } from './types.ts';

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
  return fetchCsvFile(`${targetPath(target, 'series.csv')}?${params}`, `passant-${target.kind}-${target.id}.csv`);
}
