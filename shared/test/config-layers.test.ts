import { describe, expect, it } from 'vitest';
import { configEnvName, isPlainObject, mergeConfigLayers, setConfigPath } from '../src/index.ts';

describe('config layers', () => {
  it.each([
    [['sensorId'], 'PASSANT_SENSOR_ID'],
    [['mqtt', 'reconnectPeriodMs'], 'PASSANT_MQTT_RECONNECT_PERIOD_MS'],
    [['http', 'port'], 'PASSANT_HTTP_PORT'],
    [['influx', 'url'], 'PASSANT_INFLUX_URL'],
    [['source', 'simulator', 'backfillHours'], 'PASSANT_SOURCE_SIMULATOR_BACKFILL_HOURS'],
    [['log', 'statsIntervalSeconds'], 'PASSANT_LOG_STATS_INTERVAL_SECONDS'],
  ])('names the environment variable of %j %s', (keyPath, name) => {
    expect(configEnvName(keyPath)).toBe(name);
  });

  it('knows a plain object from null, arrays and scalars', () => {
    expect([{}, { a: 1 }].map(isPlainObject)).toEqual([true, true]);
    expect([null, undefined, [], 'x', 1, true].map(isPlainObject)).toEqual([false, false, false, false, false, false]);
  });

  it('lays one layer over another: objects key by key, arrays and scalars replaced, the inputs untouched', () => {
    const base = { mqtt: { url: 'mqtt://a', port: 1 }, zones: [{ id: 'z1' }], k: 5, log: 'x' };
    const over = { mqtt: { url: 'mqtt://b' }, zones: [], log: { level: 'debug' }, extra: null };
    expect(mergeConfigLayers(base, over)).toEqual({
      mqtt: { url: 'mqtt://b', port: 1 },
      zones: [],
      k: 5,
      log: { level: 'debug' },
      extra: null,
    });
    expect(base).toEqual({ mqtt: { url: 'mqtt://a', port: 1 }, zones: [{ id: 'z1' }], k: 5, log: 'x' });
  });

  it('sets a value at a key path, making objects on the way and replacing what is not one', () => {
    const target: Record<string, unknown> = { mqtt: 'not an object', http: { host: 'h' } };
    setConfigPath(target, ['mqtt', 'tls', 'caFile'], '/ca.crt');
    setConfigPath(target, ['http', 'port'], 8080);
    setConfigPath(target, ['k'], 3);
    expect(target).toEqual({ mqtt: { tls: { caFile: '/ca.crt' } }, http: { host: 'h', port: 8080 }, k: 3 });
  });
});

describe('mergeConfigLayers and a __proto__ key', () => {
  it('keeps it an own key, so a strict schema refuses it, and pollutes nothing', () => {
    const over = JSON.parse('{"__proto__": {"k": 1}, "mqtt": {"url": "mqtt://x"}}') as Record<string, unknown>;
    const merged = mergeConfigLayers({ mqtt: { url: 'mqtt://y' } }, over);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toContain('__proto__');
    expect((merged as { k?: unknown }).k).toBeUndefined();
    expect(({} as { k?: unknown }).k).toBeUndefined();
  });
});
