/**
 * How much of the night the release rule shows, before (devices >= k) and after (k devices beyond each sensor's
 * static baseline): a privacy figure, not a speed one. `npm run bench:night`.
 *
 * - The brno lab captures (../shared/captures): the per-minute counts of the weekend capture (13 fixed lab PCs, a
 *   quiet Saturday) are replayed as two consecutive days, so that the second day has a day of history for its
 *   baseline (a sensor that has run one day); the night is 00:00-06:00 local time (CET) of the second day. The
 *   pos1 capture holds two hours of a lab session by day: it has no night and no history, so it shows what the rule
 *   does for a new sensor (its baseline is unknown and taken as 0).
 * - The demo (`npm start`): the same simulated sensors and zones, backfilling 72 hours through the real pipeline;
 *   the night is the last complete 00:00-06:00 of the simulator's time zone.
 * Each figure is the count of released zone-minutes (Wi-Fi) over the minutes that have data.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { emptyRadioCounts, type CountsMessage } from '@passant/shared';
import { Registry } from '../aggregator/src/registry.ts';
import { ReleaseLayer } from '../aggregator/src/release/release-layer.ts';
import { DEFAULT_BASELINE_OPTIONS } from '../aggregator/src/release/static-baseline.ts';
import { SqliteStore } from '../aggregator/src/store/sqlite-store.ts';
import { startStack } from '@passant/test-helpers/stack';

const K = 5;
const DAY = 86_400;
const HOUR = 3600;
const CAPTURES = path.resolve(import.meta.dirname, '../../shared/captures');

interface Figure {
  what: string;
  minutes: number;
  before: number;
  after: number;
}

function readExpected(file: string): { t: number; devices: number; randomized: number; frames: number }[] {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const [t, devices, randomized, frames] = l.split(',').map(Number);
    return { t: t!, devices: devices!, randomized: randomized!, frames: frames! };
  });
}

function message(sensorId: string, t: number, seq: number, devices: number, randomized: number, frames: number): CountsMessage {
  const wifi = { ...emptyRadioCounts(), devices, randomized, frames };
  return { v: 1, sensorId, windowStart: t, windowSeconds: 60, seq, wifi, ble: emptyRadioCounts(), rssiFloor: null };
}

/** Minutes in [from, to) whose zone sum of wifi devices is >= k: the rule on main before the baseline. */
function sumRule(messages: readonly CountsMessage[], sensors: readonly string[], from: number, to: number): number {
  const sums = new Map<number, number>();
  for (const m of messages) {
    if (!sensors.includes(m.sensorId) || m.windowStart < from || m.windowStart >= to) continue;
    sums.set(m.windowStart, (sums.get(m.windowStart) ?? 0) + m.wifi.devices);
  }
  return [...sums.values()].filter((d) => d >= K).length;
}

/** Released wifi cells of zone `z` (sensor `s`) in [from, to), with the static baseline on. */
async function released(messages: CountsMessage[], from: number, to: number): Promise<{ minutes: number; released: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-night-'));
  const store = SqliteStore.open(path.join(dir, 'passant.db'));
  try {
    const registry = new Registry([{ id: 'z', name: 'Z', sensors: ['s'] }]);
    const end = Math.max(...messages.map((m) => m.windowStart)) + DAY;
    const layer = new ReleaseLayer(store, registry, { k: K, settleSeconds: 120, now: () => end, baseline: DEFAULT_BASELINE_OPTIONS });
    for (let i = 0; i < messages.length; i += 1000) await store.put(messages.slice(i, i + 1000), end);
    while ((await layer.settle()).length > 0);
    const cells = await store.cells(['z'], from, to);
    return { minutes: cells.length, released: cells.filter((c) => c.wifi.released).length };
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function brno(): Promise<Figure[]> {
  const out: Figure[] = [];
  const weekend = readExpected(path.join(CAPTURES, 'wifi_brno-lab_esp32_pos2_2024-03-16_weekend.expected.csv'));
  const first = Math.floor(weekend[0]!.t / DAY) * DAY; // the UTC day of the capture's first minute
  const messages: CountsMessage[] = [];
  let seq = 0;
  for (const shift of [0, DAY]) for (const r of weekend) messages.push(message('s', r.t + shift, seq++, r.devices, r.randomized, r.frames));
  // the second day's night, 00:00-06:00 CET (UTC+1 in March): 23:00Z of the first day to 05:00Z of the second
  const nightFrom = first + DAY - HOUR;
  const nightTo = nightFrom + 6 * HOUR;
  const dayFrom = nightTo + 4 * HOUR;
  const dayTo = dayFrom + 8 * HOUR;
  for (const [what, from, to] of [
    ['brno pos2 weekend, 2nd day, night 00-06 CET', nightFrom, nightTo],
    ['brno pos2 weekend, 2nd day, 10-18 CET', dayFrom, dayTo],
  ] as const) {
    const a = await released(messages, from, to);
    out.push({ what, minutes: a.minutes, before: sumRule(messages, ['s'], from, to), after: a.released });
  }
  const lab = readExpected(path.join(CAPTURES, 'wifi_brno-lab_esp32_pos1_2022-10-19.expected.csv'));
  const labMessages = lab.map((r, i) => message('s', r.t, i, r.devices, r.randomized, r.frames));
  const from = Math.min(...lab.map((r) => r.t));
  const to = Math.max(...lab.map((r) => r.t)) + 60;
  const a = await released(labMessages, from, to);
  out.push({ what: 'brno pos1 lab session (day, no history)', minutes: a.minutes, before: sumRule(labMessages, ['s'], from, to), after: a.released });
  return out;
}

async function demo(): Promise<Figure[]> {
  const zones = [
    { id: 'winkelstraat', name: 'Winkelstraat', sensors: ['s-001', 's-002'] },
    { id: 'marktplein', name: 'Marktplein', sensors: ['s-003'] },
  ];
  const stack = await startStack({ k: K, zones, backfillHours: 72 });
  try {
    for (const agent of stack.agents) await agent.drain(120_000);
    const now = Date.now() / 1000;
    const offset = -new Date().getTimezoneOffset() * 60; // the simulator's day curve follows this machine's zone
    const today = Math.floor((now + offset) / DAY) * DAY - offset;
    const night = now >= today + 6 * HOUR ? today : today - DAY; // the last complete night, 00:00-06:00 local
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      await stack.aggregator.release.settle();
      const cells = await stack.aggregator.store.cells(null, night, night + 6 * HOUR);
      if (cells.length >= 2 * 360 * 0.99) break; // both zones, every minute of the night
      await new Promise((r) => setTimeout(r, 500));
    }
    const out: Figure[] = [];
    // the last complete night, and the day before it from 10 to 16 h
    for (const [label, from] of [
      ['last night 00-06 local', night],
      ['the day before, 10-16 local', night - DAY + 10 * HOUR],
    ] as const) {
      for (const zone of zones) {
        const cells = await stack.aggregator.store.cells([zone.id], from, from + 6 * HOUR);
        const windows = await stack.aggregator.store.sensorWindows(zone.sensors, from, from + 6 * HOUR);
        const sums = new Map<number, number>();
        for (const w of windows) sums.set(w.windowStart, (sums.get(w.windowStart) ?? 0) + w.wifi);
        out.push({
          what: `demo ${zone.id} (${zone.sensors.length} sensor${zone.sensors.length > 1 ? 's' : ''}), ${label}`,
          minutes: cells.length,
          before: [...sums.values()].filter((d) => d >= K).length,
          after: cells.filter((c) => c.wifi.released).length,
        });
      }
    }
    return out;
  } finally {
    await stack.close();
  }
}

const figures = [...(await brno()), ...(await demo())];
console.log(`\nReleased zone-minutes (Wi-Fi, k = ${K}): before = the zone's devices >= k (main before the rule about people); after = a sensor of the zone hears k devices beyond its static baseline\n`);
console.log('| data | minutes with data | released before | released after |');
console.log('| --- | ---: | ---: | ---: |');
for (const f of figures) console.log(`| ${f.what} | ${f.minutes} | ${f.before} | ${f.after} |`);
