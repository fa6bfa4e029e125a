/**
 * The compare page (`#compare`): any two periods of a zone or site side by side (before and after a street
 * redesign, an event day against a normal day, this year against last). Each period is a calendar preset, a range
 * of local dates, or a marked event (`GET /api/v1/marked-periods`); the second can also be the same length just
 * before the first, the same days a week earlier, or the same dates a year earlier. The API
 * (`GET .../compare-periods`) compares them in one step (hours, local days, ISO weeks or months in the browser's
 * time zone); the page shows both totals and the change in %, an overlay chart (uPlot) with a data table behind
 * it, the caveat when one period hides clearly more minutes than the other, a site's zones ranked on one scale, and
 * export buttons (CSV, Dutch Excel) for each period. The choice lives in the URL (`cmp`, `ca`, `cb`, `cstep`), so a
 * comparison is a link to share. The parts: the choice and its URL (compare-state.ts), the texts in Dutch and English
 * (compare-text.ts), the totals, change and caveat (compare-figures.ts), the chart, table and zone ranking
 * (compare-chart.ts) and the export buttons (compare-exports.ts).
 */
import type uPlot from 'uplot';
import { fetchComparePeriods, type ComparePeriodsQuery, type MarkedPeriod, type PeriodsComparison, type Radio, type SiteInfo, type Target, type ZoneInfo } from './api.ts';
import { compareChartSize, compareFormat, renderCompareChart, renderZoneRanking, type CompareFormat } from './compare-chart.ts';
import { renderCompareExports } from './compare-exports.ts';
import { renderCompareFigures } from './compare-figures.ts';
import {
  AGAINST_CHOICES,
  COMPARE_PRESETS,
  COMPARE_STEPS,
  EVENT_TEXT,
  apiStep,
  atMidnight,
  defaultStep,
  isIn,
  spanOf,
  type AgainstChoice,
  type ComparePreset,
  type CompareState,
  type CompareStep,
  type PeriodChoice,
} from './compare-state.ts';
import { compareText, type CompareKey } from './compare-text.ts';
import { el } from './dom.ts';
import type { Lang, Translator } from './i18n.ts';
import { addLocalDays, checkCustom, formatLocalDate } from './periods.ts';
import { browserTimeZone } from './week.ts';
import { dateFormat } from './intl-cache.ts';

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
      this.plotFrame = requestAnimationFrame(() => this.plot?.setSize(compareChartSize(this.chart)));
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

  private t(key: CompareKey, values?: Record<string, string | number>): string {
    return compareText(this.lang, key, values);
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
      const presets = ids.map((id) => el('option', { text: this.t(id as CompareKey), attrs: { value: id } }));
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
    const f = dateFormat(this.locale, whole ? { day: 'numeric', month: 'short', year: 'numeric' } : { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
    const last = whole ? addLocalDays(end, -1) : end;
    return whole && last.getTime() <= start.getTime() ? f.format(start) : f.formatRange(start, last);
  }

  private renderResult(): void {
    const d = this.data;
    this.result.hidden = d === null;
    this.root.dataset.loaded = String(d !== null);
    if (d === null) return;
    const fmt = this.format();
    renderCompareFigures(fmt, { figures: this.figures, caveat: this.caveat }, d);
    const parts = { chart: this.chart, chartKey: this.chartKey, chartTitle: this.chartTitle, readout: this.readout, tableBox: this.tableBox };
    this.plot = renderCompareChart(fmt, parts, d, this.plot);
    renderZoneRanking(fmt, this.zonesBox, d);
    if (this.state.target !== null) renderCompareExports(fmt, { box: this.exportsBox, error: this.exportError }, this.state.target, this.deps.radio(), d);
  }

  /** What the figures, the chart, the zone ranking and the exports need from the page. */
  private format(): CompareFormat {
    return compareFormat(this.lang, this.locale, this.step(), (key, values) => this.t(key, values));
  }
}
