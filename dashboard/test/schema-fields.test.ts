import { describe, expect, it } from 'vitest';
import { countsMessageJsonSchema } from '@passant/shared';
import { schemaFields } from '../src/schema-fields.ts';

describe('schemaFields of the real counts message schema', () => {
  const summary = schemaFields(countsMessageJsonSchema());

  it('lists every field a sensor sends, nested ones as dotted paths, and nothing else', () => {
    const paths = summary.rows.map((r) => r.path);
    expect(paths).toEqual(expect.arrayContaining(['v', 'sensorId', 'windowStart', 'windowSeconds', 'seq', 'wifi', 'ble', 'rssiFloor']));
    for (const radio of ['wifi', 'ble']) {
      for (const field of ['devices', 'randomized', 'frames', 'rssiHistogram']) expect(paths).toContain(`${radio}.${field}`);
    }
    expect(paths.filter((p) => !p.includes('.'))).toEqual(Object.keys((countsMessageJsonSchema() as { properties: object }).properties));
    expect(summary.closed).toBe(true); // additionalProperties: false
    expect(summary.truncated).toBe(false);
  });

  it('reads types, bounds and descriptions', () => {
    const row = (path: string) => summary.rows.find((r) => r.path === path)!;
    expect(row('wifi.devices')).toMatchObject({ types: ['integer'], required: true, depth: 1, constraints: [{ kind: 'range', min: 0, max: 10_000_000 }] });
    expect(row('wifi.devices').description).toMatch(/distinct devices/);
    expect(row('v').constraints).toContainEqual({ kind: 'const', value: '1' });
    expect(row('rssiFloor').types).toEqual(['integer', 'null']);
    expect(row('rssiFloor').constraints).toContainEqual({ kind: 'range', min: -127, max: 20 });
    expect(row('wifi.rssiHistogram')).toMatchObject({ types: ['array'], itemTypes: ['integer'] });
    expect(row('wifi.rssiHistogram').constraints).toEqual(
      expect.arrayContaining([{ kind: 'items', min: 6, max: 6 }, { kind: 'itemRange', min: 0, max: 10_000_000 }]),
    );
    // zod writes the safe-integer range for an unbounded integer: that is no limit worth showing.
    expect(row('windowSeconds').constraints).toEqual([]);
    expect(row('windowStart').constraints).toEqual([{ kind: 'range', min: 0, max: null }]);
  });
});

describe('schemaFields on other input', () => {
  it('follows $ref into $defs, marks optional fields and open schemas', () => {
    const summary = schemaFields({
      type: 'object',
      properties: { a: { $ref: '#/$defs/Counts' }, b: { type: 'string', enum: ['x', 'y'] } },
      required: ['a'],
      $defs: { Counts: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] } },
    });
    expect(summary.rows.map((r) => [r.path, r.required])).toEqual([
      ['a', true],
      ['a.n', true],
      ['b', false],
    ]);
    expect(summary.rows[2]!.constraints).toEqual([{ kind: 'enum', values: ['"x"', '"y"'] }]);
    expect(summary.closed).toBe(false);
  });

  it('is empty for anything that is not a schema, and bounded for a self-referencing one', () => {
    expect(schemaFields(null).rows).toEqual([]);
    expect(schemaFields('x').rows).toEqual([]);
    const loop = { type: 'object', properties: { self: { $ref: '#' } } };
    const summary = schemaFields({ ...loop, $defs: {} });
    expect(summary.rows.length).toBeLessThanOrEqual(1); // `#` is not followed
    const deep = { $defs: { N: { type: 'object', properties: { next: { $ref: '#/$defs/N' } } } }, $ref: '#/$defs/N' };
    const bounded = schemaFields(deep);
    expect(bounded.truncated).toBe(true);
    expect(bounded.rows.length).toBeLessThanOrEqual(200);
  });
});
