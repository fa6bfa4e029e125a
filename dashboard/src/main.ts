/**
 * The dashboard page: a header (title, motto, live status, language), the range and radio choice, one card per
 * zone with its figures and chart, and a privacy note. Data comes from the aggregator's API on the same origin:
 * the zone list and each zone's series, then live minutes by Server-Sent Events; when the event stream fails the
 * page polls every 10 s, and when the API is down it says so and tries again.
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { ApiError, fetchSeries, fetchZones, isRadio, openLiveFeed, type LiveEvent, type LiveFeed, type Radio, type ZoneInfo } from './api.ts';
import { ZoneChart } from './charts.ts';
import { el } from './dom.ts';
import { intlLocale, isLang, pickLang, translate, type Lang, type MessageKey } from './i18n.ts';
import {
  RANGE_IDS,
  RANGES,
  densify,
  emptySeries,
  isRangeId,
  mergeBucket,
  summarize,
  windowAt,
  type RangeId,
  type Series,
  type TimeWindow,
} from './series.ts';

const POLL_MS = 10_000;
const NO_ZONES_RETRY_MS = 30_000;
const RETRY_BACKOFF_MS = [2_000, 5_000, 10_000, 20_000, 30_000];
/** How often windows slide forward (and, for hourly views, how often they are refetched while live). */
const TICK_MS = 15_000;
const HOURLY_REFRESH_MS = 60_000;
/** After the browser gives up on the event stream, how long until it is opened again. */
const LIVE_REOPEN_MS = 30_000;
/** After an open event stream breaks, how long until the API is asked again. */
const STREAM_LOST_REFRESH_MS = 1_000;
const STORAGE_KEY = 'passant.lang';

type LiveState = 'connecting' | 'live' | 'polling' | 'down';

interface ZoneView {
  zone: ZoneInfo;
  card: HTMLElement;
  title: HTMLHeadingElement;
  stats: { latestLabel: HTMLElement; latest: HTMLElement; peakLabel: HTMLElement; peak: HTMLElement; hiddenLabel: HTMLElement; hidden: HTMLElement };
  figure: HTMLElement;
  chartBox: HTMLElement;
  summary: HTMLElement;
  legendDevices: HTMLElement;
  legendHidden: HTMLElement;
  readout: HTMLElement;
  error: HTMLElement;
  chart: ZoneChart;
  series: Series;
  window: TimeWindow;
  loaded: boolean;
}

const state = {
  lang: 'en' as Lang,
  locale: 'en-GB',
  range: '2h' as RangeId,
  radio: 'wifi' as Radio,
  live: 'connecting' as LiveState,
  feed: null as LiveFeed | null,
  feedOpen: false,
  views: [] as ZoneView[],
  refreshToken: 0,
  refreshTimer: 0,
  reopenTimer: 0,
  failures: 0,
  lastLoadMs: 0,
  lastUpdateMs: 0,
  banner: null as Banner | null,
  liveEvents: 0,
};

const params = new URLSearchParams(location.search);

function t(key: MessageKey, values?: Record<string, string | number>): string {
  return translate(state.lang, key, values);
}

function storedLang(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the choice lasts for this page only
  }
}

function storeLang(lang: Lang): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // storage disabled
  }
}

// ---- the page shell ------------------------------------------------------------------------------------------

const ui = buildShell();

function buildShell() {
  const title = el('h1', { class: 'title' });
  const motto = el('p', { class: 'motto' });
  const statusDot = el('span', { class: 'status-dot', attrs: { 'aria-hidden': 'true' } });
  const statusText = el('span');
  const status = el('p', { class: 'status', attrs: { role: 'status' } }, [statusDot, statusText]);
  const langButtons = new Map<Lang, HTMLButtonElement>();
  const langGroup = el('div', { class: 'lang-switch', attrs: { role: 'group' } });
  for (const lang of ['nl', 'en'] as const) {
    const button = el('button', {
      class: 'lang-button',
      text: lang.toUpperCase(),
      attrs: { type: 'button', lang, 'data-lang': lang, title: lang === 'nl' ? 'Nederlands' : 'English' },
    });
    button.addEventListener('click', () => setLang(lang));
    langButtons.set(lang, button);
    langGroup.append(button);
  }
  const header = el('header', { class: 'page-header' }, [
    el('div', { class: 'brand' }, [title, motto]),
    el('div', { class: 'header-side' }, [status, langGroup]),
  ]);

  const rangeLegend = el('legend');
  const rangeInputs = new Map<RangeId, { input: HTMLInputElement; label: HTMLElement }>();
  const rangeSet = el('fieldset', { class: 'segmented' }, [rangeLegend]);
  for (const id of RANGE_IDS) {
    const input = el('input', { attrs: { type: 'radio', name: 'range', value: id, id: `range-${id}` } });
    const text = el('span');
    input.addEventListener('change', () => input.checked && setRange(id));
    rangeSet.append(el('label', { attrs: { for: `range-${id}` } }, [input, text]));
    rangeInputs.set(id, { input, label: text });
  }
  const radioLegend = el('legend');
  const radioInputs = new Map<Radio, { input: HTMLInputElement; label: HTMLElement }>();
  const radioSet = el('fieldset', { class: 'segmented' }, [radioLegend]);
  for (const radio of ['wifi', 'ble'] as const) {
    const input = el('input', { attrs: { type: 'radio', name: 'radio', value: radio, id: `radio-${radio}` } });
    const text = el('span');
    input.addEventListener('change', () => input.checked && setRadio(radio));
    radioSet.append(el('label', { attrs: { for: `radio-${radio}` } }, [input, text]));
    radioInputs.set(radio, { input, label: text });
  }
  const radioNote = el('p', { class: 'note' });
  const controls = el('section', { class: 'controls' }, [rangeSet, radioSet, radioNote]);

  const bannerText = el('span');
  const retryButton = el('button', { class: 'retry', attrs: { type: 'button' } });
  retryButton.addEventListener('click', () => void refresh());
  const banner = el('div', { class: 'banner', attrs: { role: 'status', hidden: '' } }, [bannerText, retryButton]);
  const zones = el('div', { class: 'zones', attrs: { 'aria-live': 'off' } });
  const main = el('main', { class: 'page-main' }, [controls, banner, zones]);

  const footerText = el('p');
  const footer = el('footer', { class: 'page-footer' }, [footerText]);
  const root = el('div', { class: 'page' }, [header, main, footer]);
  document.getElementById('app')?.replaceWith(root);
  if (!root.isConnected) document.body.append(root);
  return {
    title, motto, status, statusText, langGroup, langButtons, rangeLegend, rangeInputs, radioLegend, radioInputs,
    radioNote, banner, bannerText, retryButton, zones, footerText,
  };
}

function applyTexts(): void {
  document.documentElement.lang = state.lang;
  document.title = `${t('title')} – ${t('motto')}`;
  ui.title.textContent = t('title');
  ui.motto.textContent = t('motto');
  ui.langGroup.setAttribute('aria-label', t('language'));
  for (const [lang, button] of ui.langButtons) button.setAttribute('aria-pressed', String(lang === state.lang));
  ui.rangeLegend.textContent = t('period');
  const rangeKeys: Record<RangeId, MessageKey> = { '2h': 'range2h', '24h': 'range24h', '7d': 'range7d' };
  for (const [id, { input, label }] of ui.rangeInputs) {
    label.textContent = t(rangeKeys[id]);
    input.checked = id === state.range;
  }
  ui.radioLegend.textContent = t('radio');
  for (const [radio, { input, label }] of ui.radioInputs) {
    label.textContent = t(radio === 'wifi' ? 'radioWifi' : 'radioBle');
    input.checked = radio === state.radio;
  }
  ui.radioNote.textContent = t('radioNote');
  ui.retryButton.textContent = t('retryNow');
  ui.footerText.textContent = t('footer');
  renderStatus();
  renderBanner();
  for (const view of state.views) renderZoneTexts(view);
}

function renderStatus(): void {
  const key: Record<LiveState, MessageKey> = {
    connecting: 'statusConnecting',
    live: 'statusLive',
    polling: 'statusPolling',
    down: 'statusDown',
  };
  let text = t(key[state.live]);
  if (state.lastUpdateMs > 0 && state.live !== 'connecting') {
    const time = new Intl.DateTimeFormat(state.locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    text += ` · ${t('updatedAt', { time: time.format(new Date(state.lastUpdateMs)) })}`;
  }
  ui.status.dataset.state = state.live;
  ui.statusText.textContent = text;
}

function setLive(live: LiveState): void {
  state.live = live;
  renderStatus();
}

interface Banner {
  key: MessageKey;
  values?: Record<string, string | number>;
  /** A problem gets a retry button. */
  kind: 'info' | 'problem';
}

/** Shows a message above the zones, or hides it (null); kept so a language switch can translate it. */
function showBanner(banner: Banner | null): void {
  state.banner = banner;
  renderBanner();
}

function renderBanner(): void {
  const banner = state.banner;
  ui.banner.hidden = banner === null;
  ui.banner.dataset.kind = banner?.kind ?? 'info';
  ui.bannerText.textContent = banner === null ? '' : t(banner.key, banner.values);
  ui.retryButton.hidden = banner?.kind !== 'problem';
}

// ---- choices ---------------------------------------------------------------------------------------------------

function writeUrl(): void {
  const url = new URL(location.href);
  url.searchParams.set('lang', state.lang);
  url.searchParams.set('range', state.range);
  url.searchParams.set('radio', state.radio);
  history.replaceState(null, '', url);
}

function setLang(lang: Lang): void {
  if (lang === state.lang) return;
  state.lang = lang;
  state.locale = intlLocale(lang, navigator.language);
  storeLang(lang);
  writeUrl();
  applyTexts();
  // Axis labels and legend names are fixed when a chart is made, so the charts are made again (rare: a click).
  for (const view of state.views) {
    view.chart.destroy();
    view.chart = makeChart(view.chartBox, view.readout, view.window);
    if (view.loaded) view.chart.update(view.series, view.window);
  }
}

function setRange(range: RangeId): void {
  if (range === state.range) return;
  state.range = range;
  writeUrl();
  for (const view of state.views) renderZoneTexts(view);
  void refresh();
}

function setRadio(radio: Radio): void {
  if (radio === state.radio) return;
  state.radio = radio;
  writeUrl();
  for (const view of state.views) renderZoneTexts(view);
  void refresh();
}

function currentWindow(): TimeWindow {
  return windowAt(Date.now() / 1000, RANGES[state.range]);
}

// ---- zones -----------------------------------------------------------------------------------------------------

function makeChart(box: HTMLElement, readout: HTMLElement, win: TimeWindow): ZoneChart {
  return new ZoneChart(box, win, {
    locale: state.locale,
    readout,
    texts: {
      series: t(win.step === 60 ? 'seriesMinute' : 'seriesHourAvg'),
      time: t('time'),
      hidden: t('hidden'),
      hiddenMinutesInHour: t('hiddenMinutesInHour'),
    },
  });
}

function createView(zone: ZoneInfo): ZoneView {
  const title = el('h2', { class: 'zone-name', text: zone.name });
  const stat = () => ({ label: el('dt'), value: el('dd') });
  const latest = stat();
  const peak = stat();
  const hidden = stat();
  const stats = el('dl', { class: 'stats' }, [
    el('div', {}, [latest.label, latest.value]),
    el('div', {}, [peak.label, peak.value]),
    el('div', {}, [hidden.label, hidden.value]),
  ]);
  const error = el('p', { class: 'zone-error', attrs: { hidden: '' } });
  const chartBox = el('div', { class: 'chart' });
  const summary = el('p', { class: 'visually-hidden' });
  const legendDevices = el('span', { class: 'key key-devices' });
  const legendHidden = el('span', { class: 'key key-hidden' });
  const readout = el('p', { class: 'readout', attrs: { 'aria-hidden': 'true' } });
  const figure = el('figure', { class: 'chart-figure' }, [
    summary,
    readout,
    chartBox,
    el('figcaption', { class: 'chart-key' }, [legendDevices, legendHidden]),
  ]);
  const card = el('article', { class: 'zone', attrs: { 'data-zone-id': zone.id } }, [title, stats, error, figure]);
  const win = currentWindow();
  const view: ZoneView = {
    zone, card, title,
    stats: { latestLabel: latest.label, latest: latest.value, peakLabel: peak.label, peak: peak.value, hiddenLabel: hidden.label, hidden: hidden.value },
    figure, chartBox, summary, legendDevices, legendHidden, readout, error,
    chart: null as unknown as ZoneChart,
    series: emptySeries(),
    window: win,
    loaded: false,
  };
  card.setAttribute('aria-busy', 'true');
  ui.zones.append(card);
  view.chart = makeChart(chartBox, readout, win);
  renderZoneTexts(view);
  return view;
}

/** Makes the cards match `zones` (same order; a renamed zone keeps its chart). */
function syncZones(zones: ZoneInfo[]): void {
  const byId = new Map(state.views.map((v) => [v.zone.id, v]));
  const next: ZoneView[] = [];
  for (const zone of zones) {
    const existing = byId.get(zone.id);
    if (existing !== undefined) {
      byId.delete(zone.id);
      existing.zone = zone;
      existing.title.textContent = zone.name;
      next.push(existing);
    } else {
      next.push(createView(zone));
    }
  }
  for (const gone of byId.values()) {
    gone.chart.destroy();
    gone.card.remove();
  }
  for (const view of next) ui.zones.append(view.card); // append moves: the DOM order follows the API order
  state.views = next;
}

function renderZoneTexts(view: ZoneView): void {
  const hourly = view.window.step !== 60;
  const num = new Intl.NumberFormat(state.locale, { maximumFractionDigits: hourly ? 1 : 0 });
  const time = new Intl.DateTimeFormat(state.locale, hourly
    ? { weekday: 'short', hour: '2-digit', minute: '2-digit' }
    : { hour: '2-digit', minute: '2-digit' });
  const s = summarize(view.series, view.window, Date.now() / 1000);
  view.stats.latestLabel.textContent = t(hourly ? 'statLatestHour' : 'statLatest');
  view.stats.peakLabel.textContent = t('statPeak');
  view.stats.hiddenLabel.textContent = t('statHidden');
  const none = view.loaded ? t('none') : '…';
  view.stats.latest.textContent = s.latest ? num.format(s.latest.value) : none;
  view.stats.peak.textContent = s.peak
    ? t('statPeakAt', { value: num.format(s.peak.value), time: time.format(new Date(s.peak.t * 1000)) })
    : none;
  view.stats.hidden.textContent = view.loaded
    ? t('statHiddenValue', { n: num.format(s.hiddenMinutes), total: num.format(s.totalMinutes) })
    : none;
  const rangeKey: Record<RangeId, MessageKey> = { '2h': 'range2h', '24h': 'range24h', '7d': 'range7d' };
  const series = t(hourly ? 'seriesHourAvg' : 'seriesMinute');
  const label = t('chartLabel', {
    series,
    zone: view.zone.name,
    range: t(rangeKey[state.range]).toLowerCase(),
    radio: t(state.radio === 'wifi' ? 'radioWifi' : 'radioBle'),
  });
  view.figure.setAttribute('aria-label', label);
  view.summary.textContent = `${label}. ${view.stats.latestLabel.textContent}: ${view.stats.latest.textContent}. ${t('statPeak')}: ${view.stats.peak.textContent}. ${t('statHidden')}: ${view.stats.hidden.textContent}.`;
  view.legendDevices.textContent = t('legendSeries', { series, radio: t(state.radio === 'wifi' ? 'radioWifi' : 'radioBle') });
  view.legendHidden.textContent = t('legendHidden');
}

function showSeries(view: ZoneView, series: Series, win: TimeWindow): void {
  if (win.step !== view.window.step) {
    // The series name (per minute, or hourly average) is fixed when a chart is made.
    view.chart.destroy();
    view.chart = makeChart(view.chartBox, view.readout, win);
  }
  view.series = series;
  view.window = win;
  view.loaded = true;
  view.card.removeAttribute('aria-busy');
  view.chart.update(series, win);
  renderZoneTexts(view);
}

// ---- loading ---------------------------------------------------------------------------------------------------

/** Loads one zone's series for the current choice; returns false when the server could not be reached. */
async function loadSeries(view: ZoneView, token: number): Promise<boolean> {
  const win = currentWindow();
  const radio = state.radio;
  try {
    const raw = await fetchSeries(view.zone.id, { from: win.from, to: win.to, step: win.step, radio });
    if (token !== state.refreshToken || !state.views.includes(view)) return true; // a newer load replaced this one
    view.error.hidden = true;
    showSeries(view, densify(raw, win), win);
    return true;
  } catch (err) {
    if (token !== state.refreshToken) return true;
    const unreachable = err instanceof ApiError && err.status === 0;
    if (!unreachable) {
      view.error.textContent = t('zoneError', { message: err instanceof Error ? err.message : String(err) });
      view.error.hidden = false;
    }
    return !unreachable;
  }
}

/** Loads every zone's series; returns false when the server could not be reached. */
async function loadAllSeries(token: number): Promise<boolean> {
  const results = await Promise.all(state.views.map((view) => loadSeries(view, token)));
  state.lastLoadMs = Date.now();
  const ok = results.every(Boolean);
  if (ok) state.lastUpdateMs = Date.now();
  return ok;
}

/** Zones, then every series; then decides when to look again (never while the live stream is open). */
async function refresh(): Promise<void> {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = 0;
  const token = ++state.refreshToken;
  let zones: ZoneInfo[];
  try {
    zones = await fetchZones();
  } catch (err) {
    if (token !== state.refreshToken) return;
    failed(err);
    return;
  }
  if (token !== state.refreshToken) return;
  syncZones(zones);
  if (zones.length === 0) {
    state.failures = 0;
    state.lastUpdateMs = Date.now();
    showBanner({ key: 'noZones', kind: 'info' });
    setLive(state.feedOpen ? 'live' : 'polling');
    schedule(NO_ZONES_RETRY_MS);
    return;
  }
  const ok = await loadAllSeries(token);
  if (token !== state.refreshToken) return; // a newer refresh (a new choice, the stream reopening) took over
  if (!ok) {
    failed(new ApiError('unreachable', 0, 'unreachable'));
    return;
  }
  state.failures = 0;
  showBanner(null);
  setLive(state.feedOpen ? 'live' : 'polling');
  if (!state.feedOpen) schedule(POLL_MS);
}

function failed(err: unknown): void {
  const delayMs = RETRY_BACKOFF_MS[Math.min(state.failures, RETRY_BACKOFF_MS.length - 1)];
  state.failures++;
  const reachable = err instanceof ApiError && err.status !== 0;
  const s = Math.round(delayMs / 1000);
  showBanner(
    reachable
      ? { key: 'apiError', values: { message: `${err.status}: ${err.message}`, s }, kind: 'problem' }
      : { key: 'apiDown', values: { s }, kind: 'problem' },
  );
  setLive('down');
  schedule(delayMs);
}

function schedule(delayMs: number): void {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = window.setTimeout(() => void refresh(), delayMs);
}

// ---- live ------------------------------------------------------------------------------------------------------

function startLive(): void {
  if (typeof EventSource === 'undefined') return; // polling only
  clearTimeout(state.reopenTimer);
  state.feed?.close();
  state.feed = openLiveFeed({
    onOpen: () => {
      state.feedOpen = true;
      void refresh(); // catches up on anything missed while the stream was away, and stops polling
    },
    onError: (closed) => {
      const wasOpen = state.feedOpen;
      state.feedOpen = false;
      if (state.live === 'live') setLive('polling');
      // Look soon: either the server went away (the page should say so) or only the stream broke (polling
      // takes over). When the stream never opened, the refresh under way schedules the next poll itself.
      if (wasOpen) schedule(STREAM_LOST_REFRESH_MS);
      if (closed) {
        state.feed?.close();
        state.feed = null;
        state.reopenTimer = window.setTimeout(startLive, LIVE_REOPEN_MS);
      }
    },
    onEvent: onLiveEvent,
  });
}

function onLiveEvent(event: LiveEvent): void {
  if (event.radio !== state.radio) return;
  const view = state.views.find((v) => v.zone.id === event.zoneId);
  if (view === undefined || !view.loaded) return;
  const preset = RANGES[state.range];
  if (preset.step !== 60) return; // hourly views are refetched each minute instead (a minute event cannot be summed in twice)
  const win = windowAt(Math.max(Date.now() / 1000, event.t + 1), preset);
  showSeries(view, densify(mergeBucket(view.series, event, 60), win), win);
  state.liveEvents++;
  ui.status.dataset.liveEvents = String(state.liveEvents); // how many minutes arrived live (tests, debugging)
  state.lastUpdateMs = Date.now();
  renderStatus();
}

/** Slides every window forward with the clock; while live, refetches hourly views once a minute. */
function tick(): void {
  if (state.feedOpen && RANGES[state.range].step !== 60 && Date.now() - state.lastLoadMs >= HOURLY_REFRESH_MS) {
    void refresh();
    return;
  }
  const win = currentWindow();
  for (const view of state.views) {
    if (!view.loaded || view.window.step !== win.step) continue;
    if (view.window.from !== win.from || view.window.to !== win.to) showSeries(view, densify(view.series, win), win);
  }
}

// ---- start -----------------------------------------------------------------------------------------------------

function start(): void {
  state.lang = pickLang({ query: params.get('lang'), stored: storedLang(), navigatorLanguage: navigator.language });
  state.locale = intlLocale(state.lang, navigator.language);
  const range = params.get('range');
  if (isRangeId(range)) state.range = range;
  const radio = params.get('radio');
  if (isRadio(radio)) state.radio = radio;
  if (isLang(params.get('lang'))) storeLang(state.lang);
  applyTexts();
  showBanner({ key: 'loading', kind: 'info' });
  void refresh();
  startLive();
  window.setInterval(tick, TICK_MS);
}

start();
