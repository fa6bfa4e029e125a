/**
 * "This week against last week" for a zone or site, from `GET .../compare`: this week so far (Monday 00:00 to
 * the last full hour) and the same hours a week earlier, as devices per minute on average and as totals
 * (device-minutes), the percentage change the API computed, and a pair of bars per day. Released values only;
 * when last week has nothing released the change is shown as "cannot compare", never as 0 % or infinity.
 */
import type { Comparison } from './api.ts';
import { el } from './dom.ts';
import type { Translator } from './i18n.ts';
import { changeOf, dailyTotals, perMinuteAverage, weekdayNames } from './week.ts';
import { dateFormat, numberFormat } from './intl-cache.ts';

interface Figure {
  box: HTMLElement;
  label: HTMLElement;
  value: HTMLElement;
  unit: HTMLElement;
  detail: HTMLElement;
}

function figure(kind: string): Figure {
  const label = el('span', { class: 'figure-label' });
  const value = el('span', { class: 'figure-value' });
  const unit = el('span', { class: 'figure-unit' });
  const detail = el('span', { class: 'figure-detail' });
  return { box: el('div', { class: `figure figure-${kind}` }, [label, value, unit, detail]), label, value, unit, detail };
}

export class ComparisonView {
  readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly current = figure('current');
  private readonly last = figure('last');
  private readonly change = figure('change');
  private readonly days: HTMLElement;
  private readonly daysTitle: HTMLElement;
  private readonly keyCurrent: HTMLElement;
  private readonly keyLast: HTMLElement;
  private readonly note: HTMLElement;
  private readonly error: HTMLElement;
  private data: Comparison | null = null;
  /** True when the week has no full hour yet (nothing to ask for). */
  private tooEarly = false;

  constructor(private tr: Translator) {
    this.title = el('h3', { class: 'detail-title' });
    this.days = el('div', { class: 'day-bars', attrs: { role: 'img' } });
    this.daysTitle = el('span', { class: 'day-bars-title' });
    this.keyCurrent = el('span', { class: 'key key-current' });
    this.keyLast = el('span', { class: 'key key-last' });
    this.note = el('p', { class: 'detail-note' });
    this.error = el('p', { class: 'zone-error', attrs: { hidden: '' } });
    this.root = el('section', { class: 'compare', attrs: { 'data-loaded': 'false' } }, [
      this.title,
      this.error,
      el('div', { class: 'figures' }, [this.current.box, this.last.box, this.change.box]),
      el('div', { class: 'day-bars-head' }, [this.daysTitle, el('span', { class: 'day-bars-key' }, [this.keyCurrent, this.keyLast])]),
      this.days,
      this.note,
    ]);
    this.render();
  }

  setTranslator(tr: Translator): void {
    this.tr = tr;
    this.render();
  }

  update(data: Comparison): void {
    this.data = data;
    this.tooEarly = false;
    this.error.hidden = true;
    this.render();
  }

  /** The first hour of the week: nothing to compare yet. */
  showTooEarly(): void {
    this.data = null;
    this.tooEarly = true;
    this.error.hidden = true;
    this.render();
  }

  showError(message: string): void {
    this.error.textContent = this.tr.t('compareError', { message });
    this.error.hidden = false;
  }

  private render(): void {
    const { t, locale } = this.tr;
    const d = this.data;
    this.title.textContent = t('compareTitle');
    this.current.label.textContent = t('compareThisWeek');
    this.last.label.textContent = t('compareLastWeek');
    this.change.label.textContent = t('compareChange');
    this.daysTitle.textContent = t('compareDays');
    this.keyCurrent.textContent = t('compareThisWeek');
    this.keyLast.textContent = t('compareLastWeek');
    this.root.dataset.loaded = String(d !== null);
    this.root.dataset.from = d ? String(d.current.from) : '';
    this.root.dataset.to = d ? String(d.current.to) : '';
    const avg = numberFormat(locale, { maximumFractionDigits: 1 });
    const small = numberFormat(locale, { maximumFractionDigits: 2 }); // a quiet zone: 0.04, not 0
    const whole = numberFormat(locale, { maximumFractionDigits: 0 });
    const pct = numberFormat(locale, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' });
    const pending = this.tooEarly ? t('none') : '…';

    for (const [f, period] of [
      [this.current, d?.current],
      [this.last, d?.lastWeek],
    ] as const) {
      const average = period ? perMinuteAverage(period) : null;
      f.value.textContent = average === null ? (d ? t('none') : pending) : (average < 1 ? small : avg).format(average);
      f.unit.textContent = average === null ? (d ? t('compareNoData') : '') : t('compareAverage');
      const parts: string[] = [];
      if (period?.total !== null && period?.total !== undefined) parts.push(t('compareTotal', { n: whole.format(period.total) }));
      if (period && period.suppressedCells > 0) parts.push(t('compareHidden', { n: whole.format(period.suppressedCells) }));
      f.detail.textContent = parts.join(' · ');
      f.box.dataset.total = period?.total === null || period?.total === undefined ? '' : String(period.total);
    }

    const change = d ? changeOf(d.lastWeek) : null;
    this.change.value.textContent = change === null ? (d ? t('none') : pending) : pct.format(change / 100);
    this.change.unit.textContent = d && change === null ? t('compareNoChange') : '';
    this.change.detail.textContent = '';
    this.change.box.dataset.trend = change === null ? 'none' : change > 0 ? 'up' : change < 0 ? 'down' : 'flat';
    this.change.box.dataset.change = change === null ? '' : String(change);

    if (this.tooEarly) this.note.textContent = t('compareWeekJustStarted');
    else if (d) {
      const until = dateFormat(locale, { weekday: 'long', hour: '2-digit', minute: '2-digit' }).format(new Date(d.current.to * 1000));
      this.note.textContent = t('comparePeriod', { time: until });
    } else this.note.textContent = '';
    this.renderDays();
  }

  private renderDays(): void {
    const { t, locale } = this.tr;
    const d = this.data;
    const totals = d ? dailyTotals(d.current, d.lastWeek) : [];
    const names = weekdayNames(locale, 'short');
    const longNames = weekdayNames(locale, 'long');
    const whole = numberFormat(locale, { maximumFractionDigits: 0 });
    const max = Math.max(1, ...totals.flatMap((day) => [day.current ?? 0, day.lastWeek ?? 0]));
    const columns: HTMLElement[] = [];
    const descriptions: string[] = [];
    for (const day of totals) {
      const bar = (value: number | null, kind: string) => {
        const b = el('span', { class: `day-bar day-bar-${kind}`, attrs: { 'data-empty': String(value === null) } });
        b.style.height = value === null ? '0' : `${Math.max(2, Math.round((Math.max(0, value) / max) * 100))}%`;
        return b;
      };
      const description = t('compareDay', {
        day: longNames[day.weekday] ?? '',
        current: day.current === null ? t('none') : whole.format(day.current),
        last: day.lastWeek === null ? t('none') : whole.format(day.lastWeek),
      });
      descriptions.push(description);
      columns.push(
        el('div', { class: 'day-col', attrs: { title: description } }, [
          el('div', { class: 'day-pair' }, [bar(day.lastWeek, 'last'), bar(day.current, 'current')]),
          el('span', { class: 'day-name', text: names[day.weekday] ?? '' }),
        ]),
      );
    }
    // Days still ahead this week keep their place, so the bars do not jump from Monday to Sunday.
    for (let weekday = totals.length; weekday < 7 && d; weekday++) {
      columns.push(el('div', { class: 'day-col day-col-ahead' }, [el('div', { class: 'day-pair' }), el('span', { class: 'day-name', text: names[weekday] ?? '' })]));
    }
    this.days.replaceChildren(...columns);
    this.days.setAttribute('aria-label', descriptions.join('. '));
  }
}
