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
 * The two lists are drawn by tokens-tables.ts, the small parts (checkboxes, the field shown once) are in tokens-parts.ts.
 */
import {
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
import type { Translator } from './i18n.ts';
import { CheckList, OnceBox, endOfLocalDay, invitationLink, messageOf, ownerLabels, showMessage, type Message } from './tokens-parts.ts';
import { ROLE_KEYS, renderInvitationTable, renderTokenTable } from './tokens-tables.ts';
import { dateFormat } from './intl-cache.ts';

const DEFAULT_DAYS = 7;
const MAX_DAYS = 30;

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
    return dateFormat(this.tr.locale, { dateStyle: 'medium', timeStyle: 'short' });
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

  private tableView(): { tr: Translator; when: Intl.DateTimeFormat; scope: (scope: { zones: string[]; sites: string[]; owners: string[] }, role: TokenRole) => string } {
    return { tr: this.tr, when: this.dateTime(), scope: (scope, role) => this.scopeText(scope, role) };
  }

  private renderTokens(): void {
    renderTokenTable({
      ...this.tableView(),
      table: this.tokenTable,
      empty: this.tokensEmpty,
      tokens: this.tokens,
      confirming: this.confirming,
      confirm: (id) => {
        this.confirming = id;
        this.render();
      },
      revoke: (token) => void this.revoke(token),
    });
  }

  private renderInvitations(): void {
    renderInvitationTable({ ...this.tableView(), table: this.inviteTable, empty: this.invitationsEmpty, invitations: this.invitations });
  }
}
