/**
 * An invitation link opened (`/#invite=inv_...`): main.ts takes the code out of the address bar at once
 * (history.replaceState) and opens this panel, which says so and offers to sign in with it. The code is used
 * (`POST /api/v1/invitations/redeem`) only when the person clicks, with "Remember me on this device" as in the
 * sign-in panel (never ticked for them: by default the token lasts for this tab). A used, expired or unknown code
 * gets a clear message and signs nothing in. The code is kept in memory only, never stored.
 */
import { el } from './dom.ts';
import type { MessageKey, Translator } from './i18n.ts';

/** What using the code came to: null (signed in), refused for good (used, expired, unknown), or failed (try again). */
export type InvitationOutcome = { kind: 'refused' | 'failed'; key: MessageKey; values?: Record<string, string | number> } | null;

export interface InvitationHandlers {
  /** Uses the code; on success the page signs in with the new token, kept on this device when `remember`. */
  accept(code: string, remember: boolean): Promise<InvitationOutcome>;
  /** The panel was closed. */
  closed(): void;
}

type PanelState = 'ready' | 'busy' | 'done' | 'refused' | 'failed';

export class InvitationPanel {
  readonly root: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly welcome: HTMLElement;
  private readonly removed: HTMLElement;
  private readonly remember: HTMLInputElement;
  private readonly rememberText: HTMLElement;
  private readonly rememberNote: HTMLElement;
  private readonly rememberRow: HTMLElement;
  private readonly acceptButton: HTMLButtonElement;
  private readonly closeButton: HTMLButtonElement;
  private readonly message: HTMLElement;
  private code: string | null = null;
  private state: PanelState = 'ready';
  private outcome: { key: MessageKey; values?: Record<string, string | number> } | null = null;

  constructor(
    private tr: Translator,
    private readonly handlers: InvitationHandlers,
  ) {
    this.heading = el('h2', { attrs: { id: 'invitation-title' } });
    this.welcome = el('p', { class: 'invitation-welcome' });
    this.removed = el('p', { class: 'invitation-note' });
    this.remember = el('input', { attrs: { type: 'checkbox', id: 'invite-remember', name: 'remember', 'aria-describedby': 'invite-remember-note' } });
    this.rememberText = el('span');
    this.rememberNote = el('span', { class: 'signin-remember-note', attrs: { id: 'invite-remember-note' } });
    this.rememberRow = el('p', { class: 'signin-remember' }, [el('label', { attrs: { for: 'invite-remember' } }, [this.remember, this.rememberText]), this.rememberNote]);
    this.acceptButton = el('button', { class: 'button button-primary invitation-accept', attrs: { type: 'button' } });
    this.closeButton = el('button', { class: 'button invitation-close', attrs: { type: 'button' } });
    this.message = el('p', { class: 'invitation-message', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.acceptButton.addEventListener('click', () => void this.accept());
    this.closeButton.addEventListener('click', () => {
      this.close();
      handlers.closed();
    });
    this.root = el('section', { class: 'invitation', attrs: { hidden: '', 'aria-labelledby': 'invitation-title' } }, [
      this.heading,
      this.welcome,
      this.removed,
      this.rememberRow,
      this.message,
      el('div', { class: 'invitation-actions' }, [this.acceptButton, this.closeButton]),
    ]);
    this.render();
  }

  get isOpen(): boolean {
    return !this.root.hidden;
  }

  /** True while a code waits to be used (or is being used). */
  get pending(): boolean {
    return this.isOpen && (this.state === 'ready' || this.state === 'busy' || this.state === 'failed');
  }

  setTranslator(tr: Translator): void {
    this.tr = tr;
    this.render();
  }

  open(code: string): void {
    this.code = code;
    this.state = 'ready';
    this.outcome = null;
    this.remember.checked = false;
    this.root.hidden = false;
    this.render();
    this.acceptButton.focus();
  }

  close(): void {
    this.code = null;
    this.root.hidden = true;
    this.remember.checked = false;
  }

  private async accept(): Promise<void> {
    if (this.code === null || this.state === 'busy') return;
    this.state = 'busy';
    this.outcome = { key: 'inviteChecking' };
    this.render();
    const outcome = await this.handlers.accept(this.code, this.remember.checked);
    if (outcome === null) {
      this.code = null; // spent: forgotten
      this.state = 'done';
      this.outcome = { key: 'inviteSignedIn' };
    } else {
      if (outcome.kind === 'refused') this.code = null;
      this.state = outcome.kind;
      this.outcome = { key: outcome.key, ...(outcome.values ? { values: outcome.values } : {}) };
    }
    this.render();
    (this.state === 'failed' ? this.acceptButton : this.closeButton).focus();
  }

  private render(): void {
    const { t } = this.tr;
    const open = this.state === 'ready' || this.state === 'busy' || this.state === 'failed';
    this.heading.textContent = t('inviteTitle');
    this.welcome.textContent = t('inviteWelcome');
    this.welcome.hidden = !open;
    this.removed.textContent = t('inviteRemovedNote');
    this.removed.hidden = this.state === 'done'; // the message says so then
    this.rememberText.textContent = t('tokenRemember');
    this.rememberNote.textContent = t('tokenRememberNote');
    this.rememberRow.hidden = !open;
    this.acceptButton.textContent = t('inviteAccept');
    this.acceptButton.hidden = !open;
    this.acceptButton.disabled = this.state === 'busy';
    this.closeButton.textContent = t('inviteClose');
    this.message.textContent = this.outcome === null ? '' : t(this.outcome.key, this.outcome.values);
    this.message.hidden = this.outcome === null;
    this.message.dataset.kind = this.state === 'refused' || this.state === 'failed' ? 'error' : 'info';
    this.root.dataset.state = this.state;
  }
}
