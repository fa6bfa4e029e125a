/** The tokens page's two lists (tokens-page.ts): every token, with revoking after a second click, and every invitation. */
import type { InvitationInfo, TokenListItem, TokenRole } from './api.ts';
import { el } from './dom.ts';
import type { MessageKey, Translator } from './i18n.ts';

export const ROLE_KEYS: Record<TokenRole, MessageKey> = { viewer: 'roleViewer', admin: 'roleAdmin', privacy: 'rolePrivacy' };

/** What a table is drawn from: the page's texts, its rows (null: not loaded), the date format and a scope's words. */
interface TableView {
  tr: Translator;
  table: HTMLTableElement;
  /** The note shown instead of an empty table. */
  empty: HTMLElement;
  when: Intl.DateTimeFormat;
  scope(scope: { zones: string[]; sites: string[]; owners: string[] }, role: TokenRole): string;
}

export interface TokenTableView extends TableView {
  tokens: TokenListItem[] | null;
  /** The token whose revoking waits for the second click, or null. */
  confirming: string | null;
  /** Asks for the second click on `id` (null: withdraws the question); the page draws itself again. */
  confirm(id: string | null): void;
  revoke(token: TokenListItem): void;
}

export interface InvitationTableView extends TableView {
  invitations: InvitationInfo[] | null;
}

export function renderTokenTable(v: TokenTableView): void {
  const { t } = v.tr;
  const tokens = v.tokens;
  const heads = ['colName', 'colRole', 'colScope', 'colCreated', 'colLastUse', 'colExpires', 'colStatus', 'colAction'] as const;
  const head = el('thead', {}, [el('tr', {}, heads.map((key) => el('th', { text: t(key), attrs: { scope: 'col' } })))]);
  const when = v.when;
  const now = Date.now() / 1000;
  const rows = (tokens ?? []).map((token) => {
    const state = token.revokedAt !== null ? 'revoked' : token.expiresAt !== null && token.expiresAt <= now ? 'expired' : 'active';
    const stateText =
      state === 'revoked' ? t('tokenRevokedOn', { date: when.format(new Date(token.revokedAt! * 1000)) }) : t(state === 'expired' ? 'tokenExpiredState' : 'tokenActive');
    const cell = (key: MessageKey, text: string) => el('td', { text, attrs: { 'data-label': t(key) } });
    const action = el('td', { class: 'tok-action', attrs: { 'data-label': t('colAction') } });
    const name = token.name ?? t('unnamed');
    if (state !== 'revoked') {
      if (v.confirming === token.id) {
        const yes = el('button', { class: 'button button-danger tok-revoke-yes', text: t('tokenRevokeYes'), attrs: { type: 'button' } });
        const no = el('button', { class: 'button tok-revoke-no', text: t('tokenRevokeNo'), attrs: { type: 'button' } });
        yes.addEventListener('click', () => v.revoke(token));
        no.addEventListener('click', () => {
          v.confirm(null);
          (v.table.querySelector(`tr[data-token-id="${CSS.escape(token.id)}"] .tok-revoke`) as HTMLElement | null)?.focus();
        });
        action.append(el('p', { class: 'tok-confirm', text: t('tokenRevokeConfirm', { name }), attrs: { role: 'alert' } }), el('span', { class: 'tok-confirm-buttons' }, [yes, no]));
      } else {
        const revoke = el('button', { class: 'button tok-revoke', text: t('tokenRevoke'), attrs: { type: 'button', 'aria-label': `${t('tokenRevoke')}: ${name}` } });
        revoke.addEventListener('click', () => {
          v.confirm(token.id);
          (v.table.querySelector(`tr[data-token-id="${CSS.escape(token.id)}"] .tok-revoke-no`) as HTMLElement | null)?.focus();
        });
        action.append(revoke);
      }
    }
    return el('tr', { attrs: { 'data-token-id': token.id, 'data-state': state, 'data-role': token.role } }, [
      el('th', { text: name, attrs: { scope: 'row' } }),
      cell('colRole', t(ROLE_KEYS[token.role])),
      cell('colScope', v.scope(token, token.role)),
      cell('colCreated', when.format(new Date(token.createdAt * 1000))),
      cell('colLastUse', token.lastUsedAt === null ? t('never') : when.format(new Date(token.lastUsedAt * 1000))),
      cell('colExpires', token.expiresAt === null ? t('noEnd') : when.format(new Date(token.expiresAt * 1000))),
      cell('colStatus', stateText),
      action,
    ]);
  });
  v.table.replaceChildren(head, el('tbody', {}, rows));
  v.table.hidden = tokens === null || tokens.length === 0;
  v.empty.textContent = t('tokensEmpty');
  v.empty.hidden = tokens === null || tokens.length > 0;
}

export function renderInvitationTable(v: InvitationTableView): void {
  const { t } = v.tr;
  const list = v.invitations;
  const heads = ['colName', 'colScope', 'colCreated', 'colValidUntil', 'colStatus'] as const;
  const head = el('thead', {}, [el('tr', {}, heads.map((key) => el('th', { text: t(key), attrs: { scope: 'col' } })))]);
  const when = v.when;
  const now = Date.now() / 1000;
  const rows = (list ?? []).map((inv) => {
    const state = inv.usedAt !== null ? 'used' : inv.expiresAt <= now ? 'expired' : 'open';
    const stateText = state === 'used' ? t('inviteUsedOn', { date: when.format(new Date(inv.usedAt! * 1000)) }) : t(state === 'expired' ? 'inviteExpiredState' : 'inviteNotUsed');
    const cell = (key: MessageKey, text: string) => el('td', { text, attrs: { 'data-label': t(key) } });
    return el('tr', { attrs: { 'data-invitation-id': inv.id, 'data-state': state } }, [
      el('th', { text: inv.name ?? t('unnamed'), attrs: { scope: 'row' } }),
      cell('colScope', v.scope(inv, 'viewer')),
      cell('colCreated', when.format(new Date(inv.createdAt * 1000))),
      cell('colValidUntil', when.format(new Date(inv.expiresAt * 1000))),
      cell('colStatus', stateText),
    ]);
  });
  v.table.replaceChildren(head, el('tbody', {}, rows));
  v.table.hidden = list === null || list.length === 0;
  v.empty.textContent = t('invitationsEmpty');
  v.empty.hidden = list === null || list.length > 0;
}
