/** The noise mechanism: deterministic per cell, two-sided geometric with the stated epsilon, off by default. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, redactConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { noiseFor, noiseSettingsOf, noiseVariance, twoSidedGeometric } from '../../src/release/noise.ts';

const KEY = Buffer.from('a test secret of at least thirty-two characters');

function sample(epsilon: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => noiseFor({ epsilon, key: KEY }, ['cell', 'zone', 1_700_000_000 + i * 60, 'wifi', 60]));
}

describe('noiseFor', () => {
  it('is deterministic: the same cell, key and epsilon give the same noise, other cells or keys other noise', () => {
    const settings = { epsilon: 0.5, key: KEY };
    const id = ['cell', 'front', 1_700_000_040, 'wifi', 60] as const;
    const first = noiseFor(settings, id);
    for (let i = 0; i < 5; i++) expect(noiseFor(settings, id)).toBe(first);
    expect(noiseFor({ epsilon: 0.5, key: Buffer.from(KEY) }, [...id])).toBe(first);
    const others = Array.from({ length: 50 }, (_, i) => noiseFor(settings, ['cell', 'front', 1_700_000_040 + 60 * (i + 1), 'wifi', 60]));
    expect(new Set(others).size).toBeGreaterThan(5);
    const otherKey = Array.from({ length: 50 }, (_, i) =>
      noiseFor({ epsilon: 0.5, key: Buffer.from('another secret, also thirty-two characters long') }, ['cell', 'front', 1_700_000_040 + 60 * (i + 1), 'wifi', 60]),
    );
    expect(otherKey).not.toEqual(others);
    // the radio and the zone are part of the id
    const wifi = sample(0.5, 40);
    const ble = Array.from({ length: 40 }, (_, i) => noiseFor(settings, ['cell', 'zone', 1_700_000_000 + i * 60, 'ble', 60]));
    expect(ble).not.toEqual(wifi);
  });

  it.each([1, 0.2])('has the two-sided geometric distribution for epsilon %s: mean 0, variance 2a/(1-a)^2, P(0) = (1-a)/(1+a), symmetric', (epsilon) => {
    const n = 20_000;
    const xs = sample(epsilon, n);
    expect(xs.every((x) => Number.isInteger(x))).toBe(true);
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    const expectedVariance = noiseVariance(epsilon);
    // mean within 5 standard errors of 0; variance within 8 %
    expect(Math.abs(mean)).toBeLessThan((5 * Math.sqrt(expectedVariance)) / Math.sqrt(n));
    expect(variance / expectedVariance).toBeGreaterThan(0.92);
    expect(variance / expectedVariance).toBeLessThan(1.08);
    const a = Math.exp(-epsilon);
    const p0 = xs.filter((x) => x === 0).length / n;
    const expectedP0 = (1 - a) / (1 + a);
    expect(Math.abs(p0 - expectedP0)).toBeLessThan(5 * Math.sqrt((expectedP0 * (1 - expectedP0)) / n));
    const positive = xs.filter((x) => x > 0).length;
    const negative = xs.filter((x) => x < 0).length;
    expect(Math.abs(positive - negative)).toBeLessThan(5 * Math.sqrt(n));
  });

  it('twoSidedGeometric maps the extremes of the HMAC output to finite integers and rejects epsilon <= 0', () => {
    expect(Number.isFinite(twoSidedGeometric(Buffer.alloc(32, 0), 1))).toBe(true);
    expect(Number.isFinite(twoSidedGeometric(Buffer.alloc(32, 0xff), 1))).toBe(true);
    expect(twoSidedGeometric(Buffer.alloc(32, 0xff), 1)).toBe(0); // u = 1 on both sides
    expect(() => twoSidedGeometric(Buffer.alloc(32, 1), 0)).toThrow(/epsilon/);
  });
});

describe('noise settings', () => {
  it('are off by default', () => {
    const config = parseConfig({});
    expect(config.noise.enabled).toBe(false);
    expect(noiseSettingsOf(config.noise)).toBeNull();
  });

  it('need a secret of 32+ characters when enabled, from the config (environment) or a file', () => {
    expect(() => parseConfig({ noise: { enabled: true } })).toThrow(ConfigError);
    expect(() => parseConfig({ noise: { enabled: true, key: 'short' } })).toThrow(/noise.key/);
    const config = parseConfig({ noise: { enabled: true, epsilon: 0.7, key: 'k'.repeat(40) } });
    expect(noiseSettingsOf(config.noise)).toEqual({ epsilon: 0.7, key: Buffer.from('k'.repeat(40)) });
    expect(JSON.stringify(redactConfig(config))).not.toContain('k'.repeat(40));
    expect((redactConfig(config) as { noise: { key: string } }).noise.key).toBe('(set)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-noise-'));
    try {
      const file = path.join(dir, 'noise.key');
      fs.writeFileSync(file, `${'f'.repeat(33)}\n`);
      expect(noiseSettingsOf({ enabled: true, epsilon: 1, keyFile: file })!.key.toString()).toBe('f'.repeat(33));
      fs.writeFileSync(file, 'too short\n');
      expect(() => noiseSettingsOf({ enabled: true, epsilon: 1, keyFile: file })).toThrow(/32/);
      expect(() => noiseSettingsOf({ enabled: true, epsilon: 1, keyFile: path.join(dir, 'missing') })).toThrow(/cannot read/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
