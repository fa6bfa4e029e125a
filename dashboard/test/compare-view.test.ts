import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarkedPeriod } from '../src/api.ts';
import { compareStateFromQuery, compareStateToQuery, defaultStep, spanOf, type CompareState } from '../src/compare-state.ts';
import { aboutTarget, eventComparison, eventsIn } from '../src/event-marks.ts';

// The calendar is the browser's: here Amsterdam's (clocks go back on 25 Oct 2026, forward on 29 Mar 2026).
const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
let savedTz: string | undefined;
beforeAll(() => {
  savedTz = env.TZ;
  env.TZ = 'Europe/Amsterdam';
});
afterAll(() => {
  if (savedTz === undefined) delete env.TZ;
  else env.TZ = savedTz;
});

const iso = (d: Date | undefined) => d?.toISOString();
const event = (id: string, from: string, to: string, zones: string[] = [], sites: string[] = []): MarkedPeriod => ({
  id,
  name: id,
  from: Date.parse(from) / 1000,
  to: Date.parse(to) / 1000,
  zones,
  sites,
  note: null,
});

describe('the compare page in the URL', () => {
  it('keeps presets, custom ranges, events and the step', () => {
    const state: CompareState = {
      target: { kind: 'site', id: 'centrum' },
      period: { id: 'event', event: '0ec106589bab' },
      against: { id: 'custom', custom: { from: '2026-10-20', to: '2026-10-27' } },
      step: 'day',
    };
    const params = new URLSearchParams('lang=nl&radio=ble');
    compareStateToQuery(state, params);
    expect(params.toString()).toBe('lang=nl&radio=ble&cmp=site%3Acentrum&ca=event%3A0ec106589bab&cb=2026-10-20_2026-10-27&cstep=day');
    expect(compareStateFromQuery(params)).toEqual(state);
  });

  it('falls back to this week against the week before for what it cannot read', () => {
    const read = compareStateFromQuery(new URLSearchParams('cmp=zone:Bad_Id&ca=2026-13-01_2026-13-02&cb=nonsense&cstep=decade'));
    expect(read).toEqual({ target: null, period: { id: 'thisWeek' }, against: { id: 'before' }, step: null });
    expect(compareStateFromQuery(new URLSearchParams('cb=weekBefore')).against).toEqual({ id: 'weekBefore' });
  });
});

describe('spans in local time', () => {
  const now = new Date('2026-11-04T10:17:00Z');

  it('the same length just before: local days, across the change to winter time', () => {
    const first = spanOf({ id: 'custom', custom: { from: '2026-10-26', to: '2026-11-01' } }, now)!;
    const before = spanOf({ id: 'before' }, now, first)!;
    // 19 to 25 October: seven local days, the last one of 25 hours
    expect([iso(before.start), iso(before.end)]).toEqual(['2026-10-18T22:00:00.000Z', '2026-10-25T23:00:00.000Z']);
    expect((before.end.getTime() - before.start.getTime()) / 3_600_000).toBe(7 * 24 + 1);
  });

  it('an event: its own times; a week and a year earlier keep the local time of day', () => {
    const events = [event('markt', '2026-11-28T07:00:00Z', '2026-11-28T17:00:00Z')];
    const first = spanOf({ id: 'event', event: 'markt' }, now, null, events)!;
    expect([iso(first.start), iso(first.end)]).toEqual(['2026-11-28T07:00:00.000Z', '2026-11-28T17:00:00.000Z']);
    const week = spanOf({ id: 'weekBefore' }, now, first)!;
    expect([iso(week.start), iso(week.end)]).toEqual(['2026-11-21T07:00:00.000Z', '2026-11-21T17:00:00.000Z']);
    const year = spanOf({ id: 'yearBefore' }, now, first)!;
    expect([iso(year.start), iso(year.end)]).toEqual(['2025-11-28T07:00:00.000Z', '2025-11-28T17:00:00.000Z']);
    const before = spanOf({ id: 'before' }, now, first)!;
    expect([iso(before.start), iso(before.end)]).toEqual(['2026-11-27T21:00:00.000Z', '2026-11-28T07:00:00.000Z']);
    // 08:00 local on Saturday 31 October (winter time, 07:00Z) a week earlier is 08:00 summer time (06:00Z)
    const summer = spanOf({ id: 'weekBefore' }, now, { start: new Date('2026-10-31T07:00:00Z'), end: new Date('2026-10-31T17:00:00Z') })!;
    expect(iso(summer.start)).toBe('2026-10-24T06:00:00.000Z');
  });

  it('an unknown event has no span (yet)', () => {
    expect(spanOf({ id: 'event', event: 'gone' }, now, null, [])).toBeNull();
    expect(spanOf({ id: 'before' }, now, null)).toBeNull();
  });

  it('picks a step from the length', () => {
    expect([0, 2, 3, 62, 63, 190, 191, 366].map(defaultStep)).toEqual(['hour', 'hour', 'day', 'day', 'week', 'week', 'month', 'month']);
  });
});

describe('events on cards', () => {
  const sites = [{ id: 'centrum', name: 'Centrum', zones: ['markt', 'plein'] }];
  const win = { from: Date.parse('2026-11-26T00:00:00Z') / 1000, to: Date.parse('2026-12-03T00:00:00Z') / 1000, step: 3600 as const };

  it('an event about a zone is about its site, and one about a site about its zones', () => {
    const onZone = event('a', '2026-11-28T07:00:00Z', '2026-11-28T17:00:00Z', ['markt']);
    const onSite = event('b', '2026-11-29T07:00:00Z', '2026-11-29T17:00:00Z', [], ['centrum']);
    expect(aboutTarget(onZone, { kind: 'site', id: 'centrum' }, sites)).toBe(true);
    expect(aboutTarget(onZone, { kind: 'zone', id: 'plein' }, sites)).toBe(false);
    expect(aboutTarget(onSite, { kind: 'zone', id: 'plein' }, sites)).toBe(true);
    expect(aboutTarget(onSite, { kind: 'zone', id: 'elders' }, sites)).toBe(false);
  });

  it('shows the events that overlap the window, by start', () => {
    const events = [
      event('late', '2026-12-01T07:00:00Z', '2026-12-05T17:00:00Z', ['markt']),
      event('early', '2026-11-20T07:00:00Z', '2026-11-26T01:00:00Z', ['markt']),
      event('before', '2026-11-20T07:00:00Z', '2026-11-26T00:00:00Z', ['markt']),
      event('after', '2026-12-03T00:00:00Z', '2026-12-04T00:00:00Z', ['markt']),
    ];
    expect(eventsIn(events, { kind: 'zone', id: 'markt' }, win, sites).map((e) => e.id)).toEqual(['early', 'late']);
    expect(eventComparison(events[0]!, { kind: 'zone', id: 'markt' })).toEqual({
      target: { kind: 'zone', id: 'markt' },
      period: { id: 'event', event: 'late' },
      against: { id: 'weekBefore' },
      step: null,
    });
  });
});
