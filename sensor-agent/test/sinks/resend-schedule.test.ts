/**
 * The re-send timer (src/sinks/resend-schedule.ts) with a clock the test moves: setTimeout is vitest's fake, and
 * Date.now() reads the test's own clock, so a timer can fire a millisecond before its re-send is due by the wall
 * clock, as Node's timers may.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResendSchedule } from '../../src/sinks/resend-schedule.ts';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('ResendSchedule', () => {
  it('a wake-up just before a re-send is due sets the timer again, even when the clock passes that moment meanwhile', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let clock = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => clock);
    const resent: number[] = [];
    const schedule: ResendSchedule = new ResendSchedule({ retryInitialMs: 100, retryMaxMs: 100 }, () => true, (now) => {
      schedule.takeDue(() => true, (id) => resent.push(id), now);
      clock += 1; // the wake-up's own work takes a millisecond
    });
    schedule.acknowledged(7, 1); // due at 1_000_100
    clock = 1_000_099; // the timer fires a millisecond early by the wall clock
    vi.advanceTimersByTime(100);
    expect(resent).toEqual([]);
    expect(schedule.has(7)).toBe(true);
    clock = 1_000_101;
    vi.advanceTimersByTime(100);
    expect(resent).toEqual([7]);
  });

  it('a wake-up takes what is due at its time and sets the timer for the rest', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let clock = 2_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => clock);
    const resent: number[] = [];
    const schedule: ResendSchedule = new ResendSchedule({ retryInitialMs: 100, retryMaxMs: 1000 }, () => true, (now) =>
      schedule.takeDue(() => true, (id) => resent.push(id), now),
    );
    schedule.acknowledged(1, 1);
    clock += 500;
    schedule.acknowledged(2, 1);
    schedule.stored([2]); // an aggregator worked past 1: its wait (100 ms, over) counts, not retryMaxMs
    expect(resent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(resent).toEqual([1]);
    expect(schedule.size).toBe(0);
  });
});
