import { describe, expect, it } from 'vitest';
import { parseCounts, parseTime } from '../src/calibration-counts.ts';

describe('parseCounts', () => {
  it('reads the request body or a bare list as JSON', () => {
    expect(parseCounts('{"kind":"passers","radio":"ble","counts":[{"from":1764680400,"to":1764681300,"people":42}]}')).toEqual({
      ok: true,
      kind: 'passers',
      radio: 'ble',
      counts: [{ from: 1764680400, to: 1764681300, people: 42 }],
    });
    expect(parseCounts('[{"from":1764680400,"people":3}]')).toEqual({ ok: true, counts: [{ from: 1764680400, to: 1764680400, people: 3 }] });
  });

  it('reads CSV with a header, Unix seconds or ISO times, any separator, an empty to for a moment', () => {
    const csv = 'from,to,people\n1764680400,1764681300,12\n2026-12-02T14:15:00Z;2026-12-02T14:30:00Z;7,5\n1764684000,,4\n';
    expect(parseCounts(csv)).toEqual({
      ok: true,
      counts: [
        { from: 1764680400, to: 1764681300, people: 12 },
        { from: Date.parse('2026-12-02T14:15:00Z') / 1000, to: Date.parse('2026-12-02T14:30:00Z') / 1000, people: 7.5 },
        { from: 1764684000, to: 1764684000, people: 4 },
      ],
    });
    expect(parseCounts('1764680400\t5')).toEqual({ ok: true, counts: [{ from: 1764680400, to: 1764680400, people: 5 }] });
  });

  it('says which line it cannot read, and refuses empty or broken input', () => {
    expect(parseCounts('from,to,people\n1764680400,1764681300,12\nyesterday,today,3')).toEqual({ ok: false, problem: 'line', line: 3 });
    expect(parseCounts('1764680400,1764681300,-2')).toEqual({ ok: false, problem: 'line', line: 1 });
    expect(parseCounts('  ')).toEqual({ ok: false, problem: 'empty' });
    expect(parseCounts('from,to,people\n')).toEqual({ ok: false, problem: 'empty' });
    expect(parseCounts('{"counts": 3}')).toEqual({ ok: false, problem: 'json' });
    expect(parseCounts('[{"from":1}')).toEqual({ ok: false, problem: 'json' });
  });

  it('takes 13-digit times as milliseconds', () => {
    expect(parseTime('1764680400000')).toBe(1764680400);
    expect(parseTime('12:00')).toBeNull();
  });
});
