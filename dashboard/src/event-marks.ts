/**
 * Events (named periods an admin marked: a market, street works) on the overview: each card's chart shades the
 * events about its zone or site that overlap the shown period (charts.ts draws the bands), and a list under the
 * chart names them with their dates, so they are readable without the chart too. Each event offers "compare with
 * a week earlier": the compare page (`#compare`) with the event as the period and the same days a week earlier as
 * the other, one click away. Texts in Dutch and English are kept here.
 */
import type { MarkedPeriod, SiteInfo, Target } from './api.ts';
import { setChartMarks } from './charts.ts';
import { compareHref, type CompareState } from './compare-state.ts';
import { el } from './dom.ts';
import type { Lang } from './i18n.ts';
import type { TimeWindow } from './series.ts';
import { dateFormat } from './intl-cache.ts';

const TEXTS = {
  en: {
    title: 'Events in this period',
    compare: 'Compare with a week earlier',
  },
  nl: {
    title: 'Evenementen in deze periode',
    compare: 'Vergelijk met een week eerder',
  },
} as const;

export interface EventCardOptions {
  lang: Lang;
  locale: string;
  /** The sites the reader may see (an event about a site is about its zones too, and the other way round). */
  sites: readonly SiteInfo[];
  /** Opens the compare page with `state`. */
  open(state: CompareState): void;
}

/** Whether `event` is about `target`: named, or through a site the zone is in (or a zone of the site). */
export function aboutTarget(event: MarkedPeriod, target: Target, sites: readonly SiteInfo[]): boolean {
  if (target.kind === 'zone') {
    return event.zones.includes(target.id) || event.sites.some((id) => sites.find((s) => s.id === id)?.zones.includes(target.id) === true);
  }
  const zones = sites.find((s) => s.id === target.id)?.zones ?? [];
  return event.sites.includes(target.id) || event.zones.some((id) => zones.includes(id));
}

/** The events about `target` that overlap `win`, by start. */
export function eventsIn(events: readonly MarkedPeriod[], target: Target, win: TimeWindow, sites: readonly SiteInfo[]): MarkedPeriod[] {
  return events.filter((e) => e.from < win.to && e.to > win.from && aboutTarget(e, target, sites)).sort((a, b) => a.from - b.from || a.id.localeCompare(b.id));
}

/** The compare page's choice for an event: the event against the same days a week earlier. */
export function eventComparison(event: MarkedPeriod, target: Target): CompareState {
  return { target, period: { id: 'event', event: event.id }, against: { id: 'weekBefore' }, step: null };
}

function eventDates(event: MarkedPeriod, locale: string): string {
  const start = new Date(event.from * 1000);
  const end = new Date(event.to * 1000);
  const midnight = (d: Date) => d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0;
  const whole = midnight(start) && midnight(end);
  const f = dateFormat(
    locale,
    whole ? { weekday: 'short', day: 'numeric', month: 'short' } : { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' },
  );
  const last = whole ? new Date(end.getFullYear(), end.getMonth(), end.getDate() - 1) : end;
  return whole && last.getTime() <= start.getTime() ? f.format(start) : f.formatRange(start, last);
}

/**
 * Shows on a card (`article.card`, its chart box `.chart`) the events about its target that overlap `win`: bands on
 * the chart and a list under it; nothing (no list) when there are none.
 */
export function showCardEvents(card: { root: HTMLElement; target: Target }, events: readonly MarkedPeriod[], win: TimeWindow, options: EventCardOptions): void {
  const shown = eventsIn(events, card.target, win, options.sites);
  const chartBox = card.root.querySelector<HTMLElement>('.chart');
  if (chartBox !== null) setChartMarks(chartBox, shown.map((e) => ({ from: e.from, to: e.to, label: e.name })));
  let box = card.root.querySelector<HTMLElement>(':scope > .card-events');
  if (shown.length === 0) {
    box?.remove();
    return;
  }
  if (box === null) {
    box = el('section', { class: 'card-events' });
    const figure = card.root.querySelector(':scope > .chart-figure');
    if (figure) figure.after(box);
    else card.root.append(box);
  }
  const texts = TEXTS[options.lang];
  const items = shown.map((event) => {
    const state = eventComparison(event, card.target);
    const link = el('a', {
      class: 'event-compare',
      text: texts.compare, // its accessible name starts with these words and names the event
      attrs: { href: compareHref(state, location.href), 'aria-label': `${texts.compare}: ${event.name}`, 'data-event': event.id },
    });
    link.addEventListener('click', (e) => {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return; // a new tab: the link itself
      e.preventDefault();
      options.open(state);
    });
    return el('li', { class: 'card-event', attrs: { 'data-event': event.id, 'data-from': String(event.from), 'data-to': String(event.to) } }, [
      el('span', { class: 'card-event-name', text: event.name }),
      el('span', { class: 'card-event-dates', text: eventDates(event, options.locale) }),
      link,
    ]);
  });
  box.replaceChildren(el('h3', { class: 'card-events-title', text: texts.title }), el('ul', { class: 'card-event-list' }, items));
}
