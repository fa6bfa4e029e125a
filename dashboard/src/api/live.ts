/** Live updates by Server-Sent Events (`GET /api/v1/events`). */
import { parseLiveEvent } from './checks.ts';
import { currentToken } from './http.ts';
import type { LiveEvent } from './types.ts';

export interface LiveFeedHandlers {
  onEvent(event: LiveEvent): void;
  /** The stream is (again) connected. */
  onOpen(): void;
  /** The stream broke; `closed` when the browser gave up on it (it retries by itself otherwise). */
  onError(closed: boolean): void;
}

export interface LiveFeed {
  close(): void;
}

/** The event stream's URL: EventSource cannot send an Authorization header, so a token goes as `access_token`. */
export function eventsUrl(token: string | null): string {
  return token === null ? 'api/v1/events' : `api/v1/events?${new URLSearchParams({ access_token: token })}`;
}

/** Subscribes to `GET /api/v1/events` with the current token; malformed events are ignored. */
export function openLiveFeed(handlers: LiveFeedHandlers): LiveFeed {
  const source = new EventSource(eventsUrl(currentToken()));
  source.addEventListener('open', () => handlers.onOpen());
  source.addEventListener('error', () => handlers.onError(source.readyState === EventSource.CLOSED));
  source.addEventListener('message', (e: MessageEvent<unknown>) => {
    if (typeof e.data !== 'string') return;
    const event = parseLiveEvent(e.data);
    if (event !== null) handlers.onEvent(event);
  });
  return { close: () => source.close() };
}
