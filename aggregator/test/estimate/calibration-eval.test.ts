/**
 * The evaluation on the real brno pos1 capture (bench/calibration-eval.ts): what `npm run bench:calibration` prints
 * is what the estimates give against the dataset's own occupancy, recomputed here minute by minute.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAPTURES, evaluate, table } from '../../../bench/calibration-eval.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const OCCUPANCY = path.join(CAPTURES, 'wifi_brno-lab_esp32_pos1_2022-10-19.source-occupancy.csv');
const present = fs.existsSync(OCCUPANCY);
if (!present && process.env.CI === 'true') throw new Error(`CI: the brno captures are missing at ${CAPTURES}`);

describe.skipIf(!present)('people estimates on the brno pos1 capture', () => {
  if (!present) console.warn(`skipped: no captures at ${CAPTURES} (the shared captures folder next to the repository)`);
  const e = evaluate();

  it('prints the table of the figures it computes', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/calibration-eval.ts'], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toBe(`${table(e)}\n`);
  });

  it('its error and coverage are those of its estimates against the occupancy file, minute by minute', () => {
    // The truth read again, independently: the occupancy of the last frame at or before the middle of each minute.
    const rows = fs
      .readFileSync(OCCUPANCY, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => {
        const cells = l.split(';');
        return { t: Date.parse(`${cells[0]!.replace(' ', 'T')}+02:00`) / 1000, people: Number(cells[cells.length - 1]) };
      });
    const truth = (t: number) => rows.filter((r) => r.t <= t + 30).at(-1)?.people ?? rows[0]!.people;
    const main = e.results.find((r) => r.scenario.everyMinutes === 5 && r.scenario.baseline === 'pos2')!;
    expect(main.refused).toBeNull();
    expect(main.perMinute.length).toBe(main.minutes);
    expect(main.minutes).toBeGreaterThan(50);
    let abs = 0;
    let inside = 0;
    for (const m of main.perMinute) {
      expect(m.truth).toBe(truth(m.t));
      expect(m.t).toBeGreaterThanOrEqual(e.splitAt);
      abs += Math.abs(m.people - m.truth);
      if (m.truth >= m.low && m.truth <= m.high) inside++;
    }
    expect(main.mae).toBeCloseTo(abs / main.minutes, 10);
    expect(main.coverage).toBeCloseTo(inside / main.minutes, 10);
    // What the README states: the calibrated estimate is far closer than the fixed factor, and its interval holds
    // the truth at least 90 % of the minutes; three head counts (every 15 minutes for an hour) are refused.
    expect(main.mae!).toBeLessThan(e.fixed.mae / 4);
    expect(main.coverage!).toBeGreaterThanOrEqual(0.9);
    expect(e.results.find((r) => r.scenario.everyMinutes === 15)!.refused).toMatch(/at least 6 are needed/);
  });
});
