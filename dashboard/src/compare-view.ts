/**
 * The compare page (`#compare`): any two periods of a zone or site side by side (before and after a street
 * redesign, an event day against a normal day, this year against last). Each period is a calendar preset, a range
 * of local dates, or a marked event (`GET /api/v1/marked-periods`); the second can also be the same length just
 * before the first, the same days a week earlier, or the same dates a year earlier. The API
 * (`GET .../compare-periods`) compares them in one step (hours, local days, ISO weeks or months in the browser's
 * time zone); the page shows both totals and the change in %, an overlay chart (uPlot) with a data table behind
 * it, the caveat when one period hides clearly more minutes than the other, a site's zones ranked on one scale, and
 * export buttons (CSV, Dutch Excel) for each period. The choice lives in the URL (`cmp`, `ca`, `cb`, `cstep`), so a
 * comparison is a link to share. Texts in Dutch and English are kept here.
 */
import './compare-view.css';
import uPlot from 'uplot';
import { fetchComparePeriods, fetchExport, type ComparePeriodsQuery, type ExportFormat, type MarkedPeriod, type PeriodsComparison, type Radio, type SiteInfo, type Target, type ZoneInfo } from './api.ts';
import { COLORS } from './charts.ts';
import { el } from './dom.ts';
import type { Lang, Translator } from './i18n.ts';
import { addLocalDays, calendarSpan, checkCustom, formatLocalDate, type CustomRange, type PeriodId } from './periods.ts';
import { isoWeek } from './totals.ts';
import { browserTimeZone } from './week.ts';

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

const MESSAGES = {
  en: {
    tab: 'Compare',
    title: 'Compare two periods',
    intro: 'Pick a zone or site and two periods: before and after a change, an event day against a normal day, this year against last.',
    what: 'Zone or site',
    zone: 'Zone',
    site: 'Site',
    period: 'Period',
    against: 'Compared with',
    from: 'From',
    to: 'To',
    step: 'Per',
    hour: 'hour',
    day: 'day',
    week: 'week',
    month: 'month',
    today: 'Today',
    yesterday: 'Yesterday',
    thisWeek: 'This week',
    lastWeek: 'Last week',
    thisMonth: 'This month',
    lastMonth: 'Last month',
    thisYear: 'This year',
    custom: 'Choose dates',
    before: 'The same length just before',
    weekBefore: 'The same days a week earlier',
    yearBefore: 'The same dates a year earlier',
    events: 'Events',
    eventOption: '{name} ({dates})',
    eventUnknown: 'This event is not (or no longer) there.',
    readoutRow: '{label}: {value}',
    badRange: 'Pick a first and last day, the last not before the first, at most 400 days apart.',
    total: 'Total',
    totalUnit: 'device-minutes',
    change: 'Change',
    noChange: 'cannot compare: nothing released in the second period',
    hiddenShare: '{share} of the minutes hidden',
    caveat: 'Careful: {side} hides {more} of its minutes, the other {less}. Its total rests on less of the time, so the change says less than it seems.',
    sidePeriod: 'the period',
    sideAgainst: 'the period compared with',
    chart: 'Both periods over each other',
    chartLabel: 'Device-minutes per {step}: the period (solid line) against the period compared with (dashed line). {summary}',
    tableCaption: 'Device-minutes per {step} of both periods',
    colOffset: '#',
    colPeriod: 'Period',
    colAgainst: 'Compared with',
    colHidden: 'hidden minutes',
    nothing: 'nothing released',
    zones: 'Zones side by side, on one scale',
    zonesNote: 'Ranked by the total of the period; bars of both periods on one scale.',
    zoneRow: '{zone}: {period} against {against} device-minutes, {change}',
    zoneFigures: '{period} vs {against} · {change}',
    exports: 'Download',
    csv: 'CSV',
    excel: 'Excel (NL)',
    exportTitle: 'Download {which} per {step} as {format}',
    exportFailed: 'The download failed: {message}',
    loading: 'Loading…',
    error: 'Could not compare: {message}',
    pick: 'Pick a zone or site to compare.',
    none: '—',
  },
  nl: {
    tab: 'Vergelijken',
    title: 'Twee perioden vergelijken',
    intro: 'Kies een zone of locatie en twee perioden: voor en na een verandering, een evenementdag tegen een gewone dag, dit jaar tegen vorig jaar.',
    what: 'Zone of locatie',
    zone: 'Zone',
    site: 'Locatie',
    period: 'Periode',
    against: 'Vergeleken met',
    from: 'Van',
    to: 'Tot en met',
    step: 'Per',
    hour: 'uur',
    day: 'dag',
    week: 'week',
    month: 'maand',
    today: 'Vandaag',
    yesterday: 'Gisteren',
    thisWeek: 'Deze week',
    lastWeek: 'Vorige week',
    thisMonth: 'Deze maand',
    lastMonth: 'Vorige maand',
    thisYear: 'Dit jaar',
    custom: 'Kies data',
    before: 'Even lang, direct ervoor',
    weekBefore: 'Dezelfde dagen een week eerder',
    yearBefore: 'Dezelfde data een jaar eerder',
    events: 'Evenementen',
    eventOption: '{name} ({dates})',
    eventUnknown: 'Dit evenement is er niet (meer).',
    readoutRow: '{label}: {value}',
    badRange: 'Kies een eerste en laatste dag, de laatste niet voor de eerste, hooguit 400 dagen.',
    total: 'Totaal',
    totalUnit: 'apparaat-minuten',
    change: 'Verandering',
    noChange: 'niet te vergelijken: niets vrijgegeven in de tweede periode',
    hiddenShare: '{share} van de minuten verborgen',
    caveat: 'Let op: {side} verbergt {more} van de minuten, de andere {less}. Het totaal rust op minder van de tijd, dus de verandering zegt minder dan het lijkt.',
    sidePeriod: 'de periode',
    sideAgainst: 'de vergeleken periode',
    chart: 'Beide perioden over elkaar',
    chartLabel: 'Apparaat-minuten per {step}: de periode (doorgetrokken lijn) tegen de vergeleken periode (stippellijn). {summary}',
    tableCaption: 'Apparaat-minuten per {step} van beide perioden',
    colOffset: '#',
    colPeriod: 'Periode',
    colAgainst: 'Vergeleken met',
    colHidden: 'verborgen minuten',
    nothing: 'niets vrijgegeven',
    zones: 'Zones naast elkaar, op één schaal',
    zonesNote: 'Gerangschikt op het totaal van de periode; balken van beide perioden op één schaal.',
    zoneRow: '{zone}: {period} tegen {against} apparaat-minuten, {change}',
    zoneFigures: '{period} tegen {against} · {change}',
    exports: 'Downloaden',
    csv: 'CSV',
    excel: 'Excel (NL)',
    exportTitle: 'Download {which} per {step} als {format}',
    exportFailed: 'Downloaden mislukt: {message}',
    loading: 'Laden…',
    error: 'Vergelijken lukte niet: {message}',
    pick: 'Kies een zone of locatie om te vergelijken.',
    none: '—',
  },
} as const;
type Key = keyof (typeof MESSAGES)['en'];

function text(lang: Lang, key: Key, values: Record<string, string | number> = {}): string {
  return MESSAGES[lang][key].replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? `{${name}}`));
}

/** The colour of the period compared with (dashed): 5.9:1 on white. */
const AGAINST_COLOR = '#8a4b08';

/** Indices of values with a gap on both sides: a line cannot show them, so they are drawn as points. */
function isolated(values: ArrayLike<number | null | undefined>): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (values[i] == null) continue;
    if ((i === 0 || values[i - 1] == null) && (i === values.length - 1 || values[i + 1] == null)) out.push(i);
  }
  return out;
}

/** The tab's label. */
export function compareTabLabel(lang: Lang): string {
  return text(lang, 'tab');
}

// ---- periods and the URL ---------------------------------------------------------------------------------------

function isIn<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (values as readonly string[]).includes(value);
}

const EVENT_TEXT = /^event:([A-Za-z0-9_-]{1,80})$/;

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

const atMidnight = (d: Date) => d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0;

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

function apiStep(step: CompareStep): ComparePeriodsQuery['step'] {
  return step === 'hour' ? 3600 : step;
}

// ---- the page --------------------------------------------------------------------------------------------------

export interface CompareDeps {
  radio(): Radio;
  /** Called when the choice changes, so the page's URL can say it. */
  changed(state: CompareState): void;
  now?: () => Date;
}

interface PeriodInputs {
  legend: HTMLElement;
  select: HTMLSelectElement;
  dates: HTMLElement;
  fromLabel: HTMLElement;
  toLabel: HTMLElement;
  from: HTMLInputElement;
  to: HTMLInputElement;
}

export class ComparePage {
  readonly root: HTMLElement;
  private lang: Lang;
  private locale: string;
  private zones: ZoneInfo[] = [];
  private sites: SiteInfo[] = [];
  /** The events the reader may see (null: not loaded yet). */
  private events: MarkedPeriod[] | null = null;
  private plot: uPlot | null = null;
  private plotFrame = 0;
  private readonly resizeObserver: ResizeObserver;
  private data: PeriodsComparison | null = null;
  private generation = 0;
  /** The target and query of the comparison shown or on its way. */
  private loadKey = '';
  private visible = false;
  private readonly heading = el('h2', { class: 'section-title' });
  private readonly intro = el('p', { class: 'note' });
  private readonly targetLabel = el('label');
  private readonly targetSelect = el('select', { attrs: { id: 'cmp-target', name: 'cmp' } });
  private readonly stepLabel = el('label');
  private readonly stepSelect = el('select', { attrs: { id: 'cmp-step', name: 'cstep' } });
  private readonly a: PeriodInputs;
  private readonly b: PeriodInputs;
  private readonly rangeError = el('p', { class: 'zone-error', attrs: { hidden: '', role: 'alert' } });
  private readonly status = el('p', { class: 'note cmp-status', attrs: { role: 'status' } });
  private readonly figures = el('div', { class: 'figures cmp-figures' });
  private readonly caveat = el('p', { class: 'cmp-caveat', attrs: { hidden: '', role: 'note' } });
  private readonly chartTitle = el('h3', { class: 'detail-title' });
  private readonly chart = el('div', { class: 'cmp-chart', attrs: { role: 'img' } });
  private readonly chartKey = el('p', { class: 'chart-key cmp-key' });
  private readonly readout = el('p', { class: 'readout cmp-readout', attrs: { 'aria-hidden': 'true' } });
  private readonly tableBox = el('div', { class: 'table-scroll cmp-table-box', attrs: { tabindex: '0', role: 'region' } });
  private readonly zonesBox = el('section', { class: 'cmp-zones', attrs: { hidden: '' } });
  private readonly exportsBox = el('div', { class: 'cmp-exports' });
  private readonly exportError = el('p', { class: 'zone-error', attrs: { hidden: '', role: 'alert' } });
  private readonly result = el('div', { class: 'cmp-result', attrs: { hidden: '' } });

  constructor(
    tr: Translator,
    private state: CompareState,
    private readonly deps: CompareDeps,
  ) {
    this.lang = tr.lang;
    this.locale = tr.locale;
    this.targetLabel.setAttribute('for', this.targetSelect.id);
    this.stepLabel.setAttribute('for', this.stepSelect.id);
    this.targetSelect.addEventListener('change', () => {
      const m = /^(zone|site):(.+)$/.exec(this.targetSelect.value);
      this.state = { ...this.state, target: m ? { kind: m[1] as Target['kind'], id: m[2]! } : null };
      this.changed();
    });
    this.stepSelect.addEventListener('change', () => {
      this.state = { ...this.state, step: isIn(COMPARE_STEPS, this.stepSelect.value) ? this.stepSelect.value : null };
      this.changed();
    });
    this.a = this.periodInputs('ca', COMPARE_PRESETS, (choice) => (this.state = { ...this.state, period: choice as PeriodChoice<ComparePreset> }));
    this.b = this.periodInputs('cb', AGAINST_CHOICES, (choice) => (this.state = { ...this.state, against: choice as PeriodChoice<AgainstChoice> }));
    const controls = el('form', { class: 'controls cmp-controls', attrs: { novalidate: '' } }, [
      el('div', { class: 'cmp-field' }, [this.targetLabel, this.targetSelect]),
      this.fieldset(this.a),
      this.fieldset(this.b),
      el('div', { class: 'cmp-field' }, [this.stepLabel, this.stepSelect]),
      this.rangeError,
    ]);
    controls.addEventListener('submit', (e) => e.preventDefault());
    this.result.append(this.figures, this.caveat, this.chartTitle, this.readout, this.chart, this.chartKey, this.tableBox, this.zonesBox, this.exportsBox, this.exportError);
    this.resizeObserver = new ResizeObserver(() => {
      cancelAnimationFrame(this.plotFrame);
      this.plotFrame = requestAnimationFrame(() => this.plot?.setSize(this.plotSize()));
    });
    this.resizeObserver.observe(this.chart);
    this.root = el('section', { class: 'compare-page', attrs: { 'data-loaded': 'false' } }, [this.heading, this.intro, controls, this.status, this.result]);
    this.render();
  }

  private periodInputs(name: string, choices: readonly string[], set: (choice: PeriodChoice<string>) => void): PeriodInputs {
    const select = el('select', { attrs: { id: `cmp-${name}`, name, 'data-choices': choices.join(' ') } });
    const from = el('input', { attrs: { type: 'date', id: `cmp-${name}-from`, name: `${name}-from` } });
    const to = el('input', { attrs: { type: 'date', id: `cmp-${name}-to`, name: `${name}-to` } });
    const fromLabel = el('label', { attrs: { for: from.id } });
    const toLabel = el('label', { attrs: { for: to.id } });
    const dates = el('div', { class: 'cmp-dates', attrs: { hidden: '' } }, [el('span', {}, [fromLabel, from]), el('span', {}, [toLabel, to])]);
    const legend = el('label', { attrs: { for: select.id } });
    const pick = () => {
      const id = select.value;
      const event = EVENT_TEXT.exec(id);
      if (event !== null) {
        dates.hidden = true;
        this.rangeError.hidden = true;
        set({ id: 'event', event: event[1]! });
      } else if (id === 'custom') {
        dates.hidden = false;
        const custom = { from: from.value, to: to.value };
        if (checkCustom(custom) === null) {
          this.rangeError.hidden = from.value === '' || to.value === '';
          return;
        }
        this.rangeError.hidden = true;
        set({ id, custom });
      } else {
        dates.hidden = true;
        this.rangeError.hidden = true;
        set({ id });
      }
      this.changed();
    };
    select.addEventListener('change', pick);
    from.addEventListener('change', pick);
    to.addEventListener('change', pick);
    return { legend, select, dates, fromLabel, toLabel, from, to };
  }

  private fieldset(p: PeriodInputs): HTMLElement {
    return el('div', { class: 'cmp-field cmp-period' }, [p.legend, p.select, p.dates]);
  }

  private t(key: Key, values?: Record<string, string | number>): string {
    return text(this.lang, key, values);
  }

  setTranslator(tr: Translator): void {
    this.lang = tr.lang;
    this.locale = tr.locale;
    this.render();
    this.renderResult();
  }

  /** The zones and sites the reader may see. */
  setTargets(zones: ZoneInfo[], sites: SiteInfo[]): void {
    this.zones = zones;
    this.sites = sites;
    const known = (t: Target | null) => t !== null && (t.kind === 'zone' ? zones : sites).some((x) => x.id === t.id);
    if (!known(this.state.target)) {
      const first: Target | null = sites[0] ? { kind: 'site', id: sites[0].id } : zones[0] ? { kind: 'zone', id: zones[0].id } : null;
      this.state = { ...this.state, target: first };
    }
    this.render();
    if (this.visible) void this.load();
  }

  /** The page is shown (true) or hidden; shown, it loads. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) void this.load();
  }

  /** The events the reader may see: each is a period one click away. */
  setEvents(events: MarkedPeriod[]): void {
    const before = JSON.stringify(this.events);
    this.events = events;
    if (JSON.stringify(events) === before) return;
    this.render();
    if (this.visible) void this.load();
  }

  /** Shows `state` (e.g. an event against the same days a week earlier, from an overview chart). */
  open(state: CompareState): void {
    this.state = state;
    this.deps.changed(this.state);
    this.render();
    if (this.visible) void this.load();
  }

  /** The radio changed elsewhere on the page. */
  refresh(): void {
    if (this.visible) void this.load();
  }

  get current(): CompareState {
    return this.state;
  }

  private changed(): void {
    this.deps.changed(this.state);
    this.render();
    if (this.visible) void this.load();
  }

  /** The chosen events are known (or none is chosen). */
  private eventsReady(): boolean {
    return this.events !== null || (this.state.period.id !== 'event' && this.state.against.id !== 'event');
  }

  private spans(): { a: { start: Date; end: Date }; b: { start: Date; end: Date } } | null {
    const now = this.deps.now?.() ?? new Date();
    const events = this.events ?? [];
    const a = spanOf(this.state.period, now, null, events);
    const b = spanOf(this.state.against, now, a, events);
    return a && b ? { a, b } : null;
  }

  private step(): CompareStep {
    if (this.state.step) return this.state.step;
    const spans = this.spans();
    return spans ? defaultStep(Math.round((spans.a.end.getTime() - spans.a.start.getTime()) / 86_400_000)) : 'day';
  }

  private query(): ComparePeriodsQuery | null {
    const spans = this.spans();
    if (spans === null) return null;
    // hours: whole hours that hold the period (an event may start at 10:30); calendar steps are aligned by the API
    const hour = this.step() === 'hour';
    const down = (d: Date) => (hour ? Math.floor(d.getTime() / 3_600_000) * 3600 : Math.floor(d.getTime() / 1000));
    const up = (d: Date) => (hour ? Math.ceil(d.getTime() / 3_600_000) * 3600 : Math.floor(d.getTime() / 1000));
    return { from: down(spans.a.start), to: up(spans.a.end), againstFrom: down(spans.b.start), againstTo: up(spans.b.end), step: apiStep(this.step()), radio: this.deps.radio(), tz: browserTimeZone() };
  }

  private async load(): Promise<void> {
    const target = this.state.target;
    const query = this.query();
    if (target === null || query === null) {
      ++this.generation;
      this.loadKey = '';
      this.data = null;
      const missing = [this.state.period, this.state.against].some((c) => c.id === 'event' && !(this.events ?? []).some((e) => e.id === c.event));
      this.status.textContent = target === null ? this.t('pick') : !this.eventsReady() ? this.t('loading') : missing ? this.t('eventUnknown') : '';
      this.renderResult();
      return;
    }
    // the same comparison as the one shown or on its way (the targets came, the page was shown again): not again
    const key = JSON.stringify([target, query]);
    if (key === this.loadKey) return;
    this.loadKey = key;
    const generation = ++this.generation;
    this.status.textContent = this.t('loading');
    this.root.dataset.loaded = 'false';
    try {
      const data = await fetchComparePeriods(target, query);
      if (generation !== this.generation) return;
      this.data = data;
      this.status.textContent = '';
    } catch (err) {
      if (generation !== this.generation) return;
      this.loadKey = '';
      this.data = null;
      this.status.textContent = this.t('error', { message: err instanceof Error ? err.message : String(err) });
    }
    this.renderResult();
  }

  private render(): void {
    this.heading.textContent = this.t('title');
    this.intro.textContent = this.t('intro');
    this.targetLabel.textContent = this.t('what');
    const options = [
      ...this.sites.map((s) => ({ value: `site:${s.id}`, label: `${this.t('site')}: ${s.name}` })),
      ...this.zones.map((z) => ({ value: `zone:${z.id}`, label: `${this.t('zone')}: ${z.name}` })),
    ];
    this.targetSelect.replaceChildren(...options.map((o) => el('option', { text: o.label, attrs: { value: o.value } })));
    if (this.state.target) this.targetSelect.value = `${this.state.target.kind}:${this.state.target.id}`;
    this.stepLabel.textContent = this.t('step');
    this.stepSelect.replaceChildren(...COMPARE_STEPS.map((s) => el('option', { text: this.t(s), attrs: { value: s } })));
    this.stepSelect.value = this.step();
    for (const [p, choice, key] of [
      [this.a, this.state.period, 'period'],
      [this.b, this.state.against, 'against'],
    ] as const) {
      p.legend.textContent = this.t(key);
      const ids = (p.select.dataset.choices ?? '').split(' ');
      const presets = ids.map((id) => el('option', { text: this.t(id as Key), attrs: { value: id } }));
      const events = this.events ?? [];
      const group = el(
        'optgroup',
        { attrs: { label: this.t('events') } },
        events.map((e) => el('option', { text: this.t('eventOption', { name: e.name, dates: this.eventDates(e) }), attrs: { value: `event:${e.id}` } })),
      );
      p.select.replaceChildren(...presets, ...(events.length > 0 ? [group] : []));
      p.select.value = choice.id === 'event' ? `event:${choice.event}` : choice.id;
      p.fromLabel.textContent = this.t('from');
      p.toLabel.textContent = this.t('to');
      p.dates.hidden = choice.id !== 'custom';
      if (choice.custom) {
        p.from.value = choice.custom.from;
        p.to.value = choice.custom.to;
      } else if (choice.id !== 'custom') {
        const span = key === 'period' ? spanOf(choice, this.deps.now?.() ?? new Date(), null, events) : this.spans()?.b;
        if (span) {
          p.from.value = formatLocalDate(span.start);
          p.to.value = formatLocalDate(atMidnight(span.end) ? addLocalDays(span.end, -1) : span.end);
        }
      }
    }
    this.rangeError.textContent = this.t('badRange');
  }

  /** An event's period in words: its days, with the times when it does not cover whole days. */
  private eventDates(e: MarkedPeriod): string {
    const start = new Date(e.from * 1000);
    const end = new Date(e.to * 1000);
    const whole = atMidnight(start) && atMidnight(end);
    const f = new Intl.DateTimeFormat(this.locale, whole ? { day: 'numeric', month: 'short', year: 'numeric' } : { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
    const last = whole ? addLocalDays(end, -1) : end;
    return whole && last.getTime() <= start.getTime() ? f.format(start) : f.formatRange(start, last);
  }

  private label(t: number): string {
    const date = new Date(t * 1000);
    const step = this.step();
    if (step === 'hour') return new Intl.DateTimeFormat(this.locale, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(date);
    if (step === 'day') return new Intl.DateTimeFormat(this.locale, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }).format(date);
    if (step === 'week') return `${this.lang === 'nl' ? 'week' : 'week'} ${isoWeek(date)}, ${new Intl.DateTimeFormat(this.locale, { day: 'numeric', month: 'short', year: 'numeric' }).format(date)}`;
    return new Intl.DateTimeFormat(this.locale, { month: 'long', year: 'numeric' }).format(date);
  }

  /** A side's span: its local days (the last one included), or per hour its times (the end excluded). */
  private sideDates(side: PeriodsComparison['period']): string {
    if (this.step() === 'hour') {
      const f = new Intl.DateTimeFormat(this.locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
      return f.formatRange(new Date(side.from * 1000), new Date(side.to * 1000));
    }
    const f = new Intl.DateTimeFormat(this.locale, { day: 'numeric', month: 'short', year: 'numeric' });
    return f.formatRange(new Date(side.from * 1000), new Date((side.to - 1) * 1000));
  }

  private renderResult(): void {
    const d = this.data;
    this.result.hidden = d === null;
    this.root.dataset.loaded = String(d !== null);
    if (d === null) return;
    const whole = new Intl.NumberFormat(this.locale, { maximumFractionDigits: 0 });
    const pct = new Intl.NumberFormat(this.locale, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' });
    const share = new Intl.NumberFormat(this.locale, { style: 'percent', maximumFractionDigits: 1 });
    const figure = (kind: string, label: string, value: string, unit: string, detail: string, data: Record<string, string>) => {
      const box = el('div', { class: `figure figure-${kind}` }, [
        el('span', { class: 'figure-label', text: label }),
        el('span', { class: 'figure-value', text: value }),
        el('span', { class: 'figure-unit', text: unit }),
        el('span', { class: 'figure-detail', text: detail }),
      ]);
      for (const [k, v] of Object.entries(data)) box.dataset[k] = v;
      return box;
    };
    const sideFigure = (kind: string, key: Key, side: PeriodsComparison['period']) =>
      figure(
        kind,
        `${this.t(key)}: ${this.sideDates(side)}`,
        side.total === null ? this.t('none') : whole.format(side.total),
        side.total === null ? this.t('nothing') : this.t('totalUnit'),
        side.hiddenShare === null ? '' : this.t('hiddenShare', { share: share.format(side.hiddenShare) }),
        { total: side.total === null ? '' : String(side.total), hiddenShare: side.hiddenShare === null ? '' : String(side.hiddenShare) },
      );
    this.figures.replaceChildren(
      sideFigure('current', 'period', d.period),
      sideFigure('last', 'against', d.against),
      figure('change', this.t('change'), d.change === null ? this.t('none') : pct.format(d.change / 100), d.change === null ? this.t('noChange') : '', '', {
        change: d.change === null ? '' : String(d.change),
        trend: d.change === null ? 'none' : d.change > 0 ? 'up' : d.change < 0 ? 'down' : 'flat',
      }),
    );
    if (d.caveat) {
      const more = d.caveat.moreHidden === 'period' ? d.period : d.against;
      const less = d.caveat.moreHidden === 'period' ? d.against : d.period;
      this.caveat.textContent = this.t('caveat', {
        side: this.t(d.caveat.moreHidden === 'period' ? 'sidePeriod' : 'sideAgainst'),
        more: share.format(more.hiddenShare ?? 0),
        less: share.format(less.hiddenShare ?? 0),
      });
      this.caveat.hidden = false;
      this.caveat.dataset.moreHidden = d.caveat.moreHidden;
    } else {
      this.caveat.hidden = true;
      this.caveat.textContent = '';
    }
    this.renderChart(d);
    this.renderZones(d);
    this.renderExports(d);
  }

  private plotSize(): { width: number; height: number } {
    const width = Math.max(240, Math.floor(this.chart.clientWidth));
    return { width, height: width < 560 ? 220 : 260 };
  }

  /** A short label of a bucket for the chart's axis. */
  private tick(t: number): string {
    const date = new Date(t * 1000);
    const step = this.step();
    if (step === 'hour') return new Intl.DateTimeFormat(this.locale, { hour: '2-digit', minute: '2-digit' }).format(date);
    if (step === 'day') return new Intl.DateTimeFormat(this.locale, { weekday: 'short', day: 'numeric' }).format(date);
    if (step === 'week') return `${this.t('week')} ${isoWeek(date)}`;
    return new Intl.DateTimeFormat(this.locale, { month: 'short' }).format(date);
  }

  /**
   * The overlay (uPlot, as the overview's charts): both periods over each other, bucket by bucket from each one's
   * start; the period a solid line, the one compared with dashed. A bucket with nothing released breaks its line
   * (never drawn as 0).
   */
  private renderChart(d: PeriodsComparison): void {
    const stepName = this.t(this.step());
    const n = d.offset.length;
    const xs = Array.from({ length: n }, (_, i) => i);
    const side = (s: PeriodsComparison['period']) => xs.map((i) => (i < s.devices.length ? s.devices[i]! : null));
    const data: uPlot.AlignedData = [xs, side(d.period) as number[], side(d.against) as number[]];
    const whole = new Intl.NumberFormat(this.locale, { maximumFractionDigits: 0 });
    const periodName = this.t('colPeriod');
    const againstName = this.t('colAgainst');
    const readoutOf = (idx: number | null | undefined) => {
      if (idx == null) return '';
      return [
        [d.period, periodName],
        [d.against, againstName],
      ]
        .flatMap(([s, name]) => {
          const sideData = s as PeriodsComparison['period'];
          const t = sideData.t[idx];
          if (t === undefined) return [];
          const v = sideData.devices[idx];
          return [this.t('readoutRow', { label: `${name as string}, ${this.label(t)}`, value: v == null ? this.t('nothing') : whole.format(v) })];
        })
        .join(' · ');
    };
    this.plot?.destroy();
    const ticksOf = (splits: number[]) => splits.map((i) => (Number.isInteger(i) && d.period.t[i] !== undefined ? this.tick(d.period.t[i]!) : ''));
    const gap = (u: uPlot, seriesIdx: number, show: boolean) => (show ? null : isolated(u.data[seriesIdx] ?? []));
    this.plot = new uPlot(
      {
        ...this.plotSize(),
        pxAlign: 0,
        legend: { show: false },
        cursor: { points: { size: 7 }, drag: { x: false, y: false } },
        scales: {
          x: { time: false, range: () => [0, Math.max(1, n - 1)] },
          y: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil((max ?? 0) * 1.1))] },
        },
        axes: [
          { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid, width: 1 }, space: 56, incrs: [1, 2, 3, 4, 6, 7, 12, 14, 24, 28, 48, 96], values: (_u, splits) => ticksOf(splits) },
          { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { show: false }, size: 56, values: (_u, splits) => splits.map((v) => whole.format(v)) },
        ],
        series: [
          { label: '#' },
          { label: periodName, stroke: COLORS.line, width: 2.5, spanGaps: false, points: { size: 6, fill: COLORS.line, filter: gap } },
          { label: againstName, stroke: AGAINST_COLOR, width: 2, dash: [6, 4], spanGaps: false, points: { size: 6, fill: AGAINST_COLOR, filter: gap } },
        ],
        hooks: { setCursor: [(u) => (this.readout.textContent = readoutOf(u.cursor.idx))] },
      },
      data,
      this.chart,
    );
    this.chart.dataset.buckets = String(n);
    this.chart.dataset.released = String(d.period.devices.filter((v) => v !== null).length);
    this.chartKey.replaceChildren(
      el('span', { class: 'key cmp-key-period', text: `${periodName}: ${this.sideDates(d.period)}` }),
      el('span', { class: 'key cmp-key-against', text: `${againstName}: ${this.sideDates(d.against)}` }),
    );
    const pct = new Intl.NumberFormat(this.locale, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' });
    const summary = `${this.t('period')} ${d.period.total === null ? this.t('nothing') : whole.format(d.period.total)}, ${this.t('against').toLowerCase()} ${
      d.against.total === null ? this.t('nothing') : whole.format(d.against.total)
    }${d.change === null ? '' : ` (${pct.format(d.change / 100)})`}.`;
    this.chartTitle.textContent = this.t('chart');
    this.chart.setAttribute('aria-label', this.t('chartLabel', { step: stepName, summary }));
    // the data table behind the chart
    const cell = (v: number | null | undefined) => (v === null || v === undefined ? this.t('nothing') : whole.format(v));
    const rows = d.offset.map((_, i) =>
      el('tr', { attrs: { 'data-offset': String(i) } }, [
        el('th', { text: String(i + 1), attrs: { scope: 'row' } }),
        el('td', { text: d.period.t[i] === undefined ? '' : this.label(d.period.t[i]!) }),
        el('td', { class: 'num', text: d.period.t[i] === undefined ? '' : cell(d.period.devices[i]), attrs: { 'data-value': String(d.period.devices[i] ?? '') } }),
        el('td', { class: 'num', text: d.period.t[i] === undefined ? '' : whole.format(d.period.suppressed[i] ?? 0) }),
        el('td', { text: d.against.t[i] === undefined ? '' : this.label(d.against.t[i]!) }),
        el('td', { class: 'num', text: d.against.t[i] === undefined ? '' : cell(d.against.devices[i]), attrs: { 'data-value': String(d.against.devices[i] ?? '') } }),
        el('td', { class: 'num', text: d.against.t[i] === undefined ? '' : whole.format(d.against.suppressed[i] ?? 0) }),
      ]),
    );
    const caption = this.t('tableCaption', { step: stepName });
    this.tableBox.setAttribute('aria-label', caption);
    this.tableBox.replaceChildren(
      el('table', { class: 'data-table cmp-table' }, [
        el('caption', { class: 'visually-hidden', text: caption }),
        el('thead', {}, [
          el('tr', {}, [
            el('th', { text: this.t('colOffset'), attrs: { scope: 'col' } }),
            el('th', { text: this.t('colPeriod'), attrs: { scope: 'col' } }),
            el('th', { class: 'num', text: this.t('totalUnit'), attrs: { scope: 'col' } }),
            el('th', { class: 'num', text: this.t('colHidden'), attrs: { scope: 'col' } }),
            el('th', { text: this.t('colAgainst'), attrs: { scope: 'col' } }),
            el('th', { class: 'num', text: this.t('totalUnit'), attrs: { scope: 'col' } }),
            el('th', { class: 'num', text: this.t('colHidden'), attrs: { scope: 'col' } }),
          ]),
        ]),
        el('tbody', {}, rows),
      ]),
    );
  }

  private renderZones(d: PeriodsComparison): void {
    const zones = d.zones ?? [];
    this.zonesBox.hidden = zones.length === 0;
    if (zones.length === 0) {
      this.zonesBox.replaceChildren();
      return;
    }
    const whole = new Intl.NumberFormat(this.locale, { maximumFractionDigits: 0 });
    const pct = new Intl.NumberFormat(this.locale, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' });
    const max = Math.max(1, ...zones.flatMap((z) => [z.period.total ?? 0, z.against.total ?? 0]));
    const bar = (value: number | null, cls: string) => {
      const b = el('span', { class: `cmp-bar ${cls}`, attrs: { 'data-empty': String(value === null) } });
      b.style.width = value === null ? '0' : `${Math.max(1, Math.round((Math.max(0, value) / max) * 100))}%`;
      return b;
    };
    const items = zones.map((z) => {
      const change = z.change === null ? this.t('none') : pct.format(z.change / 100);
      const description = this.t('zoneRow', {
        zone: z.name,
        period: z.period.total === null ? this.t('nothing') : whole.format(z.period.total),
        against: z.against.total === null ? this.t('nothing') : whole.format(z.against.total),
        change,
      });
      return el('li', { class: 'cmp-zone', attrs: { 'data-zone': z.id, 'data-total': String(z.period.total ?? ''), 'data-change': String(z.change ?? '') } }, [
        el('span', { class: 'cmp-zone-name', text: z.name }),
        el('span', { class: 'cmp-zone-bars', attrs: { 'aria-hidden': 'true' } }, [bar(z.period.total, 'cmp-bar-period'), bar(z.against.total, 'cmp-bar-against')]),
        el('span', {
          class: 'cmp-zone-figures',
          attrs: { 'aria-hidden': 'true' }, // the sentence below says the same
          text: this.t('zoneFigures', { period: z.period.total === null ? this.t('none') : whole.format(z.period.total), against: z.against.total === null ? this.t('none') : whole.format(z.against.total), change }),
        }),
        el('span', { class: 'visually-hidden', text: description }),
      ]);
    });
    this.zonesBox.replaceChildren(
      el('h3', { class: 'detail-title', text: this.t('zones') }),
      el('p', { class: 'detail-note', text: this.t('zonesNote') }),
      el('ol', { class: 'cmp-zone-list' }, items),
    );
  }

  private renderExports(d: PeriodsComparison): void {
    const target = this.state.target;
    if (target === null) return;
    const step = this.step();
    const buttons: HTMLElement[] = [];
    for (const [side, key] of [
      [d.period, 'period'],
      [d.against, 'against'],
    ] as const) {
      for (const [format, label] of [
        ['csv', 'csv'],
        ['csv-nl', 'excel'],
      ] as const) {
        const which = this.t(key).toLowerCase();
        const button = el('button', {
          class: 'button cmp-export',
          text: `${this.t(key)}: ${this.t(label)}`,
          attrs: { type: 'button', 'data-side': key, 'data-format': format, title: this.t('exportTitle', { which, step: this.t(step), format: this.t(label) }) },
        });
        button.addEventListener('click', () => void this.download(target, { from: side.from, to: side.to, step: apiStep(step), radio: this.deps.radio(), tz: browserTimeZone() }, format));
        buttons.push(button);
      }
    }
    this.exportsBox.replaceChildren(el('span', { class: 'cmp-exports-label', text: this.t('exports') }), ...buttons);
  }

  private async download(target: Target, query: Parameters<typeof fetchExport>[1], format: ExportFormat): Promise<void> {
    this.exportError.hidden = true;
    try {
      const { blob, fileName } = await fetchExport(target, query, format);
      const url = URL.createObjectURL(blob);
      const link = el('a', { attrs: { href: url, download: fileName, hidden: '' } });
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      this.exportError.textContent = this.t('exportFailed', { message: err instanceof Error ? err.message : String(err) });
      this.exportError.hidden = false;
    }
  }
}
