/**
 * The data behind a chart, as a table a screen reader (or anyone) can read: one row per bucket with its local
 * time, the released value in devices per minute (the same numbers the chart draws), and the minutes hidden in
 * it, and for a calibrated zone the estimate with its 95 % interval (people present per minute, or passers in the
 * bucket, as the API gives them). A hidden bucket says "hidden", an empty one "no data": never a zero. The table sits in a closed
 * `<details>` under the chart and is built only while it is open (a day of minutes is 1,440 rows).
 */
import { el } from './dom.ts';
import { estimateText, formatPeople, tableLabelKey, type SeriesEstimate } from './estimates.ts';
import type { Translator } from './i18n.ts';
import { perMinute, type Series, type TimeWindow } from './series.ts';
import { dateFormat, numberFormat } from './intl-cache.ts';

export class ChartTable {
  readonly root: HTMLDetailsElement;
  private readonly summary: HTMLElement;
  private readonly box: HTMLElement;
  private series: Series | null = null;
  private window: TimeWindow | null = null;
  private estimate: SeriesEstimate | null = null;
  private caption = '';

  constructor(private tr: Translator) {
    this.summary = el('summary', { class: 'chart-table-toggle' });
    this.box = el('div', { class: 'table-scroll chart-table-box' });
    this.root = el('details', { class: 'chart-table' }, [this.summary, this.box]);
    this.root.addEventListener('toggle', () => this.render());
    this.render();
  }

  /** New language, or a new label for the table's caption (the chart's accessible name). */
  setTexts(tr: Translator, caption: string): void {
    const changed = tr !== this.tr || caption !== this.caption;
    this.tr = tr;
    this.caption = caption;
    if (changed) this.render();
  }

  update(series: Series, win: TimeWindow, estimate: SeriesEstimate | null = null): void {
    this.series = series;
    this.window = win;
    this.estimate = estimate;
    this.render();
  }

  private render(): void {
    const { t, locale } = this.tr;
    this.summary.textContent = t('tableShow');
    if (!this.root.open || this.series === null || this.window === null) {
      this.box.replaceChildren();
      return;
    }
    const { series, window: win } = this;
    const hourly = win.step !== 60;
    const time = dateFormat(locale, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
    const num = numberFormat(locale, { maximumFractionDigits: hourly ? 1 : 0 });
    const values = perMinute(series, win.step, Date.now() / 1000);
    const estimate = this.estimate?.unit ? this.estimate : null;
    const e = (key: Parameters<typeof estimateText>[1], values?: Record<string, string | number>) => estimateText(this.tr.lang, key, values);
    const rows: HTMLElement[] = [];
    for (let i = 0; i < series.t.length; i++) {
      const value = values[i] ?? null;
      const hidden = series.suppressed[i] ?? 0;
      const shown = value !== null ? num.format(value) : hidden > 0 ? t('hidden') : t('tableNoData');
      const state = value !== null ? 'value' : hidden > 0 ? 'hidden' : 'empty';
      const cells = [
        el('th', { text: time.format(new Date(series.t[i] * 1000)), attrs: { scope: 'row' } }),
        el('td', { class: 'num', text: shown }),
        el('td', { class: 'num', text: num.format(hidden) }),
      ];
      const attrs: Record<string, string> = { 'data-t': String(series.t[i]), 'data-state': state, ...(value !== null ? { 'data-value': String(value) } : {}) };
      if (estimate !== null) {
        const p = estimate.byT.get(series.t[i]);
        cells.push(
          el('td', { class: 'num estimate-cell', text: p ? formatPeople(p.value, locale) : '–' }),
          el('td', { class: 'num estimate-cell', text: p ? e('estRange', { low: formatPeople(p.low, locale), high: formatPeople(p.high, locale) }) : '–' }),
        );
        if (p) Object.assign(attrs, { 'data-estimate': String(p.value), 'data-low': String(p.low), 'data-high': String(p.high) });
      }
      rows.push(el('tr', { attrs }, cells));
    }
    const table = el('table', { class: 'data-table chart-data' }, [
      el('caption', { class: 'visually-hidden', text: this.caption }),
      el('thead', {}, [
        el('tr', {}, [
          el('th', { text: t('time'), attrs: { scope: 'col' } }),
          el('th', { class: 'num', text: t(hourly ? 'seriesHourAvg' : 'seriesMinute'), attrs: { scope: 'col' } }),
          el('th', { class: 'num', text: t('statHidden'), attrs: { scope: 'col' } }),
          ...(estimate?.unit
            ? [
                el('th', { class: 'num', text: e('estTableValue', { label: e(tableLabelKey(estimate.unit, win.step)) }), attrs: { scope: 'col' } }),
                el('th', { class: 'num', text: e('estInterval'), attrs: { scope: 'col' } }),
              ]
            : []),
        ]),
      ]),
      el('tbody', {}, rows),
    ]);
    // A scrolling box is a tab stop with a name, so the rows can be scrolled from the keyboard.
    this.box.setAttribute('tabindex', '0');
    this.box.setAttribute('role', 'region');
    this.box.setAttribute('aria-label', this.caption);
    this.box.replaceChildren(table);
  }
}
