/**
 * The estimate part of a card: for a calibrated zone the latest estimated people (or passers) with its 95 %
 * interval, labelled as an estimate, with the calibration's date and number of counts and any warning (old
 * calibration, the static devices moved); for a zone without one a calm "not calibrated" with one line on how to
 * calibrate. Shows nothing when the aggregator sends no estimate fields (an older one). Text only, never HTML.
 */
import './estimates.css';
import type { Radio, TargetKind } from './api.ts';
import { el } from './dom.ts';
import type { Translator } from './i18n.ts';
import {
  estimateState,
  estimateText,
  formatPeople,
  latestEstimate,
  type EstimateMessageKey,
  type EstimateWarning,
  type SeriesEstimate,
} from './estimates.ts';
import { dateFormat } from './intl-cache.ts';

/** What a stored calibration adds when the reader may read it (admin, privacy): its date and counts used. */
export interface CalibrationFacts {
  created: number | null;
  points: number | null;
}

export interface EstimatePanelInput {
  tr: Translator;
  estimate: SeriesEstimate | null;
  /** The card's bucket starts, in order (the latest estimate is the last of these that has one). */
  t: readonly number[];
  step: number;
  radio: Radio;
  target: { kind: TargetKind; id: string };
  calibration: CalibrationFacts | null;
}

const WARNING_KEYS: Record<EstimateWarning, EstimateMessageKey> = { calibration_old: 'estWarnOld', baseline_moved: 'estWarnBaseline' };

export class EstimatePanel {
  readonly root: HTMLElement;
  private readonly badge: HTMLElement;
  private readonly title: HTMLElement;
  private readonly value: HTMLElement;
  private readonly what: HTMLElement;
  private readonly calibration: HTMLElement;
  private readonly warnings: HTMLUListElement;

  constructor() {
    this.badge = el('span', { class: 'estimate-badge' });
    this.title = el('strong', { class: 'estimate-title' });
    this.value = el('p', { class: 'estimate-value' });
    this.what = el('p', { class: 'estimate-note estimate-what' });
    this.calibration = el('p', { class: 'estimate-note estimate-calibration' });
    this.warnings = el('ul', { class: 'estimate-warnings' });
    this.root = el('section', { class: 'estimate', attrs: { hidden: '', 'data-state': 'absent' } }, [
      el('p', { class: 'estimate-head' }, [this.badge, this.title]),
      this.value,
      this.what,
      this.calibration,
      this.warnings,
    ]);
  }

  update(input: EstimatePanelInput): void {
    const { tr, estimate } = input;
    const lang = tr.lang;
    const e = (key: EstimateMessageKey, values?: Record<string, string | number>) => estimateText(lang, key, values);
    const state = estimateState(estimate);
    this.root.dataset.state = state;
    this.root.hidden = state === 'absent';
    this.root.removeAttribute('data-unit');
    this.warnings.replaceChildren();
    this.warnings.hidden = true;
    for (const part of [this.value, this.what, this.calibration]) {
      part.hidden = true;
      part.textContent = '';
    }
    this.badge.hidden = true;
    if (estimate === null || state === 'absent') return;
    const radioName = (r: Radio) => tr.t(r === 'wifi' ? 'radioWifi' : 'radioBle');

    if (state === 'uncalibrated') {
      this.title.textContent = e('estNotCalibrated');
      this.what.hidden = false;
      this.what.textContent = input.target.kind === 'site' ? e('estSiteHowToCalibrate') : e('estHowToCalibrate', { zone: input.target.id });
      return;
    }
    if (state !== 'calibrated') {
      const titles: Record<Exclude<typeof state, 'calibrated' | 'uncalibrated'>, string> = {
        otherRadio: e('estOtherRadio', { radio: radioName(input.radio === 'wifi' ? 'ble' : 'wifi') }),
        learning: e('estLearning'),
        siteIncomplete: e('estSiteIncomplete'),
        siteMixed: e('estSiteMixed'),
        unavailable: e('estUnavailable'),
      };
      this.title.textContent = titles[state];
      if (state === 'unavailable' && estimate.info.message !== null) {
        // The server's reason, in its own (English) words.
        this.what.hidden = false;
        this.what.textContent = estimate.info.message;
        this.what.setAttribute('lang', 'en');
      } else this.what.removeAttribute('lang');
      this.showCalibration(input, e);
      return;
    }

    // Calibrated: the latest estimate with its interval, what it is, the calibration, and the warnings.
    const unit = estimate.unit ?? 'people';
    this.root.dataset.unit = unit;
    this.badge.hidden = false;
    this.badge.textContent = e('estBadge');
    this.title.textContent = e(unit === 'people' ? 'estPeople' : 'estPassers');
    this.what.removeAttribute('lang');
    const latest = latestEstimate(input.t, estimate);
    this.value.hidden = false;
    if (latest === null) {
      this.value.textContent = e('estNoValue');
      this.value.removeAttribute('data-value');
      this.value.removeAttribute('data-low');
      this.value.removeAttribute('data-high');
    } else {
      const { locale } = tr;
      const p = latest.point;
      const time = dateFormat(locale, input.step === 60 ? { hour: '2-digit', minute: '2-digit' } : { weekday: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
      this.value.dataset.value = String(p.value);
      this.value.dataset.low = String(p.low);
      this.value.dataset.high = String(p.high);
      this.value.dataset.t = String(latest.t);
      this.value.replaceChildren(
        el('span', { class: 'estimate-number', text: formatPeople(p.value, locale) }),
        ' ',
        el('span', {
          class: 'estimate-interval',
          text: `(${e('estInterval')}: ${e('estRange', { low: formatPeople(p.low, locale), high: formatPeople(p.high, locale) })}; ${e('estLatest', { time: time.format(new Date(latest.t * 1000)) })})`,
        }),
      );
    }
    this.what.hidden = false;
    this.what.textContent = e(unit === 'people' ? 'estWhatPeople' : 'estWhatPassers');
    this.showCalibration(input, e);
    for (const warning of estimate.info.warnings) {
      this.warnings.append(el('li', { text: e(WARNING_KEYS[warning]), attrs: { 'data-warning': warning } }));
    }
    this.warnings.hidden = estimate.info.warnings.length === 0;
  }

  /** The calibration's date and number of counts, from the series or (for admins) the stored calibration. */
  private showCalibration(input: EstimatePanelInput, e: (key: EstimateMessageKey, values?: Record<string, string | number>) => string): void {
    const info = input.estimate?.info;
    if (!info || (info.calibrationId === null && info.calibratedAt === null)) return;
    const created = info.calibratedAt ?? input.calibration?.created ?? null;
    const points = info.points ?? input.calibration?.points ?? null;
    const date = created === null ? null : dateFormat(input.tr.locale, { day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(created * 1000));
    this.calibration.hidden = false;
    this.calibration.textContent =
      date !== null && points !== null
        ? e('estCalibratedOn', { date, points })
        : date !== null
          ? e('estCalibratedOnDate', { date })
          : points !== null
            ? e('estCalibratedPoints', { points })
            : e('estCalibrated');
    if (created !== null) this.calibration.dataset.created = String(created);
    else this.calibration.removeAttribute('data-created');
    if (points !== null) this.calibration.dataset.points = String(points);
    else this.calibration.removeAttribute('data-points');
  }
}
