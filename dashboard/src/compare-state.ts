/**
 * The compare page's choice (compare-view.ts): the two periods, the step and the zone or site, how it is written in
 * the URL (`cmp`, `ca`, `cb`, `cstep`), and the local-date arithmetic that turns a choice into [start, end).
 */
import type { ComparePeriodsQuery, MarkedPeriod, Target } from './api.ts';
import { addLocalDays, calendarSpan, checkCustom, type CustomRange, type PeriodId } from './periods.ts';

export const COMPARE_PRESETS = ['today', 'yesterday', 'thisWeek', 'lastWeek', 'thisMonth', 'lastMonth', 'thisYear', 'custom'] as const;
/** The second period may also follow from the first: just before it, a week earlier (a normal day), a year earlier. */
export const AGAINST_CHOICES = ['before', 'weekBefore', 'yearBefore', ...COMPARE_PRESETS] as const;
export type ComparePreset = (typeof COMPARE_PRESETS)[number];
export type AgainstChoice = (typeof AGAINST_CHOICES)[number];
export const COMPARE_STEPS = ['hour', 'day', 'week', 'month'] as const;
export type CompareStep = (typeof COMPARE_STEPS)[number];

/** A period: a preset, a custom range of local dates, or (`id: 'event'`) a marked event's period. */
export interface PeriodChoice<C extends string> {
  id: C | 'event';
  custom?: CustomRange;
  /** The event's id, for `id: 'event'`. */
  event?: string;
}

export interface CompareState {
  target: Target | null;
  period: PeriodChoice<ComparePreset>;
  against: PeriodChoice<AgainstChoice>;
  /** null: chosen from the length of the period. */
  step: CompareStep | null;
}

export function isIn<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (values as readonly string[]).includes(value);
}

export const EVENT_TEXT = /^event:([A-Za-z0-9_-]{1,80})$/;

/** A period in the URL: its id, a custom range as `YYYY-MM-DD_YYYY-MM-DD`, or an event as `event:<id>`. */
function choiceFromText<C extends string>(values: readonly C[], raw: string | null): PeriodChoice<C> | null {
  const event = EVENT_TEXT.exec(raw ?? '');
  if (event !== null) return { id: 'event', event: event[1]! };
  const m = /^(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})$/.exec(raw ?? '');
  if (m !== null && isIn(values, 'custom')) {
    const custom = { from: m[1]!, to: m[2]! };
    return checkCustom(custom) === null ? null : { id: 'custom' as C, custom };
  }
  return isIn(values, raw) && raw !== 'custom' ? { id: raw } : null;
}

function choiceToText(choice: PeriodChoice<string>): string {
  if (choice.id === 'event' && choice.event) return `event:${choice.event}`;
  return choice.id === 'custom' && choice.custom ? `${choice.custom.from}_${choice.custom.to}` : choice.id;
}

export function compareStateFromQuery(params: URLSearchParams): CompareState {
  const target = /^(zone|site):([a-z0-9][a-z0-9-]{0,63})$/.exec(params.get('cmp') ?? '');
  const step = params.get('cstep');
  return {
    target: target ? { kind: target[1] as Target['kind'], id: target[2]! } : null,
    period: choiceFromText(COMPARE_PRESETS, params.get('ca')) ?? { id: 'thisWeek' },
    against: choiceFromText(AGAINST_CHOICES, params.get('cb')) ?? { id: 'before' },
    step: isIn(COMPARE_STEPS, step) ? step : null,
  };
}

export function compareStateToQuery(state: CompareState, params: URLSearchParams): void {
  if (state.target) params.set('cmp', `${state.target.kind}:${state.target.id}`);
  else params.delete('cmp');
  params.set('ca', choiceToText(state.period));
  params.set('cb', choiceToText(state.against));
  if (state.step) params.set('cstep', state.step);
  else params.delete('cstep');
}

/** The address of the compare page for `state`, keeping the rest of `href`'s query (language, radio). */
export function compareHref(state: CompareState, href: string): string {
  const url = new URL(href);
  compareStateToQuery(state, url.searchParams);
  url.hash = 'compare';
  return url.toString();
}

/** `date` moved by whole local days and years, keeping its local time of day. */
function shiftLocal(date: Date, days: number, years = 0): Date {
  return new Date(date.getFullYear() + years, date.getMonth(), date.getDate() + days, date.getHours(), date.getMinutes(), date.getSeconds());
}

export const atMidnight = (d: Date) => d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0;

/**
 * [start, end) of a choice in local time at `now`; the second period may follow from the first; an event is its
 * own period (null while the events are not known, or when it is not there).
 */
export function spanOf(
  choice: PeriodChoice<string>,
  now: Date,
  first?: { start: Date; end: Date } | null,
  events: readonly MarkedPeriod[] = [],
): { start: Date; end: Date } | null {
  if (choice.id === 'event') {
    const event = events.find((e) => e.id === choice.event);
    return event ? { start: new Date(event.from * 1000), end: new Date(event.to * 1000) } : null;
  }
  if (choice.id === 'before' || choice.id === 'weekBefore' || choice.id === 'yearBefore') {
    if (!first) return null;
    if (choice.id === 'yearBefore') return { start: shiftLocal(first.start, 0, -1), end: shiftLocal(first.end, 0, -1) };
    if (choice.id === 'weekBefore') return { start: shiftLocal(first.start, -7), end: shiftLocal(first.end, -7) };
    if (atMidnight(first.start) && atMidnight(first.end)) {
      // whole local days: as many local days just before (a day of 23 or 25 hours is one day)
      const days = Math.round((first.end.getTime() - first.start.getTime()) / 86_400_000);
      return { start: addLocalDays(first.start, -days), end: first.start };
    }
    return { start: new Date(2 * first.start.getTime() - first.end.getTime()), end: first.start };
  }
  return calendarSpan({ id: choice.id as PeriodId, ...(choice.custom ? { custom: choice.custom } : {}) }, now);
}

/** The step a period of `days` days is compared in unless the reader picks one. */
export function defaultStep(days: number): CompareStep {
  return days <= 2 ? 'hour' : days <= 62 ? 'day' : days <= 190 ? 'week' : 'month';
}

export function apiStep(step: CompareStep): ComparePeriodsQuery['step'] {
  return step === 'hour' ? 3600 : step;
}
