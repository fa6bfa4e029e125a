/**
 * The overview's cards: which cards to show (the chosen site, or every site, then its zones), making them match
 * (a renamed zone keeps its chart), and feeding them: each card's series, the calibration behind an estimate, and
 * the week comparison and heatmap when they are due. What a load fetches, and in which order, is the loader's.
 */
import { ApiError, fetchCalibrations, fetchSeries, type Target } from './api.ts';
import { SeriesCard, type CardSettings } from './card.ts';
import { parseEstimate } from './estimates.ts';
import type { MessageKey } from './i18n.ts';
import { loadDetails, targetKey, type Prefetched } from './loader.ts';
import { densify, mergeBucket, type Series, type TimeWindow } from './series.ts';
import type { PageState } from './state.ts';

/** The week comparison and the heatmap change slowly: refetched this often (and when the radio changes). */
const DETAILS_REFRESH_MS = 10 * 60_000;
/** After a failed comparison or heatmap, how long until it is asked for again. */
const DETAILS_RETRY_MS = 60_000;

/** What the cards need from the page. */
export interface CardsHost {
  state: PageState;
  /** Where the cards go. */
  container: HTMLElement;
  /** What every card shows alike (language, period, radio, totals, admin). */
  settings(): CardSettings;
  currentWindow(): TimeWindow;
  t(key: MessageKey, values?: Record<string, string | number>): string;
  messageOf(err: unknown): string;
}

export class OverviewCards {
  constructor(private readonly host: CardsHost) {}

  clear(): void {
    const { state } = this.host;
    for (const view of state.views) view.destroy();
    state.views = [];
  }

  /** The cards to show: the chosen site (or every site) first, then its zones (or every zone). */
  wantedTargets(): { target: Target; name: string }[] {
    const { state } = this.host;
    if (state.site !== 'all' && !state.sites.some((s) => s.id === state.site)) state.site = 'all';
    const sites = state.site === 'all' ? state.sites : state.sites.filter((s) => s.id === state.site);
    const inSite = state.site === 'all' ? null : new Set(sites[0]?.zones ?? []);
    const zones = inSite === null ? state.zones : state.zones.filter((z) => inSite.has(z.id) || z.site === state.site);
    return [
      ...sites.map((s) => ({ target: { kind: 'site' as const, id: s.id }, name: s.name })),
      ...zones.map((z) => ({ target: { kind: 'zone' as const, id: z.id }, name: z.name })),
    ];
  }

  /** Makes the cards match the wanted targets (same order; a renamed zone keeps its chart). */
  sync(): void {
    const { state, container } = this.host;
    const byKey = new Map(state.views.map((v) => [targetKey(v.target), v]));
    const settings = this.host.settings();
    const next: SeriesCard[] = [];
    for (const { target, name } of this.wantedTargets()) {
      const key = targetKey(target);
      const view = byKey.get(key) ?? new SeriesCard(container, target, name, settings, this.host.currentWindow());
      byKey.delete(key);
      view.setName(name);
      if (target.kind === 'site') {
        const site = state.sites.find((s) => s.id === target.id);
        view.setSiteZones((site?.zones ?? []).map((id) => state.zones.find((z) => z.id === id)?.name ?? id));
      }
      next.push(view);
    }
    for (const gone of byKey.values()) gone.destroy();
    for (const view of next) container.append(view.root); // append moves: the DOM order follows the wanted order
    state.views = next;
    for (const view of next) view.render();
  }

  /** Every card again with the current language and choices (`remakeCharts` after a language switch). */
  update(remakeCharts = false): void {
    const settings = this.host.settings();
    for (const view of this.host.state.views) view.setSettings(settings, remakeCharts);
  }

  /** Loads one card's series for the current choice; returns false when the server could not be reached. */
  async loadSeries(view: SeriesCard, generation: number, prefetched?: Prefetched): Promise<boolean> {
    const { state } = this.host;
    const win = prefetched?.win ?? this.host.currentWindow();
    const radio = prefetched?.radio ?? state.radio;
    try {
      const raw = await (prefetched?.series.get(targetKey(view.target)) ?? fetchSeries(view.target, { from: win.from, to: win.to, step: win.step, radio }));
      if (generation !== state.refreshGeneration || !state.views.includes(view)) return true; // a newer load replaced this one
      view.showError(null);
      view.lastLoadMs = Date.now();
      let series: Series = densify(raw, win);
      // Minutes that came over the stream while this series was on its way (same radio, minute views only).
      for (const event of view.pendingLive.splice(0)) {
        if (event.radio === radio && win.step === 60) series = densify(mergeBucket(series, event, 60), win);
      }
      const estimate = parseEstimate(raw);
      view.setEstimate(estimate);
      view.show({ ...series, ...(raw.noise ? { noise: raw.noise } : {}) }, win);
      if (estimate?.info.calibrationId && view.calibration?.id !== estimate.info.calibrationId) void this.loadCalibration(view, estimate.info.calibrationId);
      return true;
    } catch (err) {
      if (generation !== state.refreshGeneration) return true;
      const unreachable = err instanceof ApiError && err.status === 0;
      if (!unreachable) {
        view.showError(this.host.t('zoneError', { message: this.host.messageOf(err) }));
      }
      return !unreachable;
    }
  }

  /** Loads every card's series; returns false when the server could not be reached. */
  async loadAllSeries(generation: number, prefetched?: Prefetched): Promise<boolean> {
    const { state } = this.host;
    const results = await Promise.all(state.views.map((view) => this.loadSeries(view, generation, prefetched)));
    state.lastLoadMs = Date.now();
    const ok = results.every(Boolean);
    if (ok) state.lastUpdateMs = Date.now();
    return ok;
  }

  /** The comparisons and heatmaps that are due (or were loaded for another radio). */
  loadDueDetails(): void {
    const { state } = this.host;
    for (const view of state.views) {
      if (view.detailsRadio !== state.radio || Date.now() >= view.detailsDueMs) void this.loadDetails(view);
    }
  }

  /**
   * The stored calibration behind a zone's estimate (its date and the counts it was fitted from), for the readers
   * who may read calibrations (admins, privacy officers); others see what the series says.
   */
  private async loadCalibration(view: SeriesCard, id: string): Promise<void> {
    const me = this.host.state.me;
    if (view.target.kind !== 'zone' || me === null || !(me.admin || me.role === 'privacy')) return;
    view.setCalibration({ id, created: null, points: null }); // asked once per calibration, whatever the answer
    try {
      const found = (await fetchCalibrations(view.target.id)).find((c) => c.id === id);
      if (found && this.host.state.views.includes(view)) view.setCalibration({ id, created: found.created, points: found.pointsUsed });
    } catch {
      // Only the date and counts are missing then; the estimate itself came with the series.
    }
  }

  /** The comparison and the heatmap of a card. */
  private async loadDetails(view: SeriesCard): Promise<void> {
    const { state } = this.host;
    const radio = state.radio;
    const generation = ++view.detailsGeneration;
    view.detailsRadio = radio;
    view.detailsDueMs = Date.now() + DETAILS_REFRESH_MS;
    const { comparison, heat, tz } = await loadDetails(view.target, radio, state.tz);
    if (tz !== state.tz) state.tz = tz; // the server does not know the browser's time zone: UTC from now on
    if (generation !== view.detailsGeneration || !state.views.includes(view)) return;
    if (comparison.status === 'fulfilled') {
      if (comparison.value === null) view.comparison.showTooEarly();
      else view.comparison.update(comparison.value);
    } else {
      view.comparison.showError(this.host.messageOf(comparison.reason));
      view.detailsDueMs = Date.now() + DETAILS_RETRY_MS;
    }
    if (heat.status === 'fulfilled') view.heatmap.update(heat.value);
    else {
      view.heatmap.showError(this.host.messageOf(heat.reason));
      view.detailsDueMs = Date.now() + DETAILS_RETRY_MS;
    }
  }
}
