/**
 * The page's state: what the reader chose (language, period, radio, site, tab), who the reader is, what the server
 * listed, the cards on screen, and the bookkeeping of loads, the event stream and timers. One object, made by
 * `createState` when the page starts; the page's modules (loader, live updates, shell) read and write it.
 */
import type { LiveFeed, Me, Radio, SiteInfo, ZoneInfo } from './api.ts';
import type { SeriesCard } from './card.ts';
import type { Lang, MessageKey } from './i18n.ts';
import type { Period } from './periods.ts';
import type { TotalUnit } from './totals.ts';

export type LiveState = 'connecting' | 'live' | 'polling' | 'down' | 'locked';
export const TABS = ['overview', 'compare', 'privacy', 'sensors', 'tokens'] as const;
export type Tab = (typeof TABS)[number];

/** A message above the cards; kept so a language switch can translate it. */
export interface Banner {
  key: MessageKey;
  values?: Record<string, string | number>;
  /** A problem gets a retry button. */
  kind: 'info' | 'problem';
}

export interface PageState {
  lang: Lang;
  locale: string;
  /** The period shown (a preset or a custom range of local dates) and the unit the reader chose for its totals. */
  period: Period;
  unit: TotalUnit | null;
  radio: Radio;
  /** 'all' or a site id: which site's cards are shown. */
  site: string;
  tab: Tab;
  /** The reader's time zone for the heatmap (UTC when the server does not know the browser's). */
  tz: string;
  token: string | null;
  me: Me | null;
  zones: ZoneInfo[];
  sites: SiteInfo[];
  locked: boolean;
  live: LiveState;
  feed: LiveFeed | null;
  feedOpen: boolean;
  /** Resolved when the event stream being opened by a load opens or fails (the load waits before its series). */
  feedSettled: Promise<void> | null;
  views: SeriesCard[];
  /** Counts refreshes: an answer to an older one is dropped. */
  refreshGeneration: number;
  refreshTimer: number;
  reopenTimer: number;
  failures: number;
  lastLoadMs: number;
  lastUpdateMs: number;
  banner: Banner | null;
  liveEvents: number;
  privacyLoadedMs: number;
  privacyGeneration: number;
  sensorsTimer: number;
  sensorsGeneration: number;
}

/** The state before the URL, the stored choices and the server have been asked. */
export function createState(tz: string): PageState {
  return {
    lang: 'en',
    locale: 'en-GB',
    period: { id: '2h' },
    unit: null,
    radio: 'wifi',
    site: 'all',
    tab: 'overview',
    tz,
    token: null,
    me: null,
    zones: [],
    sites: [],
    locked: false,
    live: 'connecting',
    feed: null,
    feedOpen: false,
    feedSettled: null,
    views: [],
    refreshGeneration: 0,
    refreshTimer: 0,
    reopenTimer: 0,
    failures: 0,
    lastLoadMs: 0,
    lastUpdateMs: 0,
    banner: null,
    liveEvents: 0,
    privacyLoadedMs: 0,
    privacyGeneration: 0,
    sensorsTimer: 0,
    sensorsGeneration: 0,
  };
}
