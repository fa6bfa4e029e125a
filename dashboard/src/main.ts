/**
 * The dashboard page: a header (title, motto, live status, sign-in, language), the sections chosen by the URL hash
 * (overview, `#compare`, `#privacy`, `#sensors`, admins' `#tokens`), and a footer. The overview has the period,
 * radio and site choice and one card per site and zone the reader may see: figures, a chart, this week against last
 * week, and an hour-of-week heatmap. When the server shows nothing without a token, the page asks for one; an
 * invitation link (`#invite=CODE`) opens a panel that signs its receiver in once.
 *
 * This file wires the page's parts together: the state (state.ts), what a load fetches and in which order
 * (loader.ts), live updates by Server-Sent Events with polling as fallback (live.ts), and the page shell: header,
 * tabs, controls, banner (shell.ts), and the overview's cards (cards.ts, each card is card.ts); the tab pages have
 * their own modules. What stays here is the wiring and the page's reactions to the reader (choices, tabs, signing in
 * and out, invitations, the outcome of a load), which is why the file is still somewhat over 400 lines.
 */
// First: the token and the question who the reader is go out before anything else is set up (boot.ts).
import { bootToken } from './boot.ts';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
// The tab pages' styles too (their pages are built when first opened, their styles are in app.css from the start).
import './compare-view.css';
import './tokens.css';
import {
  ApiError,
  fetchAudit,
  fetchMe,
  fetchPrivacy,
  fetchSensorHealth,
  isInvalidToken,
  isRadio,
  needsToken,
  invitationCodeOf,
  redeemInvitation,
  useToken,
  type MarkedPeriod,
  type Me,
  type Radio,
} from './api.ts';
import { forgetToken, readTokenInput, saveToken } from './auth.ts';
import type { CardSettings } from './card.ts';
import { OverviewCards } from './cards.ts';
import type { CompareState } from './compare-state.ts';
import { compareTabLabel } from './compare-text.ts';
import type { ComparePage } from './compare-view.ts';
import { showCardEvents } from './event-marks.ts';
import { intlLocale, isLang, pickLang, translate, translator, type Lang, type MessageKey, type Translator } from './i18n.ts';
import { InvitationPanel, type InvitationOutcome } from './invitation.ts';
import { LazyPage } from './lazy-page.ts';
import { LiveUpdates, TICK_MS } from './live.ts';
import { loadOverview } from './loader.ts';
import { periodFromQuery, periodToQuery, periodWindow, type Period } from './periods.ts';
import type { PrivacyPage } from './privacy-page.ts';
import { RANGES, windowAt, type TimeWindow } from './series.ts';
import type { SensorsPage } from './sensors-page.ts';
import * as shell from './shell.ts';
import { SignInPanel } from './sign-in.ts';
import { createState, type Banner, type LiveState, type Tab } from './state.ts';
import type { TokensPage } from './tokens-page.ts';
import { defaultUnit, isTotalUnit, type TotalUnit } from './totals.ts';
import { browserTimeZone } from './week.ts';

const POLL_MS = 10_000;
const NO_ZONES_RETRY_MS = 30_000;
const RETRY_BACKOFF_MS = [2_000, 5_000, 10_000, 20_000, 30_000];
const PRIVACY_REFRESH_MS = 5 * 60_000;
const SENSORS_REFRESH_MS = 30_000;

const state = createState(browserTimeZone());
const params = new URLSearchParams(location.search);
// Who the reader is went out first (boot.ts); the page is built while the answer is on its way.
state.token = bootToken;
useToken(state.token, state.token === null ? null : onTokenRefused);

function t(key: MessageKey, values?: Record<string, string | number>): string {
  return translate(state.lang, key, values);
}

function tr(): Translator {
  return translator(state.lang, state.locale);
}

function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.status > 0 ? `${err.status}: ${err.message}` : err.message;
  return err instanceof Error ? err.message : String(err);
}

function radioName(radio: Radio): string {
  return t(radio === 'wifi' ? 'radioWifi' : 'radioBle');
}

// ---- the page's parts ------------------------------------------------------------------------------------------

// The tab pages are made the first time they are needed: see lazy-page.ts.
const privacyLazy = new LazyPage<PrivacyPage>('privacy', async () => new (await import('./privacy-page.ts')).PrivacyPage(tr()));
const sensorsLazy = new LazyPage<SensorsPage>('sensors', async () => {
  const page = new (await import('./sensors-page.ts')).SensorsPage(tr());
  page.setZoneNames(new Map(state.zones.map((z) => [z.id, z.name])));
  return page;
});
const tokensPage = new LazyPage<TokensPage>('tokens', async () => {
  const page = new (await import('./tokens-page.ts')).TokensPage(tr());
  if (state.me?.admin) page.setTargets(state.zones, state.sites);
  return page;
});
// any two periods compared (#compare); its choice lives in the URL beside the overview's
const comparePage = new LazyPage<ComparePage>('compare', async () => {
  const [{ ComparePage }, { compareStateFromQuery, compareStateToQuery }] = await Promise.all([import('./compare-view.ts'), import('./compare-state.ts')]);
  const page = new ComparePage(tr(), compareStateFromQuery(new URLSearchParams(location.search)), {
    radio: () => state.radio,
    changed: (choice) => {
      const url = new URL(location.href);
      compareStateToQuery(choice, url.searchParams);
      history.replaceState(null, '', url);
    },
  });
  page.setTargets(state.zones, state.sites);
  page.setEvents(markedPeriods);
  page.setVisible(state.tab === 'compare');
  return page;
});
// events (marked periods): bands and a list on the overview's charts, each one click away on the compare page
let markedPeriods: MarkedPeriod[] = [];
function openCompare(choice: CompareState): void {
  void comparePage.get().then((page) => page.open(choice), pageFailed);
  location.hash = 'compare';
}
/** A tab page could not be made: said in the banner; the next visit tries again. */
function pageFailed(err: unknown): void {
  showBanner({ key: 'pageError', kind: 'problem', values: { message: messageOf(err) } });
}
function applyEvents(): void {
  const options = { lang: state.lang, locale: state.locale, sites: state.sites, open: openCompare };
  for (const view of state.views) showCardEvents(view, markedPeriods, currentWindow(), options);
}
const signIn = new SignInPanel(tr(), {
  submit: signInWith,
  cancel: () => {},
});
// an invitation link opened (#invite=...): signs in once, when the person clicks
const invitation = new InvitationPanel(tr(), {
  accept: acceptInvitation,
  closed: () => state.locked && !signIn.isOpen && signIn.open({ needed: true }),
});
const ui = shell.buildShell(
  {
    periods: tr(),
    invitation: invitation.root,
    signIn: signIn.root,
    compare: comparePage.root,
    privacy: privacyLazy.root,
    sensors: sensorsLazy.root,
    tokens: tokensPage.root,
  },
  {
    setLang,
    setPeriod,
    setUnit,
    setRadio,
    toggleSignIn: () => (signIn.isOpen && !state.locked ? signIn.close() : signIn.open({ needed: state.locked })),
    signOut: () => signOut(null),
    retry: () => void refresh(),
  },
);
const cards = new OverviewCards({
  state,
  container: ui.cards,
  settings: cardSettings,
  currentWindow,
  t,
  messageOf,
});
const live = new LiveUpdates({
  state,
  refresh: () => void refresh(),
  schedule,
  setLive,
  currentWindow,
  reloadSeries: (view) => void cards.loadSeries(view, state.refreshGeneration),
  loadDueDetails,
  liveShown: (count) => {
    ui.status.dataset.liveEvents = String(count); // how many minutes arrived live (tests, debugging)
    renderStatus();
  },
});

function applyTexts(): void {
  document.documentElement.lang = state.lang;
  document.title = `${t('title')} – ${t('motto')}`;
  ui.title.textContent = t('title');
  ui.motto.textContent = t('motto');
  ui.langGroup.setAttribute('aria-label', t('language'));
  for (const [lang, button] of ui.langButtons) button.setAttribute('aria-pressed', String(lang === state.lang));
  ui.nav.setAttribute('aria-label', t('navLabel'));
  const tabKeys: Record<Exclude<Tab, 'compare'>, MessageKey> = { overview: 'tabOverview', privacy: 'tabPrivacy', sensors: 'tabSensors', tokens: 'tabTokens' };
  for (const [tab, link] of ui.tabLinks) link.textContent = tab === 'compare' ? compareTabLabel(state.lang) : t(tabKeys[tab]);
  ui.periods.setTranslator(tr());
  ui.periods.show(state.period, totalsUnit());
  ui.radioLegend.textContent = t('radio');
  for (const [radio, { input, label }] of ui.radioInputs) {
    label.textContent = radioName(radio);
    input.checked = radio === state.radio;
  }
  ui.siteLegend.textContent = t('site');
  renderSiteChoice();
  ui.radioNote.textContent = t('radioNote');
  ui.retryButton.textContent = t('retryNow');
  ui.footerText.textContent = t('footer');
  const translation = tr();
  signIn.setTranslator(translation);
  privacyLazy.now()?.setTranslator(translation);
  comparePage.now()?.setTranslator(translation);
  sensorsLazy.now()?.setTranslator(translation);
  tokensPage.now()?.setTranslator(translation);
  invitation.setTranslator(translation);
  renderAccount();
  renderStatus();
  renderBanner();
}

function renderStatus(): void {
  shell.renderStatus(ui, state);
}

function renderAccount(): void {
  shell.renderAccount(ui, state);
}

function renderBanner(): void {
  shell.renderBanner(ui, state);
}

function renderSiteChoice(): void {
  shell.renderSiteChoice(ui, state, setSite);
}

function setLive(live: LiveState): void {
  state.live = live;
  renderStatus();
}

/** Shows a message above the cards, or hides it (null); kept so a language switch can translate it. */
function showBanner(banner: Banner | null): void {
  state.banner = banner;
  renderBanner();
}

// ---- choices ---------------------------------------------------------------------------------------------------

function writeUrl(): void {
  const url = new URL(location.href);
  url.searchParams.set('lang', state.lang);
  periodToQuery(state.period, url.searchParams);
  if (state.unit === null) url.searchParams.delete('per');
  else url.searchParams.set('per', state.unit);
  url.searchParams.set('radio', state.radio);
  if (state.site === 'all') url.searchParams.delete('site');
  else url.searchParams.set('site', state.site);
  history.replaceState(null, '', url);
}

function setLang(lang: Lang): void {
  if (lang === state.lang) return;
  state.lang = lang;
  state.locale = intlLocale(lang, navigator.language);
  shell.storeLang(lang);
  writeUrl();
  applyTexts();
  updateCards(true);
  applyEvents();
}

function setPeriod(period: Period): void {
  if (JSON.stringify(period) === JSON.stringify(state.period)) return;
  state.period = period;
  writeUrl();
  ui.periods.show(state.period, totalsUnit());
  updateCards();
  void refresh();
}

function setUnit(unit: TotalUnit): void {
  state.unit = unit;
  writeUrl();
  updateCards();
}

/** The unit of the totals table: the reader's choice, else one that suits the period; null: no totals (2 and 24 h). */
function totalsUnit(): TotalUnit | null {
  if (state.period.id === '2h' || state.period.id === '24h') return null;
  const win = currentWindow();
  return state.unit ?? defaultUnit(win.to - win.from);
}

function setRadio(radio: Radio): void {
  if (radio === state.radio) return;
  state.radio = radio;
  writeUrl();
  updateCards();
  void refresh();
}

function setSite(site: string): void {
  if (site === state.site) return;
  state.site = site;
  writeUrl();
  syncViews();
  void refresh();
}

function currentWindow(): TimeWindow {
  return periodWindow(state.period, Date.now() / 1000) ?? windowAt(Date.now() / 1000, RANGES['2h']);
}

// ---- tabs ------------------------------------------------------------------------------------------------------

function route(): void {
  const tab = shell.tabFromHash(location.hash, state.me);
  state.tab = tab;
  shell.showTab(ui, tab);
  clearTimeout(state.sensorsTimer);
  state.sensorsTimer = 0;
  comparePage.now()?.setVisible(tab === 'compare');
  if (tab === 'compare') void comparePage.get().then((page) => page.setVisible(state.tab === 'compare'), pageFailed);
  if (tab === 'privacy' && (state.privacyLoadedMs === 0 || Date.now() - state.privacyLoadedMs > PRIVACY_REFRESH_MS)) void loadPrivacy();
  if (tab === 'sensors') void loadSensors();
  if (tab === 'tokens') void tokensPage.get().then((page) => page.load(), pageFailed);
}

async function loadPrivacy(): Promise<void> {
  const generation = ++state.privacyGeneration;
  let privacyPage: PrivacyPage;
  try {
    privacyPage = await privacyLazy.get();
  } catch (err) {
    return pageFailed(err);
  }
  if (!privacyPage.loaded) privacyPage.showStatus(t('loading'), 'info');
  try {
    const [info, audit] = await Promise.all([fetchPrivacy(), state.me?.audit ? fetchAudit().catch(() => null) : Promise.resolve(null)]);
    if (generation !== state.privacyGeneration) return;
    state.privacyLoadedMs = Date.now();
    privacyPage.update(info, audit);
  } catch (err) {
    if (generation !== state.privacyGeneration) return;
    privacyPage.showStatus(needsToken(err) ? t('privNeedsToken') : t('privError', { message: messageOf(err) }), 'problem');
  }
}

async function loadSensors(): Promise<void> {
  const generation = ++state.sensorsGeneration;
  let sensorsPage: SensorsPage;
  try {
    sensorsPage = await sensorsLazy.get();
  } catch (err) {
    return pageFailed(err);
  }
  try {
    const report = await fetchSensorHealth();
    if (generation !== state.sensorsGeneration) return;
    sensorsPage.setZoneNames(new Map(state.zones.map((z) => [z.id, z.name])));
    sensorsPage.update(report);
  } catch (err) {
    if (generation !== state.sensorsGeneration) return;
    sensorsPage.showStatus(needsToken(err) ? t('sensorsForbidden') : t('sensorsError', { message: messageOf(err) }), 'problem');
  }
  if (state.tab === 'sensors' && generation === state.sensorsGeneration) {
    clearTimeout(state.sensorsTimer);
    state.sensorsTimer = window.setTimeout(() => void loadSensors(), SENSORS_REFRESH_MS);
  }
}

// ---- signing in ------------------------------------------------------------------------------------------------

/** Checks a pasted token with /api/v1/me and, when the server accepts it, uses it. */
async function signInWith(raw: string, remember: boolean): Promise<{ key: MessageKey; values?: Record<string, string | number> } | null> {
  const input = readTokenInput(raw);
  if (!input.ok) return { key: input.reason === 'empty' ? 'tokenEmpty' : 'tokenMalformed' };
  let me: Me;
  try {
    me = await fetchMe(input.token);
  } catch (err) {
    if (isInvalidToken(err)) return { key: 'tokenInvalid' };
    return { key: 'tokenCheckFailed', values: { message: messageOf(err) } };
  }
  saveToken(input.token, remember);
  setIdentity(input.token, me);
  return null;
}

/** Signs out: forgets the token; `message` (e.g. the token was revoked) is shown in the sign-in panel. */
function signOut(message: MessageKey | null): void {
  forgetToken();
  setIdentity(null, null);
  if (message !== null) {
    signIn.open({ needed: false, focus: false });
    signIn.showMessage({ key: message, kind: 'error' });
  }
}

/** Another reader: what the page shows is rebuilt from scratch (access differs), and the event stream reopened. */
function setIdentity(token: string | null, me: Me | null): void {
  state.token = token;
  state.me = me;
  useToken(token, token === null ? null : onTokenRefused);
  state.site = 'all';
  state.zones = [];
  state.sites = [];
  state.failures = 0;
  state.privacyLoadedMs = 0;
  state.privacyGeneration++;
  state.sensorsGeneration++;
  privacyLazy.now()?.reset();
  sensorsLazy.now()?.reset();
  tokensPage.now()?.reset();
  clearViews();
  live.close();
  writeUrl();
  renderAccount();
  route();
  showBanner({ key: 'loading', kind: 'info' });
  void refresh();
}

/** The server refused the token in use (revoked while the page was open). */
function onTokenRefused(): void {
  if (state.token === null) return;
  signOut('tokenRevoked');
}

/**
 * An invitation link (`#invite=CODE`): the code leaves the address bar at once (so it stays out of the history,
 * bookmarks and a shared screen) and waits in the invitation panel until the person signs in with it.
 */
function takeInvitation(): void {
  const code = invitationCodeOf(location.hash);
  if (code === null) return;
  const url = new URL(location.href);
  url.hash = '';
  history.replaceState(null, '', url);
  if (signIn.isOpen) signIn.close();
  invitation.open(code);
}

/** Uses an invitation code; signs in with the viewer token it became (kept on this device only when `remember`). */
async function acceptInvitation(code: string, remember: boolean): Promise<InvitationOutcome> {
  let token: string;
  try {
    token = (await redeemInvitation(code)).token;
  } catch (err) {
    const refused: Record<string, MessageKey> = {
      invitation_used: 'inviteUsed',
      invitation_expired: 'inviteExpired',
      invitation_not_found: 'inviteUnknown',
      invalid_body: 'inviteUnknown',
    };
    const key = err instanceof ApiError ? refused[err.code] : undefined;
    if (key === undefined) return { kind: 'failed', key: 'inviteFailed', values: { message: messageOf(err) } };
    if (state.locked && !signIn.isOpen) signIn.open({ needed: true, focus: false });
    return { kind: 'refused', key };
  }
  const input = readTokenInput(token);
  if (!input.ok) return { kind: 'failed', key: 'inviteFailed', values: { message: 'malformed token' } };
  saveToken(input.token, remember);
  setIdentity(input.token, null); // the next load asks /api/v1/me who this is
  return null;
}

/** Nothing is readable without a token: ask for one. */
function lock(): void {
  state.locked = true;
  clearViews();
  live.close();
  ui.controls.hidden = true;
  showBanner(null);
  setLive('locked');
  if (!invitation.pending) signIn.open({ needed: true, focus: false });
  renderAccount();
}

function unlock(): void {
  if (!state.locked) return;
  state.locked = false;
  ui.controls.hidden = false;
  if (signIn.isOpen) signIn.close();
  renderAccount();
}

// ---- cards ----------------------------------------------------------------------------------------------------

function cardSettings(): CardSettings {
  const label = ui.periods.periodLabel();
  return { tr: tr(), rangeLabel: label, radio: state.radio, totals: totalsUnit(), admin: state.me?.admin ? { onCalibrated: () => void refresh() } : null };
}

function clearViews(): void {
  cards.clear();
}

function syncViews(): void {
  cards.sync();
}

function updateCards(remakeCharts = false): void {
  cards.update(remakeCharts);
}

function loadDueDetails(): void {
  cards.loadDueDetails();
}

// ---- loading ---------------------------------------------------------------------------------------------------

/** One load (loader.ts says what and in which order), then when to look again (never while live). */
async function refresh(): Promise<void> {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = 0;
  const generation = ++state.refreshGeneration;
  const outcome = await loadOverview({
    isCurrent: () => generation === state.refreshGeneration,
    me: () => state.me,
    hasToken: () => state.token !== null,
    gotMe: (me) => {
      state.me = me;
      state.privacyLoadedMs = 0; // the audit part depends on who this is
      renderAccount();
      route();
    },
    openLive: () => live.ensure(),
    liveSettled: () => state.feedSettled,
    gotLists: (zones, sites) => {
      unlock();
      state.zones = zones;
      state.sites = sites;
      comparePage.now()?.setTargets(zones, sites);
      sensorsLazy.now()?.setZoneNames(new Map(zones.map((z) => [z.id, z.name])));
      if (state.me?.admin) tokensPage.now()?.setTargets(zones, sites);
      renderSiteChoice();
    },
    seriesPlan: () => ({
      win: currentWindow(),
      radio: state.radio,
      targets: cards.wantedTargets().map((w) => w.target),
      siteZones: new Map(state.sites.map((s) => [s.id, s.zones])),
    }),
    buildCards: () => {
      syncViews();
      return state.views.length;
    },
    showSeries: (prefetched) => cards.loadAllSeries(generation, prefetched),
    gotEvents: (events) => {
      markedPeriods = events;
      comparePage.now()?.setEvents(markedPeriods);
      applyEvents();
    },
  });
  switch (outcome.kind) {
    case 'stale':
    case 'refused': // onTokenRefused signs out and starts again
      return;
    case 'locked':
      lock();
      return;
    case 'failed':
      failed(outcome.error);
      return;
    case 'empty': {
      state.failures = 0;
      state.lastUpdateMs = Date.now();
      const key: MessageKey = state.token === null ? 'noZones' : state.me?.role === 'privacy' ? 'noCountsForPrivacy' : 'noAccessZones';
      showBanner({ key, kind: 'info' });
      setLive(state.feedOpen ? 'live' : 'polling');
      schedule(NO_ZONES_RETRY_MS);
      return;
    }
    case 'shown':
      if (!outcome.ok) {
        failed(new ApiError('unreachable', 0, 'unreachable'));
        return;
      }
      state.failures = 0;
      showBanner(null);
      setLive(state.feedOpen ? 'live' : 'polling');
      loadDueDetails(); // after the first figures: the comparisons and heatmaps are heavier and change slowly
      if (!state.feedOpen) schedule(POLL_MS);
  }
}

function failed(err: unknown): void {
  const delayMs = RETRY_BACKOFF_MS[Math.min(state.failures, RETRY_BACKOFF_MS.length - 1)];
  state.failures++;
  const reachable = err instanceof ApiError && err.status !== 0;
  const s = Math.round(delayMs / 1000);
  showBanner(
    reachable
      ? { key: 'apiError', values: { message: messageOf(err), s }, kind: 'problem' }
      : { key: 'apiDown', values: { s }, kind: 'problem' },
  );
  setLive('down');
  schedule(delayMs);
}

function schedule(delayMs: number): void {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = window.setTimeout(() => void refresh(), delayMs);
}

// ---- start -----------------------------------------------------------------------------------------------------

function start(): void {
  state.lang = pickLang({ query: params.get('lang'), stored: shell.storedLang(), navigatorLanguage: navigator.language });
  state.locale = intlLocale(state.lang, navigator.language);
  state.period = periodFromQuery(params) ?? state.period;
  const unit = params.get('per');
  if (isTotalUnit(unit)) state.unit = unit;
  const radio = params.get('radio');
  if (isRadio(radio)) state.radio = radio;
  const site = params.get('site');
  if (site !== null && /^[a-z0-9][a-z0-9-]{0,63}$/.test(site)) state.site = site;
  if (isLang(params.get('lang'))) shell.storeLang(state.lang);
  applyTexts();
  takeInvitation();
  route();
  window.addEventListener('hashchange', () => {
    takeInvitation();
    route();
  });
  showBanner({ key: 'loading', kind: 'info' });
  void refresh();
  window.setInterval(() => live.tick(), TICK_MS);
}

start();
