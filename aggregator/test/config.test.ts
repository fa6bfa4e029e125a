import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AggregatorConfigSchema,
  ConfigError,
  configMarkdownTable,
  configReference,
  DEFAULT_DASHBOARD_DIR,
  loadConfig,
  parseConfig,
  redactConfig,
  sanitizeId,
} from '../src/index.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-agg-config-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    // One line per problem (`path: message (source)`): the shared ConfigError's problems are objects.
    return (err as ConfigError).lines();
  }
  throw new Error('expected a ConfigError');
}

describe('config defaults', () => {
  it('fills every default from an empty environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    expect(config.http.port).toBe(8080);
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.http.dashboardDir).toBe(DEFAULT_DASHBOARD_DIR);
    expect(config.data.dir).toBe('./data');
    expect(config.log.level).toBe('info');
    expect(config.k).toBe(5);
    expect(config.zones).toEqual([]);
    expect(config.sites).toEqual([]);
    expect(config.ingest.ackMode).toBe('stored');
    expect(config.mqtt.shareGroup).toBeUndefined();
    expect(config.aggregator.id).toBe(sanitizeId(os.hostname()));
    expect(config.aggregator.id).toMatch(/^[a-z0-9][a-z0-9-]{0,63}$/);
  });

  it('sanitizes host names into valid ids', () => {
    expect(sanitizeId('Web_Server.Example.COM')).toBe('web-server-example-com');
    expect(sanitizeId('--x--')).toBe('x');
    expect(sanitizeId('___')).toBe('aggregator');
    expect(sanitizeId('a'.repeat(100))).toHaveLength(64);
  });
});

describe('config file', () => {
  const zonesYaml = `
k: 7
zones:
  - id: front
    name: Shop front
    sensors: [s1, s2]
  - id: back
    name: Back street
    sensors: [s3]
sites:
  - id: centre
    name: Centre
    zones: [front, back]
mqtt:
  url: mqtt://127.0.0.1:1999
  shareGroup: aggregators
`;

  it('reads YAML', () => {
    const config = loadConfig({ env: {}, configFile: write('c.yaml', zonesYaml) });
    expect(config.k).toBe(7);
    expect(config.zones.map((z) => z.id)).toEqual(['front', 'back']);
    expect(config.zones[0]!.sensors).toEqual(['s1', 's2']);
    expect(config.sites[0]!.zones).toEqual(['front', 'back']);
    expect(config.mqtt.url).toBe('mqtt://127.0.0.1:1999');
    expect(config.mqtt.shareGroup).toBe('aggregators');
  });

  it('reads JSON, from PASSANT_CONFIG', () => {
    const file = write('c.json', JSON.stringify({ k: 5, zones: [{ id: 'z', name: 'Z', sensors: ['a'] }], http: { port: 9000 } }));
    const config = loadConfig({ env: { PASSANT_CONFIG: file } });
    expect(config.zones).toEqual([{ id: 'z', name: 'Z', owners: [], sensors: ['a'] }]);
    expect(config.http.port).toBe(9000);
  });

  it('the environment wins over the file, which wins over the defaults', () => {
    const file = write('c.yaml', 'http:\n  port: 9000\n  host: 127.0.0.2\nk: 6\nlog:\n  level: warn\n');
    const config = loadConfig({
      env: {
        PASSANT_CONFIG: file,
        PASSANT_HTTP_PORT: '9100',
        PASSANT_K: '8',
        PASSANT_MQTT_URL: 'mqtts://127.0.0.1:8883',
        PASSANT_MQTT_SHARE_GROUP: 'g1',
        PASSANT_DATA_DIR: '/tmp/x',
        PASSANT_AGGREGATOR_ID: 'agg-2',
        PASSANT_MQTT_USERNAME: 'user',
        PASSANT_MQTT_PASSWORD: 'secret',
        PASSANT_MQTT_REJECT_UNAUTHORIZED: 'false',
      },
    });
    expect(config.http.port).toBe(9100); // env over file
    expect(config.http.host).toBe('127.0.0.2'); // file over default
    expect(config.log.level).toBe('warn');
    expect(config.k).toBe(8);
    expect(config.mqtt.url).toBe('mqtts://127.0.0.1:8883');
    expect(config.mqtt.shareGroup).toBe('g1');
    expect(config.data.dir).toBe('/tmp/x');
    expect(config.aggregator.id).toBe('agg-2');
    expect(config.mqtt.username).toBe('user');
    expect(config.mqtt.password).toBe('secret');
    expect(config.mqtt.rejectUnauthorized).toBe(false);
  });

  it('PASSANT_HTTP_PORT wins over PORT, and PORT over the file', () => {
    const file = write('c.json', '{"http":{"port":9000}}');
    expect(loadConfig({ env: { PASSANT_CONFIG: file, PORT: '7000' } }).http.port).toBe(7000);
    expect(loadConfig({ env: { PASSANT_CONFIG: file, PORT: '7000', PASSANT_HTTP_PORT: '7001' } }).http.port).toBe(7001);
  });

  it('an empty environment variable counts as unset', () => {
    const config = loadConfig({ env: { PASSANT_MQTT_SHARE_GROUP: '', PASSANT_HTTP_PORT: ' ' } });
    expect(config.mqtt.shareGroup).toBeUndefined();
    expect(config.http.port).toBe(8080);
  });
});

describe('config problems', () => {
  it('lists every problem with its path, and where the value came from', () => {
    const file = write(
      'bad.yaml',
      `
k: 1
bogus: true
http:
  port: 70000
zones:
  - id: Front
    name: Front
    sensors: [s1, s2]
  - id: back
    name: ''
    sensors: [s2, 'BAD ID']
sites:
  - id: centre
    name: Centre
    zones: [back, nowhere]
`,
    );
    const problems = problemsOf(() =>
      loadConfig({ env: { PASSANT_CONFIG: file, PASSANT_MQTT_URL: 'not a url', PASSANT_INGEST_BATCH_MAX_SIZE: 'many', PASSANT_LOG_LEVEL: 'loud' } }),
    );
    const text = problems.join('\n');
    expect(text).toMatch(/^k: .*>=2/m);
    expect(text).toMatch(/^\(root\): Unrecognized key: "bogus"/m);
    expect(text).toMatch(/^http\.port: .*<=65535/m);
    expect(text).toMatch(/^zones\[0\]\.id: must match/m);
    expect(text).toMatch(/^zones\[1\]\.name: /m);
    expect(text).toMatch(/^zones\[1\]\.sensors\[1\]: must match/m);
    expect(text).toMatch(/^zones\[1\]\.sensors\[0\]: sensor "s2" is already in zone "Front"/m);
    expect(text).toMatch(/^sites\[0\]\.zones\[1\]: zone "nowhere" is not in zones/m);
    expect(text).toMatch(/^mqtt\.url: must be a URL.*\(set by PASSANT_MQTT_URL\)/m);
    expect(text).toMatch(/^ingest\.batchMaxSize: .*expected number.*\(set by PASSANT_INGEST_BATCH_MAX_SIZE\)/m);
    expect(text).toMatch(/^log\.level: .*\(set by PASSANT_LOG_LEVEL\)/m);
    expect(problems.length).toBeGreaterThanOrEqual(11);
  });

  it('a sensor in two zones is an error even when everything else is valid', () => {
    const problems = problemsOf(() =>
      parseConfig({
        zones: [
          { id: 'a', name: 'A', sensors: ['s1'] },
          { id: 'b', name: 'B', sensors: ['s2', 's1'] },
        ],
      }),
    );
    expect(problems).toEqual(['zones[1].sensors[1]: sensor "s1" is already in zone "a": a sensor belongs to at most one zone']);
  });

  it('the static baseline cannot look back further than per-sensor rows are kept', () => {
    expect(problemsOf(() => parseConfig({ baseline: { historyHours: 72 } }))).toEqual([
      'baseline.historyHours: the static baseline looks back 72 h but per-sensor rows are kept only 48 h (retention.sensorWindowHours): raise that or lower this',
    ]);
    expect(parseConfig({ baseline: { historyHours: 72 }, retention: { sensorWindowHours: 72 } }).baseline.historyHours).toBe(72);
    expect(parseConfig({ baseline: { enabled: false, historyHours: 72 } }).baseline.enabled).toBe(false);
    expect(parseConfig({}).baseline).toEqual({ enabled: true, historyHours: 48, quietHours: 4, quantile: 0.9, minHistoryHours: 12 });
  });

  it('duplicate zone and site ids, a zone in two sites, cert without key', () => {
    const problems = problemsOf(() =>
      parseConfig({
        zones: [
          { id: 'a', name: 'A', sensors: [] },
          { id: 'a', name: 'A2' },
        ],
        sites: [
          { id: 's', name: 'S', zones: ['a'] },
          { id: 's', name: 'S2', zones: ['a'] },
        ],
        mqtt: { certFile: '/x.pem' },
      }),
    );
    expect(problems).toContain('zones[1].id: zone id "a" is used twice');
    expect(problems).toContain('sites[1].id: site id "s" is used twice');
    expect(problems).toContain('sites[1].zones[0]: zone "a" is already in site "s": a zone belongs to at most one site');
    expect(problems).toContain('mqtt.keyFile: certFile and keyFile go together: set both or neither');
  });

  it('a missing or broken config file is a problem, not a crash', () => {
    expect(problemsOf(() => loadConfig({ env: { PASSANT_CONFIG: path.join(dir, 'missing.yaml') } }))[0]).toMatch(/cannot be read \(ENOENT\)/);
    expect(problemsOf(() => loadConfig({ env: { PASSANT_CONFIG: write('b.json', '{"k": ') } }))[0]).toMatch(/not valid JSON/);
    expect(problemsOf(() => loadConfig({ env: { PASSANT_CONFIG: write('b.yaml', 'k: [') } }))[0]).toMatch(/not valid YAML/);
    expect(problemsOf(() => loadConfig({ env: { PASSANT_CONFIG: write('l.yaml', '- 1\n- 2\n') } }))[0]).toMatch(/must hold an object/);
  });

  it('unreadable TLS files are listed', () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { PASSANT_MQTT_CA_FILE: path.join(dir, 'ca.pem'), PASSANT_MQTT_CERT_FILE: path.join(dir, 'c.pem'), PASSANT_MQTT_KEY_FILE: path.join(dir, 'k.pem') } }),
    );
    expect(problems).toEqual([
      `mqtt.caFile: cannot read ${path.join(dir, 'ca.pem')}`,
      `mqtt.certFile: cannot read ${path.join(dir, 'c.pem')}`,
      `mqtt.keyFile: cannot read ${path.join(dir, 'k.pem')}`,
    ]);
  });

  it('the error message never shows the password', () => {
    const config = loadConfig({ env: { PASSANT_MQTT_PASSWORD: 'hunter2-secret', PASSANT_INFLUX_TOKEN: 'tok-secret', PASSANT_STORE_KIND: 'influx' } });
    expect(config.store.kind).toBe('influx');
    expect(config.influx.token).toBe('tok-secret');
    expect(JSON.stringify(redactConfig(config))).not.toContain('hunter2-secret');
    expect(JSON.stringify(redactConfig(config))).not.toContain('tok-secret');
    const problems = problemsOf(() => loadConfig({ env: { PASSANT_MQTT_PASSWORD: 'hunter2-secret', PASSANT_K: 'x' } }));
    expect(problems.join('\n')).not.toContain('hunter2-secret');
  });
});

describe('config reference', () => {
  it('has an environment variable, a default and a description for every scalar key', () => {
    const rows = configReference();
    const byKey = new Map(rows.map((r) => [r.key, r]));
    for (const row of rows) {
      expect(row.description, row.key).not.toBe('');
      if (row.type !== 'array') expect(row.env, row.key).toMatch(/^PASSANT_[A-Z0-9_]+$/);
    }
    expect(byKey.get('mqtt.url')!.env).toBe('PASSANT_MQTT_URL');
    expect(byKey.get('http.port')!.env).toBe('PASSANT_HTTP_PORT');
    expect(byKey.get('http.port')!.default).toBe('8080');
    expect(byKey.get('data.dir')!.env).toBe('PASSANT_DATA_DIR');
    expect(byKey.get('log.level')!.env).toBe('PASSANT_LOG_LEVEL');
    expect(byKey.get('aggregator.id')!.env).toBe('PASSANT_AGGREGATOR_ID');
    expect(byKey.get('aggregator.id')!.default).toMatch(/host name/);
    expect(byKey.get('mqtt.shareGroup')!.env).toBe('PASSANT_MQTT_SHARE_GROUP');
    expect(byKey.get('mqtt.caFile')!.env).toBe('PASSANT_MQTT_CA_FILE');
    expect(byKey.get('k')!.env).toBe('PASSANT_K');
    expect(byKey.get('zones')!.env).toBeNull();
    expect(byKey.get('ingest.ackMode')!.values).toEqual(['stored', 'received']);
    // every leaf of the schema is in the reference, in schema order
    const leaves: string[] = [];
    const walk = (shape: Record<string, unknown>, prefix: string) => {
      for (const [key, value] of Object.entries(shape)) {
        const inner = (value as { def: { innerType?: { shape?: Record<string, unknown> } } }).def.innerType;
        if (inner?.shape) walk(inner.shape, `${prefix}${key}.`);
        else leaves.push(`${prefix}${key}`);
      }
    };
    walk(AggregatorConfigSchema.shape, '');
    expect(rows.map((r) => r.key)).toEqual(leaves);
  });

  it('renders a Markdown table with one row per key', () => {
    const table = configMarkdownTable().split('\n');
    expect(table[0]).toBe('| key | environment | default | description |');
    expect(table).toHaveLength(configReference().length + 2);
    expect(table.find((l) => l.startsWith('| `http.port`'))).toContain('`PASSANT_HTTP_PORT`');
  });
});
