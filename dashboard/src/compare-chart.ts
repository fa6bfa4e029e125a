/**
 * The compare page's result parts (compare-view.ts): the overlay chart of both periods with the data table behind
 * it, a site's zones ranked on one scale, and how the page writes a bucket and a period (compareFormat).
 */
import uPlot from 'uplot';
import type { PeriodsComparison } from './api.ts';
import { COLORS } from './charts.ts';
import type { CompareStep } from './compare-state.ts';
import type { CompareKey } from './compare-text.ts';
import { el } from './dom.ts';
import type { Lang } from './i18n.ts';
import { isoWeek } from './totals.ts';
import { dateFormat, numberFormat } from './intl-cache.ts';

/** What the parts need from the page: its language, the step, and how it writes a bucket and a period. */
export interface CompareFormat {
  locale: string;
  step: CompareStep;
  t(key: CompareKey, values?: Record<string, string | number>): string;
  /** A bucket's start in full (the table and the readout). */
  label(t: number): string;
  /** A side's span in words. */
  sideDates(side: PeriodsComparison['period']): string;
}

/** The page's format for `lang`, `locale` and `step`, with `t` its texts. */
export function compareFormat(lang: Lang, locale: string, step: CompareStep, t: CompareFormat['t']): CompareFormat {
  /** A bucket's start in full. */
  const label = (time: number): string => {
    const date = new Date(time * 1000);
    if (step === 'hour') return dateFormat(locale, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(date);
    if (step === 'day') return dateFormat(locale, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }).format(date);
    if (step === 'week') return `${lang === 'nl' ? 'week' : 'week'} ${isoWeek(date)}, ${dateFormat(locale, { day: 'numeric', month: 'short', year: 'numeric' }).format(date)}`;
    return dateFormat(locale, { month: 'long', year: 'numeric' }).format(date);
  };

  /** A side's span: its local days (the last one included), or per hour its times (the end excluded). */
  const sideDates = (side: PeriodsComparison['period']): string => {
    if (step === 'hour') {
      const f = dateFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
      return f.formatRange(new Date(side.from * 1000), new Date(side.to * 1000));
    }
    const f = dateFormat(locale, { day: 'numeric', month: 'short', year: 'numeric' });
    return f.formatRange(new Date(side.from * 1000), new Date((side.to - 1) * 1000));
  };
  return { locale, step, t, label, sideDates };
}

/** The page's elements the chart fills. */
export interface CompareChartParts {
  chart: HTMLElement;
  chartKey: HTMLElement;
  chartTitle: HTMLElement;
  readout: HTMLElement;
  tableBox: HTMLElement;
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

/** The chart's size for the width `chart` has now. */
export function compareChartSize(chart: HTMLElement): { width: number; height: number } {
  const width = Math.max(240, Math.floor(chart.clientWidth));
  return { width, height: width < 560 ? 220 : 260 };
}

/** A short label of a bucket for the chart's axis. */
function tick(fmt: CompareFormat, t: number): string {
  const date = new Date(t * 1000);
  const step = fmt.step;
  if (step === 'hour') return dateFormat(fmt.locale, { hour: '2-digit', minute: '2-digit' }).format(date);
  if (step === 'day') return dateFormat(fmt.locale, { weekday: 'short', day: 'numeric' }).format(date);
  if (step === 'week') return `${fmt.t('week')} ${isoWeek(date)}`;
  return dateFormat(fmt.locale, { month: 'short' }).format(date);
}

/**
 * The overlay (uPlot, as the overview's charts): both periods over each other, bucket by bucket from each one's
 * start; the period a solid line, the one compared with dashed. A bucket with nothing released breaks its line
 * (never drawn as 0).
 */
export function renderCompareChart(fmt: CompareFormat, parts: CompareChartParts, d: PeriodsComparison, previous: uPlot | null): uPlot {
  const stepName = fmt.t(fmt.step);
  const n = d.offset.length;
  const xs = Array.from({ length: n }, (_, i) => i);
  const side = (s: PeriodsComparison['period']) => xs.map((i) => (i < s.devices.length ? s.devices[i]! : null));
  const data: uPlot.AlignedData = [xs, side(d.period) as number[], side(d.against) as number[]];
  const whole = numberFormat(fmt.locale, { maximumFractionDigits: 0 });
  const periodName = fmt.t('colPeriod');
  const againstName = fmt.t('colAgainst');
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
        return [fmt.t('readoutRow', { label: `${name as string}, ${fmt.label(t)}`, value: v == null ? fmt.t('nothing') : whole.format(v) })];
      })
      .join(' · ');
  };
  previous?.destroy();
  const ticksOf = (splits: number[]) => splits.map((i) => (Number.isInteger(i) && d.period.t[i] !== undefined ? tick(fmt, d.period.t[i]!) : ''));
  const gap = (u: uPlot, seriesIdx: number, show: boolean) => (show ? null : isolated(u.data[seriesIdx] ?? []));
  const plot = new uPlot(
    {
      ...compareChartSize(parts.chart),
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
      hooks: { setCursor: [(u) => (parts.readout.textContent = readoutOf(u.cursor.idx))] },
    },
    data,
    parts.chart,
  );
  parts.chart.dataset.buckets = String(n);
  parts.chart.dataset.released = String(d.period.devices.filter((v) => v !== null).length);
  parts.chartKey.replaceChildren(
    el('span', { class: 'key cmp-key-period', text: `${periodName}: ${fmt.sideDates(d.period)}` }),
    el('span', { class: 'key cmp-key-against', text: `${againstName}: ${fmt.sideDates(d.against)}` }),
  );
  const pct = numberFormat(fmt.locale, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' });
  const summary = `${fmt.t('period')} ${d.period.total === null ? fmt.t('nothing') : whole.format(d.period.total)}, ${fmt.t('against').toLowerCase()} ${
    d.against.total === null ? fmt.t('nothing') : whole.format(d.against.total)
  }${d.change === null ? '' : ` (${pct.format(d.change / 100)})`}.`;
  parts.chartTitle.textContent = fmt.t('chart');
  parts.chart.setAttribute('aria-label', fmt.t('chartLabel', { step: stepName, summary }));
  // the data table behind the chart
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? fmt.t('nothing') : whole.format(v));
  const rows = d.offset.map((_, i) =>
    el('tr', { attrs: { 'data-offset': String(i) } }, [
      el('th', { text: String(i + 1), attrs: { scope: 'row' } }),
      el('td', { text: d.period.t[i] === undefined ? '' : fmt.label(d.period.t[i]!) }),
      el('td', { class: 'num', text: d.period.t[i] === undefined ? '' : cell(d.period.devices[i]), attrs: { 'data-value': String(d.period.devices[i] ?? '') } }),
      el('td', { class: 'num', text: d.period.t[i] === undefined ? '' : whole.format(d.period.suppressed[i] ?? 0) }),
      el('td', { text: d.against.t[i] === undefined ? '' : fmt.label(d.against.t[i]!) }),
      el('td', { class: 'num', text: d.against.t[i] === undefined ? '' : cell(d.against.devices[i]), attrs: { 'data-value': String(d.against.devices[i] ?? '') } }),
      el('td', { class: 'num', text: d.against.t[i] === undefined ? '' : whole.format(d.against.suppressed[i] ?? 0) }),
    ]),
  );
  const caption = fmt.t('tableCaption', { step: stepName });
  parts.tableBox.setAttribute('aria-label', caption);
  parts.tableBox.replaceChildren(
    el('table', { class: 'data-table cmp-table' }, [
      el('caption', { class: 'visually-hidden', text: caption }),
      el('thead', {}, [
        el('tr', {}, [
          el('th', { text: fmt.t('colOffset'), attrs: { scope: 'col' } }),
          el('th', { text: fmt.t('colPeriod'), attrs: { scope: 'col' } }),
          el('th', { class: 'num', text: fmt.t('totalUnit'), attrs: { scope: 'col' } }),
          el('th', { class: 'num', text: fmt.t('colHidden'), attrs: { scope: 'col' } }),
          el('th', { text: fmt.t('colAgainst'), attrs: { scope: 'col' } }),
          el('th', { class: 'num', text: fmt.t('totalUnit'), attrs: { scope: 'col' } }),
          el('th', { class: 'num', text: fmt.t('colHidden'), attrs: { scope: 'col' } }),
        ]),
      ]),
      el('tbody', {}, rows),
    ]),
  );
  return plot;
}

export function renderZoneRanking(fmt: CompareFormat, box: HTMLElement, d: PeriodsComparison): void {
  const zones = d.zones ?? [];
  box.hidden = zones.length === 0;
  if (zones.length === 0) {
    box.replaceChildren();
    return;
  }
  const whole = numberFormat(fmt.locale, { maximumFractionDigits: 0 });
  const pct = numberFormat(fmt.locale, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' });
  const max = Math.max(1, ...zones.flatMap((z) => [z.period.total ?? 0, z.against.total ?? 0]));
  const bar = (value: number | null, cls: string) => {
    const b = el('span', { class: `cmp-bar ${cls}`, attrs: { 'data-empty': String(value === null) } });
    b.style.width = value === null ? '0' : `${Math.max(1, Math.round((Math.max(0, value) / max) * 100))}%`;
    return b;
  };
  const items = zones.map((z) => {
    const change = z.change === null ? fmt.t('none') : pct.format(z.change / 100);
    const description = fmt.t('zoneRow', {
      zone: z.name,
      period: z.period.total === null ? fmt.t('nothing') : whole.format(z.period.total),
      against: z.against.total === null ? fmt.t('nothing') : whole.format(z.against.total),
      change,
    });
    return el('li', { class: 'cmp-zone', attrs: { 'data-zone': z.id, 'data-total': String(z.period.total ?? ''), 'data-change': String(z.change ?? '') } }, [
      el('span', { class: 'cmp-zone-name', text: z.name }),
      el('span', { class: 'cmp-zone-bars', attrs: { 'aria-hidden': 'true' } }, [bar(z.period.total, 'cmp-bar-period'), bar(z.against.total, 'cmp-bar-against')]),
      el('span', {
        class: 'cmp-zone-figures',
        attrs: { 'aria-hidden': 'true' }, // the sentence below says the same
        text: fmt.t('zoneFigures', { period: z.period.total === null ? fmt.t('none') : whole.format(z.period.total), against: z.against.total === null ? fmt.t('none') : whole.format(z.against.total), change }),
      }),
      el('span', { class: 'visually-hidden', text: description }),
    ]);
  });
  box.replaceChildren(
    el('h3', { class: 'detail-title', text: fmt.t('zones') }),
    el('p', { class: 'detail-note', text: fmt.t('zonesNote') }),
    el('ol', { class: 'cmp-zone-list' }, items),
  );
}
