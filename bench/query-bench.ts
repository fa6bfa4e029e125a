/**
 * Query benchmark of the release layer (`tsx bench/query-bench.ts`), the data side of issue 5's goals: a SQLite
 * store holding a year for 100 sensors in 10 zones; an hourly series of a zone for a year within 50 ms and a
 * minute series of a zone for a day within 10 ms (median of warm runs). The series are asked from
 * `ReleaseLayer.series`, the call every API route makes (HTTP and JSON on top are measured by the query-timing
 * part of bench/ingest-bench.ts).
 *
 * The store is what retention leaves after a year (retention.minuteDays = 31): raw per-sensor minute windows and
 * frozen zone-minutes for the last 31 days, hour and day rollups for the whole year. 52 million raw rows for the
 * year are not built: they would be deleted by retention anyway. The 31 days of raw windows (100 sensors x 44,640
 * minutes = 4.5 million rows) are written through the store's `put` in large transactions and settled by the
 * release layer (its real path: unsettled queue -> frozen cells -> rollups, timed and reported); the 11 months
 * before are written as hour and day rollups (`SqliteStore.importRollups`), computed from the same day curve.
 *
 * Settings (environment): PASSANT_QUERY_BENCH_DAYS (365), PASSANT_QUERY_BENCH_MINUTE_DAYS (31),
 * PASSANT_QUERY_BENCH_ROUNDS (30 timed runs per query), PASSANT_QUERY_BENCH_DB (keep the store in this file and
 * reuse it on the next run; default: a temp dir, removed at the end).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CountsMessage } from '@passant/shared';
import { Registry, ReleaseLayer, SqliteStore } from '@passant/aggregator';
import type { Rollup, RollupRadio } from '../aggregator/src/store/types.ts';

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

const ZONES = 10;
const SENSORS_PER_ZONE = 10;
const K = 5;
const DAYS = intEnv('PASSANT_QUERY_BENCH_DAYS', 365, 2, 3660);
const MINUTE_DAYS = intEnv('PASSANT_QUERY_BENCH_MINUTE_DAYS', 31, 1, DAYS);
const ROUNDS = intEnv('PASSANT_QUERY_BENCH_ROUNDS', 30, 3, 10_000);
const KEEP_DB = process.env.PASSANT_QUERY_BENCH_DB?.trim() || undefined;
const GOALS = { hourYearMs: 50, minuteDayMs: 10 };
const DAY = 86_400;
const HOUR = 3600;
const MINUTE = 60;
/** The data end at the start of today (UTC); the release layer's clock is an hour later. */
const END = Math.floor(Date.now() / 1000 / DAY) * DAY;
const FROM = END - DAYS * DAY;
const MINUTES_FROM = END - MINUTE_DAYS * DAY;
const PUT_BATCH = 50_000;

const zones = Array.from({ length: ZONES }, (_, z) => ({
  id: `zone-${z}`,
  name: `Zone ${z}`,
  sensors: Array.from({ length: SENSORS_PER_ZONE }, (_, s) => `bench-${z}-${s}`),
}));

/** Devices a sensor saw in a minute: a day curve (quiet nights, so some zone-minutes fall below k) plus variation. */
function sensorDevices(zone: number, sensor: number, t: number): { wifi: number; ble: number } {
  const hour = Math.floor((t % DAY) / HOUR);
  const busy = hour >= 7 && hour < 22 ? 2 + 5 * Math.sin(((hour - 7) / 15) * Math.PI) : 0.05;
  const minute = Math.floor(t / MINUTE);
  const wiggle = ((minute * 31 + zone * 17 + sensor * 7) % 5) / 4;
  const wifi = Math.floor(busy + wiggle * Math.min(1, busy));
  return { wifi, ble: Math.floor(wifi / 2) };
}

function message(zone: number, sensor: number, t: number): CountsMessage {
  const d = sensorDevices(zone, sensor, t);
  const radio = (devices: number) => ({ devices, randomized: Math.floor(devices / 2), frames: devices * 2, rssiHistogram: [0, 0, devices * 2, 0, 0, 0] });
  return { v: 1, sensorId: zones[zone]!.sensors[sensor]!, windowStart: t, windowSeconds: 60, seq: (t / 60) % 1_000_000, wifi: radio(d.wifi), ble: radio(d.ble), rssiFloor: -90 };
}

const emptyRadio = (): RollupRadio => ({ sum: 0, released: 0, suppressed: 0, noise: 0, noised: 0 });
function add(target: RollupRadio, devices: number): void {
  if (devices >= K) {
    target.sum += devices;
    target.released += 1;
  } else target.suppressed += 1;
}

/** Hour and day rollups of the days before the minute data, from the same curve. */
function olderRollups(): Rollup[] {
  const rows: Rollup[] = [];
  for (let z = 0; z < ZONES; z++) {
    const id = zones[z]!.id;
    for (let day = FROM; day < MINUTES_FROM; day += DAY) {
      const dayRow: Rollup = { zoneId: id, step: DAY, t: day, wifi: emptyRadio(), ble: emptyRadio() };
      for (let hour = day; hour < day + DAY; hour += HOUR) {
        const hourRow: Rollup = { zoneId: id, step: HOUR, t: hour, wifi: emptyRadio(), ble: emptyRadio() };
        for (let t = hour; t < hour + HOUR; t += MINUTE) {
          let wifi = 0;
          let ble = 0;
          for (let s = 0; s < SENSORS_PER_ZONE; s++) {
            const d = sensorDevices(z, s, t);
            wifi += d.wifi;
            ble += d.ble;
          }
          add(hourRow.wifi, wifi);
          add(hourRow.ble, ble);
          add(dayRow.wifi, wifi);
          add(dayRow.ble, ble);
        }
        rows.push(hourRow);
      }
      rows.push(dayRow);
    }
  }
  return rows;
}

async function build(file: string, release: ReleaseLayer, store: SqliteStore): Promise<{ putSeconds: number; settleSeconds: number; rows: number; cells: number }> {
  const started = performance.now();
  store.importRollups(olderRollups());
  let rows = 0;
  let batch: CountsMessage[] = [];
  for (let t = MINUTES_FROM; t < END; t += MINUTE) {
    for (let z = 0; z < ZONES; z++) for (let s = 0; s < SENSORS_PER_ZONE; s++) batch.push(message(z, s, t));
    if (batch.length >= PUT_BATCH) {
      rows += (await store.put(batch, t + 30)).length;
      batch = [];
    }
  }
  if (batch.length > 0) rows += (await store.put(batch, END)).length;
  const putSeconds = (performance.now() - started) / 1000;
  const settleStarted = performance.now();
  let cells = 0;
  for (let pass = 0; pass < 10_000; pass++) {
    const frozen = await release.settle();
    cells += frozen.length;
    if ((await store.unsettled(1)).length === 0) break;
  }
  const settleSeconds = (performance.now() - settleStarted) / 1000;
  console.log(`built ${file}: ${rows.toLocaleString('en')} raw windows in ${putSeconds.toFixed(1)} s (with the year's older rollups); settled into ${cells.toLocaleString('en')} frozen zone-minutes in ${settleSeconds.toFixed(1)} s`);
  return { putSeconds, settleSeconds, rows, cells };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function time(label: string, run: (round: number) => Promise<unknown>, goalMs?: number): Promise<{ label: string; medianMs: number; goalMs?: number; met?: boolean }> {
  for (let i = 0; i < 3; i++) await run(i); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await run(i);
    samples.push(performance.now() - started);
  }
  const medianMs = median(samples);
  const out: { label: string; medianMs: number; goalMs?: number; met?: boolean } = { label, medianMs };
  if (goalMs !== undefined) {
    out.goalMs = goalMs;
    out.met = medianMs < goalMs;
  }
  const sorted = [...samples].sort((a, b) => a - b);
  console.log(
    `${label.padEnd(58)} median ${medianMs.toFixed(2).padStart(7)} ms  (min ${sorted[0]!.toFixed(2)}, max ${sorted.at(-1)!.toFixed(2)})` +
      (goalMs !== undefined ? `  goal < ${goalMs} ms: ${out.met ? 'MET' : 'NOT MET'}` : ''),
  );
  return out;
}

async function main(): Promise<number> {
  const dir = KEEP_DB ? path.dirname(path.resolve(KEEP_DB)) : fs.mkdtempSync(path.join(os.tmpdir(), 'passant-query-bench-'));
  const file = KEEP_DB ? path.resolve(KEEP_DB) : path.join(dir, 'passant.db');
  const reuse = KEEP_DB !== undefined && fs.existsSync(file);
  const store = SqliteStore.open(file);
  const registry = new Registry(zones, [{ id: 'all', name: 'All zones', zones: zones.map((z) => z.id) }]);
  const release = new ReleaseLayer(store, registry, { k: K, settleSeconds: 120, now: () => END + HOUR, minuteDays: MINUTE_DAYS });
  try {
    console.log(
      `query bench: ${ZONES * SENSORS_PER_ZONE} sensors in ${ZONES} zones, ${DAYS} days of data to ${new Date(END * 1000).toISOString().slice(0, 10)}; ` +
        `minute data for the last ${MINUTE_DAYS} days (retention), hour and day rollups for all ${DAYS}; k = ${K}; ${ROUNDS} timed runs per query after 3 warm-up runs`,
    );
    if (reuse) console.log(`reusing ${file}`);
    else await build(file, release, store);
    console.log(`store file: ${(fs.statSync(file).size / 1e6).toFixed(0)} MB`);
    const zone = (i: number) => zones[i % ZONES]!.id;
    const yearFrom = Math.floor((END - 365 * DAY) / HOUR) * HOUR;
    const results = [
      await time('hourly series of a zone for a year (8,760 buckets)', (i) => release.series(zone(i), { from: yearFrom, to: END, step: 3600, radio: 'wifi' }), GOALS.hourYearMs),
      await time('minute series of a zone for a day (1,440 buckets)', (i) => release.series(zone(i), { from: END - DAY * (1 + (i % 28)), to: END - DAY * (i % 28), step: 60, radio: 'wifi' }), GOALS.minuteDayMs),
      await time('daily series of a zone for a year (365 buckets)', (i) => release.series(zone(i), { from: END - 365 * DAY, to: END, step: 86_400, radio: 'wifi' })),
      await time('minute series of a zone for a week (10,080 buckets)', (i) => release.series(zone(i), { from: END - 7 * DAY, to: END, step: 60, radio: 'ble' })),
      await time('hourly series of the 10-zone site for a year', () => release.series({ kind: 'site', id: 'all' }, { from: yearFrom, to: END, step: 3600, radio: 'wifi' })),
      await time('minute series of the 10-zone site for a day', () => release.series({ kind: 'site', id: 'all' }, { from: END - DAY, to: END, step: 60, radio: 'wifi' })),
    ];
    // a sanity check: the hourly year of a zone sums to its daily year
    const hourly = (await release.series(zone(0), { from: END - 365 * DAY, to: END, step: 3600, radio: 'wifi' }))!;
    const daily = (await release.series(zone(0), { from: END - 365 * DAY, to: END, step: 86_400, radio: 'wifi' }))!;
    const sum = (xs: (number | null)[]) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
    if (sum(hourly.devices) !== sum(daily.devices)) throw new Error(`hourly and daily sums differ: ${sum(hourly.devices)} vs ${sum(daily.devices)}`);
    const goals = results.filter((r) => r.goalMs !== undefined);
    console.log(`goals: ${goals.map((r) => `${r.label.split(' (')[0]} ${r.medianMs.toFixed(2)} ms < ${r.goalMs} ms ${r.met ? 'MET' : 'NOT MET'}`).join('; ')}`);
    return goals.every((r) => r.met) ? 0 : 1;
  } finally {
    await store.close();
    if (!KEEP_DB) fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`query bench failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(2);
  },
);
