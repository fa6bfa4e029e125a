/** The one time limit: settles as the promise does in time, rejects with a TimeoutError naming what after it. */
import { describe, expect, it, vi } from 'vitest';
import { TimeoutError, withTimeout } from '../src/timeout.ts';

describe('withTimeout', () => {
  it('settles as the promise does when it is in time, and leaves no timer behind', async () => {
    vi.useFakeTimers();
    try {
      await expect(withTimeout(Promise.resolve(7), 1000, 'the ping')).resolves.toBe(7);
      await expect(withTimeout(Promise.reject(new Error('refused')), 1000, 'the ping')).rejects.toThrow('refused');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects after the limit with an error naming what took too long', async () => {
    vi.useFakeTimers();
    try {
      const late = withTimeout(new Promise<never>(() => undefined), 2000, 'the write check');
      const caught = late.catch((err: unknown) => err);
      await vi.advanceTimersByTimeAsync(1999);
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      const err = await caught;
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as Error).message).toBe('the write check took longer than 2000 ms');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
