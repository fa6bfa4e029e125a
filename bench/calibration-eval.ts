/**
 * How good are people estimates from a calibration? `npm run bench:calibration`.
 *
 * On the real brno pos1 capture (../shared/captures: a university lab by day, 115 minutes, 13 fixed lab PCs; the
 * dataset counted the people in the room, 2 to 17): the per-minute device counts of the capture
 * (`.expected.csv`) go through the release rule (k = 5 devices beyond the static baseline); manual `present` head
 * counts are taken from the dataset's occupancy in the first half of the session; the model is fitted on them
 * (estimate/model.ts) and estimates people for every minute of the second half from released values only. Each
 * estimate is compared with the true occupancy of that minute: the mean absolute error (people), and the share of
 * minutes whose truth lies inside the 95 % interval (coverage). Beside it, the fixed-factor method of
 * howmanypeoplearearound: devices / 0.7 (no baseline, no interval).
 *
 * The static baseline: the pos1 session is too short to learn one (the release layer needs 12 hours of history), so
 * it is taken from the same lab's quiet-Saturday capture (pos2, 24 hours) with the release layer's own function
 * and settings (static-baseline.ts); the table also shows the fit without any baseline.
 *
 * `--json` prints the figures and the per-minute estimates as JSON (for the test that checks the table).
 */
import fs from 'node:fs';
import path from 'node:path';
import { estimateSeries } from '../aggregator/src/estimate/estimate.ts';
import { fitCalibration, periodPoint, type CalibrationPoint, type ModelParameters } from '../aggregator/src/estimate/model.ts';
import { releasedByPeopleRule } from '../aggregator/src/release/release-series.ts';
import { baselineAt, DEFAULT_BASELINE_OPTIONS, hourBuckets } from '../aggregator/src/release/static-baseline.ts';

export const CAPTURES = path.resolve(import.meta.dirname, '../../shared/captures');
const POS1 = 'wifi_brno-lab_esp32_pos1_2022-10-19';
const POS2 = 'wifi_brno-lab_esp32_pos2_2024-03-16_weekend';
const K = 5;
/** The occupancy file's times are local: UTC+2 (CEST) on 2022-10-19. */
const OCCUPANCY_UTC_OFFSET = 2 * 3600;
/** howmanypeoplearearound's fixed factor: people = devices / 0.7. */
const FIXED_FACTOR = 0.7;

/** Per-minute devices of a capture: every minute from the first to the last counted one (missing ones count 0). */
export function readMinutes(file: string): { t: number; devices: number }[] {
  const rows = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number) as [number, number]);
  const byMinute = new Map(rows.map(([t, d]) => [t, d]));
  const out: { t: number; devices: number }[] = [];
  for (let t = rows[0]![0]; t <= rows[rows.length - 1]![0]; t += 60) out.push({ t, devices: byMinute.get(t) ?? 0 });
  return out;
}

/** The dataset's occupancy: (Unix seconds of a frame, people in the room then), in time order. */
export function readOccupancy(file: string): { t: number; people: number }[] {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const header = lines[0]!.split(';');
  const ti = header.indexOf('datetime');
  const oi = header.indexOf('occupancy');
  return lines.slice(1).map((l) => {
    const cells = l.split(';');
    const [date, time] = cells[ti]!.split(' ');
    const t = Date.parse(`${date}T${time}Z`) / 1000 - OCCUPANCY_UTC_OFFSET;
    return { t, people: Number(cells[oi]) };
  });
}

/** The occupancy at time t: the last value recorded at or before t (the first one before it starts). */
export function occupancyAt(occupancy: readonly { t: number; people: number }[], t: number): number {
  let value = occupancy[0]!.people;
  for (const o of occupancy) {
    if (o.t > t) break;
    value = o.people;
  }
  return value;
}

export interface Scenario {
  name: string;
  /** Head counts every this many minutes over the calibration part. */
  everyMinutes: number;
  /** Minutes from the start that are calibrated on (the rest is estimated); default: the first half. */
  calibrateMinutes?: number;
  baseline: 'pos2' | 'none';
}

export interface ScenarioResult {
  scenario: Scenario;
  /** The first estimated minute. */
  splitAt: number;
  baseline: number;
  counts: number;
  /** null when the fit was refused. */
  refused: string | null;
  parameters: ModelParameters | null;
  /** Minutes of the second half with an estimate. */
  minutes: number;
  mae: number | null;
  coverage: number | null;
  /** Mean width of the interval (people). */
  width: number | null;
  /** MAE of devices / 0.7 over the same minutes. */
  fixedMae: number;
  perMinute: { t: number; truth: number; people: number; low: number; high: number }[];
}

export interface Evaluation {
  firstMinute: number;
  lastMinute: number;
  splitAt: number;
  baselinePos2: number;
  fixed: { mae: number; minutes: number };
  results: ScenarioResult[];
}

export const SCENARIOS: Scenario[] = [
  { name: 'head count every 15 min, first half', everyMinutes: 15, baseline: 'pos2' },
  { name: 'head count every 5 min, first half', everyMinutes: 5, baseline: 'pos2' },
  { name: 'head count every 5 min, first half, no baseline', everyMinutes: 5, baseline: 'none' },
  { name: 'head count every 10 min, first half', everyMinutes: 10, baseline: 'pos2' },
  { name: 'head count every 15 min, first 100 min (estimates the last 15 min)', everyMinutes: 15, baseline: 'pos2', calibrateMinutes: 100 },
];

export function evaluate(captures = CAPTURES): Evaluation {
  const minutes = readMinutes(path.join(captures, `${POS1}.expected.csv`));
  const occupancy = readOccupancy(path.join(captures, `${POS1}.source-occupancy.csv`));
  // The lab's static baseline, as the release layer computes it, for the hour after the quiet-Saturday capture.
  const pos2 = readMinutes(path.join(captures, `${POS2}.expected.csv`));
  const after = Math.ceil((pos2[pos2.length - 1]!.t + 60) / 3600) * 3600;
  const baselinePos2 = baselineAt(hourBuckets(pos2.map((m) => ({ windowStart: m.t, value: m.devices }))), after, DEFAULT_BASELINE_OPTIONS)!;
  const firstMinute = minutes[0]!.t;
  const lastMinute = minutes[minutes.length - 1]!.t;
  const splitAt = firstMinute + Math.floor(minutes.length / 2) * 60;
  // The truth of a minute: the occupancy at its middle.
  const truthOf = (t: number) => occupancyAt(occupancy, t + 30);
  const second = minutes.filter((m) => m.t >= splitAt);
  const fixedErrors = second.map((m) => Math.abs(m.devices / FIXED_FACTOR - truthOf(m.t)));
  const results = SCENARIOS.map((scenario): ScenarioResult => {
    const split = scenario.calibrateMinutes === undefined ? splitAt : firstMinute + scenario.calibrateMinutes * 60;
    const rest = minutes.filter((m) => m.t >= split);
    const baseline = scenario.baseline === 'pos2' ? baselinePos2 : 0;
    const released = (devices: number) => releasedByPeopleRule([{ devices, baseline }], K);
    const points: CalibrationPoint[] = [];
    for (let t = firstMinute + scenario.everyMinutes * 60; t < split; t += scenario.everyMinutes * 60) {
      // A head count at the moment t (a whole minute), with the people then; its minute as the release layer shows it.
      const m = minutes.find((x) => x.t === t)!;
      points.push(periodPoint('present', { from: t, to: t, people: occupancyAt(occupancy, t) }, [{ devices: released(m.devices) ? m.devices : null, suppressed: released(m.devices) ? 0 : 1, baseline }]));
    }
    const fit = fitCalibration(points);
    const fixedMae = rest.reduce((s, m) => s + Math.abs(m.devices / FIXED_FACTOR - truthOf(m.t)), 0) / rest.length;
    const base = { scenario, splitAt: split, baseline, counts: points.length, fixedMae };
    if (!fit.ok) return { ...base, refused: fit.reason, parameters: null, minutes: 0, mae: null, coverage: null, width: null, perMinute: [] };
    const series = {
      t: rest.map((m) => m.t),
      devices: rest.map((m) => (released(m.devices) ? m.devices : null)),
      suppressed: rest.map((m) => (released(m.devices) ? 0 : 1)),
      step: 60,
      radio: 'wifi' as const,
    };
    const est = estimateSeries(series, baseline, { id: scenario.name, kind: 'present', radio: 'wifi', created: 0, parameters: fit.parameters });
    const perMinute: ScenarioResult['perMinute'] = [];
    rest.forEach((m, i) => {
      if (est.people[i] === null) return;
      perMinute.push({ t: m.t, truth: truthOf(m.t), people: est.people[i]!, low: est.peopleLow[i]!, high: est.peopleHigh[i]! });
    });
    const n = perMinute.length;
    return {
      ...base,
      refused: null,
      parameters: fit.parameters,
      minutes: n,
      mae: perMinute.reduce((s, p) => s + Math.abs(p.people - p.truth), 0) / n,
      coverage: perMinute.filter((p) => p.truth >= p.low && p.truth <= p.high).length / n,
      width: perMinute.reduce((s, p) => s + (p.high - p.low), 0) / n,
      perMinute,
    };
  });
  return {
    firstMinute,
    lastMinute,
    splitAt,
    baselinePos2,
    fixed: { mae: fixedErrors.reduce((s, e) => s + e, 0) / fixedErrors.length, minutes: fixedErrors.length },
    results,
  };
}

/**
 * The error of means over longer buckets: consecutive chunks of `size` estimated minutes, their mean estimate
 * against their mean truth (MAE in people, and how many chunks).
 */
export function chunkError(r: ScenarioResult, size: number): { chunks: number; mae: number } {
  let abs = 0;
  let chunks = 0;
  for (let i = 0; i + size <= r.perMinute.length; i += size) {
    const part = r.perMinute.slice(i, i + size);
    abs += Math.abs(part.reduce((s, p) => s + p.people - p.truth, 0) / size);
    chunks++;
  }
  return { chunks, mae: abs / chunks };
}

/** The table `npm run bench:calibration` prints. */
export function table(e: Evaluation): string {
  const iso = (t: number) => new Date(t * 1000).toISOString().slice(11, 16);
  const lines = [
    `brno pos1 (2022-10-19, ${iso(e.firstMinute)}-${iso(e.lastMinute + 60)} UTC): calibrate on head counts before ${iso(e.splitAt)} (the first half) unless a row says otherwise, estimate people for every minute after`,
    `static baseline from the pos2 quiet-Saturday capture: ${e.baselinePos2} devices; k = ${K}`,
    '',
    '| calibration | counts | a (people per moving device) | minutes estimated | MAE (people) | coverage of the 95 % interval | mean interval width | devices / 0.7: MAE on the same minutes |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of e.results) {
    if (r.refused !== null) {
      lines.push(`| ${r.scenario.name} | ${r.counts} | refused: ${r.refused} | - | - | - | - | ${r.fixedMae.toFixed(2)} |`);
      continue;
    }
    lines.push(
      `| ${r.scenario.name} | ${r.counts} | ${r.parameters!.a.toFixed(3)} | ${r.minutes} | ${r.mae!.toFixed(2)} | ${(r.coverage! * 100).toFixed(1)} % | ${r.width!.toFixed(1)} | ${r.fixedMae.toFixed(2)} |`,
    );
  }
  lines.push('', `devices / ${FIXED_FACTOR} (howmanypeoplearearound's fixed factor, no baseline, no interval) over the second half: MAE ${e.fixed.mae.toFixed(2)} people (${e.fixed.minutes} minutes)`);
  const main = e.results[1]!;
  if (main.refused === null) {
    const chunks = [5, 15, 30].map((size) => {
      const c = chunkError(main, size);
      return `${size} min: ${c.mae.toFixed(2)} (${c.chunks})`;
    });
    lines.push(`${main.scenario.name}, means over longer buckets, MAE in people (buckets): ${chunks.join('; ')}`);
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  if (!fs.existsSync(path.join(CAPTURES, `${POS1}.expected.csv`))) {
    process.stderr.write(`no captures at ${CAPTURES}: this evaluation needs the brno captures (../shared/captures)\n`);
    process.exit(1);
  }
  const e = evaluate();
  process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(e)}\n` : `${table(e)}\n`);
}
