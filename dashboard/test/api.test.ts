import { describe, expect, it } from 'vitest';
import { isSeriesResponse, isZoneInfo, parseLiveEvent } from '../src/api.ts';

describe('parseLiveEvent', () => {
  it('accepts a released and a suppressed minute', () => {
    expect(parseLiveEvent('{"zoneId":"markt","radio":"wifi","t":1700000040,"devices":12,"suppressed":0}')).toEqual({
      zoneId: 'markt',
      radio: 'wifi',
      t: 1_700_000_040,
      devices: 12,
      suppressed: 0,
    });
    expect(parseLiveEvent('{"zoneId":"markt","radio":"ble","t":1700000040,"devices":null,"suppressed":1}')?.devices).toBeNull();
  });

  it.each([
    'not json',
    'null',
    '[]',
    '{"zoneId":"markt","radio":"lora","t":1700000040,"devices":1,"suppressed":0}',
    '{"zoneId":"markt","radio":"wifi","t":1.5,"devices":1,"suppressed":0}',
    '{"zoneId":"markt","radio":"wifi","t":1700000040,"devices":-1,"suppressed":0}',
    '{"zoneId":"markt","radio":"wifi","t":1700000040,"devices":"7","suppressed":0}',
    '{"zoneId":7,"radio":"wifi","t":1700000040,"devices":1,"suppressed":0}',
    '{"zoneId":"markt","radio":"wifi","t":1700000040,"devices":1}',
  ])('rejects %s', (data) => {
    expect(parseLiveEvent(data)).toBeNull();
  });
});

describe('isSeriesResponse', () => {
  it('accepts columns of one length with null gaps', () => {
    expect(isSeriesResponse({ t: [60, 120], devices: [null, 5], suppressed: [1, 0] })).toBe(true);
    expect(isSeriesResponse({ t: [], devices: [], suppressed: [] })).toBe(true);
  });

  it.each([
    [{ t: [60], devices: [], suppressed: [0] }],
    [{ t: [60], devices: [0], suppressed: [null] }],
    [{ t: ['60'], devices: [0], suppressed: [0] }],
    [{ t: [60], devices: [Number.NaN], suppressed: [0] }],
    [[]],
    [null],
  ])('rejects %j', (value) => {
    expect(isSeriesResponse(value)).toBe(false);
  });
});

describe('isZoneInfo', () => {
  it('wants a non-empty id and a name', () => {
    expect(isZoneInfo({ id: 'markt', name: '<b>Markt</b>' })).toBe(true);
    expect(isZoneInfo({ id: '', name: 'x' })).toBe(false);
    expect(isZoneInfo({ id: 'markt' })).toBe(false);
  });
});
