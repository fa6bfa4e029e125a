/**
 * The period choice above the cards: the presets as one group of radio buttons (the last 2 hours, 24 hours and
 * 7 days; today, yesterday, this and last week, this and last month, this year; choose dates), a from-to form
 * with the browser's date pickers for the custom range, and the unit of the totals table (per day, week or month).
 * It tells main.ts what was chosen; main.ts keeps the choice in the URL.
 */
import { el } from './dom.ts';
import type { MessageKey, Translator } from './i18n.ts';
import { PERIOD_IDS, checkCustom, formatLocalDate, addLocalDays, type CustomRange, type Period, type PeriodId } from './periods.ts';
import { TOTAL_UNITS, type TotalUnit } from './totals.ts';
import { dateFormat } from './intl-cache.ts';

export const PERIOD_KEYS: Record<PeriodId, MessageKey> = {
  '2h': 'range2h',
  '24h': 'range24h',
  '7d': 'range7d',
  today: 'rangeToday',
  yesterday: 'rangeYesterday',
  thisWeek: 'rangeThisWeek',
  lastWeek: 'rangeLastWeek',
  thisMonth: 'rangeThisMonth',
  lastMonth: 'rangeLastMonth',
  thisYear: 'rangeThisYear',
  custom: 'rangeCustom',
};

const UNIT_KEYS: Record<TotalUnit, MessageKey> = { day: 'unitDay', week: 'unitWeek', month: 'unitMonth' };

export interface PeriodHandlers {
  period(period: Period): void;
  unit(unit: TotalUnit): void;
}

export class PeriodControls {
  readonly root: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly inputs = new Map<PeriodId, { input: HTMLInputElement; label: HTMLElement }>();
  private readonly customForm: HTMLFormElement;
  private readonly fromLabel: HTMLElement;
  private readonly toLabel: HTMLElement;
  private readonly fromInput: HTMLInputElement;
  private readonly toInput: HTMLInputElement;
  private readonly apply: HTMLButtonElement;
  private readonly customError: HTMLElement;
  private readonly unitLabel: HTMLElement;
  private readonly unitSelect: HTMLSelectElement;
  private period: Period = { id: '2h' };
  /** The from-to form is open (picked, or a custom range is shown). */
  private customOpen = false;

  constructor(
    private tr: Translator,
    private readonly handlers: PeriodHandlers,
  ) {
    this.legend = el('legend');
    const set = el('fieldset', { class: 'segmented period-choice' }, [this.legend]);
    for (const id of PERIOD_IDS) {
      const input = el('input', { attrs: { type: 'radio', name: 'range', value: id, id: `range-${id}` } });
      const text = el('span');
      input.addEventListener('change', () => input.checked && this.pick(id));
      set.append(el('label', { attrs: { for: `range-${id}` } }, [input, text]));
      this.inputs.set(id, { input, label: text });
    }
    this.fromLabel = el('span');
    this.toLabel = el('span');
    this.fromInput = el('input', { attrs: { type: 'date', id: 'custom-from', name: 'from', required: '' } });
    this.toInput = el('input', { attrs: { type: 'date', id: 'custom-to', name: 'to', required: '' } });
    this.apply = el('button', { class: 'button button-primary', attrs: { type: 'submit' } });
    this.customError = el('p', { class: 'zone-error custom-error', attrs: { role: 'alert', hidden: '' } });
    this.customForm = el('form', { class: 'custom-range', attrs: { hidden: '', novalidate: '' } }, [
      el('label', { attrs: { for: 'custom-from' } }, [this.fromLabel, this.fromInput]),
      el('label', { attrs: { for: 'custom-to' } }, [this.toLabel, this.toInput]),
      this.apply,
      this.customError,
    ]);
    this.customForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const custom = { from: this.fromInput.value, to: this.toInput.value };
      const ok = checkCustom(custom) !== null;
      this.customError.hidden = ok;
      if (ok) {
        this.period = { id: 'custom', custom };
        this.handlers.period(this.period);
      }
    });
    this.unitLabel = el('span');
    this.unitSelect = el('select', { attrs: { id: 'totals-unit', name: 'per' } });
    for (const unit of TOTAL_UNITS) this.unitSelect.append(el('option', { attrs: { value: unit } }));
    this.unitSelect.addEventListener('change', () => this.handlers.unit(this.unitSelect.value as TotalUnit));
    const unitBox = el('label', { class: 'totals-unit', attrs: { for: 'totals-unit' } }, [this.unitLabel, this.unitSelect]);
    this.root = el('div', { class: 'period-controls' }, [set, this.customForm, unitBox]);
    this.render();
  }

  setTranslator(tr: Translator): void {
    this.tr = tr;
    this.render();
  }

  /** Shows `period` as chosen, with the totals unit in use (null: the period has no totals). */
  show(period: Period, unit: TotalUnit | null): void {
    this.period = period;
    if (period.custom) {
      this.fromInput.value = period.custom.from;
      this.toInput.value = period.custom.to;
    }
    this.unitSelect.value = unit ?? 'day';
    (this.unitSelect.parentElement as HTMLElement).hidden = unit === null;
    this.render();
  }

  /** The chosen period in words, lower case (for chart labels): "last 2 hours", "2 Nov 2026 to 8 Nov 2026". */
  periodLabel(): string {
    return (this.inputs.get(this.period.id)?.label.textContent ?? '').toLowerCase();
  }

  private pick(id: PeriodId): void {
    if (id === 'custom') {
      // The form opens with the last 7 local days filled in (or the range shown before); the reader applies it.
      if (!this.fromInput.value || !this.toInput.value) {
        const today = new Date();
        this.fromInput.value = formatLocalDate(addLocalDays(today, -7));
        this.toInput.value = formatLocalDate(addLocalDays(today, -1));
      }
      this.customOpen = true;
      this.customForm.hidden = false;
      this.fromInput.focus();
      return;
    }
    this.customOpen = false;
    this.period = { id };
    this.handlers.period(this.period);
  }

  private render(): void {
    const { t, locale } = this.tr;
    this.legend.textContent = t('period');
    const date = dateFormat(locale, { day: 'numeric', month: 'short', year: 'numeric' });
    for (const [id, { input, label }] of this.inputs) {
      const custom = id === 'custom' && this.period.id === 'custom' && this.period.custom ? checkCustom(this.period.custom) : null;
      label.textContent = custom
        ? t('rangeCustomText', { from: date.format(custom.from), to: date.format(addLocalDays(custom.toExclusive, -1)) })
        : t(PERIOD_KEYS[id]);
      input.checked = id === this.period.id;
    }
    this.customForm.hidden = !(this.customOpen || this.period.id === 'custom');
    this.fromLabel.textContent = t('customFrom');
    this.toLabel.textContent = t('customTo');
    this.apply.textContent = t('customApply');
    this.customError.textContent = t('customInvalid');
    this.unitLabel.textContent = t('totalsUnit');
    for (const option of this.unitSelect.options) option.textContent = t(UNIT_KEYS[option.value as TotalUnit]);
  }
}
