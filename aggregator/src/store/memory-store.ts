/** An in-memory ReleaseStore: the same contract as the SQLite and InfluxDB stores, nothing on disk. For tests. */
import type { CountsMessage, Radio, RadioCounts } from '@passant/shared';
import { StoreError } from '../errors.ts';
import { addToRollup, emptyRollupRadio, ROLLUP_STEPS, rollupStart } from './types.ts';
import type {
  CellsReadOptions,
  CountsStore,
  DeleteResult,
  FrozenCell,
  PutResult,
  ReleaseStore,
  Rollup,
  RollupStep,
  SensorLastWindow,
  SensorStats,
  SensorWindow,
  WindowKey,
} from './types.ts';

const keyOf = (a: string, t: number) => `${t}\u0000${a}`;
const byTimeThenId = <T extends { windowStart: number }>(id: (x: T) => string) => (a: T, b: T) =>
  a.windowStart - b.windowStart || (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0);

/** The release layer's data in memory (everything but the raw windows). */
class ReleaseData {
  readonly unsettled = new Map<string, WindowKey>();
  /** When each stored window was received. */
  readonly receivedAt = new Map<string, number>();
  readonly cells = new Map<string, FrozenCell>();
  readonly rollups = new Map<string, Rollup>();
  readonly stats = new Map<string, SensorStats>();
  readonly meta = new Map<string, string>();
  /** Keys of closed hour rollups. */
  readonly closed = new Set<string>();
  /** Each sensor's latest stored window and its seq. */
  readonly last = new Map<string, SensorLastWindow>();

  noteStored(m: CountsMessage, receivedAt: number): void {
    this.unsettled.set(keyOf(m.sensorId, m.windowStart), { sensorId: m.sensorId, windowStart: m.windowStart });
    this.receivedAt.set(keyOf(m.sensorId, m.windowStart), receivedAt);
    const last = this.last.get(m.sensorId);
    if (last === undefined || m.windowStart > last.windowStart) this.last.set(m.sensorId, { sensorId: m.sensorId, windowStart: m.windowStart, seq: m.seq });
    const s = this.stats.get(m.sensorId);
    if (s === undefined) {
      this.stats.set(m.sensorId, { sensorId: m.sensorId, firstWindowStart: m.windowStart, lastWindowStart: m.windowStart, lastReceivedAt: receivedAt, messages: 1 });
    } else {
      s.firstWindowStart = Math.min(s.firstWindowStart, m.windowStart);
      s.lastWindowStart = Math.max(s.lastWindowStart, m.windowStart);
      s.lastReceivedAt = Math.max(s.lastReceivedAt, receivedAt);
      s.messages += 1;
    }
  }

  freeze(cells: FrozenCell[]): boolean[] {
    return cells.map((c) => {
      const key = keyOf(c.zoneId, c.windowStart);
      if (this.cells.has(key)) return false;
      this.cells.set(key, structuredClone(c));
      for (const step of ROLLUP_STEPS) {
        const t = rollupStart(c.windowStart, step);
        const rkey = `${c.zoneId}\u0000${step}\u0000${t}`;
        let row = this.rollups.get(rkey);
        if (row === undefined) {
          row = { zoneId: c.zoneId, step, t, wifi: emptyRollupRadio(), ble: emptyRollupRadio() };
          this.rollups.set(rkey, row);
        }
        addToRollup(row.wifi, c.wifi);
        addToRollup(row.ble, c.ble);
      }
      return true;
    });
  }
}

function withoutHistogram(r: RadioCounts): RadioCounts {
  return { devices: r.devices, randomized: r.randomized, frames: r.frames };
}

/** Everything in memory. */
export class MemoryStore implements ReleaseStore {
  private readonly windows = new Map<string, { m: CountsMessage; receivedAt: number }>();
  protected readonly data = new ReleaseData();
  protected closed = false;

  async put(messages: CountsMessage[], receivedAt: number): Promise<PutResult[]> {
    this.check();
    return messages.map((m) => {
      const key = keyOf(m.sensorId, m.windowStart);
      if (this.windows.has(key)) return 'duplicate';
      // Without the RSSI histograms: no store keeps them.
      const { wifi, ble, ...rest } = structuredClone(m);
      this.windows.set(key, { m: { ...rest, wifi: withoutHistogram(wifi), ble: withoutHistogram(ble) }, receivedAt });
      this.data.noteStored(m, receivedAt);
      return 'stored';
    });
  }

  async sensorWindows(sensorIds: string[], from: number, to: number): Promise<SensorWindow[]> {
    this.check();
    const ids = new Set(sensorIds);
    const out: SensorWindow[] = [];
    for (const { m, receivedAt } of this.windows.values()) {
      if (ids.has(m.sensorId) && m.windowStart >= from && m.windowStart < to) {
        out.push({
          sensorId: m.sensorId,
          windowStart: m.windowStart,
          wifi: m.wifi.devices,
          ble: m.ble.devices,
          wifiRandomized: m.wifi.randomized,
          bleRandomized: m.ble.randomized,
          receivedAt,
        });
      }
    }
    return out.sort(byTimeThenId((w) => w.sensorId));
  }

  async windowKeys(sensorIds: string[], from: number, to: number): Promise<WindowKey[]> {
    return (await this.sensorWindows(sensorIds, from, to)).map(({ sensorId, windowStart }) => ({ sensorId, windowStart }));
  }

  async unsettled(limit: number): Promise<WindowKey[]> {
    this.check();
    return [...this.data.unsettled.values()].sort(byTimeThenId((k) => k.sensorId)).slice(0, Math.max(0, Math.floor(limit)));
  }

  async clearUnsettled(keys: WindowKey[]): Promise<void> {
    this.check();
    for (const k of keys) this.data.unsettled.delete(keyOf(k.sensorId, k.windowStart));
  }

  async requeue(sensorIds: string[], from: number, to: number): Promise<number> {
    this.check();
    const windows = await this.sensorWindows(sensorIds, from, to);
    let added = 0;
    for (const w of windows) {
      const key = keyOf(w.sensorId, w.windowStart);
      if (!this.data.unsettled.has(key)) added++;
      this.data.unsettled.set(key, { sensorId: w.sensorId, windowStart: w.windowStart });
    }
    return added;
  }

  async freeze(cells: FrozenCell[]): Promise<boolean[]> {
    this.check();
    return this.data.freeze(cells);
  }

  async cells(zoneIds: string[] | null, from: number, to: number, options: CellsReadOptions = {}): Promise<FrozenCell[]> {
    this.check();
    const zones = zoneIds === null ? null : new Set(zoneIds);
    return [...this.data.cells.values()]
      .filter((c) => (zones === null || zones.has(c.zoneId)) && c.windowStart >= from && c.windowStart < to)
      .sort(byTimeThenId((c) => c.zoneId))
      .map((c) => ({ ...structuredClone(c), ...(options.sensors === false ? { sensors: [] } : {}) }));
  }

  async rollups(zoneId: string, step: RollupStep, from: number, to: number): Promise<Rollup[]> {
    this.check();
    if (!(ROLLUP_STEPS as readonly number[]).includes(step)) throw new StoreError(`rollup step must be one of ${ROLLUP_STEPS.join(', ')}, got ${String(step)}`);
    return [...this.data.rollups.values()]
      .filter((r) => r.zoneId === zoneId && r.step === step && r.t >= from && r.t < to)
      .sort((a, b) => a.t - b.t)
      .map((r) => structuredClone(r));
  }

  async deleteMinutesBefore(t: number): Promise<DeleteResult> {
    this.check();
    let windows = 0;
    let cells = 0;
    for (const [key, w] of this.windows) if (w.m.windowStart < t && this.windows.delete(key)) windows++;
    for (const [key, k] of this.data.unsettled) if (k.windowStart < t) this.data.unsettled.delete(key);
    for (const [key, c] of this.data.cells) if (c.windowStart < t && this.data.cells.delete(key)) cells++;
    for (const [key, r] of this.data.rollups) if (r.step === 3600 && r.t < t) this.data.closed.add(key);
    return { windows, cells };
  }

  async deleteSensorWindowsBefore(t: number): Promise<number> {
    this.check();
    let deleted = 0;
    for (const [key, w] of this.windows) {
      if (w.m.windowStart < t && !this.data.unsettled.has(key) && this.windows.delete(key)) deleted++;
    }
    return deleted;
  }

  async lastWindows(): Promise<SensorLastWindow[]> {
    this.check();
    return [...this.data.last.values()].map((l) => ({ ...l }));
  }

  async closedHours(zoneId: string, from: number, to: number): Promise<number[]> {
    this.check();
    return [...this.data.rollups.entries()]
      .filter(([key, r]) => r.zoneId === zoneId && r.step === 3600 && r.t >= from && r.t < to && this.data.closed.has(key))
      .map(([, r]) => r.t)
      .sort((a, b) => a - b);
  }

  async sensorStats(): Promise<SensorStats[]> {
    this.check();
    return [...this.data.stats.values()].map((s) => ({ ...s })).sort((a, b) => (a.sensorId < b.sensorId ? -1 : 1));
  }

  async getMeta(key: string): Promise<string | undefined> {
    this.check();
    return this.data.meta.get(key);
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.check();
    this.data.meta.set(key, value);
  }

  async ping(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  protected check(): void {
    if (this.closed) throw new StoreError('the memory store is closed');
  }
}
