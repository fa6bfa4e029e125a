/**
 * Totals per local day, ISO week or month of a series (minute or hour buckets): the sum of its released values in
 * device-minutes (a device seen in 10 minutes counts 10) and the minutes hidden in it, never a guess for them.
 * Hour buckets start on whole UTC hours, and a local day in a zone of whole-hour offsets starts on one too, so a
 * day of 23 or 25 hours at a daylight-saving change sums exactly its own hours. `TotalsView` is the table a card
 * shows for the chosen period.
 */
import { el } from './dom.ts';
import type { MessageKey, Translator } from './i18n.ts';
import { monthStart, weekStart, addLocalDays } from './periods.ts';
import type { Series } from './series.ts';
import { dateFormat, numberFormat } from './intl-cache.ts';

export const TOTAL_UNITS = ['day', 'week', 'month'] as const;
export type TotalUnit = (typeof TOTAL_UNITS)[number];

export function isTotalUnit(value: unknown): value is TotalUnit {
  return typeof value === 'string' && (TOTAL_UNITS as readonly string[]).includes(value);
}

export interface TotalRow {
  /** Local start of the day, week or month (Unix seconds). */
  start: number;
  /** Sum of the released values (device-minutes); null when nothing in it was released. */
  deviceMinutes: number | null;
  hiddenMinutes: number;
}

/** Local midnight at which the unit holding `date` starts. */
export function unitStart(date: Date, unit: TotalUnit): Date {
  if (unit === 'week') return weekStart(date);
  if (unit === 'month') return monthStart(date);
  return addLocalDays(date, 0);
}

/** The series summed per local `unit`, in time order (units with no bucket at all are left out). */
export function totalsBy(series: Series, unit: TotalUnit): TotalRow[] {
  const rows = new Map<number, TotalRow>();
  for (let i = 0; i < series.t.length; i++) {
    const start = Math.floor(unitStart(new Date(series.t[i] * 1000), unit).getTime() / 1000);
    let row = rows.get(start);
    if (row === undefined) {
      row = { start, deviceMinutes: null, hiddenMinutes: 0 };
      rows.set(start, row);
    }
    const d = series.devices[i];
    if (d !== null && d !== undefined) row.deviceMinutes = (row.deviceMinutes ?? 0) + d;
    row.hiddenMinutes += series.suppressed[i] ?? 0;
  }
  return [...rows.values()].sort((a, b) => a.start - b.start);
}

/** The unit a period's totals are shown in unless the reader picks one: days up to two months, weeks up to half a year. */
export function defaultUnit(seconds: number): TotalUnit {
  const days = seconds / 86_400;
  return days <= 62 ? 'day' : days <= 190 ? 'week' : 'month';
}

/** ISO 8601 week number of a local date. */
export function isoWeek(date: Date): number {
  const thursday = addLocalDays(weekStart(date), 3);
  const firstThursday = addLocalDays(weekStart(new Date(thursday.getFullYear(), 0, 4)), 3);
  return 1 + Math.round((thursday.getTime() - firstThursday.getTime()) / (7 * 86_400_000));
}

const UNIT_TITLE: Record<TotalUnit, MessageKey> = { day: 'totalsPerDay', week: 'totalsPerWeek', month: 'totalsPerMonth' };

/** The two downloads of the totals: Dutch Excel (`;`, decimal comma) and CSV, made by the API (format=csv-nl, csv). */
export type TotalsFormat = 'csv-nl' | 'csv';

const UNIT_NAME: Record<TotalUnit, Record<'en' | 'nl', string>> = {
  day: { en: 'day', nl: 'dag' },
  week: { en: 'week', nl: 'week' },
  month: { en: 'month', nl: 'maand' },
};

export class TotalsView {
  readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly note: HTMLElement;
  private readonly box: HTMLElement;
  private readonly downloads: HTMLElement;
  private readonly error: HTMLElement;
  private series: Series | null = null;
  private unit: TotalUnit = 'day';

  /** `download`: fetches the export of the shown period in `unit` buckets (the card knows the zone and the period). */
  constructor(
    private tr: Translator,
    private readonly download?: (unit: TotalUnit, format: TotalsFormat) => Promise<void>,
  ) {
    this.title = el('h3', { class: 'detail-title' });
    this.note = el('p', { class: 'detail-note' });
    this.box = el('div', { class: 'table-scroll totals-box' });
    this.downloads = el('p', { class: 'totals-downloads' });
    this.error = el('p', { class: 'zone-error', attrs: { hidden: '' } });
    this.root = el('section', { class: 'totals', attrs: { hidden: '' } }, [this.title, this.note, this.downloads, this.error, this.box]);
  }

  setTranslator(tr: Translator): void {
    this.tr = tr;
    this.render();
  }

  /** Shows the totals of `series` per `unit`; `series` null hides the table (a period too short for totals). */
  update(series: Series | null, unit: TotalUnit): void {
    this.series = series;
    this.unit = unit;
    this.render();
  }

  private render(): void {
    const { t, locale } = this.tr;
    this.root.hidden = this.series === null;
    this.root.dataset.unit = this.unit;
    if (this.series === null) return;
    this.title.textContent = t(UNIT_TITLE[this.unit]);
    this.note.textContent = t('totalsNote');
    this.renderDownloads();
    const num = numberFormat(locale, { maximumFractionDigits: 0 });
    const day = dateFormat(locale, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
    const month = dateFormat(locale, { month: 'long', year: 'numeric' });
    const label = (start: Date) =>
      this.unit === 'day' ? day.format(start) : this.unit === 'week' ? t('totalsWeekLabel', { week: isoWeek(start), from: day.format(start) }) : month.format(start);
    const rows = totalsBy(this.series, this.unit).map((row) =>
      el('tr', { attrs: { 'data-start': String(row.start), 'data-total': row.deviceMinutes === null ? '' : String(row.deviceMinutes), 'data-hidden': String(row.hiddenMinutes) } }, [
        el('th', { text: label(new Date(row.start * 1000)), attrs: { scope: 'row' } }),
        el('td', { class: 'num', text: row.deviceMinutes === null ? t('totalsNothing') : num.format(row.deviceMinutes) }),
        el('td', { class: 'num', text: num.format(row.hiddenMinutes) }),
      ]),
    );
    // A scrolling box is a tab stop with a name, so the rows can be scrolled from the keyboard.
    this.box.setAttribute('tabindex', '0');
    this.box.setAttribute('role', 'region');
    this.box.setAttribute('aria-label', t(UNIT_TITLE[this.unit]));
    this.box.replaceChildren(
      el('table', { class: 'data-table totals-table' }, [
        el('caption', { class: 'visually-hidden', text: t(UNIT_TITLE[this.unit]) }),
        el('thead', {}, [
          el('tr', {}, [
            el('th', { text: t('totalsColPeriod'), attrs: { scope: 'col' } }),
            el('th', { class: 'num', text: t('totalsColDeviceMinutes'), attrs: { scope: 'col' } }),
            el('th', { class: 'num', text: t('statHidden'), attrs: { scope: 'col' } }),
          ]),
        ]),
        el('tbody', {}, rows),
      ]),
    );
  }

  private renderDownloads(): void {
    const { t, lang } = this.tr;
    const download = this.download;
    this.downloads.hidden = download === undefined;
    if (download === undefined) return;
    const unit = this.unit;
    const buttons = (
      [
        ['csv-nl', 'totalsExcel'],
        ['csv', 'totalsCsv'],
      ] as const
    ).map(([format, key]) => {
      const button = el('button', {
        class: 'button totals-download',
        text: t(key),
        attrs: { type: 'button', 'data-format': format, title: t('totalsDownloadTitle', { unit: UNIT_NAME[unit][lang], format: t(key) }) },
      });
      button.addEventListener('click', () => {
        this.error.hidden = true;
        download(unit, format).catch((err: unknown) => {
          this.error.textContent = t('totalsDownloadFailed', { message: err instanceof Error ? err.message : String(err) });
          this.error.hidden = false;
        });
      });
      return button;
    });
    this.downloads.replaceChildren(...buttons);
  }
}
