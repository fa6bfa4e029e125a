import { describe, expect, it } from 'vitest';
import { PseudonymSet } from '../../src/pipeline/pseudonym-set.ts';

describe('PseudonymSet', () => {
  it('counts distinct (hi, lo) pairs and randomized ones, across growth', () => {
    const s = new PseudonymSet();
    const n = 5000; // grows from 1024 slots several times
    for (let i = 0; i < n; i++) expect(s.add(i * 7919, i, i % 3 === 0)).toBe(true);
    for (let i = 0; i < n; i++) expect(s.add(i * 7919, i, false)).toBe(false);
    expect(s.size).toBe(n);
    expect(s.randomized).toBe(Math.ceil(n / 3));
    expect(s.capacity).toBeGreaterThanOrEqual(2 * n);
  });

  it('pairs that share a half are distinct; colliding slots probe on', () => {
    const s = new PseudonymSet();
    expect(s.add(1, 5, false)).toBe(true);
    expect(s.add(2, 5, false)).toBe(true);
    expect(s.add(1, 5 + 1024, false)).toBe(true); // same slot as (1, 5) in a 1024-slot table
    expect(s.add(2, 5, false)).toBe(false);
    expect(s.size).toBe(3);
  });

  it('an entry becomes randomized once any frame says so, counted once', () => {
    const s = new PseudonymSet();
    s.add(9, 9, false);
    expect(s.randomized).toBe(0);
    s.add(9, 9, true);
    s.add(9, 9, true);
    expect(s.randomized).toBe(1);
    expect(s.size).toBe(1);
  });

  it('clear() zeroes every slot', () => {
    const s = new PseudonymSet();
    for (let i = 1; i < 3000; i++) s.add(i, i * 31, true);
    expect(s.isZeroed()).toBe(false);
    s.clear();
    expect(s.isZeroed()).toBe(true);
    expect(s.size).toBe(0);
    expect(s.randomized).toBe(0);
  });
});
