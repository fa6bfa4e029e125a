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

/**
 * The series as CSV: `zone|site, name, radio, time, unix, devices, suppressed`, one row per bucket; devices is
 * empty where every cell of the bucket was suppressed or none was reported.
 */
export function seriesCsv(subject: CsvSubject, series: SeriesResponse): string {
  const lines = [[subject.kind, 'name', 'radio', ...CSV_COLUMNS].join(',')];
  const prefix = `${csvText(subject.id)},${csvText(subject.name)},${csvText(subject.radio)}`;
  for (let i = 0; i < series.t.length; i++) {
    const t = series.t[i]!;
    const devices = series.devices[i];
    // a series in a time zone (calendar steps, tz=): local times with their offset, e.g. 2024-10-27T00:00:00+02:00
    const time = series.tz !== undefined ? isoLocal(t, series.tz) : isoSeconds(t);
    lines.push(`${prefix},${time},${t},${devices === null || devices === undefined ? '' : devices},${series.suppressed[i] ?? 0}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** A file name for the download: ids and numbers only, so it needs no escaping. */
export function csvFileName(subject: CsvSubject, from: number, to: number, step: number | string): string {
  return `passant-${subject.kind}-${subject.id}-${subject.radio}-${from}-${to}-${step}.csv`;
}
