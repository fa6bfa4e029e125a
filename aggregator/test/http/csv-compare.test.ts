/** CSV export, period comparison and hour-of-week profile as pure functions (table tests). */
import { describe, expect, it } from 'vitest';
import { comparisonPeriods, hourOfWeek, hourOfWeekProfile, percentChange, summarize, WEEK_SECONDS } from '../../src/http/compare.ts';
import { csvFileName, csvText, isoSeconds, seriesCsv } from '../../src/http/csv.ts';

/** Monday 2023-11-13T00:00:00Z. */
const MONDAY = 1_699_833_600;

describe('csv', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
    ['=HYPERLINK("http://x","y")', '"\'=HYPERLINK(""http://x"",""y"")"'],
    ['+31 20', "'+31 20"],
    ['-5', "'-5"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tTab', "'\tTab"],
    ['\rCR', '"\'\rCR"'],
    ['<script>alert(1)</script>', '<script>alert(1)</script>'],
    ['Café “Oost”', 'Café “Oost”'],
  ])('csvText(%j) is %j', (input, expected) => {
    expect(csvText(input)).toBe(expected);
  });

  it('one row per bucket: ISO time and unix, devices empty when suppressed, CRLF', () => {
    const csv = seriesCsv(
      { kind: 'zone', id: 'front', name: '=1+1, "Shop"', radio: 'wifi' },
      { t: [MONDAY, MONDAY + 60], devices: [7, null], suppressed: [0, 1] },
    );
    expect(csv).toBe(
      'zone,name,radio,time,unix,devices,suppressed\r\n' +
        `front,"'=1+1, ""Shop""",wifi,2023-11-13T00:00:00Z,${MONDAY},7,0\r\n` +
        `front,"'=1+1, ""Shop""",wifi,2023-11-13T00:01:00Z,${MONDAY + 60},,1\r\n`,
    );
    expect(isoSeconds(0)).toBe('1970-01-01T00:00:00Z');
    expect(csvFileName({ kind: 'site', id: 'town', name: 'x', radio: 'ble' }, 1, 2, 60)).toBe('passant-site-town-ble-1-2-60.csv');
  });
});

describe('comparison', () => {
  it('totals are sums of released values; null when nothing was released', () => {
    expect(summarize({ t: [0, 60, 120], devices: [5, null, 7], suppressed: [0, 2, 1] })).toEqual({ total: 12, suppressedCells: 3 });
    expect(summarize({ t: [0, 60], devices: [null, null], suppressed: [1, 0] })).toEqual({ total: null, suppressedCells: 1 });
    expect(summarize({ t: [], devices: [], suppressed: [] })).toEqual({ total: null, suppressedCells: 0 });
  });

  it.each([
    [150, 100, 50],
    [50, 100, -50],
    [100, 300, -66.67],
    [100, 0, null],
    [null, 100, null],
    [100, null, null],
    [0, 10, -100],
  ])('percentChange(%j, %j) is %j', (now, before, expected) => {
    expect(percentChange(now, before)).toBe(expected);
  });

  it('periods: the one before has the same length; last week is shifted 7 days', () => {
    expect(comparisonPeriods(1000, 1600)).toEqual({ current: [1000, 1600], previous: [400, 1000], lastWeek: [1000 - WEEK_SECONDS, 1600 - WEEK_SECONDS] });
  });
});

describe('hour of week', () => {
  it('UTC: Monday 00:00 is 0, Sunday 23:00 is 167', () => {
    expect(hourOfWeek(MONDAY)).toBe(0);
    expect(hourOfWeek(MONDAY + 3600 * 25)).toBe(25);
    expect(hourOfWeek(MONDAY + WEEK_SECONDS - 3600)).toBe(167);
    expect(hourOfWeek(MONDAY + WEEK_SECONDS)).toBe(0);
    expect(hourOfWeek(0)).toBe(3 * 24); // 1970-01-01 was a Thursday
  });

  it('a named time zone moves the hours (Amsterdam is UTC+1 in November, UTC+2 in July)', () => {
    expect(hourOfWeek(MONDAY, 'Europe/Amsterdam')).toBe(1);
    expect(hourOfWeek(MONDAY - 3600, 'Europe/Amsterdam')).toBe(0);
    const julyMonday = 1_689_552_000; // 2023-07-17T00:00:00Z, a Monday
    expect(hourOfWeek(julyMonday, 'Europe/Amsterdam')).toBe(2);
    expect(hourOfWeek(MONDAY, 'America/New_York')).toBe(6 * 24 + 19); // Sunday 19:00
    expect(() => hourOfWeek(MONDAY, 'Mars/Olympus')).toThrow(/unknown time zone/);
  });

  it('the profile averages released hours, skips null hours, and adds up suppressed cells', () => {
    const t = [MONDAY, MONDAY + 3600, MONDAY + WEEK_SECONDS, MONDAY + WEEK_SECONDS + 3600];
    const profile = hourOfWeekProfile({ t, devices: [10, null, 20, 5], suppressed: [1, 3, 0, 2] });
    expect(profile.mean).toHaveLength(168);
    expect(profile.mean[0]).toBe(15);
    expect(profile.mean[1]).toBe(5);
    expect(profile.mean[2]).toBeNull();
    expect(profile.hours.slice(0, 3)).toEqual([2, 1, 0]);
    expect(profile.suppressed.slice(0, 3)).toEqual([1, 5, 0]);
    expect(profile.mean.filter((m) => m !== null)).toHaveLength(2);
  });
});
