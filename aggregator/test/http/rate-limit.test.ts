/** The token bucket, with a clock the test moves. */
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/http/rate-limit.ts';

describe('RateLimiter', () => {
  it('allows a burst, then one request per refill interval, and says how long to wait', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter({ perMinute: 60, burst: 3, nowMs: () => now });
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    // another key has its own bucket
    expect(limiter.take('b').ok).toBe(true);
    now += 1000;
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    now += 60_000;
    // refilled to the burst, not beyond
    expect([1, 2, 3, 4].map(() => limiter.take('a').ok)).toEqual([true, true, true, false]);
  });

  it('a slow rate gives a long Retry-After', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 2, burst: 1, nowMs: () => now });
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 30 });
    now += 29_000;
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('0 a minute is no limit', () => {
    const limiter = new RateLimiter({ perMinute: 0, burst: 1 });
    for (let i = 0; i < 1000; i++) expect(limiter.take('a').ok).toBe(true);
    expect(limiter.size).toBe(0);
  });

  it('remembers a bounded number of keys, forgetting full buckets first', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 60, burst: 2, maxKeys: 100, nowMs: () => now });
    limiter.take('busy');
    limiter.take('busy');
    for (let i = 0; i < 1000; i++) limiter.take(`ip-${i}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
    now += 120_000;
    for (let i = 0; i < 1000; i++) limiter.take(`other-${i}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
  });
});
