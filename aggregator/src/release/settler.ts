/**
 * The release layer's settler: the only writer of frozen cells. A settle pass looks at the store's queue of
 * unsettled windows and freezes every zone-window that has settled (the rules are in the facade's header,
 * release-layer.ts, and in aggregator/docs/release-layer.md).
 *
 * One scheduler. Passes run one after another (with the jobs' registry syncs and retention runs, jobs.ts, on the
 * same queue), and are started by two things only: the interval (every settleIntervalMs, for cells whose settle
 * time has passed) and `notifyStored()`, which ingest (through live updates) calls after a stored batch to ask for
 * a pass soon. Requests made while a pass is waiting to run join that pass, so a burst of stored batches costs at
 * most the running pass and one more. Reads (reader.ts) never settle. `settle()` asks for a pass and waits for it
 * (tests, and callers that must see what was stored before).
 */
import { EventEmitter } from 'node:events';
import type { Radio } from '@passant/shared';
import type { Registry } from '../registry.ts';
import type { FrozenCell, ReleaseStore, SensorWindow, WindowKey } from '../store/types.ts';
import { rollupStart } from '../store/types.ts';
import { noiseFor } from './noise.ts';
import { HOUR, retentionCutoff, zoneNoise, type ReleaseParams } from './params.ts';
import { releasedByPeopleRule } from './release-series.ts';
import { settleDeadline } from './settle.ts';
import { baselineAt, hourBuckets, type SensorBaseline } from './static-baseline.ts';

interface Events {
  /** Cells frozen by a settle pass (each once). */
  frozen: [FrozenCell[]];
}

/** Most rounds of one settle pass (each `settleBatch` keys); the rest waits for the next pass. */
const MAX_SETTLE_ROUNDS = 50;
/** Baselines kept in memory (sensor-hours); past this the cache starts again. */
const MAX_CACHED_BASELINES = 200_000;

export class Settler extends EventEmitter<Events> {
  /** (sensor, hour) -> baselines per radio. */
  private readonly baselines = new Map<string, SensorBaseline>();
  /** Settle passes, registry syncs and retention runs, one after another. */
  private chain: Promise<unknown> = Promise.resolve();
  /** The pass queued and not started yet, which new requests join. */
  private queued: Promise<FrozenCell[]> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** How long after a write the store may take to show it (ReleaseStore.writeVisibilitySeconds). */
  private readonly visibilitySeconds: number;
  /** Late windows for frozen cells seen so far (stored, never released); for the stats line. */
  lateWindows = 0;
  /** Settle passes completed so far. */
  passes = 0;

  constructor(
    private readonly store: ReleaseStore,
    private readonly registry: Registry,
    private readonly params: ReleaseParams,
  ) {
    super();
    this.visibilitySeconds = store.writeVisibilitySeconds ?? 0;
  }

  /**
   * Asks for a settle pass and resolves with the cells it froze (also emitted as 'frozen'). Joins the pass already
   * queued when there is one (it has not looked at the store yet, so it sees everything stored before this call).
   */
  settle(): Promise<FrozenCell[]> {
    if (this.queued !== undefined) return this.queued;
    const pass = this.serialized(() => {
      if (this.queued === pass) this.queued = undefined;
      return this.settleNow();
    });
    this.queued = pass;
    return pass;
  }

  /** Windows were stored: a pass follows soon (joined with any pass already waiting). Never throws. */
  notifyStored(): void {
    this.settle().catch((err: unknown) => this.warn('settle failed', err));
  }

  /** Starts the interval: a pass every settleIntervalMs. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.notifyStored(), this.params.settleIntervalMs);
    this.timer.unref();
  }

  /** Stops the interval (the running pass goes on; `idle()` waits for it). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Resolves when the work queued so far is done. */
  async idle(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  /** Runs `task` after everything queued before it (settle passes and the jobs share this queue). */
  serialized<T>(task: () => Promise<T>): Promise<T> {
    // A task queued behind the waiting pass: a later request must run after it (it may queue windows again).
    this.queued = undefined;
    const run = this.chain.catch(() => undefined).then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private warn(what: string, err: unknown): void {
    this.params.logger?.warn({ err }, what);
  }

  /**
   * The static baseline of each sensor for the hour holding `t` (per radio; null while unknown), as the release
   * rule uses it. Reads the store, never writes.
   */
  async baseline(sensorIds: readonly string[], t: number): Promise<Map<string, SensorBaseline>> {
    const hour = rollupStart(t, HOUR);
    await this.loadBaselines(new Map(sensorIds.map((s) => [s, new Set([hour])])));
    const out = new Map<string, SensorBaseline>();
    for (const s of sensorIds) out.set(s, this.baselines.get(`${s}@${hour}`) ?? { wifi: null, ble: null });
    return out;
  }

  /** Computes the baselines of the (sensor, hour) pairs not cached yet, one store read per sensor. */
  private async loadBaselines(needed: ReadonlyMap<string, ReadonlySet<number>>): Promise<void> {
    const options = this.params.baselineOptions;
    if (options === null) return;
    if (this.baselines.size > MAX_CACHED_BASELINES) this.baselines.clear();
    for (const [sensorId, hours] of needed) {
      const missing = [...hours].filter((h) => !this.baselines.has(`${sensorId}@${h}`));
      if (missing.length === 0) continue;
      const rows = await this.store.sensorWindows([sensorId], Math.min(...missing) - options.historyHours * HOUR, Math.max(...missing));
      const wifi = hourBuckets(rows.map((r) => ({ windowStart: r.windowStart, value: r.wifi })));
      const ble = hourBuckets(rows.map((r) => ({ windowStart: r.windowStart, value: r.ble })));
      const opts = { ...options, windowSeconds: this.params.windowSeconds };
      for (const h of missing) this.baselines.set(`${sensorId}@${h}`, { wifi: baselineAt(wifi, h, opts), ble: baselineAt(ble, h, opts) });
    }
  }

  private async settleNow(): Promise<FrozenCell[]> {
    const frozen: FrozenCell[] = [];
    const batch = this.params.settleBatch;
    for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
      const keys = await this.store.unsettled(batch);
      if (keys.length === 0) break;
      const result = await this.settleKeys(keys);
      frozen.push(...result.frozen);
      // A full batch that only holds windows still waiting: the rest are newer and wait too.
      if (keys.length < batch || result.cleared === 0) break;
    }
    this.passes++;
    if (frozen.length > 0) this.emit('frozen', frozen);
    return frozen;
  }

  private async settleKeys(keys: WindowKey[]): Promise<{ frozen: FrozenCell[]; cleared: number }> {
    const now = this.params.now();
    const ws = this.params.windowSeconds;
    const settleSeconds = this.params.settleSeconds;
    const clear: WindowKey[] = [];
    /** zone -> window -> its keys in this batch */
    const byZone = new Map<string, Map<number, WindowKey[]>>();
    for (const key of keys) {
      const zoneId = this.registry.zoneOf(key.sensorId);
      // A sensor in no zone: stored apart, released nowhere. (Windows older than the retention period are
      // frozen like any other, so the rollups that outlive them hold them; the next retention run deletes them.)
      if (zoneId === undefined) {
        clear.push(key);
        continue;
      }
      const windows = byZone.get(zoneId) ?? new Map<number, WindowKey[]>();
      windows.set(key.windowStart, [...(windows.get(key.windowStart) ?? []), key]);
      byZone.set(zoneId, windows);
    }
    const toFreeze: FrozenCell[] = [];
    /** Zone-windows that settled, with their parts; built into cells once the parts' baselines are known. */
    const settledParts: { zoneId: string; windowStart: number; parts: SensorWindow[] }[] = [];
    if (byZone.size > 0) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const windows of byZone.values()) {
        for (const w of windows.keys()) {
          lo = Math.min(lo, w);
          hi = Math.max(hi, w);
        }
      }
      // Frozen cells of every zone in the range: which zone-windows are done, and which sensor windows are used.
      const existing = await this.store.cells(null, lo, hi + ws);
      const frozenKeys = new Set(existing.map((c) => `${c.zoneId}@${c.windowStart}`));
      const used = new Map<number, Set<string>>();
      for (const c of existing) {
        const set = used.get(c.windowStart) ?? new Set<string>();
        for (const s of c.sensors) set.add(s);
        used.set(c.windowStart, set);
      }
      const cutoff = retentionCutoff(this.params);
      for (const [zoneId, windows] of byZone) {
        // The registry may have been reloaded while this pass awaited the store: a zone gone meanwhile waits for
        // the next pass (its windows stay unsettled).
        const zone = this.registry.zone(zoneId);
        if (zone === undefined) continue;
        // Minutes older than the retention period whose hour was closed by retention: their frozen cells are gone,
        // so whether a minute was released cannot be told; none of them is released again (it could be counted
        // twice, and an old window delivered again would then show as a difference).
        const oldWindows = cutoff === null ? [] : [...windows.keys()].filter((w) => w < cutoff);
        const closedHours = new Set<number>();
        if (oldWindows.length > 0) {
          const first = rollupStart(Math.min(...oldWindows), HOUR);
          for (const t of await this.store.closedHours(zoneId, first, Math.max(...oldWindows) + ws)) closedHours.add(t);
        }
        const open = [...windows.keys()].filter((w) => {
          const frozenBefore = frozenKeys.has(`${zoneId}@${w}`) || closedHours.has(rollupStart(w, HOUR));
          if (!frozenBefore) return true;
          // Late data for a frozen cell: stored, never released.
          this.lateWindows += windows.get(w)!.length;
          clear.push(...windows.get(w)!);
          return false;
        });
        if (open.length === 0) continue;
        const rows = await this.store.sensorWindows(zone.sensors, Math.min(...open), Math.max(...open) + ws);
        const rowsAt = new Map<number, SensorWindow[]>();
        for (const r of rows) rowsAt.set(r.windowStart, [...(rowsAt.get(r.windowStart) ?? []), r]);
        for (const w of open) {
          const here = rowsAt.get(w) ?? [];
          if (here.length === 0) {
            clear.push(...windows.get(w)!); // its windows are gone (retention)
            continue;
          }
          // The settle time runs from the window's end; for a window whose first data arrived only after that
          // deadline (sensors replaying their outboxes after an outage), from that arrival, so the other sensors
          // of the zone get the same time to catch up.
          const firstArrival = Math.min(...here.map((r) => r.receivedAt));
          const regular = settleDeadline(w, { settleSeconds, windowSeconds: ws });
          const deadline = firstArrival <= regular ? regular : firstArrival + settleSeconds;
          // A cell is made of the windows received by its deadline, and of no other, whenever and wherever it is
          // frozen: several aggregators on one store (which cannot refuse a second write of a cell) then freeze the
          // same content, so a released value cannot change. A window received after the deadline is late. Past the
          // deadline a cell waits a little longer when the store shows writes only after a delay (its
          // writeVisibilitySeconds), so that every window received in time is seen.
          const inTime = here.filter((r) => r.receivedAt <= deadline);
          const reported = new Set(inTime.map((r) => r.sensorId));
          const settled = zone.sensors.every((s) => reported.has(s)) || now >= deadline + this.visibilitySeconds;
          if (!settled) continue;
          clear.push(...windows.get(w)!);
          this.lateWindows += here.length - inTime.length;
          const usedHere = used.get(w);
          const parts = inTime.filter((r) => usedHere === undefined || !usedHere.has(r.sensorId));
          if (parts.length === 0) continue;
          settledParts.push({ zoneId, windowStart: w, parts });
        }
      }
    }
    const needed = new Map<string, Set<number>>();
    for (const { windowStart, parts } of settledParts) {
      for (const p of parts) {
        const hours = needed.get(p.sensorId) ?? new Set<number>();
        hours.add(rollupStart(windowStart, HOUR));
        needed.set(p.sensorId, hours);
      }
    }
    await this.loadBaselines(needed);
    for (const { zoneId, windowStart, parts } of settledParts) toFreeze.push(this.buildCell(zoneId, windowStart, parts));
    const written = await this.store.freeze(toFreeze);
    await this.store.clearUnsettled(clear);
    const frozen = toFreeze.filter((_, i) => written[i] === true);
    if (frozen.length > 0) this.params.logger?.debug({ frozen: frozen.length, cleared: clear.length }, 'settled');
    return { frozen, cleared: clear.length };
  }

  private buildCell(zoneId: string, windowStart: number, parts: SensorWindow[]): FrozenCell {
    const hour = rollupStart(windowStart, HOUR);
    const { k, noise, baselineOptions, windowSeconds } = this.params;
    const radio = (r: Radio) => {
      const devices = parts.reduce((sum, p) => sum + p[r], 0);
      const released = releasedByPeopleRule(
        parts.map((p) => ({ devices: p[r], baseline: baselineOptions === null ? 0 : (this.baselines.get(`${p.sensorId}@${hour}`)?.[r] ?? null) })),
        k,
      );
      const cellNoise = released && noise !== null ? noiseFor(zoneNoise(this.params, this.registry, zoneId), ['cell', zoneId, windowStart, r, windowSeconds]) : null;
      return { devices, released, noise: cellNoise };
    };
    return { zoneId, windowStart, sensors: parts.map((p) => p.sensorId).sort(), wifi: radio('wifi'), ble: radio('ble') };
  }
}
