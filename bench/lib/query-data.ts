/**
 * A year of released data for the query benchmark, written straight into an aggregator SQLite store:
 * `zoneCount` zones of `sensorsPerZone` sensors each; the last `minuteDays` days as frozen zone-minutes (what the
 * release layer keeps as minute data; `freeze` also updates their hour and day rollups), the days before them as
 * hour and day rollups only (`importRollups`), as a store looks after a year with minute data kept for
 * `minuteDays` days. The values follow a day curve (busy afternoons, quiet nights with suppressed minutes), the
 * same function for the minutes and for the rollups, so both agree.
 */
import { SqliteStore } from '@passant/aggregator';
import type { FrozenCell, FrozenRadio, Rollup, RollupRadio } from '../../aggregator/src/store/types.ts';

export interface QueryDataOptions {
  file: string;
  zoneCount: number;
  sensorsPerZone: number;
  /** Days of data, ending with the day before `endDay`. */
  days: number;
  /** Days at the end that are kept as minute cells. */
  minuteDays: number;
  /** Start of the UTC day after the data (exclusive end). */
  endDay: number;
  k: number;
}

export interface QueryData {
  zones: { id: string; name: string; sensors: string[] }[];
  /** First second of the data (a UTC day start). */
  from: number;
  /** End of the data (exclusive). */
  to: number;
  cells: number;
  rollups: number;
}

const DAY = 86_400;
const HOUR = 3600;
const MINUTE = 60;
const FREEZE_CHUNK = 20_000;

/** Devices in a zone-minute: a day curve plus a little deterministic variation. */
function devicesAt(zone: number, t: number): { wifi: number; ble: number } {
  const hour = Math.floor((t % DAY) / HOUR);
  const minute = Math.floor(t / MINUTE);
  const wiggle = (minute * 31 + zone * 17) % 11;
  const base = hour >= 7 && hour < 22 ? 20 + 40 * Math.sin(((hour - 7) / 15) * Math.PI) : 1;
  const wifi = Math.max(0, Math.round(base + wiggle - 3));
  return { wifi, ble: Math.floor(wifi / 3) };
}

function radio(devices: number, k: number): FrozenRadio {
  return { devices, released: devices >= k, noise: null };
}

function emptyRadio(): RollupRadio {
  return { sum: 0, released: 0, suppressed: 0, noise: 0, noised: 0 };
}

function addTo(target: RollupRadio, devices: number, k: number): void {
  if (devices >= k) {
    target.sum += devices;
    target.released += 1;
  } else target.suppressed += 1;
}

export async function buildQueryStore(options: QueryDataOptions): Promise<QueryData> {
  const { zoneCount, sensorsPerZone, days, minuteDays, endDay, k } = options;
  const zones = Array.from({ length: zoneCount }, (_, z) => ({
    id: `zone-${String(z).padStart(2, '0')}`,
    name: `Zone ${z}`,
    sensors: Array.from({ length: sensorsPerZone }, (_, s) => `q-${String(z).padStart(2, '0')}-${String(s).padStart(3, '0')}`),
  }));
  const from = endDay - days * DAY;
  const minutesFrom = endDay - minuteDays * DAY;
  const store = SqliteStore.open(options.file);
  let cells = 0;
  let rollups = 0;
  try {
    // Rollups only, for the days before the minute data.
    const rows: Rollup[] = [];
    for (let z = 0; z < zoneCount; z++) {
      for (let day = from; day < minutesFrom; day += DAY) {
        const dayRow: Rollup = { zoneId: zones[z]!.id, step: DAY, t: day, wifi: emptyRadio(), ble: emptyRadio() };
        for (let hour = day; hour < day + DAY; hour += HOUR) {
          const hourRow: Rollup = { zoneId: zones[z]!.id, step: HOUR, t: hour, wifi: emptyRadio(), ble: emptyRadio() };
          for (let t = hour; t < hour + HOUR; t += MINUTE) {
            const d = devicesAt(z, t);
            addTo(hourRow.wifi, d.wifi, k);
            addTo(hourRow.ble, d.ble, k);
            addTo(dayRow.wifi, d.wifi, k);
            addTo(dayRow.ble, d.ble, k);
          }
          rows.push(hourRow);
        }
        rows.push(dayRow);
      }
    }
    store.importRollups(rows);
    rollups += rows.length;

    // Frozen minute cells for the last days (freeze adds their hour and day rollups).
    let batch: FrozenCell[] = [];
    for (let t = minutesFrom; t < endDay; t += MINUTE) {
      for (let z = 0; z < zoneCount; z++) {
        const d = devicesAt(z, t);
        batch.push({ zoneId: zones[z]!.id, windowStart: t, sensors: zones[z]!.sensors, wifi: radio(d.wifi, k), ble: radio(d.ble, k) });
      }
      if (batch.length >= FREEZE_CHUNK) {
        cells += (await store.freeze(batch)).filter(Boolean).length;
        batch = [];
      }
    }
    if (batch.length > 0) cells += (await store.freeze(batch)).filter(Boolean).length;
    rollups += zoneCount * minuteDays * 25;
  } finally {
    await store.close();
  }
  return { zones, from, to: endDay, cells, rollups };
}
