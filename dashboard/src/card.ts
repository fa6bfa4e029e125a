/**
 * A card of the overview: one zone or one site, with its figures (latest, busiest, hidden), its chart, a CSV
 * download of the same series, this week against last week, and the hour-of-week heatmap. The card draws what
 * it is given; main.ts decides what to load and when. Names from the API are set as text only.
 *
 * What the first figures need (the head, the figures, the chart's box) is made with the card; the week comparison
 * and the heatmap are made with the card's first details, which are asked for after the first figures: on a page of
 * 11 cards they were half of its elements before anything was in them.
 */
import { csvUrl, fetchCsv, fetchExport, type LiveEvent, type Radio, type Target } from './api.ts';
import { CalibrationForm } from './calibration-form.ts';
import { ZoneChart } from './charts.ts';
import { ComparisonView } from './comparison.ts';
import { ChartTable } from './data-table.ts';
import { el } from './dom.ts';
import { EstimatePanel, type CalibrationFacts } from './estimate-panel.ts';
import { chartColumns, estimateState, estimateText, formatPeople, latestEstimate, type SeriesEstimate } from './estimates.ts';
import { Heatmap } from './heatmap.ts';
import type { Translator } from './i18n.ts';
import { emptySeries, summarize, type Series, type TimeWindow } from './series.ts';
import { TotalsView, type TotalsFormat, type TotalUnit } from './totals.ts';
import { browserTimeZone } from './week.ts';
import { dateFormat, numberFormat } from './intl-cache.ts';

/** What every card shows alike: the language and the reader's choices. */
export interface CardSettings {
  tr: Translator;
  /** The chosen period in words, lower case ("last 2 hours", "this month"). */
  rangeLabel: string;
  radio: Radio;
  /** The unit of the totals table, or null when the period has none. */
  totals: TotalUnit | null;
  /** The reader is an admin: a zone card offers the form for manual counts, and this runs after a fit. */
  admin?: { onCalibrated(): void } | null;
}

export class SeriesCard {
  readonly target: Target;
  readonly root: HTMLElement;
  series: Series = emptySeries();
  window: TimeWindow;
  loaded = false;
  /** When the series was last loaded (ms), for cards refetched rather than fed live. */
  lastLoadMs = 0;
  /** The radio the comparison and heatmap were loaded for, when they are due again, and the latest load. */
  detailsRadio: Radio | null = null;
  detailsDueMs = 0;
  detailsGeneration = 0;
  /** Live minutes that arrived before the card's first series (merged in when it comes). */
  pendingLive: LiveEvent[] = [];
  /** The estimate of the latest series load (by bucket start), or null when the API sent none. */
  estimate: SeriesEstimate | null = null;
  /** The stored calibration behind the estimate, for readers who may read it (its date and counts). */
  calibration: (CalibrationFacts & { id: string }) | null = null;

  private name: string;
  /** For a site: the names of its zones (ids where the reader cannot read the zone). */
  private siteZones: string[] = [];
  private settings: CardSettings;
  private chart: ZoneChart;
  private readonly title: HTMLHeadingElement;
  private readonly kindLabel: HTMLElement;
  private readonly sub: HTMLElement;
  private readonly csv: HTMLAnchorElement;
  private readonly stats: Record<'latest' | 'peak' | 'hidden', { label: HTMLElement; value: HTMLElement }>;
  private readonly figure: HTMLElement;
  private readonly chartBox: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly table: ChartTable;
  private readonly totals: TotalsView;
  private readonly legendDevices: HTMLElement;
  private readonly legendHidden: HTMLElement;
  private readonly legendEstimate: HTMLElement;
  private readonly estimatePanel: EstimatePanel;
  private calibrationForm: CalibrationForm | null = null;
  private readonly readout: HTMLElement;
  private readonly error: HTMLElement;
  private readonly noise: HTMLElement;
  /** Where the week comparison and the heatmap go, once made (`detailViews`). */
  private readonly details: HTMLElement;
  private detailParts: { comparison: ComparisonView; heatmap: Heatmap } | null = null;

  /** Builds the card at the end of `parent` (the chart measures its width there); its owner renders it. */
  constructor(parent: HTMLElement, target: Target, name: string, settings: CardSettings, win: TimeWindow) {
    this.target = target;
    this.name = name;
    this.settings = settings;
    this.window = win;
    this.title = el('h2', { class: 'zone-name', text: name });
    this.kindLabel = el('span', { class: 'card-kind' });
    this.kindLabel.hidden = target.kind !== 'site';
    this.csv = el('a', { class: 'csv-button', attrs: { href: '#', download: '' } });
    this.csv.addEventListener('click', (e) => {
      e.preventDefault();
      void this.downloadCsv();
    });
    this.sub = el('p', { class: 'card-sub' });
    const stat = () => ({ label: el('dt'), value: el('dd') });
    this.stats = { latest: stat(), peak: stat(), hidden: stat() };
    const stats = el(
      'dl',
      { class: 'stats' },
      Object.values(this.stats).map(({ label, value }) => el('div', {}, [label, value])),
    );
    this.error = el('p', { class: 'zone-error', attrs: { hidden: '' } });
    this.noise = el('p', { class: 'noise-note', attrs: { hidden: '' } });
    this.chartBox = el('div', { class: 'chart' });
    this.summary = el('p', { class: 'visually-hidden' });
    this.legendDevices = el('span', { class: 'key key-devices' });
    this.legendHidden = el('span', { class: 'key key-hidden' });
    this.legendEstimate = el('span', { class: 'key key-estimate', attrs: { hidden: '' } });
    this.estimatePanel = new EstimatePanel();
    this.readout = el('p', { class: 'readout', attrs: { 'aria-hidden': 'true' } });
    this.table = new ChartTable(settings.tr);
    this.totals = new TotalsView(settings.tr, (unit, format) => this.downloadTotals(unit, format));
    this.figure = el('figure', { class: 'chart-figure' }, [
      this.summary,
      this.readout,
      this.chartBox,
      el('figcaption', { class: 'chart-key' }, [this.legendDevices, this.legendEstimate, this.legendHidden]),
    ]);
    this.details = el('div', { class: 'card-details' });
    const head = el('div', { class: 'card-head' }, [el('div', { class: 'card-titles' }, [this.kindLabel, this.title]), this.csv]);
    const idAttr = target.kind === 'zone' ? 'data-zone-id' : 'data-site-id';
    this.root = el('article', { class: `card ${target.kind}`, attrs: { [idAttr]: target.id, 'aria-busy': 'true' } }, [
      head,
      this.sub,
      stats,
      this.estimatePanel.root,
      this.error,
      this.noise,
      this.figure,
      this.table.root,
      this.totals.root,
      this.details,
    ]);
    parent.append(this.root);
    this.chart = this.makeChart(win);
  }

  /** This week against last week (made with the card's first details). */
  get comparison(): ComparisonView {
    return this.detailViews().comparison;
  }

  /** The hour-of-week heatmap (made with the card's first details). */
  get heatmap(): Heatmap {
    return this.detailViews().heatmap;
  }

  private detailViews(): { comparison: ComparisonView; heatmap: Heatmap } {
    if (this.detailParts === null) {
      this.detailParts = { comparison: new ComparisonView(this.settings.tr), heatmap: new Heatmap(this.settings.tr) };
      this.details.append(this.detailParts.comparison.root, this.detailParts.heatmap.root);
    }
    return this.detailParts;
  }

  /** A new name (a renamed zone keeps its card and chart). */
  setName(name: string): void {
    this.name = name;
    this.title.textContent = name;
  }

  setSiteZones(names: string[]): void {
    this.siteZones = names;
  }

  /**
   * New choices or language. With `remakeChart` the chart is made again: its axis labels and series name are
   * fixed when it is made (a language switch: rare, a click).
   */
  setSettings(settings: CardSettings, remakeChart = false): void {
    this.settings = settings;
    this.detailParts?.comparison.setTranslator(settings.tr);
    this.detailParts?.heatmap.setTranslator(settings.tr);
    this.totals.setTranslator(settings.tr);
    if (remakeChart) {
      this.chart.destroy();
      this.chart = this.makeChart(this.window);
      if (this.loaded) this.chart.update(this.series, this.window, chartColumns(this.series.t, this.estimate, this.window.step));
    }
    this.render();
  }

  /** Shows `series` (bucket starts in `win`). */
  show(series: Series, win: TimeWindow): void {
    if (win.step !== this.window.step) {
      // The series name (per minute, or hourly average) is fixed when a chart is made.
      this.chart.destroy();
      this.chart = this.makeChart(win);
    }
    this.series = series;
    this.window = win;
    this.loaded = true;
    this.root.removeAttribute('aria-busy');
    this.chart.update(series, win, chartColumns(series.t, this.estimate, win.step));
    this.table.update(series, win, this.estimate);
    this.render();
  }

  /** The estimate that came with the latest series (shown with the next `show`). */
  setEstimate(estimate: SeriesEstimate | null): void {
    this.estimate = estimate;
  }

  /** What the stored calibration says (admins and privacy officers may read it). */
  setCalibration(calibration: (CalibrationFacts & { id: string }) | null): void {
    this.calibration = calibration;
    this.render();
  }

  showError(message: string | null): void {
    this.error.textContent = message ?? '';
    this.error.hidden = message === null;
  }

  destroy(): void {
    this.chart.destroy();
    this.root.remove();
  }

  render(): void {
    const { tr, rangeLabel, radio, totals } = this.settings;
    const { t, locale } = tr;
    const hourly = this.window.step !== 60;
    const num = numberFormat(locale, { maximumFractionDigits: hourly ? 1 : 0 });
    const time = dateFormat(locale, hourly ? { weekday: 'short', hour: '2-digit', minute: '2-digit' } : { hour: '2-digit', minute: '2-digit' });
    const s = summarize(this.series, this.window, Date.now() / 1000);
    const site = this.target.kind === 'site';
    this.kindLabel.textContent = t('kindSite');
    this.sub.hidden = !site;
    if (site) this.sub.textContent = `${t('siteZones', { zones: this.siteZones.join(', ') })}. ${t('siteSumNote')}`;

    // A site's hidden cells are zone-minutes: out of the minutes times its zones.
    const zonesInView = site ? Math.max(1, this.siteZones.length) : 1;
    const hiddenLabel = t(site ? 'statHiddenZoneMinutes' : 'statHidden');
    const { latest, peak, hidden } = this.stats;
    latest.label.textContent = t(hourly ? 'statLatestHour' : 'statLatest');
    peak.label.textContent = t('statPeak');
    hidden.label.textContent = hiddenLabel;
    const none = this.loaded ? t('none') : '…';
    latest.value.textContent = s.latest ? num.format(s.latest.value) : none;
    peak.value.textContent = s.peak ? t('statPeakAt', { value: num.format(s.peak.value), time: time.format(new Date(s.peak.t * 1000)) }) : none;
    hidden.value.textContent = this.loaded
      ? t('statHiddenValue', { n: num.format(s.hiddenMinutes), total: num.format(s.totalMinutes * zonesInView) })
      : none;

    const radioName = t(radio === 'wifi' ? 'radioWifi' : 'radioBle');
    const series = t(hourly ? 'seriesHourAvg' : 'seriesMinute');
    const rangeText = rangeLabel;
    this.totals.update(this.loaded && totals !== null ? this.series : null, totals ?? 'day');
    const label = t('chartLabel', { series, zone: this.name, range: rangeText, radio: radioName });
    this.figure.setAttribute('aria-label', label);
    this.table.setTexts(tr, label);
    this.summary.textContent = `${label}. ${latest.label.textContent}: ${latest.value.textContent}. ${t('statPeak')}: ${peak.value.textContent}. ${hiddenLabel}: ${hidden.value.textContent}.`;
    this.legendDevices.textContent = t('legendSeries', { series, radio: radioName });
    this.legendHidden.textContent = t('legendHidden');
    this.renderEstimate();

    this.csv.textContent = t('csv');
    const csvTitle = t('csvTitle', { range: rangeText, radio: radioName });
    this.csv.title = csvTitle;
    this.csv.setAttribute('aria-label', `${csvTitle} (${this.name})`);
    this.csv.href = csvUrl(this.target, this.csvQuery());

    const noise = this.series.noise;
    this.noise.hidden = noise === undefined;
    this.noise.textContent = noise ? t('noiseNote', { epsilon: numberFormat(locale).format(noise.epsilon) }) : '';
  }

  /** The estimate panel, the legend's estimate key, the chart's readout name and the screen reader summary. */
  private renderEstimate(): void {
    const { tr } = this.settings;
    const estimate = this.loaded ? this.estimate : null;
    const state = estimateState(estimate);
    this.root.dataset.estimate = state;
    const calibration = this.calibration !== null && this.calibration.id === estimate?.info.calibrationId ? this.calibration : null;
    this.estimatePanel.update({ tr, estimate, t: this.series.t, step: this.window.step, radio: this.settings.radio, target: this.target, calibration });
    this.renderCalibrationForm(state !== 'absent');
    const unit = estimate?.unit ?? null;
    const shown = state === 'calibrated' && unit !== null;
    this.legendEstimate.hidden = !shown;
    if (!shown) return;
    const e = (key: Parameters<typeof estimateText>[1]) => estimateText(tr.lang, key);
    const name = e(unit === 'people' ? 'estPeopleChart' : 'estPassersChart');
    this.legendEstimate.textContent = `${name} (${e('estBadge').toLowerCase()}, ${e('estInterval')})`;
    this.chart.setEstimateLabel(name);
    const latest = latestEstimate(this.series.t, estimate);
    if (latest !== null) {
      const p = latest.point;
      const value = estimateText(tr.lang, 'estValueWithRange', {
        value: formatPeople(p.value, tr.locale),
        low: formatPeople(p.low, tr.locale),
        high: formatPeople(p.high, tr.locale),
      });
      this.summary.textContent += ` ${e(unit === 'people' ? 'estPeople' : 'estPassers')} (${e('estBadge').toLowerCase()}, ${e('estInterval')}): ${value}.`;
    }
  }

  /** The admin's form for manual counts, under the estimate of a zone (only when the aggregator estimates at all). */
  private renderCalibrationForm(estimates: boolean): void {
    const { admin, tr, radio } = this.settings;
    const wanted = this.target.kind === 'zone' && estimates && admin != null;
    if (!wanted) {
      this.calibrationForm?.root.remove();
      this.calibrationForm = null;
      return;
    }
    if (this.calibrationForm === null) {
      this.calibrationForm = new CalibrationForm(this.target.id, tr, radio, () => this.settings.admin?.onCalibrated());
      this.estimatePanel.root.after(this.calibrationForm.root);
    } else this.calibrationForm.setContext(tr, radio);
  }

  private csvQuery() {
    return { from: this.window.from, to: this.window.to, step: this.window.step, radio: this.settings.radio };
  }

  /**
   * The series as CSV, the same choice as the chart. Fetched with the token in a header and handed to the browser
   * as a file, so the token never goes into a link.
   */
  /** The totals of the shown period per local day, week or month, as the API exports them for people. */
  private async downloadTotals(unit: TotalUnit, format: TotalsFormat): Promise<void> {
    const query = { from: this.window.from, to: this.window.to, step: unit, radio: this.settings.radio, tz: browserTimeZone() };
    this.saveFile(await fetchExport(this.target, query, format));
  }

  private saveFile({ blob, fileName }: { blob: Blob; fileName: string }): void {
    const url = URL.createObjectURL(blob);
    const link = el('a', { attrs: { href: url, download: fileName, hidden: '' } });
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  private async downloadCsv(): Promise<void> {
    try {
      this.saveFile(await fetchCsv(this.target, this.csvQuery()));
    } catch (err) {
      this.showError(this.settings.tr.t('csvFailed', { message: err instanceof Error ? err.message : String(err) }));
    }
  }

  private makeChart(win: TimeWindow): ZoneChart {
    const { t, locale } = this.settings.tr;
    return new ZoneChart(this.chartBox, win, {
      locale,
      readout: this.readout,
      texts: {
        series: t(win.step === 60 ? 'seriesMinute' : 'seriesHourAvg'),
        time: t('time'),
        hidden: t('hidden'),
        hiddenMinutesInHour: t('hiddenMinutesInHour'),
        estimate: estimateText(this.settings.tr.lang, this.estimate?.unit === 'passers' ? 'estPassersChart' : 'estPeopleChart'),
        estimateInterval: estimateText(this.settings.tr.lang, 'estInterval'),
      },
    });
  }
}
