/**
 * Exports people open: `series.csv?format=csv` (English) and `format=csv-nl` (Dutch Excel: `;` between fields, a
 * decimal comma, Dutch column names), both UTF-8 with a byte order mark (so Excel reads é and ë right) and CRLF line
 * ends. Each column says what it holds: the device-minutes of the bucket (the sum of the released minutes' devices),
 * the mean devices per released minute, the minutes released and the minutes hidden (below k); times are local with
 * their offset, and the file name carries the zone or site and the local dates. A calibrated zone (or a site whose
 * zones all are) adds its estimate and 95 % bounds, named as estimates, and a request with `reference` the index.
 * Without `format` the CSV stays the columns programs read (csv.ts).
 *
 * A bucket of a day (86400 or day), ISO week or month is read as calendar buckets in `tz` (UTC by default), whose
 * released minutes the release layer counts; minute buckets are released or not; hour buckets are read as they are,
 * and their minutes released are not known (the columns that need them are empty: take minutes or days for means).
 * Every number is the release layer's: nothing else is computed than sums and a mean of released values.
 */
import type { Response } from 'express';
import { z } from 'zod';
import type { Radio, SeriesBody } from '@passant/shared';
import { HttpError } from '../errors.ts';
import { isoLocal, localTime } from '../release/calendar.ts';
import type { CalendarUnit } from '../release/calendar.ts';
import type { ReleasedSeries, SeriesRequest } from '../release/release-layer.ts';
import type { ParamSpec } from './params.ts';
import { singleParam } from './params.ts';

export const EXPORT_FORMATS = ['csv', 'csv-nl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const FORMAT_DESCRIPTION =
  'csv: for people (English column names that say what each column is, local times with offset, UTF-8 with BOM); csv-nl: the same for Dutch Excel (`;`, decimal comma, Dutch column names). Absent: the columns programs read (time, unix, devices, suppressed)';

/** The `format` parameter of series.csv. */
export const EXPORT_FORMAT_PARAM: ParamSpec = {
  name: 'format',
  description: FORMAT_DESCRIPTION,
  schema: { type: 'string', enum: [...EXPORT_FORMATS] },
  example: 'csv-nl',
};

/** The same, as a zod field, for a query schema. */
export const EXPORT_FORMAT_FIELD = z
  .enum(EXPORT_FORMATS, { error: (issue) => `format must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(String(issue.input).slice(0, 40))}` })
  .describe(FORMAT_DESCRIPTION)
  .meta({ example: 'csv-nl', errorCode: 'invalid_format' })
  .optional();

/**
 * Takes `format` out of a query: the export format (undefined: the CSV of programs) and the rest, for the series
 * parser.
 */
export function takeExportFormat(query: Record<string, unknown>): { format: ExportFormat | undefined; rest: Record<string, unknown> } {
  const raw = singleParam(query, 'format');
  const { format: _format, ...rest } = query;
  if (raw === undefined) return { format: undefined, rest };
  const format = EXPORT_FORMATS.find((f) => f === raw);
  if (format === undefined) {
    throw new HttpError(400, 'invalid_format', `format must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(raw.slice(0, 40))}`);
  }
  return { format, rest };
}

/** The series request of an export: days in seconds (86400) become calendar days in UTC, so their released minutes are known. */
export function exportRequest(query: SeriesRequest): SeriesRequest {
  return query.step === 86_400 ? { ...query, step: 'day', timeZone: query.timeZone ?? 'UTC' } : query;
}

export interface ExportSubject {
  kind: 'zone' | 'site';
  id: string;
  name: string;
  radio: Radio;
}

interface Labels {
  kind: Record<'zone' | 'site', string>;
  columns: readonly string[];
}

const LABELS: Record<ExportFormat, Labels> = {
  csv: {
    kind: { zone: 'zone', site: 'site' },
    columns: [
      'name',
      'radio',
      'date (local)',
      'start (local time)',
      'end (local time)',
      'device-minutes (sum over the released minutes of the devices counted in each)',
      'mean devices per minute (device-minutes / minutes released)',
      'minutes released',
      'minutes hidden (fewer than k devices: never shown)',
    ],
  },
  'csv-nl': {
    kind: { zone: 'zone', site: 'locatie' },
    columns: [
      'naam',
      'radio',
      'datum (lokaal)',
      'begin (lokale tijd)',
      'einde (lokale tijd)',
      'apparaat-minuten (som over de vrijgegeven minuten van de apparaten die elk telde)',
      'gemiddeld aantal apparaten per minuut (apparaat-minuten / minuten vrijgegeven)',
      'minuten vrijgegeven',
      'minuten verborgen (minder dan k apparaten: nooit getoond)',
    ],
  },
};

/** The estimate and index columns of the export (after the counts), by the calibration's kind, and their fields. */
const ESTIMATE_LABELS: Record<ExportFormat, Record<'present' | 'passers', readonly (readonly [string, 'people' | 'peopleLow' | 'peopleHigh' | 'passers' | 'passersLow' | 'passersHigh'])[]> & { index: string }> = {
  csv: {
    present: [
      ['estimated people: mean per minute (an estimate from a calibration)', 'people'],
      ['estimated people: low end (95 %)', 'peopleLow'],
      ['estimated people: high end (95 %)', 'peopleHigh'],
    ],
    passers: [
      ['estimated passers (an estimate from a calibration)', 'passers'],
      ['estimated passers: low end (95 %)', 'passersLow'],
      ['estimated passers: high end (95 %)', 'passersHigh'],
    ],
    index: 'index (reference period = 100)',
  },
  'csv-nl': {
    present: [
      ['geschat aantal mensen: gemiddeld per minuut (een schatting uit een kalibratie)', 'people'],
      ['geschat aantal mensen: ondergrens (95 %)', 'peopleLow'],
      ['geschat aantal mensen: bovengrens (95 %)', 'peopleHigh'],
    ],
    passers: [
      ['geschat aantal passanten (een schatting uit een kalibratie)', 'passers'],
      ['geschat aantal passanten: ondergrens (95 %)', 'passersLow'],
      ['geschat aantal passanten: bovengrens (95 %)', 'passersHigh'],
    ],
    index: 'index (referentieperiode = 100)',
  },
};

/** A released series with what http/estimates.ts adds to it, where it adds it. */
export type ExportSeries = ReleasedSeries & Partial<Pick<SeriesBody, 'people' | 'peopleLow' | 'peopleHigh' | 'passers' | 'passersLow' | 'passersHigh' | 'estimate' | 'index'>>;

const FORMULA_START = /^[=+\-@\t\r]/;

/** One text cell: neutralised against spreadsheet formulas (OWASP "CSV injection"), quoted when it must be. */
export function exportText(value: string, separator: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return safe.includes(separator) || /["\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function number(value: number | null | undefined, format: ExportFormat): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  const text = String(value);
  return format === 'csv-nl' ? text.replace('.', ',') : text;
}

/** The end of each bucket: the next start, or for the last one the end the request asked for (whole buckets). */
function bucketEnds(series: ReleasedSeries, step: number | CalendarUnit, windowSeconds: number): number[] {
  return series.t.map((t, i) => {
    if (series.minutes !== undefined) return t + series.minutes[i]! * windowSeconds;
    return t + (step as number);
  });
}

/** Minutes released per bucket, where known: calendar buckets say it, a minute bucket is released or not. */
function minutesReleased(series: ReleasedSeries, step: number | CalendarUnit, windowSeconds: number): (number | null)[] {
  if (series.released !== undefined) return series.released;
  if (step === windowSeconds) return series.devices.map((d) => (d === null ? 0 : 1));
  return series.t.map(() => null);
}

/** The export, for people: a header that says what each column is, one row per bucket. */
export function seriesExport(subject: ExportSubject, series: ExportSeries, step: number | CalendarUnit, format: ExportFormat, timeZone = 'UTC', windowSeconds = 60): string {
  const labels = LABELS[format];
  const separator = format === 'csv-nl' ? ';' : ',';
  const tz = series.tz ?? timeZone;
  const ends = bucketEnds(series, step, windowSeconds);
  const released = minutesReleased(series, step, windowSeconds);
  // a calibrated zone (or a site whose zones all are): its estimate and bounds; a request with a reference: the index
  const kind = series.estimate?.kind ?? null;
  const estimates = kind === null ? [] : ESTIMATE_LABELS[format][kind];
  const index = series.index;
  const extra = [...estimates.map(([label]) => label), ...(index === undefined ? [] : [ESTIMATE_LABELS[format].index])];
  const lines = [[labels.kind[subject.kind], ...labels.columns, ...extra].map((c) => exportText(c, separator)).join(separator)];
  const prefix = [subject.id, subject.name, subject.radio].map((v) => exportText(v, separator)).join(separator);
  for (let i = 0; i < series.t.length; i++) {
    const t = series.t[i]!;
    const start = isoLocal(t, tz);
    const devices = series.devices[i] ?? null;
    const r = released[i] ?? null;
    const mean = devices !== null && r !== null && r > 0 ? Math.round((devices / r) * 100) / 100 : null;
    lines.push(
      [
        prefix,
        start.slice(0, 10),
        start,
        isoLocal(ends[i]!, tz),
        number(devices, format),
        number(mean, format),
        number(r, format),
        String(series.suppressed[i] ?? 0),
        ...estimates.map(([, field]) => number(series[field]?.[i], format)),
        ...(index === undefined ? [] : [number(index[i], format)]),
      ].join(separator),
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

function localDate(t: number, tz: string): string {
  const l = localTime(t, tz);
  return `${String(l.year).padStart(4, '0')}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
}

/**
 * The file name: kind, id, radio, the first and the last local date covered, the step and, for Dutch Excel, -nl;
 * ids, dates and words only, so it needs no escaping. E.g. passant-zone-winkelstraat-wifi-2024-10-01_2024-10-31-day.csv.
 */
export function exportFileName(subject: ExportSubject, series: ReleasedSeries, step: number | CalendarUnit, format: ExportFormat, timeZone = 'UTC', windowSeconds = 60): string {
  const tz = series.tz ?? timeZone;
  const ends = bucketEnds(series, step, windowSeconds);
  const first = series.t[0];
  const last = ends.at(-1);
  const dates = first === undefined || last === undefined ? 'empty' : `${localDate(first, tz)}_${localDate(Math.max(first, last - 1), tz)}`;
  const stepName = typeof step === 'number' ? (step === 60 ? 'minute' : step === 3600 ? 'hour' : `${step}s`) : step;
  return `passant-${subject.kind}-${subject.id}-${subject.radio}-${dates}-${stepName}${format === 'csv-nl' ? '-nl' : ''}.csv`;
}

/**
 * Reads the series of a parsed series.csv query for an export (`read`: the release layer, as this caller may read it)
 * and sends it as a download. `query` is what the series parser gave, `rest` the query it parsed (for `tz`).
 */
export async function exportSeries(
  res: Response,
  subject: ExportSubject,
  query: SeriesRequest,
  format: ExportFormat,
  rest: Record<string, unknown>,
  read: (request: SeriesRequest) => Promise<ExportSeries>,
  windowSeconds = 60,
): Promise<void> {
  const request = exportRequest(query);
  const series = await read(request);
  const tz = typeof rest.tz === 'string' ? rest.tz : 'UTC';
  if (series.noise) res.setHeader('X-Passant-Noise', `mechanism=${series.noise.mechanism}; epsilon=${series.noise.epsilon}`);
  res
    .status(200)
    .type('text/csv; charset=utf-8')
    .setHeader('Content-Disposition', `attachment; filename="${exportFileName(subject, series, request.step, format, tz, windowSeconds)}"`)
    .send(seriesExport(subject, series, request.step, format, tz, windowSeconds));
}
