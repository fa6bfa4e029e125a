/**
 * Every text the dashboard shows, in Dutch and English. `{name}` in a message is replaced by a parameter.
 * Pure: no DOM access here, so the language choice is unit-tested.
 */

export const LANGS = ['nl', 'en'] as const;
export type Lang = (typeof LANGS)[number];

const en = {
  title: 'Passant',
  motto: 'counting is allowed, tracking is not',
  language: 'Language',
  switchTo: 'Nederlands',
  period: 'Period',
  range2h: 'Last 2 hours',
  range24h: 'Last 24 hours',
  range7d: 'Last 7 days',
  radio: 'Radio',
  radioWifi: 'Wi-Fi',
  radioBle: 'Bluetooth (BLE)',
  radioNote: 'Wi-Fi and Bluetooth are separate measures: one phone can show up in both, so they are never added up.',
  seriesMinute: 'Devices per minute',
  seriesHourAvg: 'Devices per minute (hourly average)',
  time: 'Time',
  hidden: 'hidden (fewer than k)',
  hiddenMinutesInHour: '{n} min hidden',
  legendSeries: '{series}, {radio}',
  legendHidden: 'Hidden: fewer than k devices',
  statLatest: 'Latest minute',
  statLatestHour: 'Latest hour, per minute',
  statPeak: 'Busiest',
  statPeakAt: '{value} at {time}',
  statHidden: 'Hidden minutes',
  statHiddenValue: '{n} of {total}',
  none: '–',
  loading: 'Loading…',
  apiDown: 'The Passant server cannot be reached. Trying again in {s} s.',
  apiError: 'The Passant server reports a problem ({message}). Trying again in {s} s.',
  retryNow: 'Try again now',
  noZones: 'No zones yet. A zone appears here once it is in the aggregator’s configuration; its chart fills as its sensors send counts.',
  zoneError: 'This zone could not be loaded ({message}). Trying again shortly.',
  statusConnecting: 'Connecting…',
  statusLive: 'Live',
  statusPolling: 'Updates every 10 s',
  statusDown: 'Offline',
  updatedAt: 'Updated {time}',
  chartLabel: '{series} in {zone}, {range}, {radio}',
  footer: 'Passant counts devices and never stores who they are. Minutes with fewer than k devices are hidden, so no one can be singled out.',
} as const;

export type MessageKey = keyof typeof en;
export type Messages = Record<MessageKey, string>;

const nl: Messages = {
  title: 'Passant',
  motto: 'tellen mag, volgen niet',
  language: 'Taal',
  switchTo: 'English',
  period: 'Periode',
  range2h: 'Laatste 2 uur',
  range24h: 'Laatste 24 uur',
  range7d: 'Laatste 7 dagen',
  radio: 'Radio',
  radioWifi: 'Wifi',
  radioBle: 'Bluetooth (BLE)',
  radioNote: 'Wifi en Bluetooth zijn aparte metingen: één telefoon kan in beide voorkomen, dus ze worden nooit opgeteld.',
  seriesMinute: 'Apparaten per minuut',
  seriesHourAvg: 'Apparaten per minuut (uurgemiddelde)',
  time: 'Tijd',
  hidden: 'verborgen (minder dan k)',
  hiddenMinutesInHour: '{n} min verborgen',
  legendSeries: '{series}, {radio}',
  legendHidden: 'Verborgen: minder dan k apparaten',
  statLatest: 'Laatste minuut',
  statLatestHour: 'Laatste uur, per minuut',
  statPeak: 'Drukst',
  statPeakAt: '{value} om {time}',
  statHidden: 'Verborgen minuten',
  statHiddenValue: '{n} van {total}',
  none: '–',
  loading: 'Laden…',
  apiDown: 'De Passant-server is niet bereikbaar. Nieuwe poging over {s} s.',
  apiError: 'De Passant-server meldt een probleem ({message}). Nieuwe poging over {s} s.',
  retryNow: 'Nu opnieuw proberen',
  noZones: 'Nog geen zones. Een zone verschijnt hier zodra hij in de configuratie van de aggregator staat; de grafiek vult zich als de sensoren tellingen sturen.',
  zoneError: 'Deze zone kon niet worden geladen ({message}). Zo meteen een nieuwe poging.',
  statusConnecting: 'Verbinden…',
  statusLive: 'Live',
  statusPolling: 'Elke 10 s bijgewerkt',
  statusDown: 'Offline',
  updatedAt: 'Bijgewerkt {time}',
  chartLabel: '{series} in {zone}, {range}, {radio}',
  footer: 'Passant telt apparaten en slaat nooit op wie ze zijn. Minuten met minder dan k apparaten worden verborgen, zodat niemand eruit te pikken is.',
};

export const MESSAGES: Record<Lang, Messages> = { en, nl };

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGS as readonly string[]).includes(value);
}

/** The first usable choice: `?lang=`, then the stored choice, then the browser language (nl* -> nl, else en). */
export function pickLang(choice: {
  query?: string | null;
  stored?: string | null;
  navigatorLanguage?: string | null;
}): Lang {
  const query = choice.query?.trim().toLowerCase();
  if (isLang(query)) return query;
  const stored = choice.stored?.trim().toLowerCase();
  if (isLang(stored)) return stored;
  return choice.navigatorLanguage?.trim().toLowerCase().startsWith('nl') ? 'nl' : 'en';
}

/** The BCP 47 locale for Intl: Dutch as in the Netherlands; English in the browser's own variant when it has one. */
export function intlLocale(lang: Lang, navigatorLanguage?: string | null): string {
  if (lang === 'nl') return 'nl-NL';
  const nav = navigatorLanguage?.trim() ?? '';
  return /^en(-|$)/i.test(nav) && isSupportedLocale(nav) ? nav : 'en-GB';
}

function isSupportedLocale(tag: string): boolean {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([tag]).length > 0;
  } catch {
    return false; // not a well-formed tag
  }
}

/** The message `key` in `lang`, with each `{name}` replaced by `params[name]`; unknown placeholders stay as they are. */
export function translate(lang: Lang, key: MessageKey, params: Record<string, string | number> = {}): string {
  return MESSAGES[lang][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}
