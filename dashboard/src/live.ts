/**
 * Live updates: the event stream (Server-Sent Events of released minutes, merged into the zone cards as they come)
 * and what takes over without it. While the stream is open, minute views are fed by it and sites, estimates and
 * hourly views are refetched once a minute; when it fails the page polls (the loader schedules it) and the stream
 * is opened again after a while. Every 15 s the windows slide forward with the clock (`tick`).
 */
import { openLiveFeed, type LiveEvent } from './api.ts';
import type { SeriesCard } from './card.ts';
import { isSliding } from './periods.ts';
import { RANGES, densify, mergeBucket, windowAt, type Series, type TimeWindow } from './series.ts';
import type { LiveState, PageState } from './state.ts';

/** How often windows slide forward (and, for hourly views, how often they are refetched while live). */
export const TICK_MS = 15_000;
const HOURLY_REFRESH_MS = 60_000;
/** Site series are sums over zones, so live zone minutes are not merged in: they are refetched this often. */
const SITE_REFRESH_MS = 60_000;
/** After the browser gives up on the event stream, how long until it is opened again. */
const LIVE_REOPEN_MS = 30_000;
/** After an open event stream breaks, how long until the API is asked again. */
const STREAM_LOST_REFRESH_MS = 1_000;
/** How long a load waits for the event stream to open before it asks for the series anyway (then polls). */
const LIVE_OPEN_WAIT_MS = 3_000;

/** What live updates need from the page. */
export interface LiveHost {
  state: PageState;
  /** A new load of everything (catching up after the stream was away). */
  refresh(): void;
  /** A new load in `delayMs`. */
  schedule(delayMs: number): void;
  setLive(live: LiveState): void;
  /** The window of the chosen period now. */
  currentWindow(): TimeWindow;
  /** Loads one card's series again. */
  reloadSeries(view: SeriesCard): void;
  /** Loads the comparisons and heatmaps that are due. */
  loadDueDetails(): void;
  /** A live minute was shown (the status line says when). */
  liveShown(count: number): void;
}

export class LiveUpdates {
  constructor(private readonly host: LiveHost) {}

  /** Opens the event stream once there is something to show (a closed stream reopens on its own timer). */
  ensure(): void {
    const { state } = this.host;
    if (state.feed === null && state.reopenTimer === 0) this.start();
  }

  close(): void {
    const { state } = this.host;
    clearTimeout(state.reopenTimer);
    state.reopenTimer = 0;
    state.feed?.close();
    state.feed = null;
    state.feedOpen = false;
    state.feedSettled = null;
  }

  private start(): void {
    if (typeof EventSource === 'undefined') return; // polling only
    const { state } = this.host;
    this.close();
    let settle = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const timer = window.setTimeout(settle, LIVE_OPEN_WAIT_MS);
    state.feedSettled = settled;
    // A load waiting on `settled` fetches the series after the first opening; any later opening (a reconnect, or
    // an opening after the load stopped waiting) may have missed minutes and loads again.
    let waited = false;
    void settled.then(() => {
      clearTimeout(timer);
      waited = true;
      if (state.feedSettled === settled) state.feedSettled = null;
    });
    state.feed = openLiveFeed({
      onOpen: () => {
        state.feedOpen = true;
        if (!waited) {
          settle();
          return;
        }
        this.host.refresh(); // catches up on anything missed while the stream was away, and stops polling
      },
      onError: (closed) => {
        settle();
        const wasOpen = state.feedOpen;
        state.feedOpen = false;
        if (state.live === 'live') this.host.setLive('polling');
        // Look soon: either the server went away (the page should say so) or only the stream broke (polling
        // takes over). When the stream never opened, the refresh under way schedules the next poll itself.
        if (wasOpen) this.host.schedule(STREAM_LOST_REFRESH_MS);
        if (closed) {
          state.feed?.close();
          state.feed = null;
          state.reopenTimer = window.setTimeout(() => {
            state.reopenTimer = 0;
            if (!state.locked) this.start();
          }, LIVE_REOPEN_MS);
        }
      },
      onEvent: (event) => this.onEvent(event),
    });
  }

  private onEvent(event: LiveEvent): void {
    const { state } = this.host;
    if (event.radio !== state.radio) return;
    const view = state.views.find((v) => v.target.kind === 'zone' && v.target.id === event.zoneId);
    if (view === undefined) return;
    const current = this.host.currentWindow();
    if (current.step !== 60) return; // hourly views are refetched each minute instead (a minute event cannot be summed in twice)
    if (!view.loaded) {
      view.pendingLive.push(event); // its series is on its way: merged in when it arrives
      return;
    }
    const win = isSliding(state.period.id) ? windowAt(Math.max(Date.now() / 1000, event.t + 1), RANGES[state.period.id]) : current;
    view.show(keepNoise(densify(mergeBucket(view.series, event, 60), win), view.series), win);
    state.liveEvents++;
    state.lastUpdateMs = Date.now();
    this.host.liveShown(state.liveEvents);
  }

  /** Slides every window forward with the clock; while live, refetches hourly views and sites once a minute. */
  tick(): void {
    const { state } = this.host;
    if (state.locked) return;
    if (state.feedOpen && this.host.currentWindow().step !== 60 && Date.now() - state.lastLoadMs >= HOURLY_REFRESH_MS) {
      this.host.refresh();
      return;
    }
    const win = this.host.currentWindow();
    for (const view of state.views) {
      if (!view.loaded || view.window.step !== win.step) continue;
      // Live minutes carry no estimate: a card that shows one is refetched once a minute, like a site.
      const refetched = view.target.kind === 'site' || (view.estimate?.byT.size ?? 0) > 0;
      if (state.feedOpen && refetched && Date.now() - view.lastLoadMs >= SITE_REFRESH_MS) {
        this.host.reloadSeries(view);
        continue;
      }
      if (view.window.from !== win.from || view.window.to !== win.to) view.show(keepNoise(densify(view.series, win), view.series), win);
    }
    if (state.feedOpen) this.host.loadDueDetails();
  }
}

/** `next` with the noise note of `previous` (reshaping a series keeps what its values carry). */
export function keepNoise(next: Series, previous: Series): Series {
  return previous.noise ? { ...next, noise: previous.noise } : next;
}
