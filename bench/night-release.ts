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
import { startStack } from '../test/helpers/stack.ts';

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

/** Released wifi cells of zone `z` in [from, to), with the baseline on or off. */
async function released(messages: CountsMessage[], baseline: boolean, from: number, to: number): Promise<{ minutes: number; released: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-night-'));
  const store = SqliteStore.open(path.join(dir, 'passant.db'));
  try {
    const registry = new Registry([{ id: 'z', name: 'Z', sensors: ['s'] }]);
    const end = Math.max(...messages.map((m) => m.windowStart)) + DAY;
    const layer = new ReleaseLayer(store, registry, { k: K, settleSeconds: 120, now: () => end, baseline: baseline ? DEFAULT_BASELINE_OPTIONS : null });
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
    const b = await released(messages, false, from, to);
    const a = await released(messages, true, from, to);
    out.push({ what, minutes: b.minutes, before: b.released, after: a.released });
  }
  const lab = readExpected(path.join(CAPTURES, 'wifi_brno-lab_esp32_pos1_2022-10-19.expected.csv'));
  const labMessages = lab.map((r, i) => message('s', r.t, i, r.devices, r.randomized, r.frames));
  const from = Math.min(...lab.map((r) => r.t));
  const to = Math.max(...lab.map((r) => r.t)) + 60;
  const b = await released(labMessages, false, from, to);
  const a = await released(labMessages, true, from, to);
  out.push({ what: 'brno pos1 lab session (day, no history)', minutes: b.minutes, before: b.released, after: a.released });
  return out;
}

async function demo(): Promise<Figure[]> {
  const out: Figure[] = [];
  const counts = new Map<string, { minutes: number; before: number; after: number }>();
  for (const baseline of [false, true]) {
    const stack = await startStack({
      k: K,
      zones: [
        { id: 'winkelstraat', name: 'Winkelstraat', sensors: ['s-001', 's-002'] },
        { id: 'marktplein', name: 'Marktplein', sensors: ['s-003'] },
      ],
      backfillHours: 72,
      overrides: { baseline: { enabled: baseline } },
    });
    try {
      for (const agent of stack.agents) await agent.drain(120_000);
      const now = Date.now() / 1000;
      const offset = -new Date().getTimezoneOffset() * 60; // the simulator's day curve follows this machine's zone
      const today = Math.floor((now + offset) / DAY) * DAY - offset;
      const nightFrom = today; // the last complete night: 00:00-06:00 local today, or yesterday's before 06:00
      const night = now >= today + 6 * HOUR ? nightFrom : nightFrom - DAY;
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        await stack.aggregator.release.settle();
        const cells = await stack.aggregator.store.cells(null, night, night + 6 * HOUR);
        if (cells.length >= 2 * 360 * 0.99) break; // both zones, every minute of the night
        await new Promise((r) => setTimeout(r, 500));
      }
      for (const zone of ['winkelstraat', 'marktplein']) {
        const cells = await stack.aggregator.store.cells([zone], night, night + 6 * HOUR);
        const entry = counts.get(zone) ?? { minutes: 0, before: 0, after: 0 };
        entry.minutes = cells.length;
        entry[baseline ? 'after' : 'before'] = cells.filter((c) => c.wifi.released).length;
        counts.set(zone, entry);
      }
    } finally {
      await stack.close();
    }
  }
  for (const [zone, c] of counts) out.push({ what: `demo ${zone}, last night 00-06 local`, ...c });
  return out;
}

const figures = [...(await brno()), ...(await demo())];
console.log(`\nReleased zone-minutes (Wi-Fi, k = ${K}): before = devices >= k; after = k devices beyond the static baseline\n`);
console.log('| data | minutes with data | released before | released after |');
console.log('| --- | ---: | ---: | ---: |');
for (const f of figures) console.log(`| ${f.what} | ${f.minutes} | ${f.before} | ${f.after} |`);
