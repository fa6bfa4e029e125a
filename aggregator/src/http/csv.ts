/**
 * CSV export of a released series (RFC 4180: comma separated, CRLF line ends, fields with a comma, quote or
 * line break in double quotes). Safe to open in a spreadsheet: a text cell that starts with = + - @ TAB or CR
 * would be read as a formula, so it gets a leading apostrophe (OWASP "CSV injection"). Numbers are written by
 * the program and never start with one of those.
 */
import type { Radio, SeriesResponse } from '@passant/shared';
import { isoLocal } from '../release/calendar.ts';

const FORMULA_START = /^[=+\-@\t\r]/;

/** One text cell: neutralised against formulas, then quoted when it must be. */
export function csvText(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Unix seconds as ISO 8601 UTC without milliseconds: 2023-11-14T00:00:00Z. */
export function isoSeconds(t: number): string {
  return new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface CsvSubject {
  kind: 'zone' | 'site';
  id: string;
  name: string;
  radio: Radio;
}

export const CSV_COLUMNS = ['time', 'unix', 'devices', 'suppressed'] as const;

/** The estimate columns of a calibrated series (after `suppressed`), by the calibration's kind, and their fields. */
export const ESTIMATE_COLUMNS = {
  present: [
    ['estimated_people_mean_per_minute', 'people'],
    ['estimated_people_low_95', 'peopleLow'],
    ['estimated_people_high_95', 'peopleHigh'],
  ],
  passers: [
    ['estimated_passers', 'passers'],
    ['estimated_passers_low_95', 'passersLow'],
    ['estimated_passers_high_95', 'passersHigh'],
  ],
} as const;
/** The index column (with reference=from,to). */
export const INDEX_COLUMN = 'index_reference_100';

function cell(v: number | null | undefined): string {
  return v === null || v === undefined ? '' : String(v);
}

/**
 * The series as CSV: `zone|site, name, radio, time, unix, devices, suppressed`, one row per bucket; devices is
 * empty where every cell of the bucket was suppressed or none was reported. A calibrated zone (or a site whose
 * zones all are) adds its estimate and the 95 % bounds (ESTIMATE_COLUMNS, by kind), a request with a reference the
 * index: empty where they are null.
 */
export function seriesCsv(subject: CsvSubject, series: SeriesResponse): string {
  const kind = series.estimate?.kind ?? null;
  const estimates = kind === null ? [] : ESTIMATE_COLUMNS[kind];
  const index = series.index;
  const header = [subject.kind, 'name', 'radio', ...CSV_COLUMNS, ...estimates.map(([name]) => name), ...(index === undefined ? [] : [INDEX_COLUMN])];
  const lines = [header.join(',')];
  const prefix = `${csvText(subject.id)},${csvText(subject.name)},${csvText(subject.radio)}`;
  for (let i = 0; i < series.t.length; i++) {
    const t = series.t[i]!;
    const devices = series.devices[i];
    // a series in a time zone (calendar steps, tz=): local times with their offset, e.g. 2024-10-27T00:00:00+02:00
    const time = series.tz !== undefined ? isoLocal(t, series.tz) : isoSeconds(t);
    let line = `${prefix},${time},${t},${cell(devices)},${series.suppressed[i] ?? 0}`;
    for (const [, field] of estimates) line += `,${cell(series[field]?.[i])}`;
    if (index !== undefined) line += `,${cell(index[i])}`;
    lines.push(line);
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** A file name for the download: ids and numbers only, so it needs no escaping. */
export function csvFileName(subject: CsvSubject, from: number, to: number, step: number | string): string {
  return `passant-${subject.kind}-${subject.id}-${subject.radio}-${from}-${to}-${step}.csv`;
}
