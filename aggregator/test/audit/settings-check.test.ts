/**
 * The audit's settings check against a real aggregator: what /api/v1/privacy says about the running instance
 * agrees with the configuration it was started with, and each setting that differs from the configuration the
 * officer holds (the one the kit was made from) fails, named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingsCheck } from '../../src/audit/settings-check.ts';
import { parseConfig, type AggregatorConfigInput } from '../../src/config.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';

const LIVE: AggregatorConfigInput = {
  k: 6,
  settleSeconds: 90,
  retention: { minuteDays: 20 },
  zones: [
    { id: 'north', name: 'North', sensors: ['n1'] },
    { id: 'south', name: 'South', sensors: ['s1'] },
  ],
  auth: { public: { zones: ['north'] } },
};

let broker: TestBroker;
let agg: TestAggregator;
let token: string;
beforeAll(async () => {
  broker = await startAedes();
  agg = await startTestAggregator(broker.url, LIVE);
  token = agg.tokens.create({ role: 'privacy' }).token;
});
afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await broker?.close();
});

describe('the audit settings check', () => {
  it('passes when the live aggregator runs the configuration the kit was made from', async () => {
    const r = await settingsCheck(agg.url, token, parseConfig(LIVE));
    expect(r.errors).toEqual([]);
    expect(r.findings.filter((f) => !f.ok)).toEqual([]);
    expect(r.findings.map((f) => f.setting)).toEqual(
      expect.arrayContaining(['k', 'windowSeconds', 'settleSeconds', 'retention.minuteDays', 'noise', 'public zones', 'public sites', 'counts schema']),
    );
    expect(r.tokens).toMatchObject({ privacy: 1 });
  });

  it('fails each setting that differs from the configuration the officer holds, naming it', async () => {
    const stated = parseConfig({ ...LIVE, k: 10, retention: { minuteDays: 7 }, auth: { public: { zones: 'all' } } });
    const r = await settingsCheck(agg.url, token, stated);
    const failed = Object.fromEntries(r.findings.filter((f) => !f.ok).map((f) => [f.setting, [f.live, f.stated]]));
    expect(failed).toEqual({ k: ['6', '10'], 'retention.minuteDays': ['20', '7'], 'public zones': ['["north"]', '"all"'] });
  });

  it('fails every setting when no configuration is given (nothing to compare with)', async () => {
    const r = await settingsCheck(agg.url, token, null);
    expect(r.findings.find((f) => f.setting === 'k')).toMatchObject({ ok: false, live: '6', stated: null });
  });
});
