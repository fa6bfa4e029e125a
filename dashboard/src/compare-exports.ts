/** The compare page's export buttons (compare-view.ts): each period as English CSV or Dutch Excel, in the step shown. */
import { fetchExport, type ExportFormat, type PeriodsComparison, type Radio, type Target } from './api.ts';
import type { CompareFormat } from './compare-chart.ts';
import { apiStep } from './compare-state.ts';
import { el } from './dom.ts';
import { browserTimeZone } from './week.ts';

/** The page's elements the exports use: the buttons' box, and where a failed download says so. */
export interface CompareExportParts {
  box: HTMLElement;
  error: HTMLElement;
}

export function renderCompareExports(fmt: CompareFormat, parts: CompareExportParts, target: Target, radio: Radio, d: PeriodsComparison): void {
  const step = fmt.step;
  const buttons: HTMLElement[] = [];
  for (const [side, key] of [
    [d.period, 'period'],
    [d.against, 'against'],
  ] as const) {
    for (const [format, label] of [
      ['csv', 'csv'],
      ['csv-nl', 'excel'],
    ] as const) {
      const which = fmt.t(key).toLowerCase();
      const button = el('button', {
        class: 'button cmp-export',
        text: `${fmt.t(key)}: ${fmt.t(label)}`,
        attrs: { type: 'button', 'data-side': key, 'data-format': format, title: fmt.t('exportTitle', { which, step: fmt.t(step), format: fmt.t(label) }) },
      });
      button.addEventListener('click', () => void download(fmt, parts, target, { from: side.from, to: side.to, step: apiStep(step), radio, tz: browserTimeZone() }, format));
      buttons.push(button);
    }
  }
  parts.box.replaceChildren(el('span', { class: 'cmp-exports-label', text: fmt.t('exports') }), ...buttons);
}

async function download(fmt: CompareFormat, parts: CompareExportParts, target: Target, query: Parameters<typeof fetchExport>[1], format: ExportFormat): Promise<void> {
  parts.error.hidden = true;
  try {
    const { blob, fileName } = await fetchExport(target, query, format);
    const url = URL.createObjectURL(blob);
    const link = el('a', { attrs: { href: url, download: fileName, hidden: '' } });
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    parts.error.textContent = fmt.t('exportFailed', { message: err instanceof Error ? err.message : String(err) });
    parts.error.hidden = false;
  }
}
