/**
 * Sensor health (`#sensors`, for admin and privacy-officer tokens), from `GET /api/v1/sensors`: per sensor its
 * zone, whether it is online, when its last message came, its messages in the last hour and the minutes of the
 * last hour and day without one. The API never gives counts here, and this page has no place for them.
 */
import type { SensorHealth, SensorHealthReport, SensorState } from './api.ts';
import { el } from './dom.ts';
import type { MessageKey, Translator } from './i18n.ts';
import { dateFormat, numberFormat } from './intl-cache.ts';

const STATE_KEYS: Record<SensorState, MessageKey> = { online: 'stateOnline', offline: 'stateOffline', unknown: 'stateUnknown' };

/** "3 minutes ago" (or "in 2 seconds" for a clock a little ahead), in the largest unit that fits. */
export function relativeTime(fmt: Intl.RelativeTimeFormat, t: number, now: number): string {
  const seconds = Math.round(t - now);
  const abs = Math.abs(seconds);
  if (abs < 60) return fmt.format(seconds, 'second');
  if (abs < 3600) return fmt.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return fmt.format(Math.round(seconds / 3600), 'hour');
  return fmt.format(Math.round(seconds / 86_400), 'day');
}

export class SensorsPage {
  readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly intro: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly status: HTMLElement;
  private readonly table: HTMLTableElement;
  private report: SensorHealthReport | null = null;
  private zoneNames = new Map<string, string>();

  constructor(private tr: Translator) {
    this.title = el('h2', { class: 'panel-title' });
    this.intro = el('p', { class: 'panel-lead' });
    this.summary = el('p', { class: 'sensor-summary' });
    this.status = el('p', { class: 'page-status', attrs: { role: 'status' } });
    this.table = el('table', { class: 'data-table sensor-table stack-on-phone' });
    this.root = el('section', { class: 'panel sensors' }, [
      this.title,
      this.intro,
      this.status,
      this.summary,
      el('div', { class: 'table-scroll' }, [this.table]),
    ]);
    this.render();
  }

  setTranslator(tr: Translator): void {
    this.tr = tr;
    this.render();
  }

  /** Zone names for the zone column (ids of zones the reader cannot read stay ids). */
  setZoneNames(names: Map<string, string>): void {
    this.zoneNames = names;
    this.render();
  }

  update(report: SensorHealthReport): void {
    this.report = report;
    this.status.textContent = '';
    this.render();
  }

  /** Forgets what was shown (another reader signed in or out). */
  reset(): void {
    this.report = null;
    this.status.textContent = '';
    this.render();
  }

  showStatus(message: string, kind: 'info' | 'problem'): void {
    this.status.textContent = message;
    this.status.dataset.kind = kind;
  }

  private render(): void {
    const { t, locale } = this.tr;
    const report = this.report;
    this.title.textContent = t('sensorsTitle');
    const time = dateFormat(locale, { hour: '2-digit', minute: '2-digit' });
    this.intro.textContent = t('sensorsIntro', { time: report ? time.format(new Date(report.asOf * 1000)) : '…' });
    // the static baseline: only an admin's report carries it
    const baseline = (report?.sensors ?? []).some((s) => s.baseline !== undefined);
    const heads = ['colSensor', 'colZone', 'colState', 'colLastMessage', 'colMessagesHour', 'colMissingHour', 'colMissingDay', ...(baseline ? (['colBaseline'] as const) : []), 'colVersion'] as const;
    const numeric = new Set<string>(['colMessagesHour', 'colMissingHour', 'colMissingDay', 'colBaseline']);
    const head = el('thead', {}, [
      el('tr', {}, heads.map((key) => el('th', { class: numeric.has(key) ? 'num' : undefined, text: t(key), attrs: { scope: 'col' } }))),
    ]);
    const sensors = report?.sensors ?? [];
    const counts = { online: 0, offline: 0, unknown: 0 };
    for (const s of sensors) counts[s.state]++;
    const num = numberFormat(locale);
    this.summary.textContent = report
      ? sensors.length === 0
        ? t('sensorsEmpty')
        : t('sensorsSummary', { online: num.format(counts.online), offline: num.format(counts.offline), unknown: num.format(counts.unknown) })
      : '';
    const body = el('tbody', {}, sensors.map((s) => this.row(s, report!.asOf)));
    this.table.replaceChildren(head, body);
    this.table.hidden = report === null || sensors.length === 0;
  }

  private row(s: SensorHealth, asOf: number): HTMLElement {
    const { t, locale } = this.tr;
    const num = numberFormat(locale);
    const rel = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    const full = dateFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' });
    const now = Math.max(asOf, Date.now() / 1000);
    const last =
      s.lastMessageAt === null
        ? el('td', { text: t('never'), attrs: { 'data-label': t('colLastMessage') } })
        : el('td', {
            text: relativeTime(rel, s.lastMessageAt, now),
            attrs: { title: full.format(new Date(s.lastMessageAt * 1000)), 'data-label': t('colLastMessage') },
          });
    const state = el('td', { attrs: { 'data-label': t('colState') } }, [
      el('span', { class: 'state-badge', attrs: { 'data-state': s.ended ? 'ended' : s.state } }, [
        el('span', { class: 'state-dot', attrs: { 'aria-hidden': 'true' } }),
        s.ended ? t('stateEnded', { date: s.activeUntil ?? '' }) : t(STATE_KEYS[s.state]),
      ]),
    ]);
    const cell = (n: number, warn: boolean, label: MessageKey) =>
      el('td', { class: warn ? 'num warn' : 'num', text: num.format(n), attrs: { 'data-label': t(label) } });
    return el('tr', { attrs: { 'data-sensor-id': s.sensorId, 'data-state': s.state } }, [
      el('th', { attrs: { scope: 'row' } }, [el('code', { text: s.sensorId })]),
      el('td', { text: this.zoneNames.get(s.zoneId) ?? s.zoneId, attrs: { 'data-label': t('colZone') } }),
      state,
      last,
      cell(s.messagesLastHour, false, 'colMessagesHour'),
      cell(s.missingLastHour, s.missingLastHour > 0, 'colMissingHour'),
      cell(s.missingLastDay, s.missingLastDay > 0, 'colMissingDay'),
      ...(s.baseline === undefined
        ? []
        : [
            el('td', {
              class: 'num baseline',
              text: `${s.baseline.wifi === null ? t('baselineLearning') : num.format(s.baseline.wifi)} / ${s.baseline.ble === null ? t('baselineLearning') : num.format(s.baseline.ble)}`,
              attrs: { 'data-label': t('colBaseline'), 'data-wifi': String(s.baseline.wifi), 'data-ble': String(s.baseline.ble), title: t('baselineTitle') },
            }),
          ]),
      el('td', { text: s.version ?? t('none'), attrs: { 'data-label': t('colVersion') } }),
    ]);
  }
}
