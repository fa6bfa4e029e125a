/**
 * Calendar buckets in a time zone: days, ISO weeks (Monday first) and months as a person in that zone counts them,
 * with the 23- and 25-hour days of daylight saving time. Pure functions over Unix seconds and IANA zone names
 * (Intl does the zone rules; no table of our own).
 */

export const CALENDAR_UNITS = ['day', 'week', 'month'] as const;
export type CalendarUnit = (typeof CALENDAR_UNITS)[number];

export function isCalendarUnit(value: unknown): value is CalendarUnit {
  return typeof value === 'string' && (CALENDAR_UNITS as readonly string[]).includes(value);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone name this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export interface LocalTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock time in `timeZone` at the instant `t` (Unix seconds). */
export function localTime(t: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(t * 1000))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** The offset of `timeZone` from UTC at the instant `t`, in seconds (Europe/Amsterdam in winter: 3600). */
export function offsetAt(t: number, timeZone: string): number {
  const l = localTime(t, timeZone);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) / 1000 - Math.floor(t);
}

/**
 * The instant (Unix seconds) of the local midnight that starts the date (year, month 1-12, day) in `timeZone`. Where a
 * zone skips midnight (a daylight-saving change at 00:00), the first instant of the date.
 */
export function startOfLocalDate(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day) / 1000;
  let t = wall - offsetAt(wall, timeZone);
  for (let i = 0; i < 3; i++) {
    const next = wall - offsetAt(t, timeZone);
    if (next === t) break;
    t = next;
  }
  // In a gap the guess lands after midnight's missing hour on the date itself, or on the day before: step to the date.
  const l = localTime(t, timeZone);
  if (l.year !== year || l.month !== month || l.day !== day) {
    t += 3600 - (l.minute * 60 + l.second);
  }
  return t;
}

/** The start of the calendar bucket (day, ISO week, month) that holds the instant `t`, in `timeZone`. */
export function bucketStart(t: number, unit: CalendarUnit, timeZone: string): number {
  const l = localTime(t, timeZone);
  if (unit === 'day') return startOfLocalDate(l.year, l.month, l.day, timeZone);
  if (unit === 'month') return startOfLocalDate(l.year, l.month, 1, timeZone);
  // ISO week: Monday first. The weekday of the local date, 0 = Monday.
  const weekday = (new Date(Date.UTC(l.year, l.month - 1, l.day)).getUTCDay() + 6) % 7;
  const monday = new Date(Date.UTC(l.year, l.month - 1, l.day - weekday));
  return startOfLocalDate(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate(), timeZone);
}

/** The start of the bucket after the one that starts at `start`. */
export function nextBucket(start: number, unit: CalendarUnit, timeZone: string): number {
  const l = localTime(start, timeZone);
  const next =
    unit === 'day'
      ? new Date(Date.UTC(l.year, l.month - 1, l.day + 1))
      : unit === 'week'
        ? new Date(Date.UTC(l.year, l.month - 1, l.day + 7))
        : new Date(Date.UTC(l.year, l.month, 1));
  return startOfLocalDate(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone);
}

/** Most buckets one request may span (a day step over 30 years). */
export const MAX_CALENDAR_BUCKETS = 11_000;

/**
 * The bucket boundaries covering [from, to): the start of the bucket holding `from`, every following start, and
 * the end of the bucket holding the last second before `to`. n buckets give n + 1 boundaries; none for an empty range.
 */
export function calendarBoundaries(from: number, to: number, unit: CalendarUnit, timeZone: string): number[] {
  if (!(to > from)) return [];
  const out = [bucketStart(from, unit, timeZone)];
  while (out.at(-1)! < to) {
    if (out.length > MAX_CALENDAR_BUCKETS) throw new RangeError(`more than ${MAX_CALENDAR_BUCKETS} ${unit} buckets`);
    out.push(nextBucket(out.at(-1)!, unit, timeZone));
  }
  return out;
}

/** The ISO 8601 local time of `t` in `timeZone` with its offset, e.g. 2024-10-27T00:00:00+02:00. */
export function isoLocal(t: number, timeZone: string): string {
  const l = localTime(t, timeZone);
  const off = offsetAt(t, timeZone);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(l.year, 4)}-${pad(l.month)}-${pad(l.day)}T${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}${sign}${pad(Math.floor(abs / 3600))}:${pad(Math.floor((abs % 3600) / 60))}`;
}
