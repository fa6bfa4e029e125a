/**
 * What a load of the overview fetches, and in which order: who am I together with the zones and sites it may read
 * (one request, `/api/v1/me?include=zones,sites`, asked before the page is built; once, until the reader changes;
 * a later load asks for the zones and sites at the same time), the event stream opening meanwhile, then, once the
 * stream has opened or failed,
 * every card's series at the same time together with the marked periods; the cards are built while those are on
 * their way. Each resource is asked for once per load. The week comparison and the heatmap (`loadDetails`) are
 * heavier and change slowly: the page asks for them after the first figures are drawn.
 *
 * The loader only fetches and sequences; the page (main.ts) says what to do with each answer through `LoadHost`.
 * It touches no DOM, so it is unit-tested in Node with a fake `fetch` (dashboard/test/loader.test.ts).
 */
import {
  ApiError,
  fetchComparison,
  fetchMarkedPeriods,
  fetchMeAndLists,
  fetchProfile,
  fetchSeries,
  fetchSiteWithZones,
  fetchSites,
  fetchZones,
  isInvalidToken,
  needsToken,
  type Comparison,
  type MarkedPeriod,
  type Me,
  type MeAndLists,
  type Profile,
  type Radio,
  type SiteInfo,
  type Target,
  type ZoneInfo,
} from './api.ts';
import type { Series, TimeWindow } from './series.ts';
import { weekComparisonQuery } from './week.ts';

/** The weeks the hour-of-week heatmap averages. */
export const PROFILE_WEEKS = 4;

/** The key of a card's target in a load's requests. */
export function targetKey(target: Target): string {
  return `${target.kind}:${target.id}`;
}

/** Series asked for before their cards were built (the cards take a while to build: the answers arrive meanwhile). */
export interface Prefetched {
  win: TimeWindow;
  radio: Radio;
  series: Map<string, Promise<Series>>;
}

/** What a load needs from the page. */
export interface LoadHost {
  /** False once a newer load has started: this one then stops and drops its answers. */
  isCurrent(): boolean;
  /** Who the reader is, when known (null: the load asks). */
  me(): Me | null;
  /** Whether a token is in use (a public reader without one who may read nothing is asked for one). */
  hasToken(): boolean;
  gotMe(me: Me): void;
  /** Opens the event stream, unless it is open or waiting to reopen. */
  openLive(): void;
  /** Settles when the stream being opened has opened, failed or taken too long (null: nothing to wait for). */
  liveSettled(): Promise<void> | null;
  gotLists(zones: ZoneInfo[], sites: SiteInfo[]): void;
  /** The window, radio and targets of the cards this load shows. */
  seriesPlan(): SeriesPlan;
  /** Builds the cards; returns how many there are. */
  buildCards(): number;
  /** Shows every card's series (from `prefetched`); resolves false when the server could not be reached. */
  showSeries(prefetched: Prefetched): Promise<boolean>;
  gotEvents(events: MarkedPeriod[]): void;
}

export type LoadOutcome =
  /** A newer load took over. */
  | { kind: 'stale' }
  /** Nothing is readable without a token. */
  | { kind: 'locked' }
  /** The token in use was refused (the page signs out and loads again). */
  | { kind: 'refused' }
  /** The server answered with an error or not at all. */
  | { kind: 'failed'; error: unknown }
  /** The reader may read no zone or site. */
  | { kind: 'empty' }
  /** Every series came (`ok`) or some could not be fetched because the server could not be reached. */
  | { kind: 'shown'; ok: boolean };

/** Who the reader is and its lists, asked before the page was built (see `askMeEarly`); taken by the next load that needs it. */
let earlyMe: Promise<MeAndLists> | null = null;

/**
 * Asks who the reader is, with the zones and sites it may read, at once (the token must be in use already): the
 * page then builds its shell while the answer is on its way, and the first load takes it instead of asking again.
 */
export function askMeEarly(): void {
  earlyMe = fetchMeAndLists();
  earlyMe.catch(() => {}); // the load that takes it handles a failure
}

function anyOf(scope: 'all' | string[]): boolean {
  return scope === 'all' || scope.length > 0;
}

/** One load of the overview (see the top of this file). */
export async function loadOverview(host: LoadHost): Promise<LoadOutcome> {
  let zones: ZoneInfo[];
  let sites: SiteInfo[];
  try {
    let me = host.me();
    let lists: MeAndLists | null = null;
    if (me === null) {
      const asked = earlyMe ?? fetchMeAndLists();
      earlyMe = null;
      lists = await asked;
      me = lists.me;
      if (!host.isCurrent()) return { kind: 'stale' };
      host.gotMe(me);
    }
    if (me.role === 'public' && !anyOf(me.zones) && !anyOf(me.sites)) return { kind: 'locked' };
    // The event stream opens while the zones and sites are asked for (a reader who may read counts).
    if (anyOf(me.zones) || anyOf(me.sites)) host.openLive();
    [zones, sites] =
      lists !== null
        ? [lists.zones, lists.sites]
        : await Promise.all([anyOf(me.zones) ? fetchZones() : Promise.resolve([]), anyOf(me.sites) ? fetchSites() : Promise.resolve([])]);
  } catch (err) {
    if (!host.isCurrent()) return { kind: 'stale' };
    if (isInvalidToken(err)) return { kind: 'refused' };
    if (needsToken(err) && !host.hasToken()) return { kind: 'locked' };
    return { kind: 'failed', error: err };
  }
  if (!host.isCurrent()) return { kind: 'stale' };
  host.gotLists(zones, sites);
  // The stream is open (or failed, or took too long) before the series are asked for, so no minute released in
  // between is missed, and its opening needs no second load. The series are asked for before the cards are built.
  const settled = host.liveSettled();
  if (settled !== null) await settled;
  if (!host.isCurrent()) return { kind: 'stale' };
  const prefetched = prefetchSeries(host.seriesPlan());
  const events = fetchMarkedPeriods().catch(() => [] as MarkedPeriod[]); // no events database: no events
  if (host.buildCards() === 0) return { kind: 'empty' };
  host.openLive();
  const ok = await host.showSeries(prefetched);
  if (!host.isCurrent()) return { kind: 'stale' };
  const marked = await events;
  if (!host.isCurrent()) return { kind: 'stale' };
  host.gotEvents(marked);
  return { kind: 'shown', ok };
}

/** What a load shows: the window, radio and cards, and of each site the zones listed in it. */
export interface SeriesPlan {
  win: TimeWindow;
  radio: Radio;
  targets: Target[];
  /** A site's zones (as the site list gives them): their cards' series come with the site's, in one request. */
  siteZones?: ReadonlyMap<string, readonly string[]>;
}

/**
 * Asks for every target's series at once: a site with cards of its zones in one request (`?include=zones`), the
 * other targets one each. A failed request is handled by whoever awaits it.
 */
export function prefetchSeries(plan: SeriesPlan): Prefetched {
  const { win, radio } = plan;
  const query = { from: win.from, to: win.to, step: win.step, radio };
  const series = new Map<string, Promise<Series>>();
  const keep = (target: Target, request: Promise<Series>) => {
    request.catch(() => {}); // a card that is not built after all drops it
    series.set(targetKey(target), request);
  };
  const zoneCards = new Set(plan.targets.filter((t) => t.kind === 'zone').map((t) => t.id));
  for (const target of plan.targets) {
    if (series.has(targetKey(target))) continue; // came with its site
    const along = target.kind === 'site' ? (plan.siteZones?.get(target.id) ?? []).filter((id) => zoneCards.has(id) && !series.has(targetKey({ kind: 'zone', id }))) : [];
    if (along.length === 0) {
      keep(target, fetchSeries(target, query));
      continue;
    }
    const both = fetchSiteWithZones(target.id, query);
    keep(target, both.then((b) => b.site));
    for (const id of along) {
      // a zone the answer leaves out (no longer readable) is asked for on its own
      keep({ kind: 'zone', id }, both.then((b) => b.zones.get(id) ?? fetchSeries({ kind: 'zone', id }, query)));
    }
  }
  return { win, radio, series };
}

/** A card's week comparison (null: too early in the week) and heatmap, each fetched or failed on its own. */
export interface Details {
  comparison: PromiseSettledResult<Comparison | null>;
  heat: PromiseSettledResult<Profile>;
  /** The time zone the heatmap was asked in: UTC when the server did not know the browser's. */
  tz: string;
}

/** Asks for a card's comparison and heatmap at the same time. */
export async function loadDetails(target: Target, radio: Radio, tz: string, nowMs = Date.now()): Promise<Details> {
  const query = weekComparisonQuery(nowMs / 1000, radio);
  let usedTz = tz;
  const profile = async () => {
    try {
      return await fetchProfile(target, { weeks: PROFILE_WEEKS, radio, tz });
    } catch (err) {
      // A browser time zone the server does not know: the heatmap is shown in UTC instead (and says so).
      if (!(err instanceof ApiError && err.code === 'invalid_time_zone') || tz === 'UTC') throw err;
      usedTz = 'UTC';
      return fetchProfile(target, { weeks: PROFILE_WEEKS, radio, tz: usedTz });
    }
  };
  const [comparison, heat] = await Promise.allSettled([query ? fetchComparison(target, query) : Promise.resolve(null), profile()]);
  return { comparison, heat, tz: usedTz };
}
