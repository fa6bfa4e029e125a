/**
 * The registry (zones, sites, sensors; what an update changed; unassigned sensors) and its reload from the
 * config file while the aggregator runs: a real file in a temp dir, a real watch, a real aggregator.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';
import { Registry } from '../src/registry.ts';
import { RegistryWatcher } from '../src/registry-watcher.ts';
import { loadConfig } from '../src/config.ts';
import { MemoryStore } from '../src/store/memory-store.ts';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { removeDir, startTestAggregator } from './helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';
import { countsMessage, minuteAgo } from './helpers/messages.ts';

const D = 1_699_920_000;

describe('Registry', () => {
  const zones = [
    { id: 'front', name: 'Front', owners: ['Bakery'], coordinates: { lat: 52.1, lon: 5.1 }, sensors: ['s1', 's2'] },
    { id: 'back', name: 'Back', sensors: ['s3'] },
  ];
  const sites = [{ id: 'town', name: 'Town', coordinates: { lat: 52, lon: 5 }, zones: ['front', 'back'] }];

  it('maps sensors to zones and zones to sites, with coordinates and owners', () => {
    const registry = new Registry(zones, sites);
    expect(registry.listZones()).toEqual([
      { id: 'front', name: 'Front' },
      { id: 'back', name: 'Back' },
    ]);
    expect(registry.zone('front')).toEqual({ id: 'front', name: 'Front', owners: ['Bakery'], coordinates: { lat: 52.1, lon: 5.1 }, sensors: ['s1', 's2'] });
    expect(registry.zone('back')!.owners).toEqual([]);
    expect(registry.zoneOf('s2')).toBe('front');
    expect(registry.zoneOf('s9')).toBeUndefined();
    expect(registry.siteOf('back')).toBe('town');
    expect(registry.site('town')!.coordinates).toEqual({ lat: 52, lon: 5 });
    expect(registry.zonesOwnedBy('Bakery').map((z) => z.id)).toEqual(['front']);
    expect(registry.sensorMap()).toEqual({ front: ['s1', 's2'], back: ['s3'] });
  });

  it('update() says what changed and tells the listeners; an identical update changes nothing', () => {
    const registry = new Registry(zones, sites);
    const heard: unknown[] = [];
    const off = registry.onChange((change) => heard.push(change));
    expect(registry.update(zones, sites)).toBeNull();
    const change = registry.update(
      [
        { id: 'front', name: 'Front', sensors: ['s1'] },
        { id: 'back', name: 'Back', sensors: ['s3', 's2'] },
        { id: 'new', name: 'New', sensors: ['s9'] },
      ],
      [{ id: 'town', name: 'Town', zones: ['front'] }],
    );
    expect(change).toEqual({
      zonesChanged: ['front', 'back', 'new'],
      zonesAdded: ['new'],
      zonesRemoved: [],
      sitesChanged: ['town'],
      sensorsAssigned: [
        { sensorId: 's2', zoneId: 'back' },
        { sensorId: 's9', zoneId: 'new' },
      ],
      sensorsUnassigned: [],
      metadataOnly: false,
      publicAccessChanged: false,
    });
    expect(heard).toEqual([change]);
    expect(registry.zoneOf('s2')).toBe('back');
    expect(registry.version).toBe(1);
    const renamed = registry.update(
      [
        { id: 'front', name: 'Front door', sensors: ['s1'] },
        { id: 'back', name: 'Back', sensors: ['s3', 's2'] },
        { id: 'new', name: 'New', sensors: ['s9'] },
      ],
      [{ id: 'town', name: 'Town', zones: ['front'] }],
    );
    expect(renamed!.metadataOnly).toBe(true);
    off();
    expect(registry.update([])!.zonesRemoved).toEqual(['front', 'back', 'new']);
    expect(heard).toHaveLength(2);
  });

  it('unassignedSensors lists sensors in no zone with last seen and message count, never counts', async () => {
    const store = new MemoryStore();
    await store.put([countsMessage('s1', D, 9), countsMessage('s9', D, 8), countsMessage('s9', D + 60, 7)], D + 70);
    const registry = new Registry(zones, sites, { sensorStats: () => store.sensorStats() });
    const list = await registry.unassignedSensors();
    expect(list).toEqual([{ sensorId: 's9', lastSeen: D + 70, firstWindowStart: D, lastWindowStart: D + 60, messages: 2 }]);
    expect(JSON.stringify(list)).not.toMatch(/"(devices|wifi|ble)"/);
    expect(await new Registry(zones).unassignedSensors()).toEqual([]);
  });
});

describe('RegistryWatcher: reload on change of the config file', () => {
  let dir: string;
  let file: string;
  let lines: string[];
  let watcher: RegistryWatcher | undefined;
  const logger = () =>
    createLogger(
      'debug',
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      }),
    );

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-registry-'));
    file = path.join(dir, 'passant.yaml');
    lines = [];
  });
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const yaml = (sensors: string[], extra = '') => `k: 5\nzones:\n  - id: front\n    name: Front\n    sensors: [${sensors.join(', ')}]\n${extra}`;

  it('applies a valid new file (written in place or renamed over it), debounced; keeps the old registry on an invalid one and logs every problem', async () => {
    fs.writeFileSync(file, yaml(['s1']));
    const running = loadConfig({ configFile: file, env: {} });
    const registry = new Registry(running.zones, running.sites);
    watcher = new RegistryWatcher({ file, registry, running, logger: logger(), env: {}, debounceMs: 50, pollIntervalMs: 0 });
    const results: unknown[] = [];
    watcher.onReload((r) => results.push(r));
    watcher.start();

    // several quick writes: one reload, with the last content
    fs.writeFileSync(file, yaml(['s1', 's2']));
    fs.writeFileSync(file, yaml(['s1', 's2', 's3']));
    await waitFor(() => registry.zoneOf('s3') === 'front', 'the new sensor', 15_000);
    expect(results).toHaveLength(1);

    // an invalid file: two problems, both logged, the registry stays
    fs.writeFileSync(file, `${yaml(['s1', 's1'])}  - id: Bad Id\n    name: x\n`);
    await waitFor(() => results.length === 2, 'the failed reload', 15_000);
    expect(results[1]).toMatchObject({ ok: false });
    expect((results[1] as { problems: string[] }).problems.length).toBeGreaterThanOrEqual(2);
    expect(registry.zoneOf('s3')).toBe('front');
    const errors = lines.filter((l) => l.includes('config file changed but is invalid'));
    expect(errors.length).toBe((results[1] as { problems: string[] }).problems.length);
    expect(errors.join('')).toMatch(/listed twice/);
    expect(errors.join('')).toMatch(/zones\[1\]\.id/);

    // an editor's save: write a temp file, rename it over the config
    const tmp = path.join(dir, '.passant.yaml.swp');
    fs.writeFileSync(tmp, yaml(['s4']));
    fs.renameSync(tmp, file);
    await waitFor(() => registry.zoneOf('s4') === 'front', 'the renamed file', 15_000);
    expect(registry.zoneOf('s1')).toBeUndefined();

    // a change outside zones and sites is reported, not applied
    fs.writeFileSync(file, yaml(['s4'], 'settleSeconds: 30\n'));
    await waitFor(() => results.length === 4, 'the reload', 15_000);
    expect(results[3]).toEqual({ ok: true, change: null, restartNeeded: ['settleSeconds'] });
  });

  it('refuses an empty file, or one with no zones, keeping the old registry, and logs why', async () => {
    fs.writeFileSync(file, yaml(['s1']));
    const running = loadConfig({ configFile: file, env: {} });
    const registry = new Registry(running.zones, running.sites);
    watcher = new RegistryWatcher({ file, registry, running, logger: logger(), env: {}, debounceMs: 50, pollIntervalMs: 0 });
    const results: { ok: boolean; problems?: string[] }[] = [];
    watcher.onReload((r) => results.push(r));
    watcher.start();

    for (const [i, text] of ['', 'k: 5\n', 'k: 5\nzones: []\n'].entries()) {
      fs.writeFileSync(file, text);
      await waitFor(() => results.length === i + 1, `reload ${i + 1}`, 15_000);
      expect(results[i]).toMatchObject({ ok: false });
      expect(results[i]!.problems!.join(' ')).toMatch(/no zones/);
      expect(registry.zoneOf('s1')).toBe('front');
      expect(registry.listZones()).toEqual([{ id: 'front', name: 'Front' }]);
    }
    expect(lines.filter((l) => l.includes('lists no zones')).length).toBe(3);
    // and a good file after them is applied
    fs.writeFileSync(file, yaml(['s2']));
    await waitFor(() => registry.zoneOf('s2') === 'front', 'the good file', 15_000);
  });
});

describe('a running aggregator with a config file', () => {
  let broker: TestBroker;
  beforeEach(async () => {
    broker = await startAedes();
  });
  afterEach(async () => {
    await broker.close();
  });

  it('picks up a new zone assignment without a restart: the sensor data become part of the zone', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-registry-agg-'));
    const file = path.join(dir, 'passant.json');
    const config = (sensors: string[]) => ({ k: 5, zones: [{ id: 'front', name: 'Front', sensors }] });
    fs.writeFileSync(file, JSON.stringify(config(['s1'])));
    const agg = await startTestAggregator(broker.url, config(['s1']), { configFile: file, configWatchDebounceMs: 50 });
    // an hour ago: within the retention period (older windows are not queued again)
    const T = minuteAgo(60);
    try {
      await agg.store.put([countsMessage('s1', T, 6), countsMessage('s9', T, 20), countsMessage('s9', T + 60, 30)], T + 10);
      // minute T is released now with s1 alone; minute T + 1 has no data of the zone yet
      await agg.release.settle();
      expect((await agg.release.series('front', { from: T, to: T + 120, step: 60, radio: 'wifi' }))!.devices).toEqual([6, null]);
      expect((await agg.registry.unassignedSensors()).map((s) => s.sensorId)).toEqual(['s9']);
      fs.writeFileSync(file, JSON.stringify(config(['s1', 's9'])));
      await waitFor(() => agg.registry.zoneOf('s9') === 'front', 'the reload', 15_000);
      await agg.release.idle();
      await agg.release.settle();
      expect((await agg.release.series('front', { from: T, to: T + 120, step: 60, radio: 'wifi' }))!.devices).toEqual([6, 30]);
      expect(await agg.registry.unassignedSensors()).toEqual([]);
    } finally {
      await agg.close();
      removeDir(agg.dataDir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
