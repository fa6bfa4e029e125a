/**
 * The dashboard page: a header (title, motto, live status, sign-in, language), three sections chosen by the URL
 * hash (overview, `#privacy`, `#sensors`), and a footer. The overview has the range, radio and site choice and one
 * card per site and zone the reader may see: figures, a chart, this week against last week, and an hour-of-week
 * heatmap. Data comes from the aggregator's API on the same origin: who am I, the zone and site lists, each
 * series, then live minutes by Server-Sent Events; when the event stream fails the page polls every 10 s, and
 * when the API is down it says so and tries again. When the server shows nothing without a token, the page asks
 * for one. Admins also get `#tokens` (tokens and invitations); an invitation link (`#invite=CODE`) opens a panel that
 * signs its receiver in once.
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import {
  ApiError,
  fetchAudit,
  fetchCalibrations,
  fetchComparison,
  fetchMe,
  fetchPrivacy,
  fetchProfile,
  fetchSensorHealth,
  fetchSeries,
  fetchSites,
  fetchZones,
  isInvalidToken,
  isRadio,
  needsToken,
  openLiveFeed,
  invitationCodeOf,
  redeemInvitation,
  useToken,
  type LiveEvent,
  type LiveFeed,
  type Me,
  type Radio,
  type SiteInfo,
  type Target,
  type ZoneInfo,
} from './api.ts';
import { forgetToken, loadToken, readTokenInput, saveToken } from './auth.ts';
import { SeriesCard, type CardSettings } from './card.ts';
import { el } from './dom.ts';
import { parseEstimate } from './estimates.ts';
import { intlLocale, isLang, pickLang, translate, translator, type Lang, type MessageKey, type Translator } from './i18n.ts';
import { PrivacyPage } from './privacy-page.ts';
import { PeriodControls } from './period-controls.ts';
import { isSliding, periodFromQuery, periodToQuery, periodWindow, type Period } from './periods.ts';
import { RANGES, densify, mergeBucket, windowAt, type Series, type TimeWindow } from './series.ts';
import { defaultUnit, isTotalUnit, type TotalUnit } from './totals.ts';
import { SensorsPage } from './sensors-page.ts';
import { SignInPanel } from './sign-in.ts';
import { InvitationPanel, type InvitationOutcome } from './invitation.ts';
import { TokensPage } from './tokens-page.ts';
import { ComparePage, compareStateFromQuery, compareStateToQuery, compareTabLabel, type CompareState } from './compare-view.ts';
import { fetchMarkedPeriods, type MarkedPeriod } from './api.ts';
import { showCardEvents } from './event-marks.ts';
import { browserTimeZone, weekComparisonQuery } from './week.ts';

const POLL_MS = 10_000;
const NO_ZONES_RETRY_MS = 30_000;
const RETRY_BACKOFF_MS = [2_000, 5_000, 10_000, 20_000, 30_000];
/** How often windows slide forward (and, for hourly views, how often they are refetched while live). */
const TICK_MS = 15_000;
const HOURLY_REFRESH_MS = 60_000;
/** Site series are sums over zones, so live zone minutes are not merged in: they are refetched this often. */
const SITE_REFRESH_MS = 60_000;
/** The week comparison and the heatmap change slowly: refetched this often (and when the radio changes). */
const DETAILS_REFRESH_MS = 10 * 60_000;
/** After a failed comparison or heatmap, how long until it is asked for again. */
const DETAILS_RETRY_MS = 60_000;
const PROFILE_WEEKS = 4;
const PRIVACY_REFRESH_MS = 5 * 60_000;
const SENSORS_REFRESH_MS = 30_000;
/** After the browser gives up on the event stream, how long until it is opened again. */
const LIVE_REOPEN_MS = 30_000;
/** After an open event stream breaks, how long until the API is asked again. */
const STREAM_LOST_REFRESH_MS = 1_000;
const STORAGE_KEY = 'passant.lang';

type LiveState = 'connecting' | 'live' | 'polling' | 'down' | 'locked';
const TABS = ['overview', 'compare', 'privacy', 'sensors', 'tokens'] as const;
type Tab = (typeof TABS)[number];

const state = {
  lang: 'en' as Lang,
  locale: 'en-GB',
  /** The period shown (a preset or a custom range of local dates) and the unit the reader chose for its totals. */
  period: { id: '2h' } as Period,
  unit: null as TotalUnit | null,
  radio: 'wifi' as Radio,
  /** 'all' or a site id: which site's cards are shown. */
  site: 'all',
  tab: 'overview' as Tab,
  /** The reader's time zone for the heatmap (UTC when the server does not know the browser's). */
  tz: browserTimeZone(),
  token: null as string | null,
  me: null as Me | null,
  zones: [] as ZoneInfo[],
  sites: [] as SiteInfo[],
  locked: false,
  live: 'connecting' as LiveState,
  feed: null as LiveFeed | null,
  feedOpen: false,
  /** Resolved when the event stream being opened by a load opens or fails (the load waits before its series). */
  feedSettled: null as Promise<void> | null,
  views: [] as SeriesCard[],
  /** Counts refreshes: an answer to an older one is dropped. */
  refreshGeneration: 0,
  refreshTimer: 0,
  reopenTimer: 0,
  failures: 0,
  lastLoadMs: 0,
  lastUpdateMs: 0,
  banner: null as Banner | null,
  liveEvents: 0,
  privacyLoadedMs: 0,
  privacyGeneration: 0,
  sensorsTimer: 0,
  sensorsGeneration: 0,
};

const params = new URLSearchParams(location.search);

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

const privacyPage = new PrivacyPage(tr());
const sensorsPage = new SensorsPage(tr());
const tokensPage = new TokensPage(tr());
// any two periods compared (#compare); its choice lives in the URL beside the overview's
const comparePage = new ComparePage(tr(), compareStateFromQuery(params), {
  radio: () => state.radio,
  changed: (choice) => {
    const url = new URL(location.href);
    compareStateToQuery(choice, url.searchParams);
    history.replaceState(null, '', url);
  },
});
// events (marked periods): bands and a list on the overview's charts, each one click away on the compare page
let markedPeriods: MarkedPeriod[] = [];
function openCompare(choice: CompareState): void {
  comparePage.open(choice);
  location.hash = 'compare';
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
const ui = buildShell();

function segmented<V extends string>(name: string, values: readonly V[], onPick: (value: V) => void) {
  const legend = el('legend');
  const inputs = new Map<V, { input: HTMLInputElement; label: HTMLElement }>();
  const set = el('fieldset', { class: 'segmented' }, [legend]);
  for (const value of values) {
    const id = `${name}-${value}`;
    const input = el('input', { attrs: { type: 'radio', name, value, id } });
    const text = el('span');
    input.addEventListener('change', () => input.checked && onPick(value));
    set.append(el('label', { attrs: { for: id } }, [input, text]));
    inputs.set(value, { input, label: text });
  }
  return { set, legend, inputs };
}

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
  const accountRole = el('span', { class: 'account-role' });
  const signInButton = el('button', { class: 'button account-signin', attrs: { type: 'button' } });
  signInButton.addEventListener('click', () => (signIn.isOpen && !state.locked ? signIn.close() : signIn.open({ needed: state.locked })));
  const signOutButton = el('button', { class: 'button account-signout', attrs: { type: 'button', hidden: '' } });
  signOutButton.addEventListener('click', () => signOut(null));
  const account = el('div', { class: 'account' }, [accountRole, signInButton, signOutButton]);
  const header = el('header', { class: 'page-header' }, [
    el('div', { class: 'brand' }, [title, motto]),
    el('div', { class: 'header-side' }, [status, account, langGroup]),
  ]);

  const tabLinks = new Map<Tab, HTMLAnchorElement>();
  const nav = el('nav', { class: 'tabs' });
  for (const tab of TABS) {
    const link = el('a', { class: 'tab', attrs: { href: `#${tab}`, 'data-tab': tab } });
    tabLinks.set(tab, link);
    nav.append(link);
  }

  const periods = new PeriodControls(tr(), { period: setPeriod, unit: setUnit });
  const radio = segmented('radio', ['wifi', 'ble'] as const, setRadio);
  const siteLegend = el('legend');
  const siteSet = el('fieldset', { class: 'segmented site-choice', attrs: { hidden: '' } }, [siteLegend]);
  const radioNote = el('p', { class: 'note' });
  const controls = el('section', { class: 'controls' }, [periods.root, radio.set, siteSet, radioNote]);

  const bannerText = el('span');
  const retryButton = el('button', { class: 'retry', attrs: { type: 'button' } });
  retryButton.addEventListener('click', () => void refresh());
  const banner = el('div', { class: 'banner', attrs: { role: 'status', hidden: '' } }, [bannerText, retryButton]);
  const cards = el('div', { class: 'zones cards', attrs: { 'aria-live': 'off' } });
  const pages: Record<Tab, HTMLElement> = {
    overview: el('section', { class: 'tab-page', attrs: { id: 'page-overview', 'data-page': 'overview' } }, [controls, banner, cards]),
    compare: el('section', { class: 'tab-page', attrs: { id: 'page-compare', 'data-page': 'compare', hidden: '' } }, [comparePage.root]),
    privacy: el('section', { class: 'tab-page', attrs: { id: 'page-privacy', 'data-page': 'privacy', hidden: '' } }, [privacyPage.root]),
    sensors: el('section', { class: 'tab-page', attrs: { id: 'page-sensors', 'data-page': 'sensors', hidden: '' } }, [sensorsPage.root]),
    tokens: el('section', { class: 'tab-page', attrs: { id: 'page-tokens', 'data-page': 'tokens', hidden: '' } }, [tokensPage.root]),
  };
  const main = el('main', { class: 'page-main' }, [invitation.root, signIn.root, pages.overview, pages.compare, pages.privacy, pages.sensors, pages.tokens]);

  const footerText = el('p');
  const footer = el('footer', { class: 'page-footer' }, [footerText]);
  const root = el('div', { class: 'page' }, [header, nav, main, footer]);
  document.getElementById('app')?.replaceWith(root);
  if (!root.isConnected) document.body.append(root);
  return {
    title, motto, status, statusText, langGroup, langButtons, accountRole, signInButton, signOutButton, nav, tabLinks,
    periods, radioLegend: radio.legend, radioInputs: radio.inputs,
    siteSet, siteLegend, siteInputs: new Map<string, { input: HTMLInputElement; label: HTMLElement }>(),
    radioNote, controls, banner, bannerText, retryButton, cards, pages, footerText,
  };
}

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
  privacyPage.setTranslator(translation);
  comparePage.setTranslator(translation);
  sensorsPage.setTranslator(translation);
  tokensPage.setTranslator(translation);
  invitation.setTranslator(translation);
  renderAccount();
  renderStatus();
  renderBanner();
}

function renderStatus(): void {
  const key: Record<LiveState, MessageKey> = {
    connecting: 'statusConnecting',
    live: 'statusLive',
    polling: 'statusPolling',
    down: 'statusDown',
    locked: 'statusLocked',
  };
  let text = t(key[state.live]);
  if (state.lastUpdateMs > 0 && state.live !== 'connecting' && state.live !== 'locked') {
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

/** The account corner: the sign-in button, or the role (and token name) from /api/v1/me and a sign-out button. */
function renderAccount(): void {
  const me = state.me;
  const signedIn = state.token !== null && me !== null;
  const roleKeys: Record<Me['role'], MessageKey> = { public: 'rolePublic', viewer: 'roleViewer', admin: 'roleAdmin', privacy: 'rolePrivacy' };
  ui.accountRole.hidden = !signedIn;
  ui.accountRole.dataset.role = me?.role ?? '';
  ui.accountRole.textContent = signedIn
    ? me.name
      ? t('signedInAsNamed', { role: t(roleKeys[me.role]), name: me.name })
      : t('signedInAs', { role: t(roleKeys[me.role]) })
    : '';
  ui.accountRole.title = ui.accountRole.textContent;
  ui.signInButton.hidden = signedIn || state.locked; // while locked, the sign-in panel itself is open
  ui.signInButton.textContent = t('signIn');
  ui.signOutButton.hidden = !signedIn;
  ui.signOutButton.textContent = t('signOut');
  ui.tabLinks.get('sensors')!.hidden = !(me?.health ?? false);
  ui.tabLinks.get('tokens')!.hidden = !(me?.admin ?? false);
}

interface Banner {
  key: MessageKey;
  values?: Record<string, string | number>;
  /** A problem gets a retry button. */
  kind: 'info' | 'problem';
}

/** Shows a message above the cards, or hides it (null); kept so a language switch can translate it. */
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
  storeLang(lang);
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

/** The site choice: "All" and one option per readable site; hidden when there are none. */
function renderSiteChoice(): void {
  const wanted = ['all', ...state.sites.map((s) => s.id)];
  const have = [...ui.siteInputs.keys()];
  if (wanted.join('\n') !== have.join('\n')) {
    for (const label of ui.siteSet.querySelectorAll('label')) label.remove();
    ui.siteInputs.clear();
    for (const id of wanted) {
      const input = el('input', { attrs: { type: 'radio', name: 'site', value: id, id: `site-${id}` } });
      const text = el('span');
      input.addEventListener('change', () => input.checked && setSite(id));
      ui.siteSet.append(el('label', { attrs: { for: `site-${id}`, 'data-site': id } }, [input, text]));
      ui.siteInputs.set(id, { input, label: text });
    }
  }
  for (const [id, { input, label }] of ui.siteInputs) {
    label.textContent = id === 'all' ? t('siteAll') : (state.sites.find((s) => s.id === id)?.name ?? id);
    input.checked = id === state.site;
  }
  ui.siteSet.hidden = state.sites.length === 0;
}

// ---- tabs ------------------------------------------------------------------------------------------------------

function tabFromHash(): Tab {
  const hash = location.hash.replace(/^#/, '');
  if (hash === 'privacy') return 'privacy';
  if (hash === 'compare') return 'compare';
  if (hash === 'sensors' && state.me?.health) return 'sensors';
  if (hash === 'tokens' && state.me?.admin) return 'tokens';
  return 'overview';
}

function route(): void {
  const tab = tabFromHash();
  state.tab = tab;
  for (const [name, page] of Object.entries(ui.pages) as [Tab, HTMLElement][]) page.hidden = name !== tab;
  for (const [name, link] of ui.tabLinks) {
    if (name === tab) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  clearTimeout(state.sensorsTimer);
  state.sensorsTimer = 0;
  comparePage.setVisible(tab === 'compare');
  if (tab === 'privacy' && (state.privacyLoadedMs === 0 || Date.now() - state.privacyLoadedMs > PRIVACY_REFRESH_MS)) void loadPrivacy();
  if (tab === 'sensors') void loadSensors();
  if (tab === 'tokens') void tokensPage.load();
}

async function loadPrivacy(): Promise<void> {
  const generation = ++state.privacyGeneration;
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
  privacyPage.reset();
  sensorsPage.reset();
  tokensPage.reset();
  clearViews();
  closeLive();
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
  closeLive();
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

function viewKey(target: Target): string {
  return `${target.kind}:${target.id}`;
}

function clearViews(): void {
  for (const view of state.views) view.destroy();
  state.views = [];
}

/** The cards to show: the chosen site (or every site) first, then its zones (or every zone). */
function wantedTargets(): { target: Target; name: string }[] {
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
function syncViews(): void {
  const byKey = new Map(state.views.map((v) => [viewKey(v.target), v]));
  const settings = cardSettings();
  const next: SeriesCard[] = [];
  for (const { target, name } of wantedTargets()) {
    const key = viewKey(target);
    const view = byKey.get(key) ?? new SeriesCard(ui.cards, target, name, settings, currentWindow());
    byKey.delete(key);
    view.setName(name);
    if (target.kind === 'site') {
      const site = state.sites.find((s) => s.id === target.id);
      view.setSiteZones((site?.zones ?? []).map((id) => state.zones.find((z) => z.id === id)?.name ?? id));
    }
    next.push(view);
  }
  for (const gone of byKey.values()) gone.destroy();
  for (const view of next) ui.cards.append(view.root); // append moves: the DOM order follows the wanted order
  state.views = next;
  for (const view of next) view.render();
}

/** Every card again with the current language and choices (`remakeCharts` after a language switch). */
function updateCards(remakeCharts = false): void {
  const settings = cardSettings();
  for (const view of state.views) view.setSettings(settings, remakeCharts);
}

// ---- loading ---------------------------------------------------------------------------------------------------

/** Loads one card's series for the current choice; returns false when the server could not be reached. */
async function loadSeries(view: SeriesCard, generation: number, prefetched?: Prefetched): Promise<boolean> {
  const win = prefetched?.win ?? currentWindow();
  const radio = prefetched?.radio ?? state.radio;
  try {
    const raw = await (prefetched?.series.get(viewKey(view.target)) ?? fetchSeries(view.target, { from: win.from, to: win.to, step: win.step, radio }));
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
    if (estimate?.info.calibrationId && view.calibration?.id !== estimate.info.calibrationId) void loadCalibration(view, estimate.info.calibrationId);
    return true;
  } catch (err) {
    if (generation !== state.refreshGeneration) return true;
    const unreachable = err instanceof ApiError && err.status === 0;
    if (!unreachable) {
      view.showError(t('zoneError', { message: messageOf(err) }));
    }
    return !unreachable;
  }
}

/**
 * The stored calibration behind a zone's estimate (its date and the counts it was fitted from), for the readers who
 * may read calibrations (admins, privacy officers); others see what the series says.
 */
async function loadCalibration(view: SeriesCard, id: string): Promise<void> {
  const me = state.me;
  if (view.target.kind !== 'zone' || me === null || !(me.admin || me.role === 'privacy')) return;
  view.setCalibration({ id, created: null, points: null }); // asked once per calibration, whatever the answer
  try {
    const found = (await fetchCalibrations(view.target.id)).find((c) => c.id === id);
    if (found && state.views.includes(view)) view.setCalibration({ id, created: found.created, points: found.pointsUsed });
  } catch {
    // Only the date and counts are missing then; the estimate itself came with the series.
  }
}

/** Series asked for before their cards were built (the cards take a while to build: the answers arrive meanwhile). */
interface Prefetched {
  win: TimeWindow;
  radio: Radio;
  series: Map<string, Promise<Series>>;
}

function prefetchSeries(): Prefetched {
  const win = currentWindow();
  const radio = state.radio;
  const series = new Map<string, Promise<Series>>();
  for (const { target } of wantedTargets()) {
    const request = fetchSeries(target, { from: win.from, to: win.to, step: win.step, radio });
    request.catch(() => {}); // handled by loadSeries; a card that is not built after all drops it
    series.set(viewKey(target), request);
  }
  return { win, radio, series };
}

/** Loads every card's series; returns false when the server could not be reached. */
async function loadAllSeries(generation: number, prefetched?: Prefetched): Promise<boolean> {
  const results = await Promise.all(state.views.map((view) => loadSeries(view, generation, prefetched)));
  state.lastLoadMs = Date.now();
  const ok = results.every(Boolean);
  if (ok) state.lastUpdateMs = Date.now();
  return ok;
}

/** The comparison and the heatmap of a card, when the radio changed or they are due. */
async function loadDetails(view: SeriesCard): Promise<void> {
  const radio = state.radio;
  const generation = ++view.detailsGeneration;
  view.detailsRadio = radio;
  view.detailsDueMs = Date.now() + DETAILS_REFRESH_MS;
  const query = weekComparisonQuery(Date.now() / 1000, radio);
  const profile = async () => {
    try {
      return await fetchProfile(view.target, { weeks: PROFILE_WEEKS, radio, tz: state.tz });
    } catch (err) {
      // A browser time zone the server does not know: the heatmap is shown in UTC instead (and says so).
      if (!(err instanceof ApiError && err.code === 'invalid_time_zone') || state.tz === 'UTC') throw err;
      state.tz = 'UTC';
      return fetchProfile(view.target, { weeks: PROFILE_WEEKS, radio, tz: state.tz });
    }
  };
  const [comparison, heat] = await Promise.allSettled([query ? fetchComparison(view.target, query) : Promise.resolve(null), profile()]);
  if (generation !== view.detailsGeneration || !state.views.includes(view)) return;
  if (comparison.status === 'fulfilled') {
    if (comparison.value === null) view.comparison.showTooEarly();
    else view.comparison.update(comparison.value);
  } else {
    view.comparison.showError(messageOf(comparison.reason));
    view.detailsDueMs = Date.now() + DETAILS_RETRY_MS;
  }
  if (heat.status === 'fulfilled') view.heatmap.update(heat.value);
  else {
    view.heatmap.showError(messageOf(heat.reason));
    view.detailsDueMs = Date.now() + DETAILS_RETRY_MS;
  }
}

function loadDueDetails(): void {
  for (const view of state.views) {
    if (view.detailsRadio !== state.radio || Date.now() >= view.detailsDueMs) void loadDetails(view);
  }
}

function anyOf(scope: 'all' | string[]): boolean {
  return scope === 'all' || scope.length > 0;
}

/** Who am I, the zones and sites, then every series; then decides when to look again (never while live). */
async function refresh(): Promise<void> {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = 0;
  const generation = ++state.refreshGeneration;
  let zones: ZoneInfo[];
  let sites: SiteInfo[];
  try {
    if (state.me === null) {
      const me = await fetchMe();
      if (generation !== state.refreshGeneration) return;
      state.me = me;
      state.privacyLoadedMs = 0; // the audit part depends on who this is
      renderAccount();
      route();
    }
    const me = state.me;
    if (me.role === 'public' && !anyOf(me.zones) && !anyOf(me.sites)) {
      lock();
      return;
    }
    // The event stream opens while the zones and sites are asked for (a reader who may read counts).
    if (anyOf(me.zones) || anyOf(me.sites)) ensureLive();
    [zones, sites] = await Promise.all([
      anyOf(me.zones) ? fetchZones() : Promise.resolve([]),
      anyOf(me.sites) ? fetchSites() : Promise.resolve([]),
    ]);
  } catch (err) {
    if (generation !== state.refreshGeneration) return;
    if (isInvalidToken(err)) return; // onTokenRefused signs out and starts again
    if (needsToken(err) && state.token === null) {
      lock();
      return;
    }
    failed(err);
    return;
  }
  if (generation !== state.refreshGeneration) return;
  unlock();
  state.zones = zones;
  state.sites = sites;
  comparePage.setTargets(zones, sites);
  sensorsPage.setZoneNames(new Map(zones.map((z) => [z.id, z.name])));
  if (state.me?.admin) tokensPage.setTargets(zones, sites);
  renderSiteChoice();
  // The stream is open (or failed, or took too long) before the series are asked for, so no minute released in
  // between is missed, and its opening needs no second load (each resource is fetched once per load). The series
  // are asked for before the cards are built: building them takes a while, the answers arrive meanwhile.
  if (state.feedSettled !== null) await state.feedSettled;
  if (generation !== state.refreshGeneration) return;
  const prefetched = prefetchSeries();
  const eventsLoad = fetchMarkedPeriods().catch(() => [] as MarkedPeriod[]); // no events database: no events
  syncViews();
  if (state.views.length === 0) {
    state.failures = 0;
    state.lastUpdateMs = Date.now();
    const key: MessageKey = state.token === null ? 'noZones' : state.me?.role === 'privacy' ? 'noCountsForPrivacy' : 'noAccessZones';
    showBanner({ key, kind: 'info' });
    setLive(state.feedOpen ? 'live' : 'polling');
    schedule(NO_ZONES_RETRY_MS);
    return;
  }
  ensureLive();
  const ok = await loadAllSeries(generation, prefetched);
  if (generation !== state.refreshGeneration) return; // a newer refresh (a new choice, the stream reopening) took over
  markedPeriods = await eventsLoad;
  if (generation !== state.refreshGeneration) return;
  comparePage.setEvents(markedPeriods);
  applyEvents();
  if (!ok) {
    failed(new ApiError('unreachable', 0, 'unreachable'));
    return;
  }
  state.failures = 0;
  showBanner(null);
  setLive(state.feedOpen ? 'live' : 'polling');
  loadDueDetails();
  if (!state.feedOpen) schedule(POLL_MS);
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

// ---- live ------------------------------------------------------------------------------------------------------

/** Opens the event stream once there is something to show (a closed stream reopens on its own timer). */
function ensureLive(): void {
  if (state.feed === null && state.reopenTimer === 0) startLive();
}

function closeLive(): void {
  clearTimeout(state.reopenTimer);
  state.reopenTimer = 0;
  state.feed?.close();
  state.feed = null;
  state.feedOpen = false;
  state.feedSettled = null;
}

/** How long a load waits for the event stream to open before it asks for the series anyway (then polls). */
const LIVE_OPEN_WAIT_MS = 3_000;

function startLive(): void {
  if (typeof EventSource === 'undefined') return; // polling only
  closeLive();
  let settle = () => {};
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const timer = window.setTimeout(settle, LIVE_OPEN_WAIT_MS);
  state.feedSettled = settled;
  // A load waiting on `settled` fetches the series after the first opening; any later opening (a reconnect, or
  // an opening after the load stopped waiting) may have missed minutes and loads again.
  let waited = false;
  void settled.then(() => {
    clearTimeout(timer);
    waited = true;
    if (state.feedSettled === settled) state.feedSettled = null;
  });
  state.feed = openLiveFeed({
    onOpen: () => {
      state.feedOpen = true;
      if (!waited) {
        settle();
        return;
      }
      void refresh(); // catches up on anything missed while the stream was away, and stops polling
    },
    onError: (closed) => {
      settle();
      const wasOpen = state.feedOpen;
      state.feedOpen = false;
      if (state.live === 'live') setLive('polling');
      // Look soon: either the server went away (the page should say so) or only the stream broke (polling
      // takes over). When the stream never opened, the refresh under way schedules the next poll itself.
      if (wasOpen) schedule(STREAM_LOST_REFRESH_MS);
      if (closed) {
        state.feed?.close();
        state.feed = null;
        state.reopenTimer = window.setTimeout(() => {
          state.reopenTimer = 0;
          if (!state.locked) startLive();
        }, LIVE_REOPEN_MS);
      }
    },
    onEvent: onLiveEvent,
  });
}

function onLiveEvent(event: LiveEvent): void {
  if (event.radio !== state.radio) return;
  const view = state.views.find((v) => v.target.kind === 'zone' && v.target.id === event.zoneId);
  if (view === undefined) return;
  const current = currentWindow();
  if (current.step !== 60) return; // hourly views are refetched each minute instead (a minute event cannot be summed in twice)
  if (!view.loaded) {
    view.pendingLive.push(event); // its series is on its way: merged in when it arrives
    return;
  }
  const win = isSliding(state.period.id) ? windowAt(Math.max(Date.now() / 1000, event.t + 1), RANGES[state.period.id]) : current;
  view.show(keepNoise(densify(mergeBucket(view.series, event, 60), win), view.series), win);
  state.liveEvents++;
  ui.status.dataset.liveEvents = String(state.liveEvents); // how many minutes arrived live (tests, debugging)
  state.lastUpdateMs = Date.now();
  renderStatus();
}

/** `next` with the noise note of `previous` (reshaping a series keeps what its values carry). */
function keepNoise(next: Series, previous: Series): Series {
  return previous.noise ? { ...next, noise: previous.noise } : next;
}

/** Slides every window forward with the clock; while live, refetches hourly views and sites once a minute. */
function tick(): void {
  if (state.locked) return;
  if (state.feedOpen && currentWindow().step !== 60 && Date.now() - state.lastLoadMs >= HOURLY_REFRESH_MS) {
    void refresh();
    return;
  }
  const win = currentWindow();
  for (const view of state.views) {
    if (!view.loaded || view.window.step !== win.step) continue;
    // Live minutes carry no estimate: a card that shows one is refetched once a minute, like a site.
    const refetched = view.target.kind === 'site' || (view.estimate?.byT.size ?? 0) > 0;
    if (state.feedOpen && refetched && Date.now() - view.lastLoadMs >= SITE_REFRESH_MS) {
      void loadSeries(view, state.refreshGeneration);
      continue;
    }
    if (view.window.from !== win.from || view.window.to !== win.to) view.show(keepNoise(densify(view.series, win), view.series), win);
  }
  if (state.feedOpen) loadDueDetails();
}

// ---- start -----------------------------------------------------------------------------------------------------

function start(): void {
  state.lang = pickLang({ query: params.get('lang'), stored: storedLang(), navigatorLanguage: navigator.language });
  state.locale = intlLocale(state.lang, navigator.language);
  state.period = periodFromQuery(params) ?? state.period;
  const unit = params.get('per');
  if (isTotalUnit(unit)) state.unit = unit;
  const radio = params.get('radio');
  if (isRadio(radio)) state.radio = radio;
  const site = params.get('site');
  if (site !== null && /^[a-z0-9][a-z0-9-]{0,63}$/.test(site)) state.site = site;
  if (isLang(params.get('lang'))) storeLang(state.lang);
  state.token = loadToken();
  useToken(state.token, state.token === null ? null : onTokenRefused);
  applyTexts();
  takeInvitation();
  route();
  window.addEventListener('hashchange', () => {
    takeInvitation();
    route();
  });
  showBanner({ key: 'loading', kind: 'info' });
  void refresh();
  window.setInterval(tick, TICK_MS);
}

start();
