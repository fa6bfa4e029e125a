/**
 * The compare page's figures (compare-view.ts): both periods' totals with their hidden share, the change in %, and
 * the caveat when one period hides clearly more minutes than the other.
 */
import type { PeriodsComparison } from './api.ts';
import type { CompareFormat } from './compare-chart.ts';
import type { CompareKey } from './compare-text.ts';
import { el } from './dom.ts';
import { numberFormat } from './intl-cache.ts';

/** The page's elements the figures fill. */
export interface CompareFigureParts {
  figures: HTMLElement;
  caveat: HTMLElement;
}

/** Fills the figures and the caveat for `d`; each figure carries its raw values as data attributes. */
export function renderCompareFigures(fmt: CompareFormat, parts: CompareFigureParts, d: PeriodsComparison): void {
  const t = fmt.t;
  const whole = numberFormat(fmt.locale, { maximumFractionDigits: 0 });
  const pct = numberFormat(fmt.locale, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' });
  const share = numberFormat(fmt.locale, { style: 'percent', maximumFractionDigits: 1 });
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
  const sideFigure = (kind: string, key: CompareKey, side: PeriodsComparison['period']) =>
    figure(
      kind,
      `${t(key)}: ${fmt.sideDates(side)}`,
      side.total === null ? t('none') : whole.format(side.total),
      side.total === null ? t('nothing') : t('totalUnit'),
      side.hiddenShare === null ? '' : t('hiddenShare', { share: share.format(side.hiddenShare) }),
      { total: side.total === null ? '' : String(side.total), hiddenShare: side.hiddenShare === null ? '' : String(side.hiddenShare) },
    );
  parts.figures.replaceChildren(
    sideFigure('current', 'period', d.period),
    sideFigure('last', 'against', d.against),
    figure('change', t('change'), d.change === null ? t('none') : pct.format(d.change / 100), d.change === null ? t('noChange') : '', '', {
      change: d.change === null ? '' : String(d.change),
      trend: d.change === null ? 'none' : d.change > 0 ? 'up' : d.change < 0 ? 'down' : 'flat',
    }),
  );
  const caveat = parts.caveat;
  if (d.caveat) {
    const more = d.caveat.moreHidden === 'period' ? d.period : d.against;
    const less = d.caveat.moreHidden === 'period' ? d.against : d.period;
    caveat.textContent = t('caveat', {
      side: t(d.caveat.moreHidden === 'period' ? 'sidePeriod' : 'sideAgainst'),
      more: share.format(more.hiddenShare ?? 0),
      less: share.format(less.hiddenShare ?? 0),
    });
    caveat.hidden = false;
    caveat.dataset.moreHidden = d.caveat.moreHidden;
  } else {
    caveat.hidden = true;
    caveat.textContent = '';
  }
}
