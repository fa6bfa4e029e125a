/**
 * A token bucket per client key (a token id, or the client address for anonymous requests): `burst` units at
 * once, refilled at `perMinute` a minute. A request takes units by its cost (1 for a plain request; a series
 * request more, by the cells it reads: see app.ts), so one client cannot starve the others with few expensive
 * requests. A request that finds too few units is told how long to wait (HTTP 429 with Retry-After). The map of
 * buckets is bounded: full buckets are forgotten (they are the same as new ones), and past `maxKeys` the least
 * recently used key is dropped.
 *
 * Not express-rate-limit: it counts one hit per request (its Store's increment(key) has no weight; a per-request
 * cost is its open issue #309), and the cost of a request is known only once its query is parsed, inside the
 * route, after the limiter middleware has run.
 */
export interface RateLimitOptions {
  /** Sustained requests a minute per key; 0 turns the limit off. */
  perMinute: number;
  /** Requests a key may make at once. */
  burst: number;
  /** Most keys remembered. */
  maxKeys?: number;
  /** Now in milliseconds (tests). */
  nowMs?: () => number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly nowMs: () => number;

  constructor(private readonly options: RateLimitOptions) {
    this.perMs = options.perMinute / 60_000;
    this.burst = Math.max(1, options.burst);
    this.maxKeys = options.maxKeys ?? 10_000;
    this.nowMs = options.nowMs ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.perMinute > 0;
  }

  /** Takes `cost` units (at most `burst`: any request can pass once the bucket is full) from `key`'s bucket. */
  take(key: string, cost = 1): RateDecision {
    if (!this.enabled) return { ok: true };
    const now = this.nowMs();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-inserted below: Map order is least recently used first
      bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.updatedMs) * this.perMs);
      bucket.updatedMs = now;
    } else {
      bucket = { tokens: this.burst, updatedMs: now };
      if (this.buckets.size >= this.maxKeys) this.evict(now);
    }
    this.buckets.set(key, bucket);
    const units = Math.min(this.burst, Math.max(1, cost));
    if (bucket.tokens >= units) {
      bucket.tokens -= units;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((units - bucket.tokens) / this.perMs / 1000)) };
  }

  /** Keys remembered now (tests, metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private evict(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedMs) * this.perMs >= this.burst) this.buckets.delete(key);
    }
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
  }
}
