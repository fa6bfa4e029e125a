import { describe, expect, it } from 'vitest';
import { dateFormat, numberFormat } from '../src/intl-cache.ts';

describe('intl-cache', () => {
  it('makes one format per locale and options, which formats as a fresh one does', () => {
    const a = numberFormat('nl-NL', { maximumFractionDigits: 1 });
    expect(numberFormat('nl-NL', { maximumFractionDigits: 1 })).toBe(a);
    expect(numberFormat('en-GB', { maximumFractionDigits: 1 })).not.toBe(a);
    expect(numberFormat('nl-NL', { maximumFractionDigits: 0 })).not.toBe(a);
    expect(a.format(1234.56)).toBe(new Intl.NumberFormat('nl-NL', { maximumFractionDigits: 1 }).format(1234.56));

    const options: Intl.DateTimeFormatOptions = { weekday: 'short', hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Amsterdam' };
    const d = dateFormat('nl-NL', options);
    expect(dateFormat('nl-NL', { ...options })).toBe(d);
    expect(dateFormat('nl-NL', { ...options, timeZone: 'UTC' })).not.toBe(d);
    const t = new Date(Date.UTC(2026, 2, 29, 1, 30));
    expect(d.format(t)).toBe(new Intl.DateTimeFormat('nl-NL', options).format(t));
  });
});
