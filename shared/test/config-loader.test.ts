import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  coerceEnvValue,
  configEnvKeys,
  formatConfigPath,
  loadConfig,
  parseConfigObject,
  readConfigFile,
  type ConfigProblem,
} from '../src/config-loader.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-loader-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function problemsOf(fn: () => unknown): ConfigProblem[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const parseYaml = (text: string): unknown => YAML.parse(text);

const LayerSchema = z.strictObject({
  fromSchema: z.string().default('schema'),
  fromDefaults: z.string().default('schema'),
  fromFile: z.string().default('schema'),
  fromEnv: z.string().default('schema'),
  fromOverrides: z.string().default('schema'),
  nested: z.strictObject({ port: z.number().int().default(1), on: z.boolean().default(false) }).prefault({}),
});

describe('config loader: layers', () => {
  it('lays defaults < program defaults < file < environment < overrides, key by key', () => {
    const file = write(
      'c.yaml',
      'fromFile: file\nfromEnv: file\nfromOverrides: file\nnested:\n  port: 2\n  on: true\n',
    );
    const config = loadConfig(LayerSchema, {
      defaults: { fromDefaults: 'defaults', fromFile: 'defaults', fromEnv: 'defaults', fromOverrides: 'defaults' },
      file,
      parseYaml,
      env: { PASSANT_FROM_ENV: 'env', PASSANT_FROM_OVERRIDES: 'env', PASSANT_NESTED_PORT: '3' },
      overrides: { fromOverrides: 'overrides' },
    });
    expect(config).toEqual({
      fromSchema: 'schema',
      fromDefaults: 'defaults',
      fromFile: 'file',
      fromEnv: 'env',
      fromOverrides: 'overrides',
      // Objects merge key by key: the environment's port, the file's `on`.
      nested: { port: 3, on: true },
    });
    // The command line (overrides) wins over the environment.
    expect(loadConfig(LayerSchema, { env: { PASSANT_NESTED_PORT: '3' }, overrides: { nested: { port: 4 } } }).nested.port).toBe(4);
  });

  it('reads a JSON file by its name, and an alias variable below the one it stands in for', () => {
    const file = write('c.json', JSON.stringify({ nested: { port: 9 } }));
    expect(loadConfig(LayerSchema, { file }).nested.port).toBe(9);
    const aliases = { PORT: 'PASSANT_NESTED_PORT' };
    expect(loadConfig(LayerSchema, { file, env: { PORT: '7' }, envAliases: aliases }).nested.port).toBe(7);
    expect(loadConfig(LayerSchema, { file, env: { PORT: '7', PASSANT_NESTED_PORT: '8' }, envAliases: aliases }).nested.port).toBe(8);
  });

  it('converts environment values to the key type, or leaves them for the schema to refuse', () => {
    expect(coerceEnvValue(' 42 ', 'integer')).toBe(42);
    expect(coerceEnvValue('-1.5e2', 'number')).toBe(-150);
    expect(coerceEnvValue('soon', 'integer')).toBe('soon');
    expect(['yes', 'ON', '1', 'true'].map((v) => coerceEnvValue(v, 'boolean'))).toEqual([true, true, true, true]);
    expect(['no', 'off', '0', 'False'].map((v) => coerceEnvValue(v, 'boolean'))).toEqual([false, false, false, false]);
    expect(coerceEnvValue('maybe', 'boolean')).toBe('maybe');
    expect(coerceEnvValue('1, 6 ,11,', 'array')).toEqual(['1', '6', '11']);
    // A key that may be a string or a list keeps the string: its schema splits it.
    expect(coerceEnvValue('a,b', 'string|array|string')).toBe('a,b');
    const keys = configEnvKeys(z.strictObject({ list: z.array(z.string()).default([]), o: z.strictObject({ n: z.number().optional() }).prefault({}) }));
    expect(keys).toEqual([
      { path: ['list'], env: 'PASSANT_LIST', type: 'array' },
      { path: ['o', 'n'], env: 'PASSANT_O_N', type: 'number' },
    ]);
  });
});

describe('config loader: unset', () => {
  const OptionalSchema = z.strictObject({
    name: z.string().optional(),
    floor: z.number().int().optional(),
    mqtt: z.strictObject({ username: z.string().optional(), port: z.number().default(1883) }).prefault({}),
  });

  it('an unset key is undefined (absent), never null', () => {
    const config = loadConfig(OptionalSchema, { env: {} });
    expect(config.name).toBeUndefined();
    expect(config.floor).toBeUndefined();
    expect(config.mqtt.username).toBeUndefined();
    expect(Object.values(config).includes(null as never)).toBe(false);
    expect(JSON.stringify(config)).toBe('{"mqtt":{"port":1883}}');
  });

  it('an empty or blank environment variable is no variable: the layers below stay', () => {
    const file = write('c.json', JSON.stringify({ floor: -80 }));
    const config = loadConfig(OptionalSchema, { file, env: { PASSANT_FLOOR: '', PASSANT_NAME: '  ', PASSANT_MQTT_PORT: ' ' } });
    expect(config.floor).toBe(-80);
    expect(config.name).toBeUndefined();
    expect(config.mqtt.port).toBe(1883);
  });
});

describe('config loader: problems', () => {
  const Schema = z.strictObject({
    k: z.number().int().min(2).default(5),
    url: z.string().regex(/^mqtt:\/\//, 'must be an mqtt:// URL').default('mqtt://localhost'),
    zones: z.array(z.strictObject({ id: z.string().regex(/^[a-z]+$/, 'must be a-z'), sensors: z.array(z.string()).default([]) })).default([]),
    password: z.string().optional(),
  });
  const crossCheck = (input: unknown) => {
    const zones = (input as { zones?: { id?: unknown; sensors?: unknown[] }[] }).zones ?? [];
    const seen = new Map<unknown, number>();
    const out: { path: (string | number)[]; message: string }[] = [];
    zones.forEach((z, i) =>
      (z.sensors ?? []).forEach((s, j) => {
        if (seen.has(s)) out.push({ path: ['zones', i, 'sensors', j], message: `sensor "${String(s)}" is in two zones` });
        seen.set(s, i);
      }),
    );
    return out;
  };

  it('lists every problem at once, file, environment, schema, cross-check and command line, each with its source', () => {
    const file = write('bad.yaml', 'k: 1\nbogus: true\nzones:\n  - id: Front\n    sensors: [s1]\n  - id: back\n    sensors: [s1]\n');
    const problems = problemsOf(() =>
      loadConfig(Schema, {
        file,
        parseYaml,
        env: { PASSANT_URL: 'http://x', PASSANT_PASSWORD: 'hunter2-secret' },
        crossCheck,
        problems: [{ path: 'command line', message: "Unknown option '--colour'" }],
      }),
    );
    // Problems found before loading come first; then the file's, the schema's and the cross-check's.
    expect(problems[0]).toEqual({ path: 'command line', message: "Unknown option '--colour'" });
    expect(problems).toHaveLength(6);
    expect(problems).toEqual(expect.arrayContaining([
      { path: '(root)', message: expect.stringMatching(/bogus/), source: `in ${file}` },
      { path: 'k', message: expect.stringMatching(/>=2/), source: `in ${file}` },
      { path: 'url', message: 'must be an mqtt:// URL', source: 'set by PASSANT_URL' },
      { path: 'zones[0].id', message: 'must be a-z', source: `in ${file}` },
      // The cross-check ran although the schema failed.
      { path: 'zones[1].sensors[0]', message: 'sensor "s1" is in two zones', source: `in ${file}` },
    ]));
    const err = (() => {
      try {
        loadConfig(Schema, { file, parseYaml, env: { PASSANT_PASSWORD: 'hunter2-secret' } });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.message).toMatch(/^invalid configuration:\n {2}- k: .* \(in .*bad\.yaml\)\n/);
    expect(err.message.split('\n')).toHaveLength(1 + err.problems.length);
    expect(err.lines()).toContain(`k: ${err.problems.find((p) => p.path === 'k')!.message} (in ${file})`);
    expect(err.message).not.toContain('hunter2-secret');
  });

  it('a problem is listed once even when the schema and the cross-check both find it', () => {
    const Refined = Schema.superRefine((c, ctx) => {
      for (const p of crossCheck(c)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    });
    const problems = problemsOf(() => parseConfigObject(Refined, { zones: [{ id: 'a', sensors: ['s'] }, { id: 'b', sensors: ['s'] }] }, { crossCheck }));
    expect(problems).toEqual([{ path: 'zones[1].sensors[0]', message: 'sensor "s" is in two zones' }]);
  });

  it("runs the program's checks of the parsed config, and lets it screen the file", () => {
    const file = write('c.json', JSON.stringify({ password: 'hunter2-secret', k: 3 }));
    const problems = problemsOf(() =>
      loadConfig(Schema, {
        file,
        screenFile: (data) => {
          delete data.password;
          return [{ path: 'password', message: 'not in the config file' }];
        },
        check: (c) => [{ path: 'k', message: `is ${c.k}, checked after parsing` }],
      }),
    );
    expect(problems).toEqual([
      { path: 'password', message: 'not in the config file' },
      { path: 'k', message: 'is 3, checked after parsing' },
    ]);
    expect(JSON.stringify(problems)).not.toContain('hunter2-secret');
  });

  it('formats paths the one way', () => {
    expect(formatConfigPath([])).toBe('(root)');
    expect(formatConfigPath(['zones', 1, 'sensors', 0])).toBe('zones[1].sensors[0]');
    expect(formatConfigPath(['mqtt', 'url'])).toBe('mqtt.url');
  });
});

describe('config loader: files', () => {
  it('a missing, unparsable or non-object file is a clear problem', () => {
    const missing = path.join(dir, 'missing.yaml');
    expect(readConfigFile(missing, parseYaml).problems).toEqual([{ path: 'config file', message: `${missing} cannot be read (ENOENT)` }]);
    const list = write('l.yaml', '- 1\n- 2\n');
    expect(readConfigFile(list, parseYaml).problems).toEqual([{ path: 'config file', message: `${list} must hold an object (key: value pairs), not a list` }]);
    expect(readConfigFile(write('e.yaml', ''), parseYaml)).toEqual({ data: {}, problems: [] });
    expect(readConfigFile(write('e.json', 'null'))).toEqual({ data: {}, problems: [] });
    const yaml = write('y.yaml', 'k: 1\n');
    expect(readConfigFile(yaml).problems[0]!.message).toMatch(/reads no YAML/);
    // Through loadConfig the same problem comes in the one ConfigError.
    expect(problemsOf(() => loadConfig(z.strictObject({}), { file: missing, parseYaml }))).toEqual([
      { path: 'config file', message: `${missing} cannot be read (ENOENT)` },
    ]);
  });

  it.each([
    ['a JSON value that is not JSON', 'bad.json', '{\n  "password": hunter2-secret\n}', /is not valid JSON$/],
    ['a JSON object left open', 'end.json', '{"k": 1,\n "password": 2', /is not valid JSON at line 2, column 15$/],
    ['a JSON file cut short', 'short.json', '{"password": "hunter2-secret', /is not valid JSON/],
    ['a JSON string left open', 'open.json', '{"k": 1, "password": "hunter2-secret}', /is not valid JSON/],
    ['a YAML string left open', 'open.yaml', 'k: 1\npassword: "hunter2-secret\n', /is not valid YAML at line \d+, column \d+/],
    ['a YAML flow left open', 'flow.yaml', 'password: [hunter2-secret\n', /is not valid YAML at line \d+, column \d+/],
    ['bad YAML indentation', 'indent.yaml', 'mqtt:\n  password: hunter2-secret\n    url: x\n', /is not valid YAML at line \d+, column \d+/],
  ])('%s: says where, never repeats the content', (_what, name, text, expected) => {
    const file = write(name, text);
    const { problems } = readConfigFile(file, parseYaml);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('config file');
    expect(problems[0]!.message).toMatch(expected);
    expect(problems[0]!.message).not.toContain('hunter2');
  });
});
