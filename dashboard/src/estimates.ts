/**
 * Estimated people beside devices, as a series response carries them: `people`, `peopleLow`, `peopleHigh` (mean
 * people present per minute of the bucket, from a `present` calibration) or `passers`, `passersLow`, `passersHigh`
 * (passers in the bucket, from a `passers` calibration), null where nothing can be estimated, and
 * `estimate: { kind, calibrationId, reason, ... }` saying why. Pure: reading those fields defensively (an older
 * aggregator has none of them, and the page must still show devices), the state a card shows, the per-minute
 * columns a chart draws, and the texts in Dutch and English. Nothing here touches the DOM or the network.
 */
import type { Lang } from './i18n.ts';
import { numberFormat } from './intl-cache.ts';

export type CalibrationKind = 'present' | 'passers';
/** What the estimate counts: people present (from head counts) or people passing (from line counts). */
export type EstimateUnit = 'people' | 'passers';
export type EstimateWarning = 'calibration_old' | 'baseline_moved';
const WARNINGS: readonly EstimateWarning[] = ['calibration_old', 'baseline_moved'];

/** One bucket's estimate and its 95 % prediction interval, as the API gives it (people, or passers in the bucket). */
export interface EstimatePoint {
  value: number;
  low: number;
  high: number;
}

export interface EstimateInfo {
  kind: CalibrationKind | null;
  calibrationId: string | null;
  /** ok, hidden_buckets, not_calibrated, other_radio, baseline_unknown, or a reason this page does not know. */
  reason: string;
  /** The server's words for the reason (English), or null. */
  message: string | null;
  /** When the calibration was made (Unix seconds), when the response says. */
  calibratedAt: number | null;
  /** Manual counts the calibration was fitted from, when known. */
  points: number | null;
  warnings: EstimateWarning[];
}

/** The estimate of one series: its info, and the buckets that have one, by bucket start. */
export interface SeriesEstimate {
  info: EstimateInfo;
  /** Which arrays hold the values; null when none does (no calibration). */
  unit: EstimateUnit | null;
  byT: Map<number, EstimatePoint>;
}

/** What a card shows about estimates. */
export type EstimateState =
  /** The response has no estimate fields (an older aggregator): nothing is shown. */
  | 'absent'
  | 'calibrated'
  | 'uncalibrated'
  /** Calibrated for the other radio. */
  | 'otherRadio'
  /** Calibrated, but a sensor's static baseline is still being learned. */
  | 'learning'
  /** A site: not every one of its zones is calibrated (a site sums all its zones or none). */
  | 'siteIncomplete'
  /** A site: its zones are calibrated with different kinds (people present and passers do not add up). */
  | 'siteMixed'
  /** No estimate, for a reason this page does not know (the server's message is shown). */
  | 'unavailable';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function text(value: unknown, max = 300): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.slice(0, max) : null;
}

/** The number of counts in a `points` field: a number, or `{ used }` as a stored calibration has it. */
function pointsOf(value: unknown): number | null {
  if (finite(value) && value >= 0) return Math.round(value);
  if (isRecord(value) && finite(value.used) && value.used >= 0) return Math.round(value.used);
  return null;
}

function columns(raw: Record<string, unknown>, unit: EstimateUnit, t: readonly number[]): Map<number, EstimatePoint> {
  const value = raw[unit];
  const low = raw[`${unit}Low`];
  const high = raw[`${unit}High`];
  const out = new Map<number, EstimatePoint>();
  if (!Array.isArray(value) || value.length !== t.length) return out;
  const lows = Array.isArray(low) && low.length === t.length ? low : null;
  const highs = Array.isArray(high) && high.length === t.length ? high : null;
  for (let i = 0; i < t.length; i++) {
    const v: unknown = value[i];
    if (!finite(v)) continue;
    const l: unknown = lows?.[i];
    const h: unknown = highs?.[i];
    // A bound the response lacks is the value itself: the interval then shows as a point, never as a guess.
    const lo = finite(l) ? Math.min(l, v) : v;
    const hi = finite(h) ? Math.max(h, v) : v;
    out.set(t[i]!, { value: v, low: lo, high: hi });
  }
  return out;
}

function hasAny(raw: Record<string, unknown>, unit: EstimateUnit): boolean {
  const value = raw[unit];
  return Array.isArray(value) && value.some(finite);
}

/**
 * The estimate a series response carries, or null when it carries none (an older aggregator: no `estimate` and no
 * `people` or `passers`). Anything malformed is dropped, never trusted: a bucket without a finite value has no
 * estimate.
 */
export function parseEstimate(raw: unknown): SeriesEstimate | null {
  if (!isRecord(raw) || !Array.isArray(raw.t)) return null;
  const t = raw.t.filter((x): x is number => finite(x));
  if (t.length !== raw.t.length) return null;
  const info = isRecord(raw.estimate) ? raw.estimate : null;
  const hasFields = info !== null || 'people' in raw || 'passers' in raw;
  if (!hasFields) return null;
  const kind = info?.kind === 'present' || info?.kind === 'passers' ? info.kind : null;
  const unit: EstimateUnit | null =
    kind === 'present' ? 'people' : kind === 'passers' ? 'passers' : hasAny(raw, 'people') ? 'people' : hasAny(raw, 'passers') ? 'passers' : null;
  const calibratedAt = info?.calibratedAt ?? info?.created;
  const warnings = Array.isArray(info?.warnings) ? WARNINGS.filter((w) => (info.warnings as unknown[]).includes(w)) : [];
  return {
    info: {
      kind: kind ?? (unit === 'people' ? 'present' : unit === 'passers' ? 'passers' : null),
      calibrationId: text(info?.calibrationId, 100),
      reason: text(info?.reason, 60) ?? (unit === null ? 'not_calibrated' : 'ok'),
      message: text(info?.message),
      calibratedAt: finite(calibratedAt) && calibratedAt > 0 ? calibratedAt : null,
      points: pointsOf(info?.points),
      warnings,
    },
    unit,
    byT: unit === null ? new Map() : columns(raw, unit, t),
  };
}

/** The state a card shows for `estimate` (null: the response had no estimate fields). */
export function estimateState(estimate: SeriesEstimate | null): EstimateState {
  if (estimate === null) return 'absent';
  const { reason } = estimate.info;
  if (reason === 'ok' || reason === 'hidden_buckets') return estimate.unit === null ? 'unavailable' : 'calibrated';
  if (reason === 'not_calibrated') return 'uncalibrated';
  if (reason === 'other_radio') return 'otherRadio';
  if (reason === 'baseline_unknown') return 'learning';
  if (reason === 'zone_not_calibrated') return 'siteIncomplete';
  if (reason === 'mixed_kinds') return 'siteMixed';
  // A reason this page does not know: values, when there are any, are still an estimate and shown as one.
  return estimate.byT.size > 0 && estimate.unit !== null ? 'calibrated' : 'unavailable';
}

/**
 * The factor that puts a bucket's estimate on the chart's scale (per minute, like the devices): people present are
 * already a mean per minute; passers in a bucket of `step` seconds are divided by its minutes.
 */
export function perMinuteFactor(unit: EstimateUnit, step: number): number {
  return unit === 'passers' ? 60 / Math.max(60, step) : 1;
}

/** The chart's estimate columns for buckets `t`: value, low and high per minute, null where there is none. */
export function chartColumns(
  t: readonly number[],
  estimate: SeriesEstimate | null,
  step: number,
): { value: (number | null)[]; low: (number | null)[]; high: (number | null)[] } {
  const value: (number | null)[] = [];
  const low: (number | null)[] = [];
  const high: (number | null)[] = [];
  const f = estimate?.unit ? perMinuteFactor(estimate.unit, step) : 1;
  for (const x of t) {
    const p = estimate?.byT.get(x);
    value.push(p ? p.value * f : null);
    low.push(p ? p.low * f : null);
    high.push(p ? p.high * f : null);
  }
  return { value, low, high };
}

/** The last bucket of `t` (in order) that has an estimate. */
export function latestEstimate(t: readonly number[], estimate: SeriesEstimate | null): { t: number; point: EstimatePoint } | null {
  if (estimate === null) return null;
  for (let i = t.length - 1; i >= 0; i--) {
    const point = estimate.byT.get(t[i]!);
    if (point) return { t: t[i]!, point };
  }
  return null;
}

/** How many of the buckets `t` have an estimate. */
export function estimatedBuckets(t: readonly number[], estimate: SeriesEstimate | null): number {
  if (estimate === null) return 0;
  let n = 0;
  for (const x of t) if (estimate.byT.has(x)) n++;
  return n;
}

/** A number of people as the page shows it: one decimal below 10 (a mean per minute), whole above. */
export function formatPeople(value: number, locale: string): string {
  return numberFormat(locale, { maximumFractionDigits: Math.abs(value) < 10 ? 1 : 0 }).format(value);
}

// ---- texts ------------------------------------------------------------------------------------------------------

const en = {
  estBadge: 'Estimate',
  estPeople: 'Estimated people',
  estPeopleChart: 'Estimated people (per minute)',
  estPassers: 'Estimated passers',
  estPassersChart: 'Estimated passers per minute',
  estPassersBucketMinute: 'Estimated passers in the minute',
  estPassersBucketHour: 'Estimated passers in the hour',
  estPassersBucket: 'Estimated passers in the period',
  estInterval: '95 % interval',
  estRange: '{low}–{high}',
  estValueWithRange: '{value} ({low}–{high})',
  estLatest: 'latest, {time}',
  estNoValue: 'no estimate in this period (no released minute with an estimate)',
  estWhatPeople: 'An estimate of the people present, from the devices and a calibration by manual counts; the real number lies within the interval 95 times out of 100.',
  estWhatPassers: 'An estimate of the people passing, from the devices and a calibration by manual counts; the real number lies within the interval 95 times out of 100.',
  estCalibratedOn: 'Calibrated on {date} from {points} manual counts.',
  estCalibratedOnDate: 'Calibrated on {date} from manual counts.',
  estCalibratedPoints: 'Calibrated from {points} manual counts.',
  estCalibrated: 'Calibrated from manual counts.',
  estWarnOld: 'The calibration is more than a year old: the place may have changed. Count again to check the estimate.',
  estWarnBaseline: 'The devices that are always there changed since the calibration (a new printer, a moved sensor?): the estimate may be off. Calibrate again.',
  estNotCalibrated: 'Not calibrated: devices only',
  estHowToCalibrate: 'To see estimated people, count the people in this zone by hand (for example every 15 minutes for two hours, on a busy and a quiet day) and have an admin upload the counts (POST /api/v1/zones/{zone}/calibrations).',
  estSiteHowToCalibrate: 'To see estimated people for this site, calibrate each of its zones with manual counts.',
  estSiteIncomplete: 'Not every zone of this site is calibrated: no estimate for the site (see its zones).',
  estSiteMixed: 'The zones of this site are calibrated with different kinds of count (people present and passers): they do not add up, see the zones.',
  estOtherRadio: 'The calibration of this zone is for {radio}: choose {radio} to see estimated people.',
  estLearning: 'No estimate yet: a sensor is still learning which devices are always there (it takes its first nights).',
  estUnavailable: 'No estimate for this choice.',
  estTableValue: '{label} (estimate)',
  calTitle: 'Upload manual counts (admin)',
  calLead: 'Counts of people in this zone fit its estimate. CSV: from,to,people on each line (times as Unix seconds or date-times such as 2026-05-02T14:15 in your time zone; leave "to" empty for a head count at a moment), or the JSON body of the API. At least 6 usable counts.',
  calKind: 'Kind of count',
  calKindPresent: 'People present (head counts)',
  calKindPassers: 'Passers (counts per period)',
  calFile: 'File (CSV or JSON)',
  calText: 'Counts',
  calSubmit: 'Fit calibration',
  calBusy: 'Fitting…',
  calDone: 'Calibration fitted from {used} counts: {a} people per device (R² {r2}, mean error {mae} people). The estimate uses it from now on.',
  calRefused: 'Not fitted:',
  calEmpty: 'No counts: paste them or choose a file with at least one line.',
  calJson: 'This JSON is not a list of counts: give { "kind", "counts": [{ "from", "to", "people" }] } or just the list.',
  calLine: 'Line {line} cannot be read: give from,to,people (times as Unix seconds or as 2026-05-02T14:15).',
  calTooMany: 'At most 2000 counts at a time.',
  calFileFailed: 'The file could not be read.',
} as const;

export type EstimateMessageKey = keyof typeof en;

const nl: Record<EstimateMessageKey, string> = {
  estBadge: 'Schatting',
  estPeople: 'Geschatte personen',
  estPeopleChart: 'Geschatte personen (per minuut)',
  estPassers: 'Geschatte passanten',
  estPassersChart: 'Geschatte passanten per minuut',
  estPassersBucketMinute: 'Geschatte passanten in de minuut',
  estPassersBucketHour: 'Geschatte passanten in het uur',
  estPassersBucket: 'Geschatte passanten in de periode',
  estInterval: '95%-interval',
  estRange: '{low}–{high}',
  estValueWithRange: '{value} ({low}–{high})',
  estLatest: 'laatste, {time}',
  estNoValue: 'geen schatting in deze periode (geen vrijgegeven minuut met een schatting)',
  estWhatPeople: 'Een schatting van het aantal aanwezige personen, uit de apparaten en een kalibratie met handmatige tellingen; het echte aantal ligt 95 van de 100 keer binnen het interval.',
  estWhatPassers: 'Een schatting van het aantal passanten, uit de apparaten en een kalibratie met handmatige tellingen; het echte aantal ligt 95 van de 100 keer binnen het interval.',
  estCalibratedOn: 'Gekalibreerd op {date} met {points} handmatige tellingen.',
  estCalibratedOnDate: 'Gekalibreerd op {date} met handmatige tellingen.',
  estCalibratedPoints: 'Gekalibreerd met {points} handmatige tellingen.',
  estCalibrated: 'Gekalibreerd met handmatige tellingen.',
  estWarnOld: 'De kalibratie is meer dan een jaar oud: de plek kan veranderd zijn. Tel opnieuw om de schatting te controleren.',
  estWarnBaseline: 'De apparaten die er altijd zijn, zijn veranderd sinds de kalibratie (een nieuwe printer, een verplaatste sensor?): de schatting kan ernaast zitten. Kalibreer opnieuw.',
  estNotCalibrated: 'Niet gekalibreerd: alleen apparaten',
  estHowToCalibrate: 'Voor geschatte personen: tel de mensen in deze zone met de hand (bijvoorbeeld elk kwartier, twee uur lang, op een drukke en een rustige dag) en laat een beheerder de tellingen uploaden (POST /api/v1/zones/{zone}/calibrations).',
  estSiteHowToCalibrate: 'Voor geschatte personen in dit gebied: kalibreer elk van zijn zones met handmatige tellingen.',
  estSiteIncomplete: 'Niet elke zone van dit gebied is gekalibreerd: geen schatting voor het gebied (zie de zones).',
  estSiteMixed: 'De zones van dit gebied zijn gekalibreerd met verschillende soorten tellingen (aanwezigen en passanten): die tellen niet op, zie de zones.',
  estOtherRadio: 'De kalibratie van deze zone is voor {radio}: kies {radio} om geschatte personen te zien.',
  estLearning: 'Nog geen schatting: een sensor leert nog welke apparaten er altijd zijn (dat kost de eerste nachten).',
  estUnavailable: 'Geen schatting voor deze keuze.',
  estTableValue: '{label} (schatting)',
  calTitle: 'Handmatige tellingen uploaden (beheerder)',
  calLead: 'Tellingen van mensen in deze zone stellen de schatting af. CSV: van,tot,personen op elke regel (tijden als Unix-seconden of als datum-tijd zoals 2026-05-02T14:15 in uw tijdzone; laat "tot" leeg voor een telling op één moment), of de JSON van de API. Minstens 6 bruikbare tellingen.',
  calKind: 'Soort telling',
  calKindPresent: 'Aanwezigen (koppen tellen)',
  calKindPassers: 'Passanten (tellingen per periode)',
  calFile: 'Bestand (CSV of JSON)',
  calText: 'Tellingen',
  calSubmit: 'Kalibratie berekenen',
  calBusy: 'Bezig met berekenen…',
  calDone: 'Kalibratie berekend uit {used} tellingen: {a} personen per apparaat (R² {r2}, gemiddelde afwijking {mae} personen). De schatting gebruikt die vanaf nu.',
  calRefused: 'Niet berekend:',
  calEmpty: 'Geen tellingen: plak ze of kies een bestand met minstens één regel.',
  calJson: 'Deze JSON is geen lijst van tellingen: geef { "kind", "counts": [{ "from", "to", "people" }] } of alleen de lijst.',
  calLine: 'Regel {line} is niet te lezen: geef van,tot,personen (tijden als Unix-seconden of als 2026-05-02T14:15).',
  calTooMany: 'Hoogstens 2000 tellingen tegelijk.',
  calFileFailed: 'Het bestand kon niet worden gelezen.',
};

export const ESTIMATE_MESSAGES: Record<Lang, Record<EstimateMessageKey, string>> = { en, nl };

/** The estimate message `key` in `lang`, with each `{name}` replaced by `params[name]`. */
export function estimateText(lang: Lang, key: EstimateMessageKey, params: Record<string, string | number> = {}): string {
  return ESTIMATE_MESSAGES[lang][key].replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/** The name of the estimate column of a data table (in the bucket: people per minute, or passers in the bucket). */
export function tableLabelKey(unit: EstimateUnit, step: number): EstimateMessageKey {
  if (unit === 'people') return 'estPeople';
  return step === 60 ? 'estPassersBucketMinute' : step === 3600 ? 'estPassersBucketHour' : 'estPassersBucket';
}
