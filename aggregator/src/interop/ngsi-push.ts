/**
 * Pushes the public zones' CrowdFlowObserved entities (http/ngsi-ld.ts) to an NGSI-LD context broker's batch upsert
 * endpoint (POST <brokerUrl>/ngsi-ld/v1/entityOperations/upsert), normalized, with their @context in the body
 * (application/ld+json), on a timer: each round pushes every complete hour since the last one the broker took (at
 * most the last 24), oldest first, so a broker that keeps history (temporal representation) gets every hour, and a
 * broker that was away gets the hours it missed. Off by default (config ngsiLd.push).
 *
 * What is pushed is what anyone may read without a token (interop/feed.ts). The log says how many entities were
 * pushed and the broker's status, never a body.
 */
import type { Logger } from 'pino';
import type { Radio } from '@passant/shared';
import { entityContext, keyValuesEntity, normalizedEntity } from '../http/ngsi-ld.ts';
import { feedTotals, type FeedDeps } from './feed.ts';

export interface NgsiPushOptions extends FeedDeps {
  brokerUrl: string;
  tenant?: string;
  intervalSeconds: number;
  timeoutMs: number;
  radio: Radio;
  now: () => number;
  logger?: Logger;
}

export interface PushOutcome {
  /** Hour starts pushed (Unix seconds), in order. */
  hours: number[];
  entities: number;
  /** The broker's status of the last request, or null when it could not be reached. */
  status: number | null;
  ok: boolean;
}

const HOUR = 3600;
/** Most hours one round catches up. */
const MAX_CATCH_UP_HOURS = 24;

export class NgsiPusher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PushOutcome> | undefined;
  /** End (exclusive) of the last hour the broker took. */
  private pushedUntil: number | undefined;
  readonly endpoint: string;

  constructor(private readonly options: NgsiPushOptions) {
    this.endpoint = `${options.brokerUrl.replace(/\/+$/, '')}/ngsi-ld/v1/entityOperations/upsert`;
  }

  /** Pushes now, then every intervalSeconds. */
  start(): void {
    if (this.timer !== undefined) return;
    void this.pushNow();
    this.timer = setInterval(() => void this.pushNow(), this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** One round (waits for a round already running instead of starting a second). */
  pushNow(): Promise<PushOutcome> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(): Promise<PushOutcome> {
    const { logger } = this.options;
    const current = Math.floor(this.options.now() / HOUR) * HOUR;
    const first = Math.max(this.pushedUntil ?? current - HOUR, current - MAX_CATCH_UP_HOURS * HOUR);
    const outcome: PushOutcome = { hours: [], entities: 0, status: null, ok: true };
    for (let from = first; from < current; from += HOUR) {
      const feed = await feedTotals(this.options, { from, to: from + HOUR, radio: this.options.radio });
      const entities = feed.observations.map((o) => ({ ...normalizedEntity(keyValuesEntity(o)), '@context': entityContext() }));
      if (entities.length === 0) {
        this.pushedUntil = from + HOUR;
        continue;
      }
      const headers: Record<string, string> = { 'content-type': 'application/ld+json' };
      if (this.options.tenant !== undefined) headers['ngsild-tenant'] = this.options.tenant;
      try {
        const res = await fetch(this.endpoint, {
          method: 'POST',
          headers,
          body: JSON.stringify(entities),
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await res.arrayBuffer();
        outcome.status = res.status;
        // 201: all created, 204: all updated; 207 and anything else: not all taken, tried again next round
        if (res.status !== 201 && res.status !== 204) {
          outcome.ok = false;
          logger?.warn({ endpoint: this.endpoint, status: res.status, entities: entities.length, hour: from }, 'NGSI-LD push: the broker did not take every entity');
          break;
        }
      } catch (err) {
        outcome.ok = false;
        logger?.warn({ endpoint: this.endpoint, err, entities: entities.length, hour: from }, 'NGSI-LD push failed');
        break;
      }
      this.pushedUntil = from + HOUR;
      outcome.hours.push(from);
      outcome.entities += entities.length;
    }
    if (outcome.hours.length > 0) logger?.info({ endpoint: this.endpoint, hours: outcome.hours.length, entities: outcome.entities }, 'NGSI-LD push');
    return outcome;
  }

  /** Stops the timer and waits for a round in progress. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
