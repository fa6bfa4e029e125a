/**
 * Tokens and invitations (`#tokens`, admin tokens only), on `GET/POST /api/v1/tokens`, `DELETE /api/v1/tokens/{id}`
 * and `GET/POST /api/v1/invitations`:
 *
 * - every token with its role, what it reads, when it was made, last used, until when it is valid and whether it
 *   was revoked; a token is revoked only after a second, explicit click;
 * - a new token (role, name, zones, sites or owner labels for a viewer, an optional last day): its secret is shown
 *   once, in a read-only field with a copy button, and forgotten when hidden or when the reader signs out;
 * - a new invitation (zones, sites or owner labels, name, days valid): its link, the dashboard's address with the
 *   code in the fragment (`#invite=inv_...`, so it never reaches a server's log), shown once with a copy button;
 * - every invitation: open, used (when) or expired.
 *
 * Neither a secret nor a code is written anywhere but that one field: not the URL, the console or storage.
 */
import './tokens.css';
import {
  ApiError,
  TOKEN_ROLES,
  createInvitation,
  createToken,
  fetchInvitations,
  fetchTokens,
  needsToken,
  revokeToken,
  type InvitationInfo,
  type SiteInfo,
  type TokenListItem,
  type TokenRole,
  type ZoneInfo,
} from './api.ts';
import { el } from './dom.ts';
import type { MessageKey, Translator } from './i18n.ts';

const ROLE_KEYS: Record<TokenRole, MessageKey> = { viewer: 'roleViewer', admin: 'roleAdmin', privacy: 'rolePrivacy' };
const DEFAULT_DAYS = 7;
const MAX_DAYS = 30;

type Message = { key: MessageKey; values?: Record<string, string | number>; kind: 'info' | 'problem' } | null;

/** The invitation link: this dashboard's address with the code in the fragment, which browsers never send. */
export function invitationLink(pageUrl: string, code: string): string {
  const url = new URL(pageUrl);
  url.search = '';
  url.hash = `invite=${code}`;
  return url.href;
}

/** Owner labels typed as a comma-separated list: trimmed, empty ones dropped, each once. */
export function ownerLabels(raw: string): string[] {
  return [...new Set(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
}

/** The first second after the local day `YYYY-MM-DD` (a token valid "until" that day is refused from then), or null. */
export function endOfLocalDay(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const next = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1);
  return Number.isNaN(next.getTime()) ? null : Math.floor(next.getTime() / 1000);
}

/** Copies `input`'s text: the clipboard API, else the selection and the old copy command. */
async function copyFrom(input: HTMLInputElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(input.value);
    return true;
  } catch {
    input.focus();
    input.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/** A list of checkboxes (zones or sites) under a legend; keeps what was ticked when the list changes. */
class CheckList {
  readonly root: HTMLFieldSetElement;
  private readonly legend: HTMLLegendElement;
  private readonly box: HTMLElement;
  private inputs = new Map<string, HTMLInputElement>();

  constructor(private readonly prefix: string) {
    this.legend = el('legend');
    this.box = el('div', { class: 'check-list' });
    this.root = el('fieldset', { class: 'tok-checks', attrs: { 'data-list': prefix } }, [this.legend, this.box]);
  }

  setLegend(text: string): void {
    this.legend.textContent = text;
  }

  setItems(items: { id: string; name: string }[]): void {
    const checked = new Set(this.checked());
    this.box.replaceChildren();
    this.inputs.clear();
    for (const item of items) {
      const id = `${this.prefix}-${item.id}`;
      const input = el('input', { attrs: { type: 'checkbox', id, value: item.id, name: this.prefix } });
      input.checked = checked.has(item.id);
      this.inputs.set(item.id, input);
      this.box.append(el('label', { class: 'check', attrs: { for: id } }, [input, el('span', { text: item.name })]));
    }
    this.root.hidden = items.length === 0;
  }

  checked(): string[] {
    return [...this.inputs].filter(([, input]) => input.checked).map(([id]) => id);
  }

  clear(): void {
    for (const input of this.inputs.values()) input.checked = false;
  }
}

/** A field shown once (a token's secret, an invitation link), with a copy button and a button that hides it. */
class OnceBox {
  readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly note: HTMLElement;
  private readonly label: HTMLLabelElement;
  readonly input: HTMLInputElement;
  private readonly copyButton: HTMLButtonElement;
  private readonly doneButton: HTMLButtonElement;
  private readonly copyStatus: HTMLElement;
  private texts: { title: [MessageKey, Record<string, string>]; note: [MessageKey, Record<string, string>] } | null = null;
  private copied: boolean | null = null;

  constructor(
    private tr: Translator,
    private readonly id: string,
    private readonly labelKey: MessageKey,
    private readonly doneKey: MessageKey,
  ) {
    this.title = el('h3', { class: 'once-title', attrs: { id: `${id}-title` } });
    this.note = el('p', { class: 'once-note', attrs: { id: `${id}-note` } });
    this.label = el('label', { class: 'once-label', attrs: { for: `${id}-value` } });
    this.input = el('input', {
      class: 'once-value',
      attrs: { id: `${id}-value`, type: 'text', readonly: '', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `${id}-note` },
    });
    this.copyButton = el('button', { class: 'button button-primary once-copy', attrs: { type: 'button' } });
    this.doneButton = el('button', { class: 'button once-done', attrs: { type: 'button' } });
    this.copyStatus = el('p', { class: 'once-copied', attrs: { role: 'status' } });
    this.copyButton.addEventListener('click', () => void this.copy());
    this.doneButton.addEventListener('click', () => this.hide());
    this.input.addEventListener('focus', () => this.input.select());
    this.root = el('section', { class: 'once', attrs: { id, hidden: '', 'aria-labelledby': `${id}-title` } }, [
      this.title,
      this.note,
      this.label,
      el('div', { class: 'once-row' }, [this.input, this.copyButton, this.doneButton]),
      this.copyStatus,
    ]);
  }

  setTranslator(tr: Translator): void {
    this.tr = tr;
    this.render();
  }

  show(value: string, title: [MessageKey, Record<string, string>], note: [MessageKey, Record<string, string>]): void {
    this.input.value = value;
    this.texts = { title, note };
    this.copied = null;
    this.root.hidden = false;
    this.render();
    this.copyButton.focus();
  }

  /** Forgets the value: it was shown once. */
  hide(): void {
    this.input.value = '';
    this.texts = null;
    this.copied = null;
    this.root.hidden = true;
  }

  private async copy(): Promise<void> {
    this.copied = await copyFrom(this.input);
    this.render();
  }

  private render(): void {
    const { t } = this.tr;
    this.title.textContent = this.texts ? t(this.texts.title[0], this.texts.title[1]) : '';
    this.note.textContent = this.texts ? t(this.texts.note[0], this.texts.note[1]) : '';
    this.label.textContent = t(this.labelKey);
    this.copyButton.textContent = t('copyButton');
    this.doneButton.textContent = t(this.doneKey);
    this.copyStatus.textContent = this.copied === null ? '' : t(this.copied ? 'copyDone' : 'copyFailed');
    this.copyStatus.dataset.copied = this.copied === null ? '' : String(this.copied);
  }
}

export class TokensPage {
  readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly intro: HTMLElement;
  private readonly status: HTMLElement;
  // a new token
  private readonly tokenTitle: HTMLElement;
  private readonly roleLabel: HTMLLabelElement;
  private readonly roleSelect: HTMLSelectElement;
  private readonly tokenNameLabel: HTMLLabelElement;
  private readonly tokenName: HTMLInputElement;
  private readonly tokenScope: HTMLElement;
  private readonly tokenScopeHelp: HTMLElement;
  private readonly tokenZones = new CheckList('token-zone');
  private readonly tokenSites = new CheckList('token-site');
  private readonly tokenOwnersLabel: HTMLLabelElement;
  private readonly tokenOwners: HTMLInputElement;
  private readonly expiresLabel: HTMLLabelElement;
  private readonly expires: HTMLInputElement;
  private readonly tokenSubmit: HTMLButtonElement;
  private readonly tokenMessage: HTMLElement;
  private readonly secret: OnceBox;
  // the token list
  private readonly tokensTitle: HTMLElement;
  private readonly tokensEmpty: HTMLElement;
  private readonly tokenTable: HTMLTableElement;
  private readonly listMessage: HTMLElement;
  // a new invitation
  private readonly inviteTitle: HTMLElement;
  private readonly inviteLead: HTMLElement;
  private readonly inviteNameLabel: HTMLLabelElement;
  private readonly inviteName: HTMLInputElement;
  private readonly inviteZones = new CheckList('invite-zone');
  private readonly inviteSites = new CheckList('invite-site');
  private readonly inviteOwnersLabel: HTMLLabelElement;
  private readonly inviteOwners: HTMLInputElement;
  private readonly daysLabel: HTMLLabelElement;
  private readonly days: HTMLInputElement;
  private readonly inviteSubmit: HTMLButtonElement;
  private readonly inviteMessage: HTMLElement;
  private readonly link: OnceBox;
  // the invitation list
  private readonly invitationsTitle: HTMLElement;
  private readonly invitationsEmpty: HTMLElement;
  private readonly inviteTable: HTMLTableElement;

  private tokens: TokenListItem[] | null = null;
  private invitations: InvitationInfo[] | null = null;
  private zoneNames = new Map<string, string>();
  private siteNames = new Map<string, string>();
  private generation = 0;
  private confirming: string | null = null;
  private messages: { status: Message; token: Message; invite: Message; list: Message } = { status: null, token: null, invite: null, list: null };

  constructor(private tr: Translator) {
    this.title = el('h2', { class: 'panel-title' });
    this.intro = el('p', { class: 'panel-lead' });
    this.status = el('p', { class: 'page-status', attrs: { role: 'status' } });

    this.tokenTitle = el('h3', { class: 'tok-title', attrs: { id: 'token-new-title' } });
    this.roleLabel = el('label', { attrs: { for: 'token-role' } });
    this.roleSelect = el('select', { attrs: { id: 'token-role', name: 'role' } });
    for (const role of TOKEN_ROLES) this.roleSelect.append(el('option', { attrs: { value: role } }));
    this.roleSelect.addEventListener('change', () => this.renderScope());
    this.tokenNameLabel = el('label', { attrs: { for: 'token-name' } });
    this.tokenName = el('input', { attrs: { id: 'token-name', name: 'name', type: 'text', maxlength: '100', autocomplete: 'off' } });
    this.tokenOwnersLabel = el('label', { attrs: { for: 'token-owners' } });
    this.tokenOwners = el('input', { attrs: { id: 'token-owners', name: 'owners', type: 'text', autocomplete: 'off' } });
    this.tokenScopeHelp = el('p', { class: 'tok-help', attrs: { id: 'token-scope-help' } });
    this.tokenScope = el('div', { class: 'tok-scope', attrs: { id: 'token-scope' } }, [
      this.tokenZones.root,
      this.tokenSites.root,
      el('p', { class: 'tok-field' }, [this.tokenOwnersLabel, this.tokenOwners]),
    ]);
    this.expiresLabel = el('label', { attrs: { for: 'token-expires' } });
    this.expires = el('input', { attrs: { id: 'token-expires', name: 'expires', type: 'date' } });
    this.tokenSubmit = el('button', { class: 'button button-primary', attrs: { type: 'submit' } });
    this.tokenMessage = el('p', { class: 'tok-message', attrs: { id: 'token-new-message', role: 'status' } });
    const tokenForm = el('form', { class: 'tok-form', attrs: { id: 'token-form', method: 'post', action: '#', novalidate: '', 'aria-labelledby': 'token-new-title' } }, [
      this.tokenTitle,
      el('div', { class: 'tok-row' }, [
        el('p', { class: 'tok-field' }, [this.roleLabel, this.roleSelect]),
        el('p', { class: 'tok-field tok-grow' }, [this.tokenNameLabel, this.tokenName]),
        el('p', { class: 'tok-field' }, [this.expiresLabel, this.expires]),
      ]),
      this.tokenScopeHelp,
      this.tokenScope,
      el('div', { class: 'tok-actions' }, [this.tokenSubmit]),
      this.tokenMessage,
    ]);
    tokenForm.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submitToken();
    });
    this.secret = new OnceBox(tr, 'token-secret', 'tokenSecretLabel', 'tokenSecretDone');

    this.tokensTitle = el('h3', { class: 'tok-title', attrs: { id: 'token-list-title' } });
    this.tokensEmpty = el('p', { class: 'tok-empty' });
    this.listMessage = el('p', { class: 'tok-message', attrs: { id: 'token-list-message', role: 'status' } });
    this.tokenTable = el('table', { class: 'data-table token-table stack-on-phone', attrs: { 'aria-labelledby': 'token-list-title' } });

    this.inviteTitle = el('h3', { class: 'tok-title', attrs: { id: 'invite-new-title' } });
    this.inviteLead = el('p', { class: 'tok-help' });
    this.inviteNameLabel = el('label', { attrs: { for: 'invite-name' } });
    this.inviteName = el('input', { attrs: { id: 'invite-name', name: 'name', type: 'text', maxlength: '100', autocomplete: 'off' } });
    this.inviteOwnersLabel = el('label', { attrs: { for: 'invite-owners' } });
    this.inviteOwners = el('input', { attrs: { id: 'invite-owners', name: 'owners', type: 'text', autocomplete: 'off' } });
    this.daysLabel = el('label', { attrs: { for: 'invite-days' } });
    this.days = el('input', { attrs: { id: 'invite-days', name: 'days', type: 'number', min: '1', max: String(MAX_DAYS), step: '1', value: String(DEFAULT_DAYS), inputmode: 'numeric' } });
    this.inviteSubmit = el('button', { class: 'button button-primary', attrs: { type: 'submit' } });
    this.inviteMessage = el('p', { class: 'tok-message', attrs: { id: 'invite-message', role: 'status' } });
    const inviteForm = el('form', { class: 'tok-form', attrs: { id: 'invite-form', method: 'post', action: '#', novalidate: '', 'aria-labelledby': 'invite-new-title' } }, [
      this.inviteTitle,
      this.inviteLead,
      el('div', { class: 'tok-row' }, [
        el('p', { class: 'tok-field tok-grow' }, [this.inviteNameLabel, this.inviteName]),
        el('p', { class: 'tok-field' }, [this.daysLabel, this.days]),
      ]),
      el('div', { class: 'tok-scope' }, [this.inviteZones.root, this.inviteSites.root, el('p', { class: 'tok-field' }, [this.inviteOwnersLabel, this.inviteOwners])]),
      el('div', { class: 'tok-actions' }, [this.inviteSubmit]),
      this.inviteMessage,
    ]);
    inviteForm.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submitInvitation();
    });
    this.link = new OnceBox(tr, 'invite-link', 'inviteLinkLabel', 'tokenSecretDone');

    this.invitationsTitle = el('h3', { class: 'tok-title', attrs: { id: 'invite-list-title' } });
    this.invitationsEmpty = el('p', { class: 'tok-empty' });
    this.inviteTable = el('table', { class: 'data-table invite-table stack-on-phone', attrs: { 'aria-labelledby': 'invite-list-title' } });

    this.root = el('section', { class: 'panel tokens' }, [
      this.title,
      this.intro,
      this.status,
      el('div', { class: 'tok-part' }, [tokenForm, this.secret.root]),
      el('div', { class: 'tok-part' }, [this.tokensTitle, this.listMessage, this.tokensEmpty, el('div', { class: 'table-scroll' }, [this.tokenTable])]),
      el('div', { class: 'tok-part' }, [inviteForm, this.link.root]),
      el('div', { class: 'tok-part' }, [this.invitationsTitle, this.invitationsEmpty, el('div', { class: 'table-scroll' }, [this.inviteTable])]),
    ]);
    this.render();
  }

  setTranslator(tr: Translator): void {
    this.tr = tr;
    this.secret.setTranslator(tr);
    this.link.setTranslator(tr);
    this.render();
  }

  /** The zones and sites a token or invitation can be for (an admin reads them all). */
  setTargets(zones: ZoneInfo[], sites: SiteInfo[]): void {
    this.zoneNames = new Map(zones.map((z) => [z.id, z.name]));
    this.siteNames = new Map(sites.map((s) => [s.id, s.name]));
    for (const list of [this.tokenZones, this.inviteZones]) list.setItems(zones);
    for (const list of [this.tokenSites, this.inviteSites]) list.setItems(sites);
    this.render();
  }

  /** Forgets everything shown, a secret or link first (another reader signed in or out). */
  reset(): void {
    this.generation++;
    this.secret.hide();
    this.link.hide();
    this.tokens = null;
    this.invitations = null;
    this.confirming = null;
    this.messages = { status: null, token: null, invite: null, list: null };
    this.tokenName.value = '';
    this.tokenOwners.value = '';
    this.expires.value = '';
    this.inviteName.value = '';
    this.inviteOwners.value = '';
    this.days.value = String(DEFAULT_DAYS);
    for (const list of [this.tokenZones, this.tokenSites, this.inviteZones, this.inviteSites]) list.clear();
    this.render();
  }

  /** Loads both lists. */
  async load(): Promise<void> {
    const generation = ++this.generation;
    if (this.tokens === null) this.messages.status = { key: 'loading', kind: 'info' };
    this.render();
    try {
      const [tokens, invitations] = await Promise.all([fetchTokens(), fetchInvitations()]);
      if (generation !== this.generation) return;
      this.tokens = tokens;
      this.invitations = invitations;
      this.messages.status = null;
    } catch (err) {
      if (generation !== this.generation) return;
      this.messages.status = needsToken(err) ? { key: 'tokensForbidden', kind: 'problem' } : { key: 'tokensError', values: { message: messageOf(err) }, kind: 'problem' };
    }
    this.render();
  }

  private async submitToken(): Promise<void> {
    const role = this.roleSelect.value as TokenRole;
    const name = this.tokenName.value.trim();
    const viewer = role === 'viewer';
    const zones = viewer ? this.tokenZones.checked() : [];
    const sites = viewer ? this.tokenSites.checked() : [];
    const owners = viewer ? ownerLabels(this.tokenOwners.value) : [];
    let expiresAt: number | null = null;
    if (this.expires.value !== '') {
      expiresAt = endOfLocalDay(this.expires.value);
      if (expiresAt === null || expiresAt <= Date.now() / 1000) return this.say('token', { key: 'tokenExpiresPast', kind: 'problem' }, this.expires);
    }
    if (viewer && zones.length + sites.length + owners.length === 0) return this.say('token', { key: 'tokenScopeNeeded', kind: 'problem' }, this.tokenScope.querySelector('input'));
    this.tokenSubmit.disabled = true;
    this.say('token', null);
    try {
      const made = await createToken({ role, name: name === '' ? null : name, zones, sites, owners, expiresAt });
      this.tokenName.value = '';
      this.tokenOwners.value = '';
      this.expires.value = '';
      this.tokenZones.clear();
      this.tokenSites.clear();
      this.link.hide();
      this.secret.show(made.token, ['tokenSecretTitle', { name: made.name ?? this.tr.t('unnamed') }], ['tokenSecretNote', {}]);
      void this.load();
    } catch (err) {
      this.say('token', { key: 'tokenCreateFailed', values: { message: messageOf(err) }, kind: 'problem' });
    } finally {
      this.tokenSubmit.disabled = false;
    }
  }

  private async submitInvitation(): Promise<void> {
    const name = this.inviteName.value.trim();
    const zones = this.inviteZones.checked();
    const sites = this.inviteSites.checked();
    const owners = ownerLabels(this.inviteOwners.value);
    const days = Number(this.days.value);
    if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) return this.say('invite', { key: 'inviteDaysInvalid', kind: 'problem' }, this.days);
    if (zones.length + sites.length + owners.length === 0) return this.say('invite', { key: 'tokenScopeNeeded', kind: 'problem' }, this.inviteZones.root.querySelector('input'));
    this.inviteSubmit.disabled = true;
    this.say('invite', null);
    try {
      const made = await createInvitation({ name: name === '' ? null : name, zones, sites, owners, validDays: days });
      this.inviteName.value = '';
      this.inviteOwners.value = '';
      this.days.value = String(DEFAULT_DAYS);
      this.inviteZones.clear();
      this.inviteSites.clear();
      this.secret.hide();
      const until = this.dateTime().format(new Date(made.expiresAt * 1000));
      this.link.show(invitationLink(location.href, made.code), ['inviteLinkTitle', { name: made.name ?? this.tr.t('unnamed') }], ['inviteLinkNote', { date: until }]);
      void this.load();
    } catch (err) {
      this.say('invite', { key: 'inviteCreateFailed', values: { message: messageOf(err) }, kind: 'problem' });
    } finally {
      this.inviteSubmit.disabled = false;
    }
  }

  private async revoke(token: TokenListItem): Promise<void> {
    this.confirming = null;
    const name = token.name ?? token.id;
    try {
      await revokeToken(token.id);
      this.messages.list = { key: 'tokenRevokedDone', values: { name }, kind: 'info' };
    } catch (err) {
      this.messages.list = { key: 'tokenRevokeFailed', values: { message: messageOf(err) }, kind: 'problem' };
    }
    this.render();
    this.tokensTitle.focus();
    await this.load();
  }

  /** A message under a form (null: none); `focus`: the field to fix. */
  private say(where: 'token' | 'invite', message: Message, focus?: HTMLElement | null): void {
    this.messages[where] = message;
    this.render();
    focus?.focus();
  }

  private dateTime(): Intl.DateTimeFormat {
    return new Intl.DateTimeFormat(this.tr.locale, { dateStyle: 'medium', timeStyle: 'short' });
  }

  private renderScope(): void {
    const viewer = this.roleSelect.value === 'viewer';
    this.tokenScope.hidden = !viewer;
  }

  private scopeText(scope: { zones: string[]; sites: string[]; owners: string[] }, role: TokenRole): string {
    const { t } = this.tr;
    if (role === 'admin') return t('scopeEverything');
    if (role === 'privacy') return t('scopeNoCounts');
    const parts: string[] = [];
    if (scope.zones.length > 0) parts.push(t('tokScopeZones', { list: scope.zones.map((id) => this.zoneNames.get(id) ?? id).join(', ') }));
    if (scope.sites.length > 0) parts.push(t('tokScopeSites', { list: scope.sites.map((id) => this.siteNames.get(id) ?? id).join(', ') }));
    if (scope.owners.length > 0) parts.push(t('tokScopeOwners', { list: scope.owners.join(', ') }));
    return parts.join('; ');
  }

  private render(): void {
    const { t } = this.tr;
    this.title.textContent = t('tokensTitle');
    this.intro.textContent = t('tokensIntro');
    showMessage(this.status, this.messages.status, t);

    this.tokenTitle.textContent = t('tokenCreateTitle');
    this.roleLabel.textContent = t('tokenFieldRole');
    for (const option of this.roleSelect.options) option.textContent = t(ROLE_KEYS[option.value as TokenRole]);
    this.tokenNameLabel.textContent = t('tokenFieldName');
    this.tokenZones.setLegend(t('tokenFieldZones'));
    this.tokenSites.setLegend(t('tokenFieldSites'));
    this.tokenOwnersLabel.textContent = t('tokenFieldOwners');
    this.tokenScopeHelp.textContent = t('tokenScopeHelp');
    this.expiresLabel.textContent = t('tokenFieldExpires');
    this.tokenSubmit.textContent = t('tokenCreateButton');
    showMessage(this.tokenMessage, this.messages.token, t);
    this.renderScope();

    this.tokensTitle.textContent = t('tokensListTitle');
    this.tokensTitle.tabIndex = -1;
    showMessage(this.listMessage, this.messages.list, t);
    this.renderTokens();

    this.inviteTitle.textContent = t('inviteCreateTitle');
    this.inviteLead.textContent = t('inviteCreateLead');
    this.inviteNameLabel.textContent = t('tokenFieldName');
    this.inviteZones.setLegend(t('tokenFieldZones'));
    this.inviteSites.setLegend(t('tokenFieldSites'));
    this.inviteOwnersLabel.textContent = t('tokenFieldOwners');
    this.daysLabel.textContent = t('inviteFieldDays');
    this.inviteSubmit.textContent = t('inviteCreateButton');
    showMessage(this.inviteMessage, this.messages.invite, t);

    this.invitationsTitle.textContent = t('invitationsListTitle');
    this.renderInvitations();
  }

  private renderTokens(): void {
    const { t } = this.tr;
    const tokens = this.tokens;
    const heads = ['colName', 'colRole', 'colScope', 'colCreated', 'colLastUse', 'colExpires', 'colStatus', 'colAction'] as const;
    const head = el('thead', {}, [el('tr', {}, heads.map((key) => el('th', { text: t(key), attrs: { scope: 'col' } })))]);
    const when = this.dateTime();
    const now = Date.now() / 1000;
    const rows = (tokens ?? []).map((token) => {
      const state = token.revokedAt !== null ? 'revoked' : token.expiresAt !== null && token.expiresAt <= now ? 'expired' : 'active';
      const stateText =
        state === 'revoked' ? t('tokenRevokedOn', { date: when.format(new Date(token.revokedAt! * 1000)) }) : t(state === 'expired' ? 'tokenExpiredState' : 'tokenActive');
      const cell = (key: MessageKey, text: string) => el('td', { text, attrs: { 'data-label': t(key) } });
      const action = el('td', { class: 'tok-action', attrs: { 'data-label': t('colAction') } });
      const name = token.name ?? t('unnamed');
      if (state !== 'revoked') {
        if (this.confirming === token.id) {
          const yes = el('button', { class: 'button button-danger tok-revoke-yes', text: t('tokenRevokeYes'), attrs: { type: 'button' } });
          const no = el('button', { class: 'button tok-revoke-no', text: t('tokenRevokeNo'), attrs: { type: 'button' } });
          yes.addEventListener('click', () => void this.revoke(token));
          no.addEventListener('click', () => {
            this.confirming = null;
            this.render();
            (this.tokenTable.querySelector(`tr[data-token-id="${CSS.escape(token.id)}"] .tok-revoke`) as HTMLElement | null)?.focus();
          });
          action.append(el('p', { class: 'tok-confirm', text: t('tokenRevokeConfirm', { name }), attrs: { role: 'alert' } }), el('span', { class: 'tok-confirm-buttons' }, [yes, no]));
        } else {
          const revoke = el('button', { class: 'button tok-revoke', text: t('tokenRevoke'), attrs: { type: 'button', 'aria-label': `${t('tokenRevoke')}: ${name}` } });
          revoke.addEventListener('click', () => {
            this.confirming = token.id;
            this.render();
            (this.tokenTable.querySelector(`tr[data-token-id="${CSS.escape(token.id)}"] .tok-revoke-no`) as HTMLElement | null)?.focus();
          });
          action.append(revoke);
        }
      }
      return el('tr', { attrs: { 'data-token-id': token.id, 'data-state': state, 'data-role': token.role } }, [
        el('th', { text: name, attrs: { scope: 'row' } }),
        cell('colRole', t(ROLE_KEYS[token.role])),
        cell('colScope', this.scopeText(token, token.role)),
        cell('colCreated', when.format(new Date(token.createdAt * 1000))),
        cell('colLastUse', token.lastUsedAt === null ? t('never') : when.format(new Date(token.lastUsedAt * 1000))),
        cell('colExpires', token.expiresAt === null ? t('noEnd') : when.format(new Date(token.expiresAt * 1000))),
        cell('colStatus', stateText),
        action,
      ]);
    });
    this.tokenTable.replaceChildren(head, el('tbody', {}, rows));
    this.tokenTable.hidden = tokens === null || tokens.length === 0;
    this.tokensEmpty.textContent = t('tokensEmpty');
    this.tokensEmpty.hidden = tokens === null || tokens.length > 0;
  }

  private renderInvitations(): void {
    const { t } = this.tr;
    const list = this.invitations;
    const heads = ['colName', 'colScope', 'colCreated', 'colValidUntil', 'colStatus'] as const;
    const head = el('thead', {}, [el('tr', {}, heads.map((key) => el('th', { text: t(key), attrs: { scope: 'col' } })))]);
    const when = this.dateTime();
    const now = Date.now() / 1000;
    const rows = (list ?? []).map((inv) => {
      const state = inv.usedAt !== null ? 'used' : inv.expiresAt <= now ? 'expired' : 'open';
      const stateText = state === 'used' ? t('inviteUsedOn', { date: when.format(new Date(inv.usedAt! * 1000)) }) : t(state === 'expired' ? 'inviteExpiredState' : 'inviteNotUsed');
      const cell = (key: MessageKey, text: string) => el('td', { text, attrs: { 'data-label': t(key) } });
      return el('tr', { attrs: { 'data-invitation-id': inv.id, 'data-state': state } }, [
        el('th', { text: inv.name ?? t('unnamed'), attrs: { scope: 'row' } }),
        cell('colScope', this.scopeText(inv, 'viewer')),
        cell('colCreated', when.format(new Date(inv.createdAt * 1000))),
        cell('colValidUntil', when.format(new Date(inv.expiresAt * 1000))),
        cell('colStatus', stateText),
      ]);
    });
    this.inviteTable.replaceChildren(head, el('tbody', {}, rows));
    this.inviteTable.hidden = list === null || list.length === 0;
    this.invitationsEmpty.textContent = t('invitationsEmpty');
    this.invitationsEmpty.hidden = list === null || list.length > 0;
  }
}

function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.status > 0 ? `${err.status}: ${err.message}` : err.message;
  return err instanceof Error ? err.message : String(err);
}

function showMessage(node: HTMLElement, message: Message, t: Translator['t']): void {
  node.textContent = message === null ? '' : t(message.key, message.values);
  node.dataset.kind = message?.kind ?? '';
}
