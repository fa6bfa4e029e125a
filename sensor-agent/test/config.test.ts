import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, SensorConfigSchema, loadSensorConfig, redactSensorConfig, sensorConfigKeys } from '../src/config.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-config-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function problemsOf(fn: () => unknown): { path: string; message: string; source?: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('sensor config', () => {
  it('fills every default but the sensor id', () => {
    const c = loadSensorConfig({ env: { PASSANT_SENSOR_ID: 's-001' } });
    expect(c.windowSeconds).toBe(60);
    expect(c.rssiFloor).toBeUndefined();
    expect(c.mqtt.url).toBe('mqtt://localhost:1883');
    expect(c.mqtt.topicBase).toBe('passant');
    expect(c.outbox.maxMessages).toBe(10_080);
    expect(c.outbox.path).toBe(path.join('data', 'outbox.sqlite'));
    expect(c.source.kind).toBe('simulator');
    expect(c.log.level).toBe('info');
    expect(c.sensorId).toBe('s-001');
    expect(c.setupMode).toBe(false);
    expect(c.outbox.maxBytes).toBe(8_388_608);
    expect(c.delivery).toEqual({ retryInitialMs: 60_000, retryMaxMs: 3_600_000 });
  });

  it('requires the sensor id: no host-name default, a clear error naming the key and its variable', () => {
    const problems = problemsOf(() => loadSensorConfig({ env: {} }));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('sensorId');
    expect(problems[0]!.message).toMatch(/required/);
    expect(problems[0]!.message).toMatch(/PASSANT_SENSOR_ID/);
    expect(problemsOf(() => loadSensorConfig({ env: { PASSANT_SENSOR_ID: '' } }))[0]!.path).toBe('sensorId');
  });

  it('refuses a re-send wait whose maximum is below its start', () => {
    const problems = problemsOf(() => loadSensorConfig({ env: { PASSANT_SENSOR_ID: 's-1', PASSANT_DELIVERY_RETRY_INITIAL_MS: '5000', PASSANT_DELIVERY_RETRY_MAX_MS: '1000' } }));
    expect(problems.map((p) => p.path)).toEqual(['delivery.retryMaxMs']);
  });

  it('reads a YAML file and a JSON file; the environment wins over the file', () => {
    const yamlFile = write(
      'sensor.yaml',
      'sensorId: front-door\nwindowSeconds: 30\nrssiFloor: -80\nmqtt:\n  url: mqtts://broker.example:8883\n  username: s1\nsource:\n  kind: wifi\n  iface: mon0\n',
    );
    const c = loadSensorConfig({
      // An empty variable is no variable (unset is undefined in one way): the file's rssiFloor stays.
      env: { PASSANT_CONFIG: yamlFile, PASSANT_WINDOW_SECONDS: '120', PASSANT_SOURCE_IFACE: 'mon1', PASSANT_RSSI_FLOOR: '', PASSANT_MQTT_PASSWORD: 'secret' },
    });
    expect(c.sensorId).toBe('front-door');
    expect(c.windowSeconds).toBe(120);
    expect(c.rssiFloor).toBe(-80);
    expect(c.mqtt.url).toBe('mqtts://broker.example:8883');
    expect(c.mqtt.username).toBe('s1');
    expect(c.mqtt.password).toBe('secret');
    expect(c.source).toMatchObject({ kind: 'wifi', iface: 'mon1' });
    expect(redactSensorConfig(c).mqtt.password).toBe('(set)');

    const jsonFile = write('sensor.json', JSON.stringify({ sensorId: 'json-1', outbox: { maxMessages: 5 } }));
    // --config on the command line wins over PASSANT_CONFIG.
    const j = loadSensorConfig({ env: { PASSANT_CONFIG: yamlFile, PASSANT_OUTBOX_MAX_MESSAGES: '7' }, argv: ['--config', jsonFile] });
    expect(j.sensorId).toBe('json-1');
    expect(j.outbox.maxMessages).toBe(7);
  });

  it('PASSANT_DATA_DIR moves the outbox unless outbox.path is set', () => {
    const id = { PASSANT_SENSOR_ID: 's-1' };
    expect(loadSensorConfig({ env: { ...id, PASSANT_DATA_DIR: '/var/lib/passant' } }).outbox.path).toBe('/var/lib/passant/outbox.sqlite');
    expect(loadSensorConfig({ env: { ...id, PASSANT_DATA_DIR: '/var/lib/passant', PASSANT_OUTBOX_PATH: '/tmp/o.sqlite' } }).outbox.path).toBe('/tmp/o.sqlite');
  });

  it('lists every problem of a bad file, with its path', () => {
    const file = write(
      'bad.yaml',
      [
        'sensorId: Bad_Id',
        'windowSeconds: 7',
        'rssiFloor: 99',
        'colour: blue',
        'mqtt:',
        '  url: http://example.com',
        '  reconnectPeriodMs: -1',
        'source:',
        '  kind: radio',
        'outbox:',
        '  maxMessages: 0',
        'log:',
        '  level: loud',
      ].join('\n'),
    );
    const problems = problemsOf(() => loadSensorConfig({ env: { PASSANT_CONFIG: file } }));
    const paths = problems.map((p) => p.path).sort();
    expect(paths).toEqual(
      ['(root)', 'log.level', 'mqtt.reconnectPeriodMs', 'mqtt.url', 'outbox.maxMessages', 'rssiFloor', 'sensorId', 'source.kind', 'windowSeconds'].sort(),
    );
    expect(problems.find((p) => p.path === '(root)')!.message).toMatch(/colour/);
    expect(problems.find((p) => p.path === 'windowSeconds')!.message).toMatch(/one of 10, 15/);
  });

  it('names the environment variable a bad value came from', () => {
    const problems = problemsOf(() => loadSensorConfig({ env: { PASSANT_SENSOR_ID: 's-1', PASSANT_WINDOW_SECONDS: 'soon', PASSANT_MQTT_REJECT_UNAUTHORIZED: 'maybe' } }));
    expect(problems).toHaveLength(2);
    expect(problems.find((p) => p.path === 'windowSeconds')!.source).toMatch(/PASSANT_WINDOW_SECONDS/);
    expect(problems.find((p) => p.path === 'mqtt.rejectUnauthorized')!.source).toMatch(/PASSANT_MQTT_REJECT_UNAUTHORIZED/);
  });

  it('reports unreadable and unparsable files, cross-field problems and missing files', () => {
    expect(problemsOf(() => loadSensorConfig({ env: { PASSANT_CONFIG: path.join(dir, 'nope.yaml') } }))[0]!.message).toMatch(/ENOENT/);
    expect(problemsOf(() => loadSensorConfig({ env: { PASSANT_CONFIG: write('x.json', '{"a":') } }))[0]!.message).toMatch(/not valid JSON/);
    expect(problemsOf(() => loadSensorConfig({ env: { PASSANT_CONFIG: write('x.yaml', '- 1\n- 2\n') } }))[0]!.message).toMatch(/must hold an object/);
    expect(problemsOf(() => loadSensorConfig({ env: { PASSANT_SENSOR_ID: 's-1', PASSANT_SOURCE_KIND: 'files' } }))).toEqual([
      { path: 'source.files', message: 'source.kind "files" needs at least one file' },
    ]);
    const missing = problemsOf(() =>
      loadSensorConfig({
        env: { PASSANT_SENSOR_ID: 's-1', PASSANT_SOURCE_KIND: 'files', PASSANT_SOURCE_FILES: `${path.join(dir, 'a.pcap')},${path.join(dir, 'b.pcap')}`, PASSANT_MQTT_CA_FILE: path.join(dir, 'ca.pem') },
      }),
    );
    expect(missing.map((p) => p.path).sort()).toEqual(['mqtt.caFile', 'source.files[0]', 'source.files[1]']);
    expect(problemsOf(() => loadSensorConfig({ env: {}, argv: ['--colour'] }))[0]!.path).toBe('command line');
  });

  it('keeps the password out of the config file; reads it from a file', () => {
    const file = write('with-password.yaml', 'sensorId: s-1\nmqtt:\n  password: hunter2\n');
    const problems = problemsOf(() => loadSensorConfig({ env: { PASSANT_CONFIG: file } }));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('mqtt.password');
    expect(JSON.stringify(problems)).not.toContain('hunter2');

    const pw = write('pw', 's3cret\n');
    expect(loadSensorConfig({ env: { PASSANT_SENSOR_ID: 's-1', PASSANT_MQTT_PASSWORD_FILE: pw } }).mqtt.password).toBe('s3cret');
    expect(problemsOf(() => loadSensorConfig({ env: { PASSANT_SENSOR_ID: 's-1', PASSANT_MQTT_PASSWORD_FILE: pw, PASSANT_MQTT_PASSWORD: 'x' } }))[0]!.path).toBe('mqtt.passwordFile');
  });

  it('documents every key: a default, a description and one environment variable each', () => {
    const keys = sensorConfigKeys();
    const byPath = new Map(keys.map((k) => [k.path, k]));
    for (const k of keys) {
      expect(k.description.length, k.path).toBeGreaterThan(10);
      expect(k.env).toMatch(/^PASSANT_[A-Z0-9_]+$/);
      // A key without a default is unset (undefined) until set, and its description says what unset means.
      if (k.path !== 'sensorId' && k.default === undefined) expect(k.description, k.path).toMatch(/unset/);
    }
    expect(new Set(keys.map((k) => k.env)).size).toBe(keys.length);
    expect(byPath.get('sensorId')!.env).toBe('PASSANT_SENSOR_ID');
    expect(byPath.get('mqtt.url')!.env).toBe('PASSANT_MQTT_URL');
    expect(byPath.get('mqtt.password')!.env).toBe('PASSANT_MQTT_PASSWORD');
    expect(byPath.get('log.level')!.env).toBe('PASSANT_LOG_LEVEL');
    expect(byPath.get('outbox.maxMessages')!.default).toBe(10_080);
    expect(byPath.get('source.kind')!.values).toEqual(['simulator', 'wifi', 'ble', 'files']);
    // Every key of the parsed config is documented.
    const parsed = SensorConfigSchema.parse({
      sensorId: 's-1',
      // The keys that are unset (absent) unless given.
      activeUntil: '2030-01-01',
      rssiFloor: -80,
      source: { command: ['capture'], simulator: { utcOffsetHours: 1 } },
      mqtt: { username: 'u', password: 'p', passwordFile: '/p', caFile: '/ca', certFile: '/c', keyFile: '/k' },
    });
    const leaves: string[] = [];
    const walk = (o: Record<string, unknown>, at: string[]) => {
      for (const [k, v] of Object.entries(o)) {
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, [...at, k]);
        else leaves.push([...at, k].join('.'));
      }
    };
    walk(parsed as unknown as Record<string, unknown>, []);
    expect(leaves.sort()).toEqual([...byPath.keys()].sort());
  });
});
