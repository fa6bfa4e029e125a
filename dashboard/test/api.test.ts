import { describe, expect, it } from 'vitest';
import {
  eventsUrl,
  fileNameOf,
  isAudit,
  isComparison,
  isMe,
  isPrivacyInfo,
  isProfile,
  isSensorHealthReport,
  isSeriesResponse,
  isSiteInfo,
  isZoneInfo,
  parseLiveEvent,
  safeFileName,
} from '../src/api.ts';

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

  it('accepts a noisy series (open data), whose values may rarely be negative', () => {
    expect(isSeriesResponse({ t: [60], devices: [-1], suppressed: [0], noise: { epsilon: 1, mechanism: 'geometric' } })).toBe(true);
  });

  it.each([
    [{ t: [60], devices: [], suppressed: [0] }],
    [{ t: [60], devices: [0], suppressed: [null] }],
    [{ t: ['60'], devices: [0], suppressed: [0] }],
    [{ t: [60], devices: [Number.NaN], suppressed: [0] }],
    [{ t: [60], devices: [1], suppressed: [0], noise: { epsilon: 'x' } }],
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

describe('isSiteInfo', () => {
  it('wants an id, a name and a list of zone ids', () => {
    expect(isSiteInfo({ id: 'centrum', name: 'Centrum', coordinates: null, zones: ['markt'] })).toBe(true);
    expect(isSiteInfo({ id: 'centrum', name: 'Centrum', zones: [7] })).toBe(false);
    expect(isSiteInfo({ id: 'centrum', name: 'Centrum' })).toBe(false);
  });
});

describe('isMe', () => {
  const me = { role: 'viewer', name: 'shop 12', tokenId: 'ab12', zones: ['markt'], sites: [], health: false, audit: false, admin: false };
  it('accepts what /api/v1/me answers', () => {
    expect(isMe(me)).toBe(true);
    expect(isMe({ ...me, role: 'public', name: null, tokenId: null, zones: 'all', sites: 'all' })).toBe(true);
  });
  it.each([{ role: 'root' }, { zones: 'some' }, { health: 'yes' }, { name: 7 }])('rejects %j', (change) => {
    expect(isMe({ ...me, ...change })).toBe(false);
  });
});

const period = { from: 0, to: 7200, t: [0, 3600], devices: [10, null], suppressed: [0, 60], total: 10, suppressedCells: 60 };

describe('isComparison', () => {
  const cmp = { step: 3600, radio: 'wifi', current: period, previous: { ...period, change: 25 }, lastWeek: { ...period, total: null, change: null } };
  it('accepts a comparison with or without a change', () => {
    expect(isComparison(cmp)).toBe(true);
  });
  it.each([
    { lastWeek: { ...period, change: 'up' } },
    { previous: period }, // no change field at all
    { current: { ...period, total: '10' } },
    { current: { ...period, t: [0] } },
    { radio: 'lora' },
  ])('rejects %j', (change) => {
    expect(isComparison({ ...cmp, ...change })).toBe(false);
  });
});

describe('isProfile', () => {
  const week = <T>(v: T) => Array.from({ length: 168 }, () => v);
  const profile = { weeks: 4, tz: 'Europe/Amsterdam', radio: 'ble', from: 0, to: 3600, mean: week<number | null>(null), hours: week(0), suppressed: week(0) };
  it('wants 168 hours in each column', () => {
    expect(isProfile(profile)).toBe(true);
    expect(isProfile({ ...profile, mean: week(1.5) })).toBe(true);
    expect(isProfile({ ...profile, mean: profile.mean.slice(1) })).toBe(false);
    expect(isProfile({ ...profile, hours: week(-1) })).toBe(false);
  });
});

describe('isSensorHealthReport', () => {
  const row = {
    sensorId: 's-001',
    zoneId: 'markt',
    state: 'online',
    online: true,
    lastMessageAt: 1_700_000_000,
    lastWindowStart: null,
    messagesLastHour: 60,
    missingLastHour: 0,
    missingLastDay: 3,
    version: '0.1.0',
    activeUntil: null,
    ended: false,
  };
  it('accepts health rows', () => {
    expect(isSensorHealthReport({ asOf: 1_700_000_000, windowSeconds: 60, sensors: [row] })).toBe(true);
    expect(isSensorHealthReport({ asOf: 1_700_000_000, windowSeconds: 60, sensors: [{ ...row, activeUntil: '2026-01-31', ended: true }] })).toBe(true);
  });
  it('rejects a row without its end', () => {
    expect(isSensorHealthReport({ asOf: 1, windowSeconds: 60, sensors: [{ ...row, ended: undefined }] })).toBe(false);
  });
  it('rejects an unknown state', () => {
    expect(isSensorHealthReport({ asOf: 1, windowSeconds: 60, sensors: [{ ...row, state: 'asleep' }] })).toBe(false);
  });
});

describe('isPrivacyInfo and isAudit', () => {
  const info = {
    k: 5,
    windowSeconds: 60,
    settleSeconds: 120,
    retention: { minuteDays: 31, hourRollupDays: null },
    noise: null,
    suppressedShare: { periodSeconds: 86_400, wifi: 0.08, ble: null },
    publicAccess: { zones: 'all', sites: ['centrum'] },
    countsSchema: { type: 'object' },
  };
  it('accepts the privacy facts', () => {
    expect(isPrivacyInfo(info)).toBe(true);
    expect(isPrivacyInfo({ ...info, noise: { epsilon: 1, mechanism: 'geometric' } })).toBe(true);
  });
  it.each([{ k: -1 }, { suppressedShare: { periodSeconds: 1, wifi: 2, ble: null } }, { publicAccess: { zones: 'some', sites: 'none' } }, { countsSchema: [] }])(
    'rejects %j',
    (change) => {
      expect(isPrivacyInfo({ ...info, ...change })).toBe(false);
    },
  );
  it('accepts audit numbers', () => {
    const audit = { since: 1, ingest: { stored: 3, duplicate: 0, rejected: { invalid_json: 1 } }, statusMessages: { accepted: 1, rejected: 0 }, tokens: { viewer: 1 } };
    expect(isAudit(audit)).toBe(true);
    expect(isAudit({ ...audit, tokens: { viewer: -1 } })).toBe(false);
  });
});

describe('token handling in URLs and file names', () => {
  it('puts a token only on the event stream, as access_token', () => {
    expect(eventsUrl(null)).toBe('api/v1/events');
    expect(eventsUrl('pst_a+b/c')).toBe('api/v1/events?access_token=pst_a%2Bb%2Fc');
  });
  it('takes the file name from Content-Disposition and makes it safe', () => {
    expect(fileNameOf('attachment; filename="passant-zone-markt-wifi-1-2-60.csv"')).toBe('passant-zone-markt-wifi-1-2-60.csv');
    expect(fileNameOf(null)).toBeNull();
    expect(safeFileName('../../etc/passwd', 'x.csv')).toBe('etc_passwd');
    expect(safeFileName('a b<c>.csv', 'x.csv')).toBe('a_b_c_.csv');
    expect(safeFileName('...', 'x.csv')).toBe('x.csv');
  });
});

describe('relativeTime (sensor health)', async () => {
  const { relativeTime } = await import('../src/sensors-page.ts');
  it('says how long ago, in the largest unit that fits', () => {
    const fmt = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
    expect(relativeTime(fmt, 970, 1000)).toBe('30 seconds ago');
    expect(relativeTime(fmt, 1000 - 180, 1000)).toBe('3 minutes ago');
    expect(relativeTime(fmt, 1000 - 7200, 1000)).toBe('2 hours ago');
    expect(relativeTime(fmt, 1000 - 86_400, 1000)).toBe('yesterday');
  });
});
