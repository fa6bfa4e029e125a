/**
 * Signing in with an API token: a panel below the header with a password field (so the token is not shown on
 * screen or kept by the browser's form history), checked against `GET /api/v1/me` before it is used. The form
 * never submits: its submit event is handled here, and its method is POST, so even without this script a
 * token could not end up in the URL bar.
 */
import { el } from './dom.ts';
import type { MessageKey, Translator } from './i18n.ts';

export interface SignInHandlers {
  /**
   * Checks and uses the token (kept on this device when `remember`); resolves to the message to show when it was
   * refused, or null when signed in.
   */
  submit(rawToken: string, remember: boolean): Promise<{ key: MessageKey; values?: Record<string, string | number> } | null>;
  /** The panel was closed without signing in. */
  cancel(): void;
}

export class SignInPanel {
  readonly root: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly lead: HTMLElement;
  private readonly label: HTMLLabelElement;
  private readonly input: HTMLInputElement;
  private readonly submitButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly remember: HTMLInputElement;
  private readonly rememberText: HTMLElement;
  private readonly rememberNote: HTMLElement;
  private readonly help: HTMLElement;
  private readonly message: HTMLElement;
  private readonly explain: HTMLElement;
  private needed = false;
  private busy = false;
  private messageKey: { key: MessageKey; values?: Record<string, string | number>; kind: 'error' | 'info' } | null = null;

  constructor(
    private tr: Translator,
    private readonly handlers: SignInHandlers,
  ) {
    this.heading = el('h2', { class: 'signin-title', attrs: { id: 'signin-title' } });
    this.lead = el('p', { class: 'signin-lead' });
    this.label = el('label', { class: 'signin-label', attrs: { for: 'token-input' } });
    this.input = el('input', {
      class: 'signin-input',
      attrs: {
        id: 'token-input',
        name: 'token',
        type: 'password',
        autocomplete: 'off',
        autocapitalize: 'off',
        spellcheck: 'false',
        placeholder: 'pst_…',
        'aria-describedby': 'token-help token-message',
      },
    });
    this.submitButton = el('button', { class: 'button button-primary', attrs: { type: 'submit' } });
    this.cancelButton = el('button', { class: 'button', attrs: { type: 'button' } });
    this.help = el('p', { class: 'signin-help', attrs: { id: 'token-help' } });
    this.message = el('p', { class: 'signin-message', attrs: { id: 'token-message', role: 'alert', hidden: '' } });
    this.explain = el('p', { class: 'signin-explain' });
    this.remember = el('input', { attrs: { type: 'checkbox', id: 'token-remember', name: 'remember', 'aria-describedby': 'token-remember-note' } });
    this.rememberText = el('span');
    this.rememberNote = el('span', { class: 'signin-remember-note', attrs: { id: 'token-remember-note' } });
    const form = el('form', { class: 'signin-form', attrs: { method: 'post', action: '#', novalidate: '' } }, [
      this.label,
      el('div', { class: 'signin-row' }, [this.input, this.submitButton, this.cancelButton]),
      el('p', { class: 'signin-remember' }, [el('label', { attrs: { for: 'token-remember' } }, [this.remember, this.rememberText]), this.rememberNote]),
    ]);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
    this.cancelButton.addEventListener('click', () => {
      this.close();
      handlers.cancel();
    });
    this.root = el('section', { class: 'signin', attrs: { hidden: '', 'aria-labelledby': 'signin-title' } }, [
      this.heading,
      this.lead,
      form,
      this.message,
      this.help,
      this.explain,
    ]);
    this.render();
  }

  get isOpen(): boolean {
    return !this.root.hidden;
  }

  setTranslator(tr: Translator): void {
    this.tr = tr;
    this.render();
  }

  /** Opens the panel; `needed` when the server shows nothing without a token (then it cannot be cancelled). */
  open(options: { needed?: boolean; focus?: boolean } = {}): void {
    this.needed = options.needed ?? false;
    this.root.hidden = false;
    this.render();
    if (options.focus ?? true) this.input.focus();
  }

  close(): void {
    this.root.hidden = true;
    this.input.value = '';
    this.remember.checked = false;
    this.showMessage(null);
  }

  /** A message in the panel: why the token was refused, or that the reader was signed out. */
  showMessage(message: { key: MessageKey; values?: Record<string, string | number>; kind: 'error' | 'info' } | null): void {
    this.messageKey = message;
    this.render();
  }

  private async submit(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.showMessage({ key: 'tokenChecking', kind: 'info' });
    this.submitButton.disabled = true;
    try {
      const refused = await this.handlers.submit(this.input.value, this.remember.checked);
      if (refused === null) {
        this.close();
      } else {
        this.showMessage({ ...refused, kind: 'error' });
        this.input.select();
      }
    } finally {
      this.busy = false;
      this.submitButton.disabled = false;
    }
  }

  private render(): void {
    const { t } = this.tr;
    this.heading.textContent = t('signIn');
    this.lead.textContent = t('tokenNeeded');
    this.lead.hidden = !this.needed;
    this.label.textContent = t('tokenLabel');
    this.submitButton.textContent = t('tokenSubmit');
    this.cancelButton.textContent = t('tokenCancel');
    this.cancelButton.hidden = this.needed;
    this.help.textContent = t('tokenHelp');
    this.rememberText.textContent = t('tokenRemember');
    this.rememberNote.textContent = t('tokenRememberNote');
    this.explain.textContent = t('accessExplain');
    const m = this.messageKey;
    this.message.hidden = m === null;
    this.message.textContent = m === null ? '' : t(m.key, m.values);
    this.message.dataset.kind = m?.kind ?? 'info';
    this.root.dataset.needed = String(this.needed);
  }
}
