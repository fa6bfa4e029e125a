/**
 * The page shell: the header (title, motto, live status, account corner, language switch), the tabs, the overview's
 * controls (period, radio, site), the banner above the cards, the tab pages and the footer. `buildShell` makes the
 * elements once; the render functions write what the state says into them (and again after a language switch).
 */
import type { Me, Radio } from './api.ts';
import { el } from './dom.ts';
import { translate, type Lang, type MessageKey } from './i18n.ts';
import { PeriodControls } from './period-controls.ts';
import type { Period } from './periods.ts';
import { TABS, type LiveState, type PageState, type Tab } from './state.ts';
import type { TotalUnit } from './totals.ts';
import { dateFormat } from './intl-cache.ts';

const STORAGE_KEY = 'passant.lang';

export function storedLang(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the choice lasts for this page only
  }
}

export function storeLang(lang: Lang): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // storage disabled
  }
}

/** What the shell's controls do when used. */
export interface ShellActions {
  setLang(lang: Lang): void;
  setPeriod(period: Period): void;
  setUnit(unit: TotalUnit): void;
  setRadio(radio: Radio): void;
  toggleSignIn(): void;
  signOut(): void;
  retry(): void;
}

/** The pages and panels the shell holds (made by the page). */
export interface ShellParts {
  periods: ConstructorParameters<typeof PeriodControls>[0];
  invitation: HTMLElement;
  signIn: HTMLElement;
  compare: HTMLElement;
  privacy: HTMLElement;
  sensors: HTMLElement;
  tokens: HTMLElement;
}

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

export type ShellUi = ReturnType<typeof buildShell>;

/** Makes the page's elements and puts them in place of `#app` (or at the end of the body). */
export function buildShell(parts: ShellParts, actions: ShellActions) {
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
    button.addEventListener('click', () => actions.setLang(lang));
    langButtons.set(lang, button);
    langGroup.append(button);
  }
  const accountRole = el('span', { class: 'account-role' });
  const signInButton = el('button', { class: 'button account-signin', attrs: { type: 'button' } });
  signInButton.addEventListener('click', () => actions.toggleSignIn());
  const signOutButton = el('button', { class: 'button account-signout', attrs: { type: 'button', hidden: '' } });
  signOutButton.addEventListener('click', () => actions.signOut());
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

  const periods = new PeriodControls(parts.periods, { period: actions.setPeriod, unit: actions.setUnit });
  const radio = segmented('radio', ['wifi', 'ble'] as const, actions.setRadio);
  const siteLegend = el('legend');
  const siteSet = el('fieldset', { class: 'segmented site-choice', attrs: { hidden: '' } }, [siteLegend]);
  const radioNote = el('p', { class: 'note' });
  const controls = el('section', { class: 'controls' }, [periods.root, radio.set, siteSet, radioNote]);

  const bannerText = el('span');
  const retryButton = el('button', { class: 'retry', attrs: { type: 'button' } });
  retryButton.addEventListener('click', () => actions.retry());
  const banner = el('div', { class: 'banner', attrs: { role: 'status', hidden: '' } }, [bannerText, retryButton]);
  const cards = el('div', { class: 'zones cards', attrs: { 'aria-live': 'off' } });
  const page = (tab: Tab, children: HTMLElement[]) =>
    el('section', { class: 'tab-page', attrs: { id: `page-${tab}`, 'data-page': tab, ...(tab === 'overview' ? {} : { hidden: '' }) } }, children);
  const pages: Record<Tab, HTMLElement> = {
    overview: page('overview', [controls, banner, cards]),
    compare: page('compare', [parts.compare]),
    privacy: page('privacy', [parts.privacy]),
    sensors: page('sensors', [parts.sensors]),
    tokens: page('tokens', [parts.tokens]),
  };
  const main = el('main', { class: 'page-main' }, [parts.invitation, parts.signIn, pages.overview, pages.compare, pages.privacy, pages.sensors, pages.tokens]);

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

export function renderStatus(ui: ShellUi, state: PageState): void {
  const t = (key: MessageKey, values?: Record<string, string | number>) => translate(state.lang, key, values);
  const key: Record<LiveState, MessageKey> = {
    connecting: 'statusConnecting',
    live: 'statusLive',
    polling: 'statusPolling',
    down: 'statusDown',
    locked: 'statusLocked',
  };
  let text = t(key[state.live]);
  if (state.lastUpdateMs > 0 && state.live !== 'connecting' && state.live !== 'locked') {
    const time = dateFormat(state.locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    text += ` · ${t('updatedAt', { time: time.format(new Date(state.lastUpdateMs)) })}`;
  }
  ui.status.dataset.state = state.live;
  ui.statusText.textContent = text;
}

/** The account corner: the sign-in button, or the role (and token name) from /api/v1/me and a sign-out button. */
export function renderAccount(ui: ShellUi, state: PageState): void {
  const t = (key: MessageKey, values?: Record<string, string | number>) => translate(state.lang, key, values);
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

export function renderBanner(ui: ShellUi, state: PageState): void {
  const banner = state.banner;
  ui.banner.hidden = banner === null;
  ui.banner.dataset.kind = banner?.kind ?? 'info';
  ui.bannerText.textContent = banner === null ? '' : translate(state.lang, banner.key, banner.values);
  ui.retryButton.hidden = banner?.kind !== 'problem';
}

/** The site choice: "All" and one option per readable site; hidden when there are none. */
export function renderSiteChoice(ui: ShellUi, state: PageState, pick: (site: string) => void): void {
  const wanted = ['all', ...state.sites.map((s) => s.id)];
  const have = [...ui.siteInputs.keys()];
  if (wanted.join('\n') !== have.join('\n')) {
    for (const label of ui.siteSet.querySelectorAll('label')) label.remove();
    ui.siteInputs.clear();
    for (const id of wanted) {
      const input = el('input', { attrs: { type: 'radio', name: 'site', value: id, id: `site-${id}` } });
      const text = el('span');
      input.addEventListener('change', () => input.checked && pick(id));
      ui.siteSet.append(el('label', { attrs: { for: `site-${id}`, 'data-site': id } }, [input, text]));
      ui.siteInputs.set(id, { input, label: text });
    }
  }
  for (const [id, { input, label }] of ui.siteInputs) {
    label.textContent = id === 'all' ? translate(state.lang, 'siteAll') : (state.sites.find((s) => s.id === id)?.name ?? id);
    input.checked = id === state.site;
  }
  ui.siteSet.hidden = state.sites.length === 0;
}

/** The tab the URL's hash asks for, among those the reader may open. */
export function tabFromHash(hash: string, me: Me | null): Tab {
  const name = hash.replace(/^#/, '');
  if (name === 'privacy') return 'privacy';
  if (name === 'compare') return 'compare';
  if (name === 'sensors' && me?.health) return 'sensors';
  if (name === 'tokens' && me?.admin) return 'tokens';
  return 'overview';
}

/** Shows one tab page and marks its link as the current page. */
export function showTab(ui: ShellUi, tab: Tab): void {
  for (const [name, page] of Object.entries(ui.pages) as [Tab, HTMLElement][]) page.hidden = name !== tab;
  for (const [name, link] of ui.tabLinks) {
    if (name === tab) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}
