/**
 * The tokens page's small parts (tokens-page.ts): the invitation link, owner labels and the last valid day as the
 * forms read them, a list of checkboxes, the field shown once (a secret or a link) with its copy button, and messages.
 */
import { ApiError } from './api.ts';
import { el } from './dom.ts';
import type { MessageKey, Translator } from './i18n.ts';

export type Message = { key: MessageKey; values?: Record<string, string | number>; kind: 'info' | 'problem' } | null;

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
export class CheckList {
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
export class OnceBox {
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

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.status > 0 ? `${err.status}: ${err.message}` : err.message;
  return err instanceof Error ? err.message : String(err);
}

export function showMessage(node: HTMLElement, message: Message, t: Translator['t']): void {
  node.textContent = message === null ? '' : t(message.key, message.values);
  node.dataset.kind = message?.kind ?? '';
}
