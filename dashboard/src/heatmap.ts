/**
 * The hour-of-week heatmap of a zone or site: 7 rows (Monday first, local day names) by 24 hours, each cell the
 * mean of the released hourly values in that hour of the week (from `GET .../profile`), in devices per minute.
 * A CSS grid of elements, built with the first profile and then only restyled: hidden hours (nothing released,
 * minutes below k) are hatched, hours without data are blank, and every cell has a text-only title. Every cell's value is its
 * accessible name, and the grid is one tab stop whose arrow keys (Home, End, Page Up and Down too) move through the
 * hours; hovering, tapping or focusing a cell shows its text below the grid.
 */
import type { Profile } from './api.ts';
import { el } from './dom.ts';
import type { Translator } from './i18n.ts';
import { DAYS_PER_WEEK, HOURS_PER_DAY, cellState, heatColor, heatTextIsLight, hourLabels, weekdayNames } from './week.ts';
import { numberFormat } from './intl-cache.ts';

/** Hours between two labels above the grid. */
const LABEL_EVERY_HOURS = 3;

export class Heatmap {
  readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly subtitle: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly hourHeads: HTMLElement[] = [];
  private readonly dayHeads: HTMLElement[] = [];
  private readonly cells: HTMLElement[] = [];
  private readonly legend: { less: HTMLElement; more: HTMLElement; hidden: HTMLElement; empty: HTMLElement };
  private readonly summary: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly error: HTMLElement;
  private readonly help: HTMLElement;
  private profile: Profile | null = null;
  /** The cell that is the grid's tab stop (the last one focused or tapped). */
  private current = 0;

  constructor(private tr: Translator) {
    this.title = el('h3', { class: 'detail-title' });
    this.subtitle = el('p', { class: 'detail-note' });
    this.grid = el('div', { class: 'heat-grid', attrs: { role: 'group' } });
    this.grid.append(el('span', { class: 'heat-corner', attrs: { 'aria-hidden': 'true' } }));
    for (let h = 0; h < HOURS_PER_DAY; h += LABEL_EVERY_HOURS) {
      const head = el('span', { class: 'heat-hour', attrs: { 'aria-hidden': 'true' } });
      head.style.gridColumn = `${h + 2} / span ${LABEL_EVERY_HOURS}`;
      this.hourHeads.push(head);
      this.grid.append(head);
    }
    const swatch = (kind: string) => el('span', { class: `heat-swatch heat-swatch-${kind}`, attrs: { 'aria-hidden': 'true' } });
    this.legend = { less: el('span'), more: el('span'), hidden: el('span'), empty: el('span') };
    const legendBox = el('div', { class: 'heat-legend' }, [
      el('span', { class: 'heat-legend-item' }, [this.legend.less, swatch('scale'), this.legend.more]),
      el('span', { class: 'heat-legend-item' }, [swatch('hidden'), this.legend.hidden]),
      el('span', { class: 'heat-legend-item' }, [swatch('empty'), this.legend.empty]),
    ]);
    this.summary = el('p', { class: 'detail-summary' });
    this.readout = el('p', { class: 'heat-readout', attrs: { 'aria-hidden': 'true' } });
    this.error = el('p', { class: 'zone-error', attrs: { hidden: '' } });
    this.help = el('p', { class: 'visually-hidden' });
    this.root = el('section', { class: 'heatmap', attrs: { 'data-loaded': 'false' } }, [
      this.title,
      this.subtitle,
      this.error,
      this.help,
      this.grid,
      this.readout,
      legendBox,
      this.summary,
    ]);
    const cellOf = (target: EventTarget | null) => {
      const cell = target instanceof HTMLElement ? target.closest('.heat-cell') : null;
      return cell instanceof HTMLElement ? cell : null;
    };
    const show = (cell: HTMLElement | null) => (this.readout.textContent = cell?.getAttribute('aria-label') ?? '');
    this.grid.addEventListener('pointerover', (e) => show(cellOf(e.target)));
    this.grid.addEventListener('click', (e) => {
      const cell = cellOf(e.target);
      if (cell !== null) this.select(this.cells.indexOf(cell), false);
    });
    this.grid.addEventListener('focusin', (e) => {
      const cell = cellOf(e.target);
      if (cell !== null) this.select(this.cells.indexOf(cell), false);
    });
    this.grid.addEventListener('pointerleave', () => show(this.grid.contains(document.activeElement) ? this.cells[this.current] : null));
    this.grid.addEventListener('keydown', (e) => {
      const moves: Record<string, number> = {
        ArrowRight: 1,
        ArrowLeft: -1,
        ArrowDown: HOURS_PER_DAY,
        ArrowUp: -HOURS_PER_DAY,
        Home: -(this.current % HOURS_PER_DAY),
        End: HOURS_PER_DAY - 1 - (this.current % HOURS_PER_DAY),
        PageDown: HOURS_PER_DAY * DAYS_PER_WEEK,
        PageUp: -HOURS_PER_DAY * DAYS_PER_WEEK,
      };
      const move = moves[e.key];
      if (move === undefined) return;
      e.preventDefault();
      const next = Math.min(this.cells.length - 1, Math.max(0, this.current + move));
      this.select(next, true);
    });
    this.render();
  }

  setTranslator(tr: Translator): void {
    this.tr = tr;
    this.render();
  }

  /** Makes cell `slot` the grid's tab stop and shows its text (focusing it when asked: keyboard moves). */
  private select(slot: number, focus: boolean): void {
    if (slot < 0 || slot >= this.cells.length) return; // no rows before the first profile
    this.cells[this.current]?.setAttribute('tabindex', '-1');
    this.cells[this.current]?.removeAttribute('data-selected');
    this.current = slot;
    const cell = this.cells[slot];
    cell.setAttribute('tabindex', '0');
    cell.dataset.selected = 'true';
    if (focus) cell.focus();
    this.readout.textContent = cell.getAttribute('aria-label') ?? '';
  }

  /**
   * The 7 rows of 24 cells, made with the first profile rather than with the card: a page of 11 cards would
   * otherwise build (and label) 1,848 cells before its first figures, for a heatmap asked for after them.
   */
  private buildRows(): void {
    if (this.cells.length > 0) return;
    const rows = document.createDocumentFragment();
    for (let d = 0; d < DAYS_PER_WEEK; d++) {
      const head = el('span', { class: 'heat-day', attrs: { 'aria-hidden': 'true' } });
      this.dayHeads.push(head);
      rows.append(head);
      for (let h = 0; h < HOURS_PER_DAY; h++) {
        const slot = d * HOURS_PER_DAY + h;
        const cell = el('span', {
          class: 'heat-cell',
          attrs: { 'data-state': 'empty', 'data-slot': String(slot), role: 'img', tabindex: slot === this.current ? '0' : '-1' },
        });
        this.cells.push(cell);
        rows.append(cell);
      }
    }
    this.grid.append(rows);
  }

  update(profile: Profile): void {
    this.buildRows();
    this.profile = profile;
    this.error.hidden = true;
    this.render();
  }

  showError(message: string): void {
    this.error.textContent = this.tr.t('heatError', { message });
    this.error.hidden = false;
  }

  private render(): void {
    const { t, locale } = this.tr;
    const days = weekdayNames(locale, 'short');
    const hours = hourLabels(locale);
    this.title.textContent = t('heatTitle');
    this.legend.less.textContent = t('heatLess');
    this.legend.more.textContent = t('heatMore');
    this.legend.hidden.textContent = t('heatHidden');
    this.legend.empty.textContent = t('heatEmpty');
    this.hourHeads.forEach((head, i) => (head.textContent = hours[i * LABEL_EVERY_HOURS] ?? ''));
    this.dayHeads.forEach((head, i) => (head.textContent = days[i] ?? ''));
    const p = this.profile;
    this.subtitle.textContent = p ? t('heatSubtitle', { weeks: p.weeks, tz: p.tz }) : '…';
    this.root.dataset.loaded = String(p !== null);
    const perMinute = (mean: number) => mean / 60; // an hour's value is the sum of its minutes
    let max = 0;
    let busiest = -1;
    for (let i = 0; i < (p?.mean.length ?? 0); i++) {
      const m = p!.mean[i];
      if (m !== null && m !== undefined && m > max) {
        max = m;
        busiest = i;
      }
    }
    const num = numberFormat(locale, { maximumFractionDigits: 1 });
    let painted = 0;
    this.cells.forEach((cell, slot) => {
      const day = days[Math.floor(slot / HOURS_PER_DAY)] ?? '';
      const hour = hours[slot % HOURS_PER_DAY] ?? '';
      const mean = p?.mean[slot] ?? null;
      const hidden = p?.suppressed[slot] ?? 0;
      const state = p ? cellState(mean, hidden) : 'empty';
      cell.dataset.state = state;
      if (state === 'value' && mean !== null) {
        const fraction = max > 0 ? mean / max : 0;
        cell.style.backgroundColor = heatColor(fraction);
        cell.classList.toggle('heat-cell-dark', heatTextIsLight(fraction));
        cell.dataset.value = String(mean);
        const values = { day, hour, value: num.format(perMinute(mean)), n: p?.hours[slot] ?? 0, hidden };
        cell.title = t(hidden > 0 ? 'heatCellPartly' : 'heatCell', values);
        painted++;
      } else {
        cell.style.backgroundColor = '';
        cell.classList.remove('heat-cell-dark');
        delete cell.dataset.value;
        cell.title = p ? t(state === 'hidden' ? 'heatCellHidden' : 'heatCellEmpty', { day, hour }) : '';
      }
      cell.setAttribute('aria-label', cell.title || `${day} ${hour}: …`);
    });
    this.grid.dataset.painted = String(painted);
    const summary =
      p === null
        ? ''
        : busiest >= 0
          ? t('heatBusiest', {
              day: weekdayNames(locale, 'long')[Math.floor(busiest / HOURS_PER_DAY)] ?? '',
              hour: hours[busiest % HOURS_PER_DAY] ?? '',
              value: num.format(perMinute(max)),
            })
          : t('heatNothing');
    this.summary.textContent = summary;
    this.grid.setAttribute('aria-label', `${t('heatTitle')}. ${summary}`);
    this.help.textContent = t('heatKeysHelp');
    if (this.readout.textContent !== '') this.readout.textContent = this.cells[this.current]?.getAttribute('aria-label') ?? '';
  }
}
