/**
 * The Home Assistant bridge's aggregator side (home-assistant.ts): it reads the aggregator's public HTTP API as
 * any client with that token would (GET /api/v1/zones, and the live stream GET /api/v1/events), and says whether a
 * refusal is for good (a bad token, a wrong URL) or for now (aggregator down, 5xx, 429).
 */
import { ID, type ZoneInfo } from './home-assistant-discovery.ts';

/** The aggregator refused the bridge for good (bad token, wrong URL): retrying cannot help. */
export class BridgeFatalError extends Error {}

/** Refused for now (aggregator down, 5xx, 429): retried with backoff. */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** What following the event stream needs from the bridge. */
export interface EventStreamHooks {
  /** The bridge is stopping: an aborted request is no error. */
  stopped(): boolean;
  /** Set when the zone refresh found the token refused; the stream was aborted for it. */
  fatalError(): BridgeFatalError | undefined;
  /** The stream is open (the aggregator answered 200). */
  opened(): void;
  /** The data of one event. */
  event(data: string): void;
}

export class AggregatorApi {
  private readonly apiUrl: string;

  /** `stopping` aborts every request when the bridge stops. */
  constructor(
    apiUrl: string,
    private readonly token: string | undefined,
    private readonly stopping: AbortSignal,
  ) {
    this.apiUrl = apiUrl.replace(/\/+$/, '');
  }

  /** The zones the token may read now. */
  async zones(): Promise<Map<string, ZoneInfo>> {
    let res: Response;
    try {
      res = await fetch(`${this.apiUrl}/api/v1/zones`, { headers: this.headers(), signal: AbortSignal.any([AbortSignal.timeout(15_000), this.stopping]) });
    } catch (err) {
      throw new RetryableError(`GET /api/v1/zones failed: ${networkReason(err)}`);
    }
    if (res.status !== 200) throw await this.refusal(res, 'GET /api/v1/zones');
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      throw new RetryableError(`GET /api/v1/zones: not JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(body)) throw new RetryableError('GET /api/v1/zones: not a list of zones');
    const zones = new Map<string, ZoneInfo>();
    for (const item of body as unknown[]) {
      const zone = item as Partial<ZoneInfo>;
      if (typeof zone?.id !== 'string' || !ID.test(zone.id) || typeof zone.name !== 'string') continue;
      zones.set(zone.id, { id: zone.id, name: zone.name });
    }
    return zones;
  }

  /**
   * Opens the event stream and hands over each event's data until it ends or `controller` aborts it. A stream
   * silent for `stallTimeoutMs` (no event, no keep-alive) is aborted and reported as stalled.
   */
  async follow(controller: AbortController, stallTimeoutMs: number, hooks: EventStreamHooks): Promise<void> {
    let stall: NodeJS.Timeout | undefined;
    let stalled = false;
    const arm = () => {
      clearTimeout(stall);
      stall = setTimeout(() => {
        stalled = true;
        controller.abort();
      }, stallTimeoutMs);
    };
    try {
      arm();
      let res: Response;
      try {
        res = await fetch(`${this.apiUrl}/api/v1/events`, { headers: { ...this.headers(), accept: 'text/event-stream' }, signal: controller.signal });
      } catch (err) {
        if (hooks.stopped()) return;
        throw new RetryableError(`GET /api/v1/events failed: ${stalled ? 'no answer' : networkReason(err)}`);
      }
      if (res.status !== 200 || res.body === null) throw await this.refusal(res, 'GET /api/v1/events');
      hooks.opened();
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          arm();
          buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split('\n')
              .filter((line) => line.startsWith('data:'))
              .map((line) => line.slice(5).replace(/^ /, ''))
              .join('\n');
            if (data !== '') hooks.event(data);
          }
          if (buffer.length > 1_000_000) throw new RetryableError('the event stream sent an event over 1 MB');
        }
      } catch (err) {
        if (hooks.stopped() || err instanceof RetryableError) throw err;
        const fatal = hooks.fatalError();
        if (fatal) throw fatal;
        throw new RetryableError(stalled ? `the event stream was silent for ${stallTimeoutMs} ms` : `the event stream broke: ${networkReason(err)}`);
      }
      const fatal = hooks.fatalError();
      if (fatal) throw fatal;
    } finally {
      clearTimeout(stall);
    }
  }

  private headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}`, accept: 'application/json' } : { accept: 'application/json' };
  }

  /** Turns a refusal into a fatal or retryable error, with the aggregator's own message (never the token). */
  private async refusal(res: Response, what: string): Promise<Error> {
    let detail = '';
    try {
      const body = (await res.json()) as { error?: { message?: unknown }; detail?: unknown; title?: unknown };
      const message = body.error?.message ?? body.detail ?? body.title;
      if (typeof message === 'string') detail = `: ${message.slice(0, 200)}`;
    } catch {
      // not JSON
    }
    if (res.status === 401) {
      return new BridgeFatalError(
        this.token
          ? `the aggregator refused the token (401${detail}); check the token file, or whether the token was revoked`
          : `the aggregator needs a token (401${detail}); give one with --token-file or PASSANT_HA_TOKEN`,
      );
    }
    if (res.status === 403 || res.status === 404) {
      return new BridgeFatalError(`${what} answered ${res.status}${detail}; check --api (the aggregator's base URL) and the token's role`);
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    return new RetryableError(`${what} answered ${res.status}${detail}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
  }
}

/** The reason of a failed fetch (undici hides it in `cause`), without the URL's credentials. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
