/**
 * The privacy page (`#privacy`): what this server does to protect the people it counts, as it reports it itself
 * (`GET /api/v1/privacy`): k, the share of hidden zone-minutes, the counting window, retention, noise, what is
 * public, and the counts message schema as a table of fields ("what a sensor sends"), plus, for admin and
 * privacy-officer tokens, the audit numbers (`GET /api/v1/privacy/audit`). Everything from the API is set as text.
 */
import type { Audit, PrivacyInfo, PublicScope } from './api.ts';
import { el } from './dom.ts';
import { hasMessage, type MessageKey, type Translator } from './i18n.ts';
import { schemaFields, type Constraint, type FieldRow } from './schema-fields.ts';
import { dateFormat, numberFormat } from './intl-cache.ts';

const TYPE_KEYS: Record<string, MessageKey> = {
  integer: 'typeInteger',
  number: 'typeNumber',
  string: 'typeString',
  boolean: 'typeBoolean',
  null: 'typeNull',
  object: 'typeObject',
  array: 'typeArray',
};

export class PrivacyPage {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly status: HTMLElement;
  private info: PrivacyInfo | null = null;
  private audit: Audit | null = null;

  constructor(private tr: Translator) {
    this.status = el('p', { class: 'page-status', attrs: { role: 'status' } });
    this.body = el('div', { class: 'privacy-body' });
    this.root = el('div', { class: 'privacy' }, [this.status, this.body]);
  }

  get loaded(): boolean {
    return this.info !== null;
  }

  setTranslator(tr: Translator): void {
    this.tr = tr;
    this.render();
  }

  update(info: PrivacyInfo, audit: Audit | null): void {
    this.info = info;
    this.audit = audit;
    this.status.textContent = '';
    this.render();
  }

  /** Forgets what was shown (another reader signed in or out). */
  reset(): void {
    this.info = null;
    this.audit = null;
    this.status.textContent = '';
    this.render();
  }

  /** A message instead of (or above) the page: loading, an error, or that a token is needed. */
  showStatus(message: string, kind: 'info' | 'problem'): void {
    this.status.textContent = message;
    this.status.dataset.kind = kind;
  }

  private render(): void {
    const info = this.info;
    if (info === null) {
      this.body.replaceChildren();
      return;
    }
    const { t, locale } = this.tr;
    const num = numberFormat(locale);
    const share = numberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });

    const hero = el('section', { class: 'privacy-hero' }, [
      el('h2', { class: 'privacy-motto', text: t('motto') }),
      el('p', { text: t('privacyIntro') }),
    ]);

    /** A fact: a short value (big), or a few labelled values (one a line), and a note. */
    const fact = (name: string, label: string, value: string | [string, string][], note = '') =>
      el('div', { class: 'fact', attrs: { 'data-fact': name } }, [
        el('dt', { class: 'fact-label', text: label }),
        typeof value === 'string'
          ? el('dd', { class: 'fact-value', text: value })
          : el(
              'dd',
              { class: 'fact-rows' },
              value.map(([k, v]) => el('span', { class: 'fact-row' }, [el('span', { class: 'fact-row-label', text: k }), el('strong', { text: v })])),
            ),
        el('dd', { class: 'fact-note', text: note }),
      ]);
    const shares = (['wifi', 'ble'] as const).map((radio): [string, string] => {
      const v = info.suppressedShare[radio];
      return [t(radio === 'wifi' ? 'radioWifi' : 'radioBle'), v === null ? t('compareNoData') : share.format(v)];
    });
    const retention = Object.entries(info.retention).map(([kind, days]): [string, string] => {
      const key = `retention_${kind}`;
      return [hasMessage(key) ? t(key) : kind, days === null ? t('privRetentionForever') : t('privRetentionDays', { n: num.format(days) })];
    });
    const scope = (s: PublicScope) => (s === 'all' ? t('scopeAll') : s === 'none' ? t('scopeNone') : s.join(', '));
    const facts = el('dl', { class: 'facts' }, [
      fact('k', t('privK'), t('privKValue', { k: num.format(info.k) }), t('privKNote', { k: num.format(info.k) })),
      fact('suppressed-share', t('privShare'), shares, t('privShareNote', { hours: num.format(info.suppressedShare.periodSeconds / 3600) })),
      fact(
        'window',
        t('privWindow'),
        t('privWindowValue', { s: num.format(info.windowSeconds) }),
        t('privWindowNote', { s: num.format(info.windowSeconds), settle: num.format(info.settleSeconds) }),
      ),
      fact('retention', t('privRetention'), retention.length > 0 ? retention : t('privRetentionNone')),
      fact(
        'noise',
        t('privNoise'),
        info.noise === null ? t('privNoiseOff') : t('privNoiseOn', { epsilon: num.format(info.noise.epsilon), mechanism: info.noise.mechanism }),
      ),
      fact('public', t('privPublic'), [
        [t('scopeZones'), scope(info.publicAccess.zones)],
        [t('scopeSites'), scope(info.publicAccess.sites)],
      ]),
    ]);

    const summary = schemaFields(info.countsSchema);
    const head = el('tr', {}, [t('colField'), t('colType'), t('colAllowed'), t('colMeaning')].map((text) => el('th', { text, attrs: { scope: 'col' } })));
    const rows = summary.rows.map((row) => this.fieldRow(row));
    const table = el('div', { class: 'table-scroll' }, [
      el('table', { class: 'data-table schema-table stack-on-phone' }, [el('thead', {}, [head]), el('tbody', {}, rows)]),
    ]);
    const raw = el('details', { class: 'schema-raw' }, [
      el('summary', { text: t('privSchemaRaw') }),
      el('pre', { text: JSON.stringify(info.countsSchema, null, 2) }),
    ]);
    const schema = el('section', { class: 'panel schema', attrs: { 'data-fields': String(summary.rows.length) } }, [
      el('h2', { class: 'panel-title', text: t('privSchemaTitle') }),
      el('p', { class: 'panel-lead', text: summary.closed ? t('privSchemaIntro') : t('privSchemaOpen') }),
      table,
      raw,
    ]);
    const never = el('section', { class: 'panel never' }, [
      el('h2', { class: 'panel-title', text: t('privNeverTitle') }),
      el('p', { text: t('privNever') }),
    ]);
    const parts: HTMLElement[] = [hero, el('section', { class: 'panel' }, [facts]), schema, never];
    if (this.audit !== null) parts.push(this.auditPanel(this.audit));
    this.body.replaceChildren(...parts);
  }

  private fieldRow(row: FieldRow): HTMLElement {
    const { t } = this.tr;
    const meaningKey = `field_${row.name}`;
    const meaning = hasMessage(meaningKey) ? t(meaningKey) : (row.description ?? '');
    const types = row.types.map((type) => {
      if (type === 'array' && row.itemTypes.length > 0) return t('typeArrayOf', { type: row.itemTypes.map((i) => this.typeName(i)).join(t('typeOr')) });
      return this.typeName(type);
    });
    const allowed = row.constraints.map((c) => this.constraintText(c));
    if (!row.required) allowed.push(t('optional'));
    const name = el('code', { text: row.path });
    return el('tr', { attrs: { 'data-field': row.path } }, [
      el('th', { class: `field-name depth-${Math.min(row.depth, 3)}`, attrs: { scope: 'row' } }, [name]),
      el('td', { text: types.join(t('typeOr')), attrs: { 'data-label': t('colType') } }),
      el('td', { text: allowed.join('; '), attrs: { 'data-label': t('colAllowed') } }),
      el('td', { text: meaning, attrs: { 'data-label': t('colMeaning') } }),
    ]);
  }

  private typeName(type: string): string {
    const key = TYPE_KEYS[type];
    return key ? this.tr.t(key) : type;
  }

  private constraintText(c: Constraint): string {
    const { t, locale } = this.tr;
    const num = numberFormat(locale);
    const range = (min: number | null, max: number | null, both: MessageKey) =>
      min !== null && max !== null
        ? t(both, { min: num.format(min), max: num.format(max) })
        : min !== null
          ? t('allowedMin', { min: num.format(min) })
          : t('allowedMax', { max: num.format(max ?? 0) });
    switch (c.kind) {
      case 'const':
        return t('allowedConst', { value: c.value });
      case 'range':
        return range(c.min, c.max, 'allowedRange');
      case 'itemRange':
        return c.min !== null && c.max !== null ? t('allowedItemRange', { min: num.format(c.min), max: num.format(c.max) }) : range(c.min, c.max, 'allowedRange');
      case 'items':
        return c.min !== null && c.min === c.max ? t('allowedItems', { n: num.format(c.min) }) : range(c.min, c.max, 'allowedItemsRange');
      case 'pattern':
        return t('allowedPattern', { pattern: c.pattern });
      case 'enum':
        return t('allowedEnum', { values: c.values.join(', ') });
    }
  }

  private auditPanel(audit: Audit): HTMLElement {
    const { t, locale } = this.tr;
    const num = numberFormat(locale);
    const when = dateFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(audit.since * 1000));
    const row = (label: string, value: string, name: string) =>
      el('tr', { attrs: { 'data-audit': name } }, [el('th', { text: label, attrs: { scope: 'row' } }), el('td', { class: 'num', text: value })]);
    const rows = [
      row(t('auditStored'), num.format(audit.ingest.stored), 'stored'),
      row(t('auditDuplicate'), num.format(audit.ingest.duplicate), 'duplicate'),
      ...Object.entries(audit.ingest.rejected).map(([reason, n]) => row(t('auditRejected', { reason: reason.replaceAll('_', ' ') }), num.format(n), `rejected-${reason}`)),
      row(t('auditStatus'), `${num.format(audit.statusMessages.accepted)} / ${num.format(audit.statusMessages.rejected)}`, 'status'),
    ];
    const tokens = audit.tokens;
    return el('section', { class: 'panel audit' }, [
      el('h2', { class: 'panel-title', text: t('privAuditTitle') }),
      el('p', { class: 'panel-lead', text: t('privAuditSince', { time: when }) }),
      el('div', { class: 'table-scroll' }, [el('table', { class: 'data-table audit-table' }, [el('tbody', {}, rows)])]),
      el('p', {
        class: 'panel-lead',
        text: t('auditTokens', {
          viewer: num.format(tokens.viewer ?? 0),
          admin: num.format(tokens.admin ?? 0),
          privacy: num.format(tokens.privacy ?? 0),
          revoked: num.format(tokens.revoked ?? 0),
        }),
      }),
    ]);
  }
}
