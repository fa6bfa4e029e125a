/**
 * The admin's form under a zone's estimate: manual counts (pasted, or a CSV or JSON file) sent to
 * `POST /api/v1/zones/{id}/calibrations`, and the fit or the server's reason for refusing it shown beside it. The
 * counts stay in the page: only the request sends them, to the same origin, with the token as a header.
 */
import { ApiError, postCalibration, type FittedCalibration, type Radio } from './api.ts';
import { parseCounts } from './calibration-counts.ts';
import { el } from './dom.ts';
import { estimateText, type EstimateMessageKey } from './estimates.ts';
import type { Translator } from './i18n.ts';
import { numberFormat } from './intl-cache.ts';

/** Files larger than this are not read (the server takes at most 512 kB). */
const MAX_FILE_BYTES = 512 * 1024;

export class CalibrationForm {
  readonly root: HTMLDetailsElement;
  private readonly summary: HTMLElement;
  private readonly lead: HTMLElement;
  private readonly kindLegend: HTMLElement;
  private readonly kindTexts: Record<'present' | 'passers', HTMLElement>;
  private readonly kindInputs: Record<'present' | 'passers', HTMLInputElement>;
  private readonly fileLabel: HTMLElement;
  private readonly file: HTMLInputElement;
  private readonly textLabel: HTMLElement;
  private readonly text: HTMLTextAreaElement;
  private readonly submit: HTMLButtonElement;
  private readonly result: HTMLElement;
  private busy = false;
  /** The last outcome, kept so a language switch can say it again. */
  private outcome: { kind: 'done'; fit: FittedCalibration } | { kind: 'message'; key: EstimateMessageKey; values?: Record<string, string | number> } | { kind: 'refused'; message: string } | null = null;

  constructor(
    private readonly zoneId: string,
    private tr: Translator,
    private radio: Radio,
    private readonly onFitted: () => void,
  ) {
    const id = (part: string) => `cal-${zoneId}-${part}`;
    this.summary = el('summary', { class: 'calibrate-toggle' });
    this.lead = el('p', { class: 'estimate-note', attrs: { id: id('lead') } });
    this.kindLegend = el('legend');
    const kind = (value: 'present' | 'passers') => {
      const input = el('input', { attrs: { type: 'radio', name: id('kind'), value, id: id(value) } });
      const text = el('span');
      return { input, text, label: el('label', { attrs: { for: id(value) } }, [input, ' ', text]) };
    };
    const present = kind('present');
    const passers = kind('passers');
    present.input.checked = true;
    this.kindInputs = { present: present.input, passers: passers.input };
    this.kindTexts = { present: present.text, passers: passers.text };
    this.fileLabel = el('label', { attrs: { for: id('file') } });
    this.file = el('input', { attrs: { type: 'file', id: id('file'), accept: '.csv,.json,.txt,text/csv,application/json,text/plain' } });
    this.textLabel = el('label', { attrs: { for: id('text') } });
    this.text = el('textarea', { class: 'calibrate-text', attrs: { id: id('text'), rows: '6', spellcheck: 'false', 'aria-describedby': id('lead') } });
    this.submit = el('button', { class: 'button button-primary', attrs: { type: 'submit' } });
    this.result = el('p', { class: 'calibrate-result', attrs: { role: 'status' } });
    const form = el('form', { class: 'calibrate-form', attrs: { method: 'post', action: '#', novalidate: '' } }, [
      this.lead,
      el('fieldset', { class: 'calibrate-kind' }, [this.kindLegend, present.label, passers.label]),
      el('p', { class: 'calibrate-field' }, [this.fileLabel, this.file]),
      el('p', { class: 'calibrate-field' }, [this.textLabel, this.text]),
      el('p', {}, [this.submit]),
      this.result,
    ]);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.send();
    });
    this.file.addEventListener('change', () => void this.readFile());
    this.root = el('details', { class: 'calibrate' }, [this.summary, form]);
    this.render();
  }

  setContext(tr: Translator, radio: Radio): void {
    this.tr = tr;
    this.radio = radio;
    this.render();
  }

  private e(key: EstimateMessageKey, values?: Record<string, string | number>): string {
    return estimateText(this.tr.lang, key, values);
  }

  private render(): void {
    this.summary.textContent = this.e('calTitle');
    this.lead.textContent = this.e('calLead');
    this.kindLegend.textContent = this.e('calKind');
    this.kindTexts.present.textContent = this.e('calKindPresent');
    this.kindTexts.passers.textContent = this.e('calKindPassers');
    this.fileLabel.textContent = this.e('calFile');
    this.textLabel.textContent = this.e('calText');
    this.submit.textContent = this.e(this.busy ? 'calBusy' : 'calSubmit');
    this.submit.disabled = this.busy;
    const o = this.outcome;
    this.result.dataset.outcome = o === null ? '' : o.kind;
    if (o === null) this.result.replaceChildren();
    else if (o.kind === 'message') this.result.replaceChildren(this.e(o.key, o.values));
    else if (o.kind === 'refused') this.result.replaceChildren(`${this.e('calRefused')} `, el('span', { text: o.message, attrs: { lang: 'en' } }));
    else {
      const num = (v: number | null, digits: number) => (v === null ? '–' : numberFormat(this.tr.locale, { maximumFractionDigits: digits }).format(v));
      this.result.replaceChildren(this.e('calDone', { used: num(o.fit.used, 0), a: num(o.fit.a, 2), r2: num(o.fit.r2, 2), mae: num(o.fit.mae, 1) }));
    }
  }

  private show(outcome: CalibrationForm['outcome']): void {
    this.outcome = outcome;
    this.render();
  }

  private async readFile(): Promise<void> {
    const file = this.file.files?.[0];
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) {
      this.show({ kind: 'message', key: 'calTooMany' });
      return;
    }
    try {
      this.text.value = await file.text();
      this.show(null);
    } catch {
      this.show({ kind: 'message', key: 'calFileFailed' });
    }
  }

  private async send(): Promise<void> {
    if (this.busy) return;
    const parsed = parseCounts(this.text.value);
    if (!parsed.ok) {
      const key: EstimateMessageKey = parsed.problem === 'empty' ? 'calEmpty' : parsed.problem === 'json' ? 'calJson' : parsed.problem === 'tooMany' ? 'calTooMany' : 'calLine';
      this.show({ kind: 'message', key, values: { line: parsed.line ?? 0 } });
      return;
    }
    const kind = parsed.kind ?? (this.kindInputs.passers.checked ? 'passers' : 'present');
    this.busy = true;
    this.render();
    try {
      const fit = await postCalibration(this.zoneId, { kind, radio: parsed.radio ?? this.radio, counts: parsed.counts });
      this.busy = false;
      this.show({ kind: 'done', fit });
      this.onFitted();
    } catch (err) {
      this.busy = false;
      this.show({ kind: 'refused', message: err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err) });
    }
  }
}
